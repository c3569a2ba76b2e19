"""Take payment: cash with tendered amount and change, payment links with a QR code, split tender.

Enter on an empty amount takes exact cash and places the order. A payment-link method goes
through `pos.payment_link`: the link is created (and saved in the cart as a pending payment)
in a worker, then the screen shows the waiting view — QR code, URL, amount, link id. When the
store reports link status (`Capability.PAYMENT_LINK_STATUS`) the link is polled in a thread
worker until paid, cancelled or failed; otherwise the cashier marks it paid (F9). Esc or F10
cancels the link. A link still pending when the counter closed is resumed on the next start.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.markup import escape
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from pos import payment_link as links
from pos.backends.base import Capability, PaymentLink
from pos.errors import PosError, TransientError
from pos.models import Order, PaymentMethod
from pos.money import format_money
from screens.widgets import PosScreen, StatusBar


class PaymentScreen(PosScreen):
    CSS_PATH = "payment.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back / cancel link", id="back"),
        Binding("f9", "link_paid", "Link paid", id="payment.link_paid"),
        Binding("f10", "link_cancel", "Cancel link/payments", id="payment.cancel"),
    ]
    #: keyword arguments for `poll_link` (tests make the back-off instant)
    poll_options: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.methods: list[PaymentMethod] = []
        self.link: PaymentLink | None = None
        self.polling = False
        self._stop = threading.Event()
        self._closed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="pay-main"):
            yield Static(id="pay-due")
            yield Static(id="pay-warnings")  # what the store says of this sale (stock, prices)
            yield OptionList(id="methods")
            yield Input(placeholder="Amount tendered (Enter on empty: exact amount)", id="amount")
            yield Static(id="paid")
            yield Static(id="link-status")
            yield Static(id="link")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.show()
        self.query_one("#amount", Input).focus()
        checkout = self.pos.checkout

        def job() -> PaymentLink | None:
            checkout.review()
            return links.resume_link(checkout)

        self.pos.run_io(job, self._resumed)

    def on_unmount(self) -> None:
        self._closed = True
        self._stop.set()

    def _resumed(self, link: PaymentLink | None) -> None:
        self.show()
        if link is not None and self.link is None:
            self.wait_for(link)

    @property
    def has_status(self) -> bool:
        return self.pos.checkout.backend.supports(Capability.PAYMENT_LINK_STATUS)

    def show(self) -> None:
        checkout = self.pos.checkout
        cur = checkout.currency
        split = " · split tender allowed" if checkout.backend.supports(
            Capability.SPLIT_TENDER) else ""
        self.query_one("#pay-due", Static).update(
            f"To pay: {format_money(checkout.remaining(), cur)}  "
            f"(total {format_money(checkout.due(), cur)}){split}")
        warnings = self.query_one("#pay-warnings", Static)
        warnings.update("\n".join(escape(w) for w in checkout.quote.warnings))
        warnings.display = bool(checkout.quote.warnings)
        methods = checkout.payment_methods()
        if [m.code for m in methods] != [m.code for m in self.methods]:
            self.methods = methods
            option_list = self.query_one("#methods", OptionList)
            option_list.clear_options()
            option_list.add_options([Option(m.title, id=m.code) for m in methods])
            option_list.highlighted = next(
                (i for i, m in enumerate(methods) if m.kind == "cash"), 0) if methods else None
        paid = [f"{p.title or p.method}: {format_money(p.amount, cur)}"
                + (" (waiting)" if p.status == "pending" else "")
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
        if method is None or self.link is not None:
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
        if self.link is not None:
            return
        checkout = self.pos.checkout
        self.pos.run_io(lambda: links.start_link_payment(checkout, method.code), self.wait_for)

    def wait_for(self, link: PaymentLink) -> None:
        """The waiting view: QR code, URL, amount, link id; poll when the store can tell."""
        from screens.qr import qr_text

        self.link = link
        self.show()
        for widget in ("#methods", "#amount"):
            self.query_one(widget).display = False
        cur = self.pos.checkout.currency
        amount = format_money(link.amount, cur) if link.amount is not None else "?"
        keys = ("waiting for the payment…   Esc/F10: cancel" if self.has_status
                else "F9: mark paid   Esc/F10: cancel")
        self.query_one("#link-status", Static).update(
            f"Payment link {link.id} · {amount}\n{keys}")
        qr = qr_text(link.url) if link.url else None
        text = f"{link.url}\n{link.detail}".strip()
        if qr is not None:
            qr.append(f"\n{text}", style="")
            self.query_one("#link", Static).update(qr)
        else:
            self.query_one("#link", Static).update(text)
        if self.has_status:
            self.start_polling(link)

    def start_polling(self, link: PaymentLink) -> None:
        if self.polling:
            return
        self.polling = True
        self._stop.clear()
        checkout, stop = self.pos.checkout, self._stop
        options: dict[str, Any] = {"sleep": stop.wait, **self.poll_options}

        def job() -> None:
            try:
                final = links.poll_link(checkout, link, on_status=lambda _: stop.is_set(),
                                        **options)
            except PosError as exc:
                final = link
                self._back(self.pos.show_error, exc)
            self._back(self._polled, final)

        self.pos.run_worker(job, thread=True, group="link-poll", exit_on_error=False)

    def _back(self, fn: Any, *args: Any) -> None:
        if self._closed:
            return  # the counter closed while waiting: the link stays pending in the cart
        with contextlib.suppress(RuntimeError):  # the app stopped meanwhile
            self.pos.call_from_thread(fn, *args)

    def _polled(self, final: PaymentLink) -> None:
        self.polling = False
        if self._stop.is_set():  # the cashier cancelled while we waited
            self.cancel_link()
            return
        if final.status == "pending":  # timed out: keep the view, wait again
            self.start_polling(final)
            return
        checkout = self.pos.checkout
        status = final.status

        def done(order: Order | None) -> None:
            if order is not None:
                self.pos.show_receipt(order.number)
                return
            self.notify(f"The payment link was {status}; the sale is still open — take "
                        "another payment.", title="Payment link not paid", severity="warning",
                        timeout=8)
            self.leave_link()

        self.pos.run_io(lambda: links.finish_link(checkout, final), done)

    def leave_link(self) -> None:
        """Back to the choice of method (the sale is intact)."""
        self.link = None
        self.query_one("#link", Static).update("")
        self.query_one("#link-status", Static).update("")
        for widget in ("#methods", "#amount"):
            self.query_one(widget).display = True
        self.show()
        self.query_one("#amount", Input).focus()

    def action_link_paid(self) -> None:
        link = self.link
        if link is None:
            self.notify("No payment link is open.", title="Payment link")
            return
        if self.has_status:
            self.notify("The store reports this link's payment; wait for it or cancel.",
                        title="Payment link")
            return
        checkout = self.pos.checkout
        paid = dataclasses.replace(link, status="paid")  # the cashier confirms
        self.pos.run_io(lambda: links.finish_link(checkout, paid), self.placed_or_left)

    def placed_or_left(self, order: Order | None) -> None:
        if order is not None:
            self.pos.show_receipt(order.number)
        else:
            self.leave_link()

    def action_back(self) -> None:
        if self.link is not None:
            self.action_link_cancel()
        else:
            super().action_back()

    def action_link_cancel(self) -> None:
        if self.link is None:
            checkout = self.pos.checkout
            self.pos.run_io(checkout.cancel_payments, lambda _: self.show())
            return
        if self.polling:
            self.query_one("#link-status", Static).update("Cancelling the payment link…")
            self._stop.set()  # the poll worker stops and calls cancel_link
            return
        self.cancel_link()

    def cancel_link(self, force: bool = False) -> None:
        checkout = self.pos.checkout

        def done(order: Order | None) -> None:
            if order is not None:  # paid in the meantime
                self.pos.show_receipt(order.number)
                return
            self.notify("Payment link cancelled; the sale is still open.",
                        title="Payment link")
            self.leave_link()

        def failed(exc: PosError) -> None:
            if isinstance(exc, TransientError) and not force:
                from screens.modals import ConfirmModal

                def answer(yes: bool | None) -> None:
                    if yes:
                        self.cancel_link(force=True)
                    elif self.link is not None and self.has_status:
                        self.start_polling(self.link)

                self.app.push_screen(ConfirmModal(
                    "The store cannot be reached to check the link. Cancel it anyway? "
                    f"(check {self.link.id if self.link else 'it'} later)"), answer)
            elif self.link is not None and self.has_status:
                self.start_polling(self.link)

        self.pos.run_io(lambda: links.cancel_link(checkout, force=force), done, failed=failed)
