"""F6: park the current cart (with a label) and recall a parked one."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from pos.models import Cart
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar


class ParkedScreen(PosScreen):
    CSS_PATH = "parked.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "park", "Park current cart", id="parked.park"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("Parked carts of this lane: Enter recalls, F9 parks the current cart",
                     id="parked-title")
        table: DataTable[str] = DataTable(id="parked", cursor_type="row")
        table.add_columns("Label", "Customer", "Items", "Lines")
        yield table
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def load(self, _: object = None) -> None:
        self.pos.run_io(self.pos.checkout.parked, self.show)

    def show(self, carts: list[Cart]) -> None:
        table: DataTable[str] = self.query_one("#parked", DataTable)
        table.clear()
        for cart in carts:
            table.add_row(cart.label, cart.customer.name if cart.customer else "Guest",
                          str(cart.item_count), ", ".join(ln.name for ln in cart.lines)[:50],
                          key=cart.id)
        table.focus()

    def action_park(self) -> None:
        checkout = self.pos.checkout

        def done(cart: Cart) -> None:
            self.notify(f"Parked: {cart.label}", title="Cart parked")
            self.pos.cart_screen.refresh_cart()
            self.load()

        self.pos.run_io(checkout.park, done)

    @on(DataTable.RowSelected, "#parked")
    def recall(self, event: DataTable.RowSelected) -> None:
        cart_id = str(event.row_key.value)
        checkout = self.pos.checkout

        def done(cart: Cart) -> None:
            total = format_money(checkout.quote.totals.total, checkout.currency)
            self.notify(f"{cart.label} ({total})", title="Cart recalled")
            self.pos.to_cart()

        self.pos.run_io(lambda: checkout.recall(cart_id), done)
