"""Refunds and voids, the cash drawer, end of day (X, Z, Z again) and the cashier login."""

from __future__ import annotations

from decimal import Decimal

from textual.widgets import DataTable, Input, Label, Select

from pos.models import OrderStatus
from pos.session import PosSession
from screens.app import PosApp
from screens.drawer import DrawerScreen
from screens.endofday import EndOfDayScreen
from screens.login import LoginModal
from screens.orders import OrdersScreen
from screens.receipt import ReceiptScreen
from screens.refund import RefundScreen
from screens.slip import SlipScreen
from screens.widgets import StatusBar
from tests.ui.conftest import error_titles, settle, type_and_enter, type_text


def sale(session: PosSession) -> str:
    checkout = session.checkout
    checkout.add("MUG", 3)
    checkout.add("HEADPHONES")
    checkout.take_payment("cash")
    return checkout.place().number


def stock(session: PosSession, product_id: str) -> int | None:
    product = session.catalog.get(product_id)
    assert product is not None
    return product.stock


async def test_partial_refund_from_order_detail(app: PosApp, session: PosSession) -> None:
    number = sale(session)
    mug_stock = stock(session, "3")  # MUG
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        app.screen.query_one("#orders", DataTable).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RefundScreen)
        table = screen.query_one("#refund-lines", DataTable)
        assert [table.get_row_at(i)[2:] for i in range(table.row_count)] == [
            ["3", "3", "0"], ["1", "1", "0"]]
        await pilot.press("plus", "plus")
        await settle(pilot)
        assert screen.chosen == {app.session.ledger.orders.get(number).lines[0].key: 2}
        preview = str(screen.query_one("#refund-preview").render())
        assert "Refund $" in preview and "part of the order" in preview
        await pilot.press("down", "enter")  # type a quantity on the headphones line
        await type_text(pilot, "5")
        await pilot.press("enter")  # more than sold: refused
        await settle(pilot)
        assert "Quantity" in error_titles(app)
        await pilot.press("enter", "backspace", "1", "enter")
        await settle(pilot)
        assert len(screen.chosen) == 2
        await pilot.press("minus", "up")  # and back to 0
        await settle(pilot)
        assert len(screen.chosen) == 1
        await pilot.press("f10")  # no reason yet
        await settle(pilot)
        assert "Reason needed" in error_titles(app)
        screen.query_one("#refund-method", Select).value = "card"
        await type_text(pilot, "chipped")
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, SlipScreen), [n.message for n in app._notifications]
        assert f"{number}-R1" in str(app.screen.query_one("#slip").render())
        await pilot.press("f9")
        await settle(pilot)
    refunds = session.refunds.refunds_of(number)
    assert [(r.number, r.method, r.reason, r.full) for r in refunds] == [
        (f"{number}-R1", "card", "chipped", False)]
    assert [(ln.sku, ln.quantity) for ln in refunds[0].lines] == [("MUG", 2)]
    assert session.ledger.orders.get(number).status == OrderStatus.PLACED
    assert stock(session, "3") == (mug_stock or 0) + 2
    assert (session.data_dir / "receipts" / f"{number}-R1.txt").exists()


async def test_void_whole_order(app: PosApp, session: PosSession) -> None:
    number = sale(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        app.screen.query_one("#orders", DataTable).focus()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, RefundScreen)
        await pilot.press("f8")
        await type_text(pilot, "wrong customer")
        await pilot.press("enter")
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, SlipScreen)
    order = session.ledger.orders.get(number)
    assert order.status == OrderStatus.CANCELED
    assert session.refunds.refundable(order) == {ln.key: 0 for ln in order.lines}
    assert session.refunds.refunds_of(number)[0].full


async def test_cash_drawer(app: PosApp, session: PosSession) -> None:
    sale(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, DrawerScreen)
        await type_text(pilot, "100")
        await pilot.press("f8")
        await settle(pilot)
        await type_text(pilot, "20")
        await pilot.press("tab")
        await type_text(pilot, "change from bank")
        await pilot.press("f9")
        await settle(pilot)
        await type_text(pilot, "5")
        await pilot.press("f10")  # no reason: refused
        await settle(pilot)
        assert error_titles(app)
        await pilot.press("tab")
        await type_text(pilot, "stamps")
        await pilot.press("f10")
        await settle(pilot)
        summary = session.cash.summary()
        assert (summary.opening_float, summary.cash_in, summary.cash_out) == (
            Decimal("100.00"), Decimal("20.00"), Decimal("5.00"))
        counted = summary.expected - Decimal("1.00")
        await type_text(pilot, str(counted))
        await pilot.press("f11")
        await settle(pilot)
        text = str(app.screen.query_one("#drawer-summary").render())
        assert "Difference" in text and "$-1.00" in text and "cash missing" in text
        assert app.screen.query_one("#drawer-moves", DataTable).row_count == 4
    assert session.cash.summary().difference == Decimal("-1.00")


async def test_end_of_day_x_then_z_then_z_refused(app: PosApp, session: PosSession) -> None:
    sale(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert isinstance(app.screen, EndOfDayScreen)
        text = str(app.screen.query_one("#eod-report").render())
        assert "X REPORT" in text
        await pilot.press("f9")
        await settle(pilot)
        assert not error_titles(app)
        await pilot.press("f10", "n")  # the confirmation, declined
        await settle(pilot)
        assert session.ledger.db.execute("SELECT count(*) FROM z_reports").fetchone()[0] == 0
        await pilot.press("f10", "y")
        await settle(pilot)
        assert "Z REPORT" in str(app.screen.query_one("#eod-report").render())
        await pilot.press("f10", "y")
        await settle(pilot)
        assert error_titles(app)
        assert any("already run" in n.message for n in app._notifications)
    assert session.reports.stored_z()["kind"] == "z"


async def test_login_wrong_then_right_pin(session: PosSession) -> None:
    session.cashiers.add("Ann", "1234")
    session.cashiers.add("Bob", "5678")
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginModal)
        await pilot.press("f7")  # nothing opens before the login
        await settle(pilot)
        assert isinstance(app.screen, LoginModal)
        await type_text(pilot, "Ann")
        await pilot.press("enter")
        await type_and_enter(pilot, "0000")
        assert isinstance(app.screen, LoginModal)
        assert "Wrong PIN" in str(app.screen.query_one("#login-error", Label).render())
        assert app.screen.query_one("#login-pin", Input).password
        await type_and_enter(pilot, "1234")
        current: object = app.screen  # (no longer the login modal checked above)
        assert current is app.cart_screen
        assert "cashier Ann" in str(app.screen.query_one(StatusBar).render())
    assert app.checkout.cashier == "Ann"


async def test_login_lockout(session: PosSession) -> None:
    session.cashiers.add("Ann", "1234")
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginModal)  # one cashier: the name is filled in
        for _ in range(3):
            await type_and_enter(pilot, "9999")
        assert "locked out" in str(app.screen.query_one("#login-error", Label).render())
        await type_and_enter(pilot, "1234")
        assert isinstance(app.screen, LoginModal)


async def test_no_cashiers_no_login(app: PosApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen is app.cart_screen


async def test_new_keys_can_be_remapped(session: PosSession) -> None:
    session.settings.keys.update({"drawer": "ctrl+b", "endofday": "ctrl+g",
                                  "orders.refund": "ctrl+t"})
    number = sale(session)
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(app.screen, DrawerScreen)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, EndOfDayScreen)
        await pilot.press("f7")
        await settle(pilot)
        app.screen.query_one("#orders", DataTable).focus()
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, RefundScreen)
        assert app.screen.number == number


async def test_switch_cashier(session: PosSession) -> None:
    session.cashiers.add("Ann", "1234")
    session.cashiers.add("Bob", "5678")
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await type_text(pilot, "Ann")
        await pilot.press("enter", "1", "2", "3", "4", "enter")
        await settle(pilot)
        assert app.screen is app.cart_screen
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LoginModal)
        await type_text(pilot, "Bob")
        await pilot.press("enter", "5", "6", "7", "8", "enter")
        await settle(pilot)
        assert app.screen is app.cart_screen
        assert "cashier Bob" in str(app.screen.query_one(StatusBar).render())
    assert app.checkout.cashier == "Bob"


async def test_status_bar_is_current_when_the_cart_shows_again(app: PosApp) -> None:
    """A worker's status (outbox, online) lands while another screen is up: the cart's bar shows
    it as soon as the cashier is back, not at the next sync tick."""
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("f7")
        await settle(pilot)
        assert isinstance(app.screen, OrdersScreen)
        app._set_status(5, False)
        await pilot.press("escape")
        await settle(pilot)
        bar = str(app.screen.query_one(StatusBar).content)
        assert "outbox 5" in bar and "offline" in bar
