"""Flush batching: a placement's `sending` is committed before its call, and the previous
placement's `done` is committed no later than that (in the same transaction)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pos.backends.base import BackendSettings, PlacedOrder
from pos.backends.local import LocalBackend
from pos.config import load_settings
from pos.errors import TransientError
from pos.models import Order, OrderStatus
from pos.session import open_session


class WatchingBackend(LocalBackend):
    """Records, at each call, what another connection sees committed in pos.db."""

    def __init__(self, settings: BackendSettings, context: object, db: Path) -> None:
        super().__init__(settings, context)  # type: ignore[arg-type]
        self.db_path = db
        self.down = False
        self.seen: list[dict[str, str]] = []

    def place_order(self, order: Order) -> PlacedOrder:
        if self.down:
            raise TransientError(message="connection refused")
        with sqlite3.connect(self.db_path) as other:
            self.seen.append(dict(other.execute(
                "SELECT o.number, o.state || '/' || d.status FROM outbox o "
                "JOIN orders d ON d.number = o.number")))
        return super().place_order(order)


def test_flush_commits_sending_before_each_call_and_done_by_the_next(data_dir: Path) -> None:
    session = open_session(data_dir, "local", load_settings())
    session.backend.close()
    backend = WatchingBackend(session.backend.settings, session.backend.context,
                              session.ledger.path)
    session._backends["local"] = backend
    backend.down = True
    numbers = []
    for _ in range(3):
        co = session.checkout
        co.scan("MUG")
        co.take_payment("cash")
        numbers.append(co.place().number)
    backend.down = False
    report = session.sync.flush(now=float("inf"))
    assert report.placed == numbers
    first, second, third = backend.seen
    assert first[numbers[0]] == "sending/sending"
    assert second[numbers[0]] == "done/placed" and second[numbers[1]] == "sending/sending"
    assert third[numbers[1]] == "done/placed" and third[numbers[2]] == "sending/sending"
    # the last one is committed when the flush ends
    for number in numbers:
        assert session.ledger.orders.get(number).status is OrderStatus.PLACED
    assert session.ledger.outbox.pending_count() == 0
    assert [e.state for n in numbers for e in session.ledger.outbox.for_order(n)] == ["done"] * 3
    session.close()
