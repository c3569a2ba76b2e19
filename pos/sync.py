"""The sync engine: take outbox entries to their backends, exactly once.

For each entry, in order per sale (a sale's placement before its mirrors):

* `queued` → mark `sending` (committed), call the backend, then in one transaction mark the entry
  `done` and the order `placed` with its remote id.
* a transient failure *before* the request could have arrived (connection refused, DNS, 5xx,
  429) → back to `queued` with exponential back-off and jitter.
* `OutcomeUnknown` (timeout after sending, connection lost mid-answer) → `unknown`.
* `sending` found at start-up (the process died mid-call) or `unknown` → **reconcile first**:
  ask the backend for the order carrying this sale's number; found → `done`; certainly absent →
  send again; the backend cannot tell → stays `unknown` for a person to decide.
* refused (`PermanentError`, `RuleError`) → `failed` with the reason, shown in the outbox.

Mirrors to sinks (Voucherify) are upserts keyed by the sale number, so they are simply retried;
so are `status` entries (a refund or cancellation told to the store by `update_order_status`).

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
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from pos.backends.base import Backend, UnsupportedError
from pos.errors import OutcomeUnknown, PosError, TransientError
from pos.faults import crash_point
from pos.models import Order, OrderStatus
from pos.store import Ledger, OutboxEntry
from pos.store.db import transaction
from pos.store.locks import sync_lock
from pos.store.orders import StatusChange, now_iso

MAX_BACKOFF_S = 300.0
BATCH_MAX = 64  # placements announced `sending` in one transaction, at most
BATCH_SECONDS = 0.25  # ... and about this long of calls, by the recent time per placement
DONE_WAIT_S = 1.0  # a deferred `done` is committed at the latest before a call this much later
log = logging.getLogger("pos.sync")
# what `flush` reports when it cannot start (nothing is sent)
SENDING_HERE = "This counter is already sending its sales."
SENDING_ELSEWHERE = "Another pos process is sending this data dir's sales."


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """How long an entry waits after its `attempts`-th failure: exponential back-off (steps of
    1 s, 2 s, 4 s … up to `MAX_BACKOFF_S`) with "equal jitter" — half the step fixed, half random, so
    lanes that lost the network together do not come back together — and at least the
    server's `Retry-After`.

    The policy is tenacity's wait strategies; the engine applies it across flushes and
    restarts (the next attempt's time is stored with the entry), which an in-process retry
    loop could not. tenacity is imported here, on the first failure, not at start-up.
    """
    from tenacity import RetryCallState, Retrying
    from tenacity.wait import wait_exponential, wait_random_exponential

    half = MAX_BACKOFF_S / 2
    policy = (wait_exponential(multiplier=0.5, max=half)
              + wait_random_exponential(multiplier=0.5, max=half))
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = min(attempts, 16) + 1  # the step after `attempts` failures
    return max(policy(state), retry_after or 0.0)


class _Announced(NamedTuple):
    """A placement announced `sending` by this flush's batch, its call not made yet, with its
    order as read back right after the announcement (None until then, or if it was not found)."""

    entry: OutboxEntry
    order: Order | None


class _Done(NamedTuple):
    """A placement done (`SyncEngine._mark_done`): its entry, sale, target, the store's id and
    the event for the sale's history (`placed`, `reconciled`, `resolved`)."""

    entry_id: int
    number: str
    target: str
    remote_id: str
    event: str


@dataclass
class SyncReport:
    placed: list[str] = field(default_factory=list)
    mirrored: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {k: list(v) for k, v in self.__dict__.items()}


def _due(entry: OutboxEntry, due_by: float) -> bool:
    """Whether a flush works on this entry now (as `Outbox.due` selects them)."""
    return entry.state == "sending" or (entry.state in ("queued", "unknown")
                                        and entry.next_attempt_at <= due_by)


class SyncEngine:
    def __init__(self, ledger: Ledger, backend_for: Callable[[str], Backend], *,
                 offline_targets: set[str] | None = None) -> None:
        self.ledger = ledger
        self.backend_for = backend_for
        # targets that did not answer lately (shared by the engines of one counter)
        self.offline_targets: set[str] = set() if offline_targets is None else offline_targets
        self.lock = sync_lock(ledger.data_dir)
        # one flush or delivery at a time in this process (other processes: `lock`)
        self._busy = threading.RLock()
        # writes whose commit may wait for the next transaction (see the module docstring)
        self._deferring: int | None = None  # the thread running `flush` (only it defers)
        self._pending: list[_Done] = []  # placements done, not committed yet
        self._pending_done: set[int] = set()  # ... their entry ids
        self._pending_since = 0.0
        # placements announced `sending` by a batch whose call is not made yet, by entry id
        self._announced: dict[int, _Announced] = {}
        self._entry_s: float | None = None  # recent time per placement (moving average)
        self._reconcilable: dict[str, bool] = {}
        self._outcome: tuple[str, int] | None = None  # (state, attempts) of the last placement

    # --- entry points ------------------------------------------------------------------------

    def deliver(self, number: str, *, force: bool = False) -> Order:
        """Try this sale's entries now (right after it was recorded); return the order.

        The sale is left as it is, queued for the next flush, in two cases, so that the cashier
        never waits on a store that is not answering:

        * a flush holds the sync lock elsewhere (the counter's background flush, or another pos
          process): only the lock's holder sends, so nothing is sent twice;
        * its store did not answer the last call (`offline_targets`: refused, timed out, cut
          off) — unless `force` (a cashier's retry): a store that hangs would hold each sale
          for the whole timeout. The background flush, or its probe, finds the store again.

        Between the steps of this engine's own flush the lock is already held here
        (re-entrant) and the sale is sent now.
        """
        report = SyncReport()
        with self._busy:
            if not self.lock.acquire():
                log.info("sync %s: left queued, a flush is sending (pid %s)", number,
                         self.lock.holder())
                return self.ledger.orders.get(number)
            try:
                for entry in self.ledger.outbox.for_order(number):
                    if entry.state not in ("queued", "sending", "unknown"):
                        continue
                    if not force and entry.target in self.offline_targets:
                        log.info("sync %s %s→%s: left queued, the store is not answering",
                                 number, entry.kind, entry.target)
                        continue
                    self._process(entry, report)
            finally:
                self.lock.release()
        return self.ledger.orders.get(number)

    def flush(self, now: float | None = None,
              step: Callable[[], AbstractContextManager[object]] = nullcontext,
              stop: Callable[[], bool] = lambda: False) -> SyncReport:
        """Work through every due entry once.

        Each entry is one *step*, run inside `step()` (a caller that shares this engine's
        ledger connection and backends with other work can hold its own lock there; the
        counter's background flush has an engine of its own, `PosSession.background_sync`, and
        needs none). Between steps a sale's `deliver` or an outbox action may run: each entry
        is read again at its step and skipped unless it is still due. `stop()` (the counter
        closing) ends the flush at the next step.
        """
        report = SyncReport()
        with step(), self._busy:
            if self._deferring is not None:  # between the steps of a flush of this process
                report.errors.append(SENDING_HERE)
                return report
            if not self.lock.acquire():
                report.errors.append(SENDING_ELSEWHERE)
                return report
            self._deferring = threading.get_ident()
            self._reconcilable = {}
            try:
                entries = self.ledger.outbox.due(now)
            except BaseException:
                self._finish()
                raise
        try:
            self._flush(entries, now, report, step, stop)
        finally:
            with step(), self._busy:
                self._finish()
        return report

    def _finish(self) -> None:
        """The end of a flush: unsent announcements withdrawn, pending `done`s committed."""
        self._deferring = None
        try:
            self._withdraw()  # announced but never called: back to queued
            self._write()  # whatever `done` is still pending
        finally:
            self._announced.clear()
            self.lock.release()

    def _flush(self, entries: list[OutboxEntry], now: float | None, report: SyncReport,
               step: Callable[[], AbstractContextManager[object]],
               stop: Callable[[], bool]) -> None:
        entries.sort(key=lambda e: (e.number, e.kind != "place", e.id))
        blocked: set[str] = set()
        tripped: set[str] = set()  # circuit open: this target failed transiently in this pass
        due_by = time.time() if now is None else now
        for i, listed in enumerate(entries):
            if stop():
                return
            with step(), self._busy:
                entry = self._current(listed)
                if entry is None or not _due(entry, due_by):
                    if listed.kind == "place" and (entry is None or entry.state != "done"):
                        blocked.add(listed.number)  # its mirrors wait for it, as on failure
                    continue
                if entry.target in tripped or (entry.kind != "place"
                                               and entry.number in blocked):
                    continue
                if (entry.kind == "place" and entry.state == "queued"
                        and entry.id not in self._announced and self._can_batch(entry.target)):
                    self._announce(entries, i)
                before = len(report.queued)
                state = self._process(entry, report)
                if len(report.queued) > before:
                    tripped.add(entry.target)
                    self._withdraw(entry.target)
                if entry.kind == "place" and state != "done":
                    blocked.add(entry.number)

    def _current(self, listed: OutboxEntry) -> OutboxEntry | None:
        """The entry as it is now (None: gone): between two steps of a flush a sale's
        `deliver`, a retry, a cancel or a resolve may have changed it."""
        if listed.id in self._announced:  # announced `sending` by this flush, not called yet
            return listed
        if listed.id in self._pending_done:  # done, its commit waiting for the next write
            return replace(listed, state="done")
        return self.ledger.outbox.get(listed.id)

    # --- batches -----------------------------------------------------------------------------

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

    # --- one entry ---------------------------------------------------------------------------

    def _process(self, entry: OutboxEntry, report: SyncReport) -> str:
        """Attempt one entry; returns its state afterwards."""
        started = time.monotonic()
        if entry.kind != "place":
            self._write()  # mirrors keep their own transactions: commit what waits first
        self._outcome = None
        self._attempt(entry, report)
        outcome, self._outcome = self._outcome, None
        elapsed = time.monotonic() - started
        if outcome is not None:  # a placement done: its state is known without reading it
            state, attempts = outcome
            log.info("sync %s %s→%s attempt %d: %s (%.0f ms)", entry.number, entry.kind,
                     entry.target, attempts, state, elapsed * 1000)
            self._entry_s = elapsed if self._entry_s is None else (
                0.8 * self._entry_s + 0.2 * elapsed)
            return state
        after = self.ledger.outbox.get(entry.id)
        if after is not None and entry.id in self._pending_done:
            after = replace(after, state="done", last_error="")
        log.info("sync %s %s→%s attempt %d: %s%s (%.0f ms)", entry.number, entry.kind,
                 entry.target, (after.attempts if after else entry.attempts),
                 after.state if after else "?",
                 f" — {after.last_error}" if after and after.last_error else "",
                 elapsed * 1000)
        if entry.kind == "place" and self._entry_s is not None:  # a slow failure shrinks batches
            self._entry_s = max(self._entry_s, elapsed)
        return after.state if after else "?"

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

    def _mark_done(self, conn: sqlite3.Connection, done: list[_Done]) -> None:
        """Placements done: entry `done`, order `placed` with its remote id (and the event)."""
        stamp = now_iso()
        self.ledger.outbox.set_done(conn, [(d.entry_id, d.remote_id) for d in done], stamp=stamp)
        self.ledger.orders.set_statuses(conn, [
            StatusChange(d.number, OrderStatus.PLACED, remote_id=d.remote_id, event=d.event,
                         detail=f"{d.target} #{d.remote_id}") for d in done], stamp=stamp)

    def _attempt(self, entry: OutboxEntry, report: SyncReport) -> None:
        announced = self._announced.get(entry.id)
        order = announced.order if announced and announced.order else self.ledger.orders.get(
            entry.number)
        try:
            backend = self.backend_for(entry.target)
        except PosError as exc:
            self._fail(entry, order, exc, report)
            return
        if entry.kind == "place":
            self._place(entry, order, backend, report)
        elif entry.kind == "mirror":
            self._mirror(entry, order, backend, report)
        elif entry.kind == "status":
            self._status(entry, order, backend, report)

    def _place(self, entry: OutboxEntry, order: Order, backend: Backend, report: SyncReport) -> None:
        if self._announced.pop(entry.id, None) is not None:
            # announced by this flush's batch: `sending` is committed, `order` was read after it
            if self._pending and time.monotonic() - self._pending_since > DONE_WAIT_S:
                self._write()  # slow calls: do not keep finished sales waiting
        else:
            if entry.state in ("sending", "unknown"):
                try:
                    found = backend.find_order(order)
                except UnsupportedError:
                    self._set_unknown(entry, order, "The store cannot be asked whether it has "
                                      "this sale: check it there, then retry or mark it placed.",
                                      report)
                    return
                except PosError as exc:
                    self._retry_later(entry, order, exc, report, keep_state="unknown")
                    return
                if found is not None:
                    self._placed(entry, order, found.remote_id, report, "reconciled")
                    self._outcome = ("done", entry.attempts)
                    return
            orders = self.ledger.orders

            def announce(conn: sqlite3.Connection) -> None:
                self.ledger.outbox.set_state(entry.id, "sending", count_attempt=True, conn=conn)
                orders.set_status(conn, entry.number, OrderStatus.SENDING)

            self._write(announce)  # committed before the call it announces
            order = order.model_copy(update={"status": OrderStatus.SENDING, "last_error": ""})
        crash_point("after_sending")
        try:
            placed = backend.place_order(order)
        except OutcomeUnknown as exc:
            self._set_unknown(entry, order, exc.one_line(), report)
            return
        except TransientError as exc:
            self._retry_later(entry, order, exc, report)
            return
        except PosError as exc:
            self._fail(entry, order, exc, report)
            return
        crash_point("after_remote")
        self.offline_targets.discard(entry.target)
        self._placed(entry, order, placed.remote_id, report, "placed")
        self._outcome = ("done", entry.attempts + 1)

    def _mirror(self, entry: OutboxEntry, order: Order, backend: Backend,
                report: SyncReport) -> None:
        self._send_repeatable(entry, order, report, lambda: backend.mirror_order(order).remote_id)

    def _status(self, entry: OutboxEntry, order: Order, backend: Backend,
                report: SyncReport) -> None:
        """Tell the store an order was refunded or canceled (`update_order_status`)."""
        from pos.refunds import refund_status

        status, reason = refund_status(self.ledger, order)

        def send() -> str | None:
            backend.update_order_status(order, status, reason)
            return None  # the entry keeps the remote id it had

        self._send_repeatable(entry, order, report, send)

    def _send_repeatable(self, entry: OutboxEntry, order: Order, report: SyncReport,
                         send: Callable[[], str | None]) -> None:
        """One attempt at a call that is safe to repeat (an upsert, setting a status again).

        A `TransientError` (including `OutcomeUnknown`) retries later without touching the
        order; any other `PosError` fails the entry. `send` returns the remote id to record,
        or None to keep the entry's.
        """
        self.ledger.outbox.set_state(entry.id, "sending", count_attempt=True)
        try:
            remote_id = send()
        except TransientError as exc:
            self._retry_later(entry, order, exc, report, touch_order=False)
            return
        except PosError as exc:
            self.ledger.outbox.set_state(entry.id, "failed", error=exc.one_line())
            report.failed.append(f"{order.number}→{entry.target}")
            return
        self.ledger.outbox.set_state(entry.id, "done", remote_id=remote_id, error="")
        report.mirrored.append(order.number)

    # --- state changes -----------------------------------------------------------------------

    def _placed(self, entry: OutboxEntry, order: Order, remote_id: str, report: SyncReport,
                event: str) -> None:
        crash_point("before_done")
        done = _Done(entry.id, order.number, entry.target, remote_id, event)
        if self._deferring == threading.get_ident() and self._can_reconcile(entry.target):
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append(done)  # committed with the next transaction
            self._pending_done.add(entry.id)
        else:
            self._write(lambda conn: self._mark_done(conn, [done]))
        report.placed.append(order.number)

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

    def _set_order_status(self, order: Order, status: OrderStatus, error: str = "",
                          event: str = "") -> None:
        current = self.ledger.orders.get(order.number)
        self.ledger.orders.update(
            current.model_copy(update={"status": status, "last_error": error}), event, error)

    def _retry_later(self, entry: OutboxEntry, order: Order, exc: PosError, report: SyncReport,
                     keep_state: str = "queued", touch_order: bool = True) -> None:
        retry_after = exc.retry_after if isinstance(exc, TransientError) else None
        delay = backoff_seconds(entry.attempts, retry_after)
        self.ledger.outbox.set_state(entry.id, keep_state, error=exc.one_line(),
                                     next_attempt_at=time.time() + delay)
        self.offline_targets.add(entry.target)
        if touch_order and entry.kind == "place":
            status = OrderStatus.UNKNOWN if keep_state == "unknown" else OrderStatus.QUEUED
            self._set_order_status(order, status, exc.one_line(), "retry")
        report.queued.append(order.number)
        report.errors.append(exc.one_line())

    def _set_unknown(self, entry: OutboxEntry, order: Order, reason: str,
                     report: SyncReport) -> None:
        self.ledger.outbox.set_state(entry.id, "unknown", error=reason,
                                     next_attempt_at=time.time() + backoff_seconds(entry.attempts))
        self._set_order_status(order, OrderStatus.UNKNOWN, reason, "unknown")
        self.offline_targets.add(entry.target)  # no answer: the next sales do not wait on it
        report.unknown.append(order.number)

    def mark_placed(self, entry: OutboxEntry, order: Order, remote_id: str, how: str) -> None:
        """A person found the sale on the store (`how` says so in the order's history)."""
        self._placed(entry, order, remote_id, SyncReport(), how)

    def _fail(self, entry: OutboxEntry, order: Order, exc: PosError, report: SyncReport) -> None:
        self.ledger.outbox.set_state(entry.id, "failed", error=exc.one_line())
        if entry.kind == "place":
            self._set_order_status(order, OrderStatus.FAILED, exc.one_line(), "failed")
        report.failed.append(order.number)
        report.errors.append(exc.one_line())
