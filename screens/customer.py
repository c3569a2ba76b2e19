"""F2: find the customer (search as you type), create one, or sell to a guest."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Input, Label, Static
from textual.worker import get_current_worker

from pos.errors import PosError
from pos.models import Customer
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar


class CustomerScreen(PosScreen):
    CSS_PATH = "customer.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "create", "Create customer", id="customer.create"),
        Binding("f10", "guest", "Guest", id="customer.guest"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, Customer] = {}
        self.found_for: str | None = None  # the search text `found` answers

    def compose(self) -> ComposeResult:
        yield Static(id="customer-current")
        yield Input(placeholder="Search customers: name, email, phone (Enter picks the first)",
                    id="customer-search")
        table: DataTable[str] = DataTable(id="customers", cursor_type="row")
        table.add_columns("Name", "Email", "Phone", "Points", "Credit")
        yield table
        with Vertical(id="new-customer"):
            yield Label("New customer (F9 creates)")
            with Horizontal():
                yield Input(placeholder="First name", id="new-first")
                yield Input(placeholder="Last name", id="new-last")
                yield Input(placeholder="Email", id="new-email")
                yield Input(placeholder="Phone", id="new-phone")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.show_current()
        self.query_one("#customer-search", Input).focus()
        self.search("")

    def show_current(self) -> None:
        customer = self.pos.checkout.cart.customer
        self.query_one("#customer-current", Static).update(
            f"Customer of this sale: {customer.name if customer else 'Guest'}")

    @on(Input.Changed, "#customer-search")
    def changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @work(thread=True, exclusive=True, group="customers", exit_on_error=False)
    def search(self, text: str, pick: bool = False) -> None:
        """Show the customers matching `text`; `pick`: then choose the first of them."""
        try:
            found = self.pos.checkout.search_customers(text)
        except PosError as exc:
            self.app.call_from_thread(self.pos.show_error, exc)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_found, found, text)
            if pick:
                self.app.call_from_thread(self.pick_first_found, text)

    def show_found(self, found: list[Customer], text: str | None = None) -> None:
        table: DataTable[str] = self.query_one("#customers", DataTable)
        table.clear()
        self.found_for = text
        self.found = {}
        cur = self.pos.checkout.currency
        for customer in found:
            key = customer.id or customer.email
            self.found[key] = customer
            table.add_row(customer.name, customer.email, customer.telephone,
                          str(customer.reward_points), format_money(customer.store_credit, cur),
                          key=key)

    @on(Input.Submitted, "#customer-search")
    def pick_first(self, event: Input.Submitted) -> None:
        """Enter: the first customer matching what was typed — once the list answers that text
        (typed fast, or with a store slow to search, Enter comes before the last search's
        answer: the list then still shows an earlier one's customers)."""
        if self.found_for == event.value:
            self.pick_first_found(event.value)
        else:
            self.search(event.value, pick=True)

    def pick_first_found(self, text: str) -> None:
        if self.found:
            self.choose(next(iter(self.found.values())))
        else:
            self.notify(f"No customer matches {text!r}.", title="Customer", severity="warning")

    @on(DataTable.RowSelected, "#customers")
    def picked(self, event: DataTable.RowSelected) -> None:
        customer = self.found.get(str(event.row_key.value))
        if customer is not None:
            self.choose(customer)

    def choose(self, customer: Customer | None) -> None:
        checkout = self.pos.checkout

        def done(_: object) -> None:
            who = customer.name if customer else "Guest"
            self.notify(f"{who} is the customer of this sale.", title="Customer")
            self.pos.to_cart()

        self.pos.run_io(lambda: checkout.set_customer(customer), done)

    def action_guest(self) -> None:
        self.choose(None)

    @on(Input.Submitted, "#new-first, #new-last, #new-email, #new-phone")
    def action_create(self) -> None:
        values = {k: self.query_one(f"#new-{k}", Input).value.strip()
                  for k in ("first", "last", "email", "phone")}
        customer = Customer(firstname=values["first"], lastname=values["last"],
                            email=values["email"], telephone=values["phone"])
        checkout = self.pos.checkout

        def done(created: Customer) -> None:
            self.notify(f"{created.name} created.", title="Customer")
            self.pos.to_cart()

        self.pos.run_io(lambda: checkout.create_customer(customer), done)
