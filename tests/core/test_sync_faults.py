"""The sync engine under faults: each outcome is placed once, queued, or a clear error."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from pos.errors import RuleError, StorageError
from pos.models import Order, OrderStatus
from pos.outbox_actions import OutboxActions
from pos.session import PosSession
from tests.fakes import FlakyBackend


def sell(session: PosSession, code: str = "MUG") -> Order:
    co = session.checkout
    co.scan(code)
    co.take_payment("cash")
    return co.place()


def store_orders(backend: FlakyBackend) -> list[str]:
    return backend.stored_numbers()


def test_store_down_queues_then_places_once(flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["down"]
    order = sell(session)
    assert order.status is OrderStatus.QUEUED and "connection refused" in order.last_error
    assert session.ledger.outbox.pending_count() == 1
    report = session.sync.flush(now=float("inf"))
    assert report.placed == [order.number]
    assert store_orders(backend) == [order.number]
    assert session.ledger.orders.get(order.number).status is OrderStatus.PLACED


def test_lost_answer_is_reconciled_not_resent(flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["lost"]
    order = sell(session)
    assert order.status is OrderStatus.UNKNOWN
    calls = backend.calls
    session.sync.flush(now=float("inf"))
    assert backend.calls == calls  # found by reconciliation: place_order not called again
    assert session.ledger.orders.get(order.number).status is OrderStatus.PLACED
    assert store_orders(backend) == [order.number]


def test_unknown_without_reconcile_waits_for_a_person(
        flaky: tuple[PosSession, FlakyBackend], capsys: pytest.CaptureFixture[str]) -> None:
    session, backend = flaky
    backend.plan = ["lost"]
    order = sell(session)
    backend.can_reconcile = False  # a store whose API cannot look orders up
    session.sync.flush(now=float("inf"))
    assert session.ledger.orders.get(order.number).status is OrderStatus.UNKNOWN
    assert store_orders(backend) == [order.number]  # still once: never re-sent blindly
    entry = session.ledger.outbox.for_order(order.number)[0]
    actions = OutboxActions(session.sync)
    with pytest.raises(Exception, match="resolve it first"):
        actions.cancel(entry.id, "customer left")
    resolved = actions.resolve(entry.id, remote_id="1")
    assert resolved.status is OrderStatus.PLACED and resolved.remote_id == "1"


def test_an_entry_left_sending_is_not_cancelled_blindly(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    """`sending` (a call under way, or pos stopped during one) may have reached the store."""
    session, backend = flaky
    backend.plan = ["down"]
    order = sell(session)
    entry = session.ledger.outbox.for_order(order.number)[0]
    session.ledger.outbox.set_state(entry.id, "sending")  # as a crash mid-call leaves it
    actions = OutboxActions(session.sync)
    with pytest.raises(Exception, match="may have reached the store"):
        actions.cancel(entry.id, "customer left")
    still = session.ledger.outbox.get(entry.id)
    assert still is not None and still.state == "sending"
    assert actions.retry(entry.id).status is OrderStatus.PLACED  # reconciled, then sent once
    assert store_orders(backend) == [order.number]


def test_refused_sale_fails_visibly_and_can_be_cancelled(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["refuse", "refuse"]
    order = sell(session)
    assert order.status is OrderStatus.FAILED and "Price changed" in order.last_error
    entry = session.ledger.outbox.for_order(order.number)[0]
    assert entry.state == "failed" and "Price changed" in entry.last_error
    actions = OutboxActions(session.sync)
    assert actions.retry(entry.id).status is OrderStatus.FAILED
    canceled = actions.cancel(entry.id, "customer paid back in cash")
    assert canceled.status is OrderStatus.CANCELED
    assert store_orders(backend) == []
    assert session.ledger.outbox.open_entries() == []


def test_circuit_breaker_one_try_per_pass_when_down(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["down"] * 3
    numbers = [sell(session).number for _ in range(3)]
    assert backend.calls == 1  # the next sales did not wait on a store that refused the last
    backend.plan = ["down"] * 10
    session.sync.flush(now=float("inf"))
    assert backend.calls == 2  # the first failure opened the circuit for this pass
    backend.plan = []
    report = session.sync.flush(now=float("inf"))
    assert sorted(report.placed) == sorted(numbers)
    assert sorted(store_orders(backend)) == sorted(numbers)


def test_every_sync_attempt_is_logged(flaky: tuple[PosSession, FlakyBackend],
                                      caplog: pytest.LogCaptureFixture) -> None:
    session, backend = flaky
    backend.plan = ["down"]
    with caplog.at_level(logging.INFO, logger="pos.sync"):
        order = sell(session)
        session.sync.flush(now=float("inf"))
    lines = [r.getMessage() for r in caplog.records if r.name == "pos.sync"]
    assert len(lines) == 2
    assert lines[0].startswith(f"sync {order.number} place→local attempt 1: queued")
    assert lines[1].startswith(f"sync {order.number} place→local attempt 2: done")


def test_full_disk_keeps_the_sale_in_the_cart(session: PosSession) -> None:
    co = session.checkout
    co.scan("2*MUG")
    co.take_payment("cash")
    db: sqlite3.Connection = session.ledger.db.conn
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count={pages}")  # the disk is now full for this database
    db.execute("CREATE TEMP TABLE t(x)")
    with pytest.raises(StorageError, match="full"):
        for _ in range(200):  # fill the last free pages, then place
            co.set_comment("x" * 4000)
            co.place()
    assert [ln.sku for ln in co.cart.lines] == ["MUG"]  # the sale is intact in memory
    db.execute(f"PRAGMA max_page_count={pages * 100}")  # space freed
    order = co.place()
    assert order.status is OrderStatus.PLACED
    assert len(session.ledger.orders.list()) == 1


def test_edit_and_retry_replaces_the_refused_sale(flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["refuse"]
    refused = sell(session)
    co = session.checkout
    with pytest.raises(RuleError, match="only a sale the store refused"):
        co.reopen(sell(session, "HEADPHONES").number)  # a placed sale cannot be reopened
    cart = co.reopen(refused.number)
    assert (cart.number, cart.reopened, cart.payments) == (
        refused.number, True, refused.payments)
    assert co.reopen(refused.number) is co.cart  # twice: the same cart, nothing parked
    co.set_quantity(cart.lines[0].key, 2)
    assert any("still to pay" in p for p in co.problems())
    co.take_payment("cash")
    placed = co.place()
    assert (placed.number, placed.status) == (refused.number, OrderStatus.PLACED)
    assert [ln.quantity for ln in placed.lines] == [2]
    assert sorted(backend.stored_numbers()) == sorted(
        [refused.number, session.ledger.orders.list()[0].number])
    assert session.ledger.outbox.open_entries() == []


def test_edited_copy_is_refused_once_the_original_was_sent(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["refuse"]
    refused = sell(session)
    co = session.checkout
    co.reopen(refused.number)
    [entry] = session.ledger.outbox.for_order(refused.number)
    OutboxActions(session.sync).retry(entry.id)  # meanwhile, sent unchanged: placed
    with pytest.raises(RuleError, match="is placed now"):
        co.place()
    assert backend.stored_numbers() == [refused.number]  # once
    assert not co.cart.empty  # the cart is kept: the cashier voids it


def test_overpaid_after_an_edit_must_be_settled(flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["refuse"]
    co = session.checkout
    co.scan("MUG")
    refused = sell(session)  # two mugs, paid
    cart = co.reopen(refused.number)
    co.set_quantity(cart.lines[0].key, 1)
    [problem] = co.problems()
    assert "paid more than the total" in problem
    with pytest.raises(RuleError):
        co.place()
    co.cancel_payments()
    co.take_payment("cash", "20")
    assert co.place().status is OrderStatus.PLACED


@pytest.mark.parametrize("attempts", [0, 1, 2, 5, 8, 9, 30])
def test_backoff_is_exponential_with_equal_jitter_and_capped(attempts: int) -> None:
    from pos.sync import MAX_BACKOFF_S, backoff_seconds

    step = min(2.0 ** attempts, MAX_BACKOFF_S)
    delays = [backoff_seconds(attempts) for _ in range(200)]
    assert all(step / 2 - 1e-9 <= d <= step + 1e-9 for d in delays)
    assert len({round(d, 6) for d in delays}) > 1  # jittered
    assert backoff_seconds(attempts, retry_after=400.0) == 400.0  # the server's word wins
