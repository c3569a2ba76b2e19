"""F1: every binding of the app and of the screens, with the key it is on right now."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from screens.widgets import PosScreen, StatusBar


class HelpScreen(PosScreen):
    CSS_PATH = "help.tcss"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-scroll"):
            yield Static(self._table(), id="help")
        yield StatusBar()
        yield Footer()

    def _table(self) -> Table:
        from screens.app import PosApp
        from screens.cart import CartScreen
        from screens.customer import CustomerScreen
        from screens.discounts import DiscountsScreen
        from screens.drawer import DrawerScreen
        from screens.endofday import EndOfDayScreen
        from screens.orders import OrdersScreen
        from screens.outbox import OutboxScreen
        from screens.parked import ParkedScreen
        from screens.payment import PaymentScreen
        from screens.receipt import ReceiptScreen
        from screens.refund import RefundScreen
        from screens.shipping import ShippingScreen
        from screens.slip import SlipScreen

        keymap = dict(self.pos.session.settings.keys)
        table = Table(title="Keys (remap by id under [keys] in the config file)", expand=True)
        for column in ("Where", "Key", "Binding id", "What"):
            table.add_column(column)
        for where, cls in (("Everywhere", PosApp), ("Cart", CartScreen),
                           ("Customer", CustomerScreen), ("Discounts", DiscountsScreen),
                           ("Shipping", ShippingScreen), ("Payment", PaymentScreen),
                           ("Receipt", ReceiptScreen), ("Parked", ParkedScreen),
                           ("Orders", OrdersScreen), ("Outbox", OutboxScreen),
                           ("Refund", RefundScreen),
                           ("Refund slip", SlipScreen), ("Drawer", DrawerScreen),
                           ("End of day", EndOfDayScreen), ("Any screen", PosScreen)):
            for binding in cls.BINDINGS:
                if not isinstance(binding, Binding) or not binding.id:
                    continue
                if where != "Any screen" and binding in PosScreen.BINDINGS:
                    continue
                key = keymap.get(binding.id, binding.key)
                table.add_row(where, key, binding.id, binding.description)
        return table
