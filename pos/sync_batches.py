"""How the sync engine commits its state changes: in batches (`SyncBatches`, the base class of
`pos.sync.SyncEngine`).

Batching (throughput of `flush`: about one fsync per batch of sales instead of one per sale).
During a flush, placements to a backend that can look any sale up — it overrides `find_order`,
and that lookup also answers for sales never sent (`Backend.finds_unsent_orders`; not OpenCart,
whose lookup starts from a hint `place_order` records) — are *announced* in batches: one
transaction marks the next few queued placements `sending` (entry and order) before the first
of their calls, and the calls are then made one by one. Each call is still preceded by its
committed `sending` mark; a crash leaves every announced entry `sending`, and each is reconciled
(looked up on the store) before any retry — a sale whose call was never made is simply not found
there and is sent then. A batch covers about `BATCH_SECONDS` of calls (measured as they go; the
first is alone) and at most `BATCH_MAX` entries. The batch's orders are read back in one query
right after the announcement is committed (as stored then: `sending`) and handed to their calls
in turn. When the target fails transiently (the circuit opens for the pass) or the flush stops,
the entries announced but not called are put back to `queued` (their attempt uncounted): no
call was made for them.

The `done` of a placement (entry `done`, order `placed`) is not committed on its own either: it
rides in the next transaction (the next batch's announcement, a mirror's, or the one closing the
flush), at most `DONE_WAIT_S` later. A crash in between leaves the entry `sending`, which is
reconciled exactly as after a crash just before `done` (this needs only `find_order`). The
`done`s waiting are written together (one statement each for the entries, the orders and their
events). Backends that cannot reconcile get neither: each of their placements is announced
alone and its `done` committed at once; those whose lookup needs what `place_order` recorded
get no batches. So a crash never leaves more than one sale that a person has to check on the
store.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from pos.backends.base import Backend
from pos.errors import PosError
from pos.models import Order, OrderStatus
from pos.store import Ledger, OutboxEntry
from pos.store.db import transaction
from pos.store.orders import StatusChange, now_iso

BATCH_MAX = 64  # placements announced `sending` in one transaction, at most
BATCH_SECONDS = 0.25  # ... and about this long of calls, by the recent time per placement
DONE_WAIT_S = 1.0  # a deferred `done` is committed at the latest before a call this much later
log = logging.getLogger("pos.sync")


class _Announced(NamedTuple):
    """A placement announced `sending` by this flush's batch, its call not made yet, with its
    order as read back right after the announcement (None until then, or if it was not found)."""

    entry: OutboxEntry
    order: Order | None


class PlacementDone(NamedTuple):
    """A placement done (`SyncBatches._mark_done`): its entry, sale, target, the store's id and
    the event for the sale's history (`placed`, `reconciled`, `resolved`)."""

    entry_id: int
    number: str
    target: str
    remote_id: str
    event: str


class SyncBatches:
    """Announcements of placements in batches, and `done`s committed with the next write."""

    ledger: Ledger
    backend_for: Callable[[str], Backend]

    def __init__(self) -> None:
        self._deferring: int | None = None  # the thread running `flush` (only it defers)
        self._pending: list[PlacementDone] = []  # placements done, not committed yet
        self._pending_done: set[int] = set()  # ... their entry ids
        self._pending_since = 0.0
        # placements announced `sending` by a batch whose call is not made yet, by entry id
        self._announced: dict[int, _Announced] = {}
        self._entry_s: float | None = None  # recent time per placement (moving average)
        self._reconcilable: dict[str, bool] = {}

    def _current(self, listed: OutboxEntry) -> OutboxEntry | None:
        """The entry as it is now (None: gone): between two steps of a flush a sale's
        `deliver`, a retry, a cancel or a resolve may have changed it."""
        if listed.id in self._announced:  # announced `sending` by this flush, not called yet
            return listed
        if listed.id in self._pending_done:  # done, its commit waiting for the next write
            return replace(listed, state="done")
        return self.ledger.outbox.get(listed.id)

    def _announce(self, entries: list[OutboxEntry], first: int) -> None:
        """Mark `entries[first]` and the next queued placements to its target `sending`, in one
        transaction with the pending `done`s, before the first of their calls."""
        head = entries[first]
        size = 1 if self._entry_s is None else max(
            1, min(BATCH_MAX, int(BATCH_SECONDS / max(self._entry_s, 1e-6))))
        batch = [head]
        for entry in entries[first + 1:]:
            if len(batch) >= size:
                break
            if (entry.kind == "place" and entry.state == "queued" and entry.target == head.target
                    and entry.id not in self._announced):
                batch.append(entry)
        announced: set[int] = set()
        outbox, orders = self.ledger.outbox, self.ledger.orders

        def announce(conn: sqlite3.Connection) -> None:
            stamp = now_iso()
            sending: list[StatusChange] = []
            for entry in batch:
                # only entries still queued (a cashier may have cancelled one meanwhile)
                if outbox.set_state(entry.id, "sending", count_attempt=True, only_from="queued",
                                    stamp=stamp, conn=conn):
                    sending.append(StatusChange(entry.number, OrderStatus.SENDING))
                    announced.add(entry.id)
            orders.set_statuses(conn, sending, stamp=stamp)

        self._write(announce)  # committed before the first call it announces
        batch = [e for e in batch if e.id in announced]
        for entry in batch:  # registered first: a failed read below still withdraws them
            self._announced[entry.id] = _Announced(entry, None)
        # the batch's orders as they are now (`sending`), read and validated one after the
        # other rather than each after the previous call's network wait
        read = orders.get_many([e.number for e in batch])
        for entry in batch:
            self._announced[entry.id] = _Announced(entry, read.get(entry.number))

    def _withdraw(self, target: str | None = None) -> None:
        """Put announced placements whose call was not made (to `target`, or all) back to
        `queued`, their attempt uncounted: nothing was sent for them."""
        withdrawn = [a.entry for a in self._announced.values()
                     if target is None or a.entry.target == target]
        if not withdrawn:
            return
        outbox, orders = self.ledger.outbox, self.ledger.orders

        def withdraw(conn: sqlite3.Connection) -> None:
            stamp = now_iso()
            for entry in withdrawn:
                if outbox.set_state(entry.id, "queued", uncount_attempt=True, only_from="sending",
                                    stamp=stamp, conn=conn):
                    orders.set_status(conn, entry.number, OrderStatus.QUEUED,
                                      last_error=entry.last_error, stamp=stamp)

        try:
            self._write(withdraw)
        except PosError as exc:  # they stay `sending`: reconciled before any retry, still safe
            log.warning("sync: could not put %d unsent entries back to queued: %s",
                        len(withdrawn), exc.one_line())
        for entry in withdrawn:
            self._announced.pop(entry.id, None)

    def _write(self, change: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """Commit the pending `done`s (and `change`) in one transaction."""
        if not self._pending and change is None:
            return
        ledger = self.ledger
        with transaction(ledger.db, ledger.path) as conn:
            if self._pending:
                self._mark_done(conn, self._pending)
            if change is not None:
                change(conn)
        self._pending.clear()
        self._pending_done.clear()

    def _mark_done(self, conn: sqlite3.Connection, done: list[PlacementDone]) -> None:
        """Placements done: entry `done`, order `placed` with its remote id (and the event)."""
        stamp = now_iso()
        self.ledger.outbox.set_done(conn, [(d.entry_id, d.remote_id) for d in done], stamp=stamp)
        self.ledger.orders.set_statuses(conn, [
            StatusChange(d.number, OrderStatus.PLACED, remote_id=d.remote_id, event=d.event,
                         detail=f"{d.target} #{d.remote_id}") for d in done], stamp=stamp)

    def _defer_done(self, done: PlacementDone, target: str) -> None:
        """A placement done: committed with the next transaction during this thread's flush to a
        target that can reconcile (a crash before it is recovered by a lookup), else now."""
        if self._deferring == threading.get_ident() and self._can_reconcile(target):
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(done)
            self._pending_done.add(done.entry_id)
        else:
            self._write(lambda conn: self._mark_done(conn, [done]))

    def _write_if_done_waits(self) -> None:
        """Before a slow call: commit the `done`s waiting for more than `DONE_WAIT_S`."""
        if self._pending and time.monotonic() - self._pending_since > DONE_WAIT_S:
            self._write()

    def _can_reconcile(self, target: str) -> bool:
        """Whether the target's backend can look a sale up (so a lost `done` is recoverable)."""
        known = self._reconcilable.get(target)
        if known is None:
            try:
                backend = self.backend_for(target)
            except PosError:
                return False
            known = type(backend).find_order is not Backend.find_order
            if self._deferring == threading.get_ident():
                self._reconcilable[target] = known  # for this flush
        return known

    def _can_batch(self, target: str) -> bool:
        """Whether placements to `target` may be announced several at a time: it can reconcile,
        including sales whose call was never made (`Backend.finds_unsent_orders`)."""
        if not self._can_reconcile(target):
            return False
        try:
            return self.backend_for(target).finds_unsent_orders
        except PosError:
            return False
