"""F7: the lane's orders with search and a status filter; Enter shows one (reprint with F9);
Ctrl+R refunds the highlighted one. F8 switches to the orders as the store has them (backends
with order history: PyCommerce, Voucherify, the demo store…) and back."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Select

from pos.backends.base import RemoteOrder
from pos.models import Order, OrderStatus
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar, cursor_key

REMOTE_LIMIT = 30  # the newest store orders shown (OpenCart reads each one back: one call each)


class OrdersScreen(PosScreen):
    CSS_PATH = "orders.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "refund", "Refund", id="orders.refund"),
        Binding("f8", "toggle_remote", "Store's orders / local", id="orders.remote"),
    ]
    LOCAL_COLUMNS = ("Number", "Status", "Customer", "Total", "Items")
    REMOTE_COLUMNS = ("Number", "Store status", "Customer", "Total", "Store id", "Date")

    def __init__(self) -> None:
        super().__init__()
        self.remote = False  # showing the store's orders
        self.remote_orders: dict[str, RemoteOrder] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="orders-filter"):
            yield Input(placeholder="Search number, customer…", id="orders-search")
            yield Select([(s.value, s.value) for s in OrderStatus], prompt="Any status",
                         id="orders-status")
        table: DataTable[str] = DataTable(id="orders", cursor_type="row")
        table.add_columns(*self.LOCAL_COLUMNS)
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
        if self.remote:
            self.load_remote()
            return
        search = self.query_one("#orders-search", Input).value.strip()
        status = self.query_one("#orders-status", Select).value
        ledger = self.pos.session.ledger
        self.pos.run_io(lambda: ledger.orders.list(
            search=search, status=None if status is Select.NULL else str(status)), self.show,
            group="orders")

    def show(self, orders: list[Order]) -> None:
        table: DataTable[str] = self.query_one("#orders", DataTable)
        if self.remote:
            return  # a late answer of the local list
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

        key = str(event.row_key.value)
        if self.remote:
            self.open_remote(self.remote_orders[key])
            return
        self.app.push_screen(ReceiptScreen(key, after_sale=False))

    # --- the store's orders ------------------------------------------------------------------

    def action_toggle_remote(self) -> None:
        self.remote = not self.remote
        table: DataTable[str] = self.query_one("#orders", DataTable)
        table.clear(columns=True)
        table.add_columns(*(self.REMOTE_COLUMNS if self.remote else self.LOCAL_COLUMNS))
        self.query_one("#orders-status", Select).disabled = self.remote
        self.load()

    def load_remote(self) -> None:
        backend = self.pos.checkout.backend
        search = self.query_one("#orders-search", Input).value.strip().lower()

        def back_to_local(_: object) -> None:
            if self.remote:
                self.action_toggle_remote()

        self.pos.run_io(lambda: backend.list_orders(limit=str(REMOTE_LIMIT)),
                        lambda found: self.show_remote(found, search),
                        failed=back_to_local, group="orders")

    def show_remote(self, found: list[RemoteOrder], search: str) -> None:
        if not self.remote:
            return
        table: DataTable[str] = self.query_one("#orders", DataTable)
        table.clear()
        self.remote_orders = {}
        for o in found:
            text = f"{o.number or ''} {o.remote_id} {o.customer} {o.status}".lower()
            if search and search not in text:
                continue
            self.remote_orders[o.remote_id] = o
            table.add_row(o.number or "-", o.status, o.customer,
                          o.total_text(self.pos.checkout.currency), o.remote_id,
                          o.created_at.strftime("%Y-%m-%d %H:%M") if o.created_at else "",
                          key=o.remote_id)
        if not found:
            self.notify(f"{self.pos.session.profile} has no orders to show.", title="Store")

    def open_remote(self, order: RemoteOrder) -> None:
        """A store order this counter sold: its local detail; any other: what the store says."""
        from screens.receipt import ReceiptScreen

        ledger = self.pos.session.ledger
        number = order.number

        def opened(local: bool) -> None:
            if local and number:
                self.app.push_screen(ReceiptScreen(number, after_sale=False))
                return
            total = order.total_text(self.pos.checkout.currency)
            self.notify(f"Store order {order.remote_id} · {order.status} · {total} · "
                        f"{order.customer or 'no customer'} — not sold at this counter.",
                        title="Store order", timeout=8)

        self.pos.run_io(lambda: number is not None and ledger.orders.exists(number), opened)

    def action_refund(self) -> None:
        from screens.refund import RefundScreen

        if self.remote:
            self.notify("F8 back to this counter's orders to refund one.", title="Refund")
            return
        number = cursor_key(self.query_one("#orders", DataTable))
        if number is None:
            self.notify("No order is selected.", title="Refund")
            return
        self.app.push_screen(RefundScreen(number))
