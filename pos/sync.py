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

Batching (throughput of `flush`, one fsync per sale instead of three): the `sending` mark of an
entry and its order's `sending` status are one transaction, committed before the call. During a
flush, the `done` of a placement is not committed on its own: it rides in the next transaction
(the next entry's `sending` mark, committed before *its* call) or the one closing the flush. No
state change that announces a call is ever delayed; a crash in between leaves the entry `sending`,
which is reconciled (looked up on the store) exactly as after a crash just before `done`. Only
backends that can reconcile (they override `find_order`) get this; for the others `done` is
committed at once, so a crash never leaves more for a person to check than before.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from pos.backends.base import Backend, UnsupportedError
from pos.errors import OutcomeUnknown, PosError, TransientError
from pos.faults import crash_point
from pos.models import Order, OrderStatus
from pos.store import Ledger, OutboxEntry
from pos.store.db import transaction
from pos.store.locks import sync_lock

MAX_BACKOFF_S = 300.0
log = logging.getLogger("pos.sync")


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential back-off with full jitter, at least `Retry-After` when the server said so."""
    base = min(MAX_BACKOFF_S, 2.0 ** min(attempts, 12))
    delay = random.uniform(base / 2, base)
    return max(delay, retry_after or 0.0)


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


class SyncEngine:
    def __init__(self, ledger: Ledger, backend_for: Callable[[str], Backend]) -> None:
        self.ledger = ledger
        self.backend_for = backend_for
        self.offline_targets: set[str] = set()
        self.lock = sync_lock(ledger.data_dir)
        # writes whose commit may wait for the next transaction (see the module docstring)
        self._deferring: int | None = None  # the thread running `flush` (only it defers)
        self._pending: list[Callable[[sqlite3.Connection], None]] = []
        self._pending_done: set[int] = set()

    # --- entry points ------------------------------------------------------------------------

    def deliver(self, number: str) -> Order:
        """Try this sale's entries now (right after it was recorded); return the order."""
        report = SyncReport()
        with self.lock:  # blocks while another process flushes (seconds at most)
            for entry in self.ledger.outbox.for_order(number):
                if entry.state in ("queued", "sending", "unknown"):
                    self._process(entry, report)
        return self.ledger.orders.get(number)

    def flush(self, now: float | None = None) -> SyncReport:
        """Work through every due entry once."""
        report = SyncReport()
        if not self.lock.acquire():
            report.errors.append("Another pos process is sending this data dir's sales.")
            return report
        self._deferring = threading.get_ident()
        try:
            self._flush(now, report)
        finally:
            self._deferring = None
            try:
                self._write()  # whatever `done` is still pending
            finally:
                self.lock.release()
        return report

    def _flush(self, now: float | None, report: SyncReport) -> None:
        entries = self.ledger.outbox.due(now)
        entries.sort(key=lambda e: (e.number, e.kind != "place", e.id))
        blocked: set[str] = set()
        tripped: set[str] = set()  # circuit open: this target failed transiently in this pass
        for entry in entries:
            if entry.target in tripped or (entry.kind != "place" and entry.number in blocked):
                continue
            before = len(report.queued)
            state = self._process(entry, report)
            if len(report.queued) > before:
                tripped.add(entry.target)
            if entry.kind == "place" and state != "done":
                blocked.add(entry.number)

    # --- one entry ---------------------------------------------------------------------------

    def _process(self, entry: OutboxEntry, report: SyncReport) -> str:
        """Attempt one entry; returns its state afterwards."""
        started = time.monotonic()
        if entry.kind != "place":
            self._write()  # mirrors keep their own transactions: commit what waits first
        self._attempt(entry, report)
        after = self.ledger.outbox.get(entry.id)
        if after is not None and entry.id in self._pending_done:
            after = replace(after, state="done", last_error="")
        log.info("sync %s %s→%s attempt %d: %s%s (%.0f ms)", entry.number, entry.kind,
                 entry.target, (after.attempts if after else entry.attempts),
                 after.state if after else "?",
                 f" — {after.last_error}" if after and after.last_error else "",
                 (time.monotonic() - started) * 1000)
        return after.state if after else "?"

    def _write(self, change: Callable[[sqlite3.Connection], None] | None = None) -> None:
        """Commit the pending writes (and `change`) in one transaction."""
        if not self._pending and change is None:
            return
        ledger = self.ledger
        with transaction(ledger.db, ledger.path) as conn:
            for pending in self._pending:
                pending(conn)
            if change is not None:
                change(conn)
        self._pending.clear()
        self._pending_done.clear()

    def _attempt(self, entry: OutboxEntry, report: SyncReport) -> None:
        order = self.ledger.orders.get(entry.number)
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
        outbox = self.ledger.outbox
        if entry.state in ("sending", "unknown"):
            try:
                found = backend.find_order(order)
            except UnsupportedError:
                self._set_unknown(entry, order, "The store cannot be asked whether it has this "
                                  "sale: check it there, then retry or mark it placed.", report)
                return
            except PosError as exc:
                self._retry_later(entry, order, exc, report, keep_state="unknown")
                return
            if found is not None:
                self._placed(entry, order, found.remote_id, report, "reconciled")
                return
        sending = order.model_copy(update={"status": OrderStatus.SENDING, "last_error": ""})

        def announce(conn: sqlite3.Connection) -> None:
            outbox.set_state(entry.id, "sending", count_attempt=True, conn=conn)
            self.ledger.orders.update(sending, conn=conn)

        self._write(announce)  # committed before the call it announces
        order = sending
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
        done = order.model_copy(update={"status": OrderStatus.PLACED, "remote_id": remote_id,
                                        "last_error": ""})
        ledger = self.ledger

        def mark_done(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE outbox SET state = 'done', remote_id = ?, last_error = '' "
                         "WHERE id = ?", [remote_id, entry.id])
            ledger.orders.update(done, event, f"{entry.target} #{remote_id}", conn=conn)

        if self._deferring == threading.get_ident() and self._can_reconcile(entry.target):
            self._pending.append(mark_done)  # committed with the next transaction
            self._pending_done.add(entry.id)
        else:
            self._write(mark_done)
        report.placed.append(order.number)

    def _can_reconcile(self, target: str) -> bool:
        """Whether the target's backend can look a sale up (so a lost `done` is recoverable)."""
        try:
            backend = self.backend_for(target)
        except PosError:
            return False
        return type(backend).find_order is not Backend.find_order

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
        report.unknown.append(order.number)

    def _fail(self, entry: OutboxEntry, order: Order, exc: PosError, report: SyncReport) -> None:
        self.ledger.outbox.set_state(entry.id, "failed", error=exc.one_line())
        if entry.kind == "place":
            self._set_order_status(order, OrderStatus.FAILED, exc.one_line(), "failed")
        report.failed.append(order.number)
        report.errors.append(exc.one_line())


class OutboxActions:
    """What a cashier can do with an outbox entry: retry, resolve an unknown one, cancel."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.ledger = engine.ledger

    def _entry(self, entry_id: int) -> OutboxEntry:
        entry = self.ledger.outbox.get(entry_id)
        if entry is None:
            from pos.errors import NotFoundError

            raise NotFoundError(message=f"There is no outbox entry {entry_id}.",
                                hint="`pos outbox list` shows them.")
        return entry

    def retry(self, entry_id: int) -> Order:
        """Send again now. An `unknown` entry is still reconciled first (never sent twice)."""
        entry = self._entry(entry_id)
        if entry.state == "done":
            raise _state_error(entry, "is already done")
        state = "unknown" if entry.state in ("unknown", "sending") else "queued"
        self.ledger.outbox.set_state(entry_id, state, next_attempt_at=0)
        return self.engine.deliver(entry.number)

    def resolve(self, entry_id: int, remote_id: str | None) -> Order:
        """A person checked the store: placed there (with its id), or certainly not placed."""
        entry = self._entry(entry_id)
        if entry.state not in ("unknown", "failed", "queued"):
            raise _state_error(entry, f"is {entry.state}")
        order = self.ledger.orders.get(entry.number)
        if remote_id:
            self.engine._placed(entry, order, remote_id, SyncReport(), "resolved")
            return self.ledger.orders.get(entry.number)
        self.ledger.outbox.set_state(entry_id, "queued", next_attempt_at=0)
        return self.engine.deliver(entry.number)

    def cancel(self, entry_id: int, reason: str) -> Order:
        """Give up sending this entry; a cancelled placement cancels the sale (with reason)."""
        if not reason.strip():
            from pos.errors import InputError

            raise InputError(message="Say why the entry is cancelled.", hint="--reason TEXT")
        entry = self._entry(entry_id)
        if entry.state in ("done", "canceled"):
            raise _state_error(entry, f"is already {entry.state}")
        if entry.state == "unknown":
            raise _state_error(entry, "may have reached the store: resolve it first "
                                      "(pos outbox resolve)")
        self.ledger.outbox.set_state(entry_id, "canceled", error=f"canceled: {reason}")
        order = self.ledger.orders.get(entry.number)
        if entry.kind == "place":
            order = order.model_copy(update={"status": OrderStatus.CANCELED,
                                             "last_error": f"canceled: {reason}"})
            self.ledger.orders.update(order, "canceled", reason)
        log.info("outbox %d %s %s→%s canceled: %s", entry_id, entry.number, entry.kind,
                 entry.target, reason)
        return order


def _state_error(entry: OutboxEntry, why: str) -> PosError:
    from pos.errors import RuleError

    return RuleError(message=f"Outbox entry {entry.id} ({entry.number} → {entry.target}) {why}.",
                     field="outbox")
