"""Whole sales driven through the keyboard with Pilot, asserting on the ledger."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from pos.models import OrderStatus
from pos.session import PosSession
from screens.app import PosApp
from screens.payment import PaymentScreen
from screens.receipt import ReceiptScreen
from tests.ui.conftest import cash_sale, error_titles, scan, settle


async def test_cash_exact(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        table = app.cart_screen.query_one("#lines", DataTable)
        assert table.row_count == 1
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
        orders = session.ledger.orders.list()
        assert len(orders) == 1
        order = orders[0]
        assert order.status == OrderStatus.PLACED
        assert order.lines[0].sku == "MUG"
        assert order.payments[0].method == "cash"
        assert order.change == 0
        # any key: a fresh cart, and a printable key goes on into the cart input
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is app.cart_screen
        assert app.cart_screen.scan_input.value == "x"
        assert table.row_count == 0


async def test_cash_with_change_and_print(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "2*MUG")
        await pilot.press("f12")
        await settle(pilot)
        for char in "50":
            await pilot.press(char)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
        order = session.ledger.orders.list()[0]
        assert order.lines[0].quantity == 2
        assert order.payments[0].tendered == Decimal("50.00")
        assert order.change == Decimal("50.00") - order.totals.total
        assert "Change" in str(app.screen.query_one("#receipt-head").render())
        await pilot.press("f9")
        await settle(pilot)
        printed = session.data_dir / "receipts" / f"{order.number}.txt"
        assert order.number in printed.read_text()


async def test_errors_are_notified(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "CAMERA-VINTAGE")
        await scan(pilot, "NOPE-123")
        await scan(pilot, "NAPKINS")
        assert error_titles(app) == ["Not allowed", "Not found"]
        assert app.cart_screen.query_one("#lines", DataTable).row_count == 1
        await pilot.press("f12")
        await settle(pilot)
        assert app.screen is app.cart_screen
        assert error_titles(app)[-1] == "Cannot pay yet"
        assert any("Minimum" in str(n.message) for n in app._notifications)
        assert session.ledger.orders.list() == []


async def test_orders_search_detail_and_reprint(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        for code in ("MUG", "EBOOK"):
            await cash_sale(pilot, code)
        await pilot.press("f7")
        await settle(pilot)
        table = app.screen.query_one("#orders", DataTable)
        assert table.row_count == 2
        for char in "000002":
            await pilot.press(char)
        await settle(pilot)
        assert table.row_count == 1
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
        assert app.screen.number == "T1-000002"
        await pilot.press("f9")
        await settle(pilot)
        assert (session.data_dir / "receipts" / "T1-000002.txt").exists()
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrdersScreen"


async def test_fast_scans_keep_their_order_and_quantity_prompt(app: PosApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        for code in ("MUG", "EBOOK", "HEADPHONES", "3*SCARF-VAT"):
            await pilot.press(*[c if c != "*" else "asterisk" for c in code], "enter")
        await settle(pilot)
        cart = app.checkout.cart
        assert [(ln.sku, ln.quantity) for ln in cart.lines] == [
            ("MUG", 1), ("EBOOK", 1), ("HEADPHONES", 1), ("SCARF-VAT", 3)]
        table = app.cart_screen.query_one("#lines", DataTable)
        assert [table.get_row_at(i)[0] for i in range(4)] == [ln.name for ln in cart.lines]
        assert app.cart_screen.selected_key() == cart.lines[3].key  # the last one scanned
        await pilot.press("up", "f9")
        await settle(pilot)
        await pilot.press("backspace", "5", "enter")
        await settle(pilot)
        assert app.checkout.cart.lines[2].quantity == 5
        assert app.cart_screen.scan_input.has_focus
        await pilot.press("f8")
        await settle(pilot)
        assert [ln.sku for ln in app.checkout.cart.lines] == ["MUG", "EBOOK", "SCARF-VAT"]
        assert table.row_count == 3


async def test_a_line_total_that_grows_is_shown_whole(app: PosApp) -> None:
    """$9.50 → $19.00 on `+`: the Total column widens instead of showing "$19.0" (seen in tmux)."""
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("plus")
        await settle(pilot)
        table = app.cart_screen.query_one("#lines", DataTable)
        assert table.get_row_at(0)[4] == "$19.00"
        assert table.columns[ColumnKey("total")].get_render_width(table) >= len("$19.00") + 2
        rendered = "".join(seg.text for seg in table.render_line(1))  # row 0 under the header
        assert "$19.00" in rendered


async def test_orders_screen_shows_the_stores_orders(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await cash_sale(pilot, "MUG")
        [sold] = session.ledger.orders.list()
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("f8")  # the orders as the demo store has them
        await settle(pilot)
        table = app.screen.query_one("#orders", DataTable)
        assert [str(c.label) for c in table.columns.values()][:2] == ["Number", "Store status"]
        [row] = [table.get_row_at(i) for i in range(table.row_count)]
        assert row[0] == sold.number and row[4] == sold.remote_id
        table.focus()
        await pilot.press("enter")  # sold here: the local detail
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen) and app.screen.number == sold.number
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f8")  # back to this counter's orders
        await settle(pilot)
        assert [str(c.label) for c in table.columns.values()][1] == "Status"


async def test_store_without_order_history_says_so(app: PosApp, session: PosSession,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pos.backends.base import UnsupportedError

    def no_history(**filters: str) -> list[object]:
        raise UnsupportedError(message="This store cannot list orders.")

    monkeypatch.setattr(session.backend, "list_orders", no_history)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert "This store cannot list orders." in [str(n.message) for n in app._notifications][-1]
        table = app.screen.query_one("#orders", DataTable)
        assert [str(c.label) for c in table.columns.values()][1] == "Status"  # back to local


async def test_after_a_receipt_letters_start_the_next_sale_and_bound_keys_work(
        app: PosApp, session: PosSession) -> None:
    from screens.outbox import OutboxScreen

    async with app.run_test(size=(120, 40)) as pilot:
        checks: list[tuple[str, Callable[[], bool]]] = [
            ("f", lambda: app.cart_screen.scan_input.value == "f"),
            ("ctrl+b", lambda: isinstance(app.screen, OutboxScreen))]
        for key, check in checks:
            await scan(pilot, "MUG")
            await pilot.press("f12")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ReceiptScreen)
            await pilot.press(key)  # "f" was taken for a function key before
            await settle(pilot)
            assert check(), key
            app.cart_screen.scan_input.value = ""
            app.to_cart()
            await settle(pilot)


async def test_the_payment_screen_shows_what_the_store_says_of_the_sale(
        app: PosApp, session: PosSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's quote may carry warnings (OpenCart: a product not in stock there): they are
    on the payment screen, before any money is taken, not only on the review screen."""
    backend = session.backend
    quote = backend.quote
    stock = "Products marked with *** are not available in the desired quantity or not in stock!"
    monkeypatch.setattr(backend, "quote", lambda cart: quote(cart).model_copy(
        update={"warnings": (stock,)}))
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        shown = app.screen.query_one("#pay-warnings")
        assert shown.display and stock in str(shown.render())
