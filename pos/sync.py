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

Batching — fewer durable writes than one per sale, with the same guarantees — is
`pos/sync_batches.py` (`SyncBatches`, this engine's base class).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace

from pos.backends.base import Backend, UnsupportedError
from pos.errors import OutcomeUnknown, PosError, TransientError
from pos.faults import crash_point
from pos.models import Order, OrderStatus
from pos.store import Ledger, OutboxEntry
from pos.store.locks import sync_lock
from pos.sync_batches import PlacementDone, SyncBatches

MAX_BACKOFF_S = 300.0
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


class SyncEngine(SyncBatches):
    def __init__(self, ledger: Ledger, backend_for: Callable[[str], Backend], *,
                 offline_targets: set[str] | None = None) -> None:
        super().__init__()
        self.ledger = ledger
        self.backend_for = backend_for
        # targets that did not answer lately (shared by the engines of one counter)
        self.offline_targets: set[str] = set() if offline_targets is None else offline_targets
        self.lock = sync_lock(ledger.data_dir)
        # one flush or delivery at a time in this process (other processes: `lock`)
        self._busy = threading.RLock()
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
            self._write_if_done_waits()  # slow calls: do not keep finished sales waiting
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
        done = PlacementDone(entry.id, order.number, entry.target, remote_id, event)
        self._defer_done(done, entry.target)
        report.placed.append(order.number)

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
