"""Review & place: the sale as the store prices it, what is still missing, then F10 places it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from pos.models import Order, Quote
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar


class ReviewScreen(PosScreen):
    CSS_PATH = "review.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f10", "place", "Place order", id="review.place"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="review"):
            yield Static("Pricing…", id="review-body")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.pos.run_io(self.pos.checkout.review, self.show)

    def show(self, quote: Quote) -> None:
        checkout = self.pos.checkout
        cart, cur = checkout.cart, checkout.currency
        out = [f"Customer: {cart.customer.name if cart.customer else 'Guest'}",
               "Pickup at the counter" if cart.pickup else
               f"Deliver to {cart.shipping_address.one_line() if cart.shipping_address else '?'}"
               f" via {cart.shipping_method.title if cart.shipping_method else '?'}", ""]
        for line in cart.lines:
            priced = quote.line(line.key)
            total = priced.total if priced else line.unit_price * line.quantity
            out.append(f"{line.quantity} × {line.name} {line.options_label}  "
                       f"{format_money(total, cur)}")
        out.append("")
        out += [f"{t.title}: {format_money(t.amount, cur)}" for t in quote.totals.lines]
        out += [f"[yellow]{w}[/]" for w in quote.warnings]
        problems = checkout.problems()
        out.append("")
        out += [f"[red]• {p}[/]" for p in problems] or ["[green]Ready to place (F10).[/]"]
        self.query_one("#review-body", Static).update("\n".join(out))

    def action_place(self) -> None:
        def done(order: Order) -> None:
            self.pos.show_receipt(order.number)

        self.pos.run_io(self.pos.checkout.place, done)
