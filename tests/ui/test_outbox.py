"""The Outbox screen (Ctrl+B): retry, edit-and-retry, cancel with a reason, resolve an unknown
sale — each ends with the sale placed once, or cancelled, and nothing lost."""

from __future__ import annotations

from decimal import Decimal

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from pos.models import Order, OrderStatus
from pos.session import PosSession
from screens.app import PosApp
from screens.outbox import OutboxScreen
from screens.receipt import ReceiptScreen
from tests.fakes import FlakyBackend, install_flaky
from tests.ui.conftest import cash_sale, scan, settle, type_and_enter


async def sell(pilot: Pilot[int], app: PosApp, code: str = "MUG") -> Order:
    """A cash sale, back on the cart; returns the order as it stands."""
    await cash_sale(pilot, code)
    [order] = app.session.ledger.orders.list(limit=1)
    return order


async def open_outbox(pilot: Pilot[int], app: PosApp) -> OutboxScreen:
    await pilot.press("ctrl+b")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, OutboxScreen)
    return screen


@pytest.fixture
def flaky(session: PosSession) -> FlakyBackend:
    return install_flaky(session)


def detail(screen: OutboxScreen) -> str:
    return str(screen.query_one("#outbox-detail").render())


def rows(screen: OutboxScreen) -> list[list[str]]:
    table: DataTable[str] = screen.query_one("#outbox", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]



async def test_refused_sale_is_edited_and_sent_again_under_its_number(
        session: PosSession, app: PosApp, flaky: FlakyBackend) -> None:
    flaky.plan = ["refuse"]
    async with app.run_test(size=(120, 40)) as pilot:
        refused = await sell(pilot, app)
        assert refused.status is OrderStatus.FAILED
        screen = await open_outbox(pilot, app)
        [row] = rows(screen)
        assert row[1:5] == [refused.number, "place", session.profile, "failed"]
        assert "Price changed on the store" in detail(screen)
        assert "F10" in detail(screen)
        await pilot.press("f10")
        await settle(pilot)
        assert app.screen is app.cart_screen
        cart = session.checkout.cart
        assert (cart.number, cart.reopened) == (refused.number, True)
        assert [ln.quantity for ln in cart.lines] == [1]
        assert session.checkout.remaining() == 0  # the cash already taken stays with the sale
        await scan(pilot, "MUG")  # the fix: the customer takes two
        assert [ln.quantity for ln in session.checkout.cart.lines] == [2]
        await pilot.press("f12")
        await settle(pilot)
        await pilot.press("enter")  # the second mug, exact cash
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
        assert app.screen.number == refused.number
    [order] = session.ledger.orders.list()
    assert (order.number, order.status) == (refused.number, OrderStatus.PLACED)
    assert [ln.quantity for ln in order.lines] == [2]
    assert order.totals.subtotal == 2 * refused.totals.subtotal
    assert len(order.payments) == 2  # the first cash kept, the rest taken after the fix
    assert sum((p.amount for p in order.payments), Decimal(0)) == order.totals.total
    assert order.created_at == refused.created_at
    assert flaky.stored_numbers() == [refused.number]  # placed once
    assert session.ledger.outbox.open_entries() == []
    kinds = [kind for _, kind, _ in session.ledger.orders.events(refused.number)]
    assert "reopened" in kinds and "edited" in kinds


async def test_edit_parks_the_cart_in_progress(
        session: PosSession, app: PosApp, flaky: FlakyBackend) -> None:
    flaky.plan = ["refuse"]
    async with app.run_test(size=(120, 40)) as pilot:
        refused = await sell(pilot, app)
        await scan(pilot, "HEADPHONES")  # the next customer's sale is under way
        await open_outbox(pilot, app)
        await pilot.press("f10")
        await settle(pilot)
        assert session.checkout.cart.number == refused.number
    [parked] = session.checkout.parked()
    assert [ln.sku for ln in parked.lines] == ["HEADPHONES"]


async def test_cancel_needs_a_reason_and_cancels_the_sale(
        session: PosSession, app: PosApp, flaky: FlakyBackend) -> None:
    flaky.plan = ["refuse"]
    async with app.run_test(size=(120, 40)) as pilot:
        refused = await sell(pilot, app)
        screen = await open_outbox(pilot, app)
        await pilot.press("f11")
        await settle(pilot)
        await type_and_enter(pilot, "customer left")
        assert app.screen is screen
        assert rows(screen) == []
        assert "empty" in detail(screen)
    order = session.ledger.orders.get(refused.number)
    assert order.status is OrderStatus.CANCELED and "customer left" in order.last_error
    assert flaky.stored_numbers() == []


async def test_queued_sale_retried_now(
        session: PosSession, app: PosApp, flaky: FlakyBackend) -> None:
    flaky.plan = ["down"]
    async with app.run_test(size=(120, 40)) as pilot:
        queued = await sell(pilot, app)
        assert queued.status is OrderStatus.QUEUED
        screen = await open_outbox(pilot, app)
        assert rows(screen)[0][4] == "queued"
        assert "connection refused" in detail(screen)
        await pilot.press("f9")
        await settle(pilot)
        assert rows(screen) == []
    assert session.ledger.orders.get(queued.number).status is OrderStatus.PLACED
    assert flaky.stored_numbers() == [queued.number]


async def test_unknown_sale_resolved_as_placed_is_never_sent_again(
        session: PosSession, app: PosApp, flaky: FlakyBackend) -> None:
    flaky.plan = ["lost"]
    async with app.run_test(size=(120, 40)) as pilot:
        lost = await sell(pilot, app)
        assert lost.status is OrderStatus.UNKNOWN
        flaky.can_reconcile = False  # the store cannot be asked: a person checks
        screen = await open_outbox(pilot, app)
        assert rows(screen)[0][4] == "unknown"
        await pilot.press("f9")  # asks the store, which cannot tell: still unknown
        await settle(pilot)
        assert rows(screen)[0][4] == "unknown"
        assert "check it there" in detail(screen)
        await pilot.press("f10")  # not a refused sale: nothing to edit
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("f11")  # may be in the store: cannot be cancelled blindly
        await settle(pilot)
        await type_and_enter(pilot, "gone")
        assert rows(screen)[0][4] == "unknown"
        await pilot.press("ctrl+r")
        await settle(pilot)
        await type_and_enter(pilot, "77")
        assert rows(screen) == []
    order = session.ledger.orders.get(lost.number)
    assert (order.status, order.remote_id) == (OrderStatus.PLACED, "77")
    assert flaky.calls == 1 and flaky.stored_numbers() == [lost.number]


async def test_send_all_sends_entries_waiting_out_their_back_off(
        session: PosSession, app: PosApp, flaky: FlakyBackend) -> None:
    flaky.plan = ["down"]  # the second sale is not tried: the store refused the first
    async with app.run_test(size=(120, 40)) as pilot:
        first = await sell(pilot, app)
        second = await sell(pilot, app, "HEADPHONES")
        screen = await open_outbox(pilot, app)
        assert len(rows(screen)) == 2
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert rows(screen) == []
    assert sorted(flaky.stored_numbers()) == sorted([first.number, second.number])


async def test_order_detail_shows_where_the_sale_went(
        session: PosSession, app: PosApp, flaky: FlakyBackend) -> None:
    flaky.plan = ["down"]
    async with app.run_test(size=(120, 40)) as pilot:
        queued = await sell(pilot, app)
        await pilot.press("f7")
        await settle(pilot)
        app.screen.query_one("#orders").focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReceiptScreen) and screen.number == queued.number
        text = str(screen.query_one("#receipt-delivery").render())
        assert f"place → {session.profile}: queued" in text and "connection refused" in text
