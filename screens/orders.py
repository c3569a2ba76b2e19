"""F7: the lane's orders with search and a status filter; Enter shows one (reprint with F9);
Ctrl+R refunds the highlighted one."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Select

from pos.models import Order, OrderStatus
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar


class OrdersScreen(PosScreen):
    CSS_PATH = "orders.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "refund", "Refund", id="orders.refund"),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal(id="orders-filter"):
            yield Input(placeholder="Search number, customer…", id="orders-search")
            yield Select([(s.value, s.value) for s in OrderStatus], prompt="Any status",
                         id="orders-status")
        table: DataTable[str] = DataTable(id="orders", cursor_type="row")
        table.add_columns("Number", "Status", "Customer", "Total", "Items")
        yield table
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.query_one("#orders-search", Input).focus()

    def on_screen_suspend(self) -> None:
        self.left_once = True

    def on_screen_resume(self) -> None:
        if getattr(self, "left_once", False):
            self.load()  # back from an order or a refund: statuses may have changed

    def load(self) -> None:
        search = self.query_one("#orders-search", Input).value.strip()
        status = self.query_one("#orders-status", Select).value
        ledger = self.pos.session.ledger
        self.pos.run_io(lambda: ledger.orders.list(
            search=search, status=None if status is Select.NULL else str(status)), self.show,
            group="orders")

    def show(self, orders: list[Order]) -> None:
        table: DataTable[str] = self.query_one("#orders", DataTable)
        table.clear()
        for order in orders:
            table.add_row(order.number, order.status.value, order.customer.name,
                          format_money(order.totals.total, order.currency),
                          str(sum(ln.quantity for ln in order.lines)), key=order.number)

    @on(Input.Changed, "#orders-search")
    @on(Select.Changed, "#orders-status")
    def filter_changed(self) -> None:
        self.load()

    @on(Input.Submitted, "#orders-search")
    def to_table(self) -> None:
        self.query_one("#orders", DataTable).focus()

    @on(DataTable.RowSelected, "#orders")
    def open_order(self, event: DataTable.RowSelected) -> None:
        from screens.receipt import ReceiptScreen

        self.app.push_screen(ReceiptScreen(str(event.row_key.value), after_sale=False))

    def action_refund(self) -> None:
        from screens.refund import RefundScreen

        table: DataTable[str] = self.query_one("#orders", DataTable)
        if not table.row_count:
            self.notify("No order is selected.", title="Refund")
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        self.app.push_screen(RefundScreen(str(row_key.value)))
