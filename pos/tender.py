"""The rules of taking a payment, without the cart: which method, how much, the change, and
the payment a link or invoice stands for until it is paid. Pure functions (no store, no
backend)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pos.errors import InputError, RuleError
from pos.models import Payment, PaymentMethod
from pos.money import ZERO, format_money, round_money, to_decimal


def offered_method(methods: Iterable[PaymentMethod], code: str) -> PaymentMethod:
    """The payment method `code` among those the quote offers."""
    by_code = {m.code: m for m in methods}
    if code not in by_code:
        offered = ", ".join(by_code) or "none"
        raise RuleError(message=f"Payment method {code!r} is not available for this sale.",
                        hint=f"Available: {offered}.", field="payment_method")
    return by_code[code]


def tender(method: PaymentMethod, remaining: Decimal, *, tendered: object, amount: object,
           split_tender: bool, currency: str, reference: str = "") -> Payment:
    """A payment of `remaining` (or `amount`) by `method`. Cash: `tendered` (None = exact
    cash) gives the change; less than due is a part payment where the store takes several."""
    if remaining <= 0 and method.kind != "free":
        raise RuleError(message="Nothing is left to pay.", field="payment_method")
    pay = remaining if amount is None else round_money(to_decimal(amount, "amount"))
    if pay <= 0 and method.kind != "free":
        raise InputError(message="The amount must be more than zero.")
    if pay > remaining and method.kind != "cash":
        raise InputError(message=f"{format_money(pay, currency)} is more than the "
                                 f"{format_money(remaining, currency)} left to pay.")
    pay = min(pay, remaining)
    if pay < remaining and not split_tender:
        raise RuleError(message="This store takes one payment per sale.",
                        hint="Take the whole amount.", field="payment_method")
    change = ZERO
    given: Decimal | None = None
    if method.kind == "cash":
        given = pay if tendered in (None, "") else round_money(to_decimal(tendered, "tendered"))
        if given < pay:
            if amount is None and split_tender:
                pay = given  # part cash; the rest by another method
            else:
                raise InputError(message=f"{format_money(given, currency)} is less than "
                                         f"the {format_money(pay, currency)} due.")
        change = given - pay
    return Payment(method=method.code, title=method.title, kind=method.kind, amount=pay,
                   tendered=given, change=change, reference=reference)


def pending_link(method: PaymentMethod, remaining: Decimal, *, amount: object, currency: str,
                 reference: str, url: str) -> Payment:
    """The payment a link or invoice `reference` stands for while the customer pays it."""
    pay = remaining if amount is None else round_money(to_decimal(amount, "amount"), currency)
    if pay <= 0 or pay > remaining:
        raise RuleError(message="Nothing is left to pay." if remaining <= 0 else
                        f"{format_money(pay, currency)} is more than the "
                        f"{format_money(remaining, currency)} left to pay.",
                        field="payment_method")
    return Payment(method=method.code, title=method.title, kind=method.kind, amount=pay,
                   reference=reference, url=url, status="pending")


def settle(payments: tuple[Payment, ...], reference: str,
           paid: bool) -> tuple[tuple[Payment, ...], Payment | None]:
    """The payments once the pending one `reference` was paid (kept, now paid) or not (dropped),
    and that payment as settled; (`payments`, None) when no such payment waits."""
    pending = next((p for p in payments if p.status == "pending" and p.reference == reference),
                   None)
    if pending is None:
        return payments, None
    settled = pending.model_copy(update={"status": "paid"})
    kept = tuple(settled if p is pending else p for p in payments if paid or p is not pending)
    return kept, settled
