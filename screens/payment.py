"""Take payment: cash with tendered amount and change, payment links with a QR code, split tender.

Enter on an empty amount takes exact cash and places the order. A payment-link method shows the
link's URL as a QR code; the cashier marks it paid (F9) or cancels it (F10).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from pos.backends.base import Capability, PaymentLink
from pos.models import Order, PaymentMethod
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar


class PaymentScreen(PosScreen):
    CSS_PATH = "payment.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "link_paid", "Link paid", id="payment.link_paid"),
        Binding("f10", "link_cancel", "Cancel link/payments", id="payment.cancel"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.methods: list[PaymentMethod] = []
        self.link: PaymentLink | None = None
        self.link_method: PaymentMethod | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="pay-main"):
            yield Static(id="pay-due")
            yield OptionList(id="methods")
            yield Input(placeholder="Amount tendered (Enter on empty: exact amount)", id="amount")
            yield Static(id="paid")
            yield Static(id="link")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.show()
        self.query_one("#amount", Input).focus()
        self.pos.run_io(self.pos.checkout.review, lambda _: self.show())

    def show(self) -> None:
        checkout = self.pos.checkout
        cur = checkout.currency
        split = " · split tender allowed" if checkout.backend.supports(
            Capability.SPLIT_TENDER) else ""
        self.query_one("#pay-due", Static).update(
            f"To pay: {format_money(checkout.remaining(), cur)}  "
            f"(total {format_money(checkout.due(), cur)}){split}")
        methods = checkout.payment_methods()
        if [m.code for m in methods] != [m.code for m in self.methods]:
            self.methods = methods
            option_list = self.query_one("#methods", OptionList)
            option_list.clear_options()
            option_list.add_options([Option(m.title, id=m.code) for m in methods])
            option_list.highlighted = next(
                (i for i, m in enumerate(methods) if m.kind == "cash"), 0) if methods else None
        paid = [f"{p.title or p.method}: {format_money(p.amount, cur)}"
                + (f" (tendered {format_money(p.tendered, cur)}, change "
                   f"{format_money(p.change, cur)})" if p.tendered is not None else "")
                for p in checkout.cart.payments]
        self.query_one("#paid", Static).update("\n".join(paid))

    def method(self) -> PaymentMethod | None:
        index = self.query_one("#methods", OptionList).highlighted
        return self.methods[index] if index is not None and index < len(self.methods) else None

    @on(OptionList.OptionSelected, "#methods")
    def method_chosen(self) -> None:
        method = self.method()
        if method is not None and method.kind == "link":
            self.create_link(method)
        else:
            self.query_one("#amount", Input).focus()

    @on(Input.Submitted, "#amount")
    def amount_entered(self, event: Input.Submitted) -> None:
        method = self.method()
        if method is None:
            return
        if method.kind == "link":
            self.create_link(method)
            return
        text = event.value.strip() or None
        event.input.value = ""
        checkout = self.pos.checkout

        def job() -> Order | None:
            if checkout.remaining() <= 0:
                return checkout.place()  # nothing left to pay (vouchers, points, free)
            if method.kind == "cash":
                checkout.take_payment(method.code, text)
            else:
                checkout.take_payment(method.code, amount=text)
            return checkout.place() if checkout.remaining() <= 0 else None

        self.pos.run_io(job, self.placed_or_more)

    def placed_or_more(self, order: Order | None) -> None:
        if order is not None:
            self.pos.show_receipt(order.number)
        else:
            self.show()
            self.query_one("#amount", Input).focus()

    # --- payment links -----------------------------------------------------------------------

    def create_link(self, method: PaymentMethod) -> None:
        checkout = self.pos.checkout

        def job() -> PaymentLink:
            number = checkout.reserve_number()
            cart = checkout.cart
            preview = Order(number=number, lane=checkout.lane, created_at=datetime.now(UTC),
                            currency=cart.currency, lines=cart.lines,
                            totals=checkout.quote.totals.model_copy(
                                update={"total": checkout.remaining()}))
            return checkout.backend.create_payment_link(preview, method)

        def done(link: PaymentLink) -> None:
            from screens.qr import qr_text

            self.link, self.link_method = link, method
            qr = qr_text(link.url)
            qr.append(f"\n{link.url}\n{link.detail}\nF9: paid   F10: cancel", style="")
            self.query_one("#link", Static).update(qr)

        self.pos.run_io(job, done)

    def action_link_paid(self) -> None:
        link, method = self.link, self.link_method
        if link is None or method is None:
            self.notify("No payment link is open.", title="Payment link")
            return
        checkout = self.pos.checkout

        def job() -> Order | None:
            status = checkout.backend.payment_link_status(link)
            amount = status.amount if status.amount is not None else checkout.remaining()
            checkout.take_payment(method.code, amount=min(amount, checkout.remaining()),
                                  reference=link.id)
            return checkout.place() if checkout.remaining() <= 0 else None

        self.link = None
        self.query_one("#link", Static).update("")
        self.pos.run_io(job, self.placed_or_more)

    def action_link_cancel(self) -> None:
        if self.link is not None:
            self.link = None
            self.query_one("#link", Static).update("")
            self.notify("Payment link cancelled.", title="Payment link")
            return
        checkout = self.pos.checkout
        self.pos.run_io(checkout.cancel_payments, lambda _: self.show())
