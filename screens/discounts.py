"""F3: coupon, gift vouchers, reward points and store credit for this sale."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, Input, Label, Static

from pos.money import format_money
from screens.widgets import PosScreen, StatusBar


class DiscountsScreen(PosScreen):
    CSS_PATH = "discounts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f9", "toggle_credit", "Store credit on/off", id="discounts.credit"),
        Binding("f10", "clear", "Remove coupon+vouchers", id="discounts.clear"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="discounts-form"):
            yield Label("Coupon code (Enter applies)")
            yield Input(placeholder="e.g. SAVE10", id="coupon")
            yield Label("Gift voucher code (Enter adds)")
            yield Input(placeholder="e.g. GIFT10", id="voucher")
            yield Label("Reward points to use (Enter sets)")
            yield Input(placeholder="0", id="reward", type="integer")
        yield Static(id="discounts-state")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.show()
        self.query_one("#coupon", Input).focus()

    def show(self, _: object = None) -> None:
        checkout = self.pos.checkout
        cart, quote, cur = checkout.cart, checkout.quote, checkout.currency
        customer = cart.customer
        lines = [
            f"Customer: {customer.name if customer else 'Guest (no points or credit)'}",
            f"Coupon: {cart.coupon or '-'}",
            f"Vouchers: {', '.join(cart.vouchers) or '-'}",
            f"Reward points: {cart.reward} used of {quote.reward_available} "
            f"(at most {quote.reward_max} on this cart)",
            f"Store credit: {'used' if cart.use_store_credit else 'not used'}"
            + (f" (balance {format_money(customer.store_credit, cur)})" if customer else ""),
            "",
        ]
        lines += [f"{t.title}: {format_money(t.amount, cur)}" for t in quote.totals.lines]
        self.query_one("#discounts-state", Static).update("\n".join(lines))

    def _run(self, fn: Callable[[], object], field: Input | None = None) -> None:
        def done(_: object) -> None:
            if field is not None:
                field.value = ""
            self.show()

        self.pos.run_io(fn, done)

    @on(Input.Submitted, "#coupon")
    def coupon(self, event: Input.Submitted) -> None:
        checkout = self.pos.checkout
        self._run(lambda: checkout.apply_coupon(event.value), event.input)

    @on(Input.Submitted, "#voucher")
    def voucher(self, event: Input.Submitted) -> None:
        checkout = self.pos.checkout
        self._run(lambda: checkout.add_voucher(event.value), event.input)

    @on(Input.Submitted, "#reward")
    def reward(self, event: Input.Submitted) -> None:
        checkout = self.pos.checkout
        self._run(lambda: checkout.set_reward(event.value or "0"), event.input)

    def action_toggle_credit(self) -> None:
        checkout = self.pos.checkout
        self._run(lambda: checkout.use_store_credit(not checkout.cart.use_store_credit))

    def action_clear(self) -> None:
        checkout = self.pos.checkout

        def job() -> None:
            for code in checkout.cart.vouchers:
                checkout.remove_voucher(code)
            if checkout.cart.coupon:
                checkout.remove_coupon()

        self._run(job)
