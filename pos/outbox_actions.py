"""What a cashier can do with an outbox entry (the Outbox screen, `pos outbox`): retry it now,
resolve an `unknown` one after checking the store, or cancel it with a reason."""

from __future__ import annotations

import logging

from pos.errors import InputError, NotFoundError, PosError, RuleError
from pos.models import Order, OrderStatus
from pos.store import OutboxEntry
from pos.sync import SyncEngine

log = logging.getLogger("pos.sync")


class OutboxActions:
    """What a cashier can do with an outbox entry: retry, resolve an unknown one, cancel."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.ledger = engine.ledger

    def _entry(self, entry_id: int) -> OutboxEntry:
        entry = self.ledger.outbox.get(entry_id)
        if entry is None:
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
        return self.engine.deliver(entry.number, force=True)

    def resolve(self, entry_id: int, remote_id: str | None) -> Order:
        """A person checked the store: placed there (with its id), or certainly not placed."""
        entry = self._entry(entry_id)
        if entry.state not in ("unknown", "failed", "queued"):
            raise _state_error(entry, f"is {entry.state}")
        order = self.ledger.orders.get(entry.number)
        if remote_id:
            self.engine.mark_placed(entry, order, remote_id, "resolved")
            return self.ledger.orders.get(entry.number)
        self.ledger.outbox.set_state(entry_id, "queued", next_attempt_at=0)
        return self.engine.deliver(entry.number, force=True)

    def cancel(self, entry_id: int, reason: str) -> Order:
        """Give up sending this entry; a cancelled placement cancels the sale (with reason)."""
        if not reason.strip():
            raise InputError(message="Say why the entry is cancelled.", hint="--reason TEXT")
        entry = self._entry(entry_id)
        if entry.state in ("done", "canceled"):
            raise _state_error(entry, f"is already {entry.state}")
        if entry.state == "unknown":
            raise _state_error(entry, "may have reached the store: resolve it first "
                                      "(pos outbox resolve)")
        if entry.state == "sending":  # a call under way, or pos stopped during one
            raise _state_error(entry, "is being sent, or was when pos stopped, so it may have "
                                      "reached the store: retry it to have it checked first")
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
    return RuleError(message=f"Outbox entry {entry.id} ({entry.number} → {entry.target}) {why}.",
                     field="outbox")
