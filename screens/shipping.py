"""F4: pickup at the counter, or delivery to an address (country + zone) with a method."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from pos.geo import countries, zones
from pos.models import Address, ShippingMethod
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar

FIELDS = (("firstname", "First name"), ("lastname", "Last name"), ("address_1", "Address"),
          ("city", "City"), ("postcode", "Postcode"))


class ShippingScreen(PosScreen):
    CSS_PATH = "shipping.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "pickup", "Pickup here", id="shipping.pickup"),
        Binding("f10", "save", "Deliver to address", id="shipping.save"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.methods: list[ShippingMethod] = []

    def compose(self) -> ComposeResult:
        cart = self.pos.checkout.cart
        address = cart.shipping_address
        customer = cart.customer
        with Vertical(id="address"):
            yield Static(id="shipping-state")
            with Horizontal(classes="row"):
                for name, label in FIELDS[:2]:
                    default = getattr(address, name, "") if address else (
                        getattr(customer, name, "") if customer else "")
                    yield Input(default, placeholder=label, id=f"ship-{name}")
            with Horizontal(classes="row"):
                for name, label in FIELDS[2:]:
                    yield Input(getattr(address, name, "") if address else "",
                                placeholder=label, id=f"ship-{name}")
            with Horizontal(classes="row"):
                country = address.country if address else "US"
                yield Select([(c.name, code) for code, c in sorted(
                    countries().items(), key=lambda kv: kv[1].name)],
                    value=country, allow_blank=False, id="ship-country")
                yield Select(self._zone_options(country),
                             value=address.zone if address and address.zone else Select.NULL,
                             prompt="Zone / state", id="ship-zone")
        yield Label("Shipping methods (Enter chooses)")
        yield OptionList(id="ship-methods")
        yield StatusBar()
        yield Footer()

    def _zone_options(self, country: str) -> list[tuple[str, str]]:
        return [(z.name, z.code) for z in zones(country)]

    def on_mount(self) -> None:
        self.show_state()
        self.query_one("#ship-firstname", Input).focus()
        if self.pos.checkout.cart.shipping_address is not None:
            self.show_methods(list(self.pos.checkout.quote.shipping_methods))

    def show_state(self) -> None:
        cart = self.pos.checkout.cart
        text = ("Pickup at the counter (F9)" if cart.pickup else
                f"Delivery to {cart.shipping_address.one_line() if cart.shipping_address else '?'}"
                f", method: {cart.shipping_method.title if cart.shipping_method else 'not chosen'}")
        self.query_one("#shipping-state", Static).update(text)

    @on(Select.Changed, "#ship-country")
    def country_changed(self, event: Select.Changed) -> None:
        zone = self.query_one("#ship-zone", Select)
        zone.set_options(self._zone_options(str(event.value)))

    def address(self) -> Address:
        values = {name: self.query_one(f"#ship-{name}", Input).value.strip()
                  for name, _ in FIELDS}
        zone = self.query_one("#ship-zone", Select).value
        return Address(country=str(self.query_one("#ship-country", Select).value),
                       zone="" if zone is Select.NULL else str(zone), **values)

    @on(Input.Submitted)
    def action_save(self) -> None:
        try:
            address = self.address()
        except ValueError as exc:
            self.notify(str(exc), title="Address incomplete", severity="error")
            return
        checkout = self.pos.checkout
        self.pos.run_io(lambda: checkout.set_shipping_address(address), self.show_methods)

    def show_methods(self, methods: list[ShippingMethod]) -> None:
        self.methods = methods
        self.show_state()
        option_list = self.query_one("#ship-methods", OptionList)
        option_list.clear_options()
        cur = self.pos.checkout.currency
        option_list.add_options([Option(f"{m.title}  {format_money(m.cost, cur)}", id=m.code)
                                 for m in methods])
        if methods:
            option_list.highlighted = 0
            option_list.focus()
        else:
            self.notify("No shipping method for this address.", title="Shipping",
                        severity="warning")

    @on(OptionList.OptionSelected, "#ship-methods")
    def method_chosen(self, event: OptionList.OptionSelected) -> None:
        code = self.methods[event.option_index].code
        checkout = self.pos.checkout

        def done(_: object) -> None:
            self.notify(f"Shipping: {self.methods[event.option_index].title}", title="Shipping")
            self.pos.action_pay()

        self.pos.run_io(lambda: checkout.set_shipping_method(code), done)

    def action_pickup(self) -> None:
        checkout = self.pos.checkout

        def done(_: object) -> None:
            self.notify("The customer takes the goods now.", title="Pickup")
            self.pos.to_cart()

        self.pos.run_io(checkout.set_pickup, done)
