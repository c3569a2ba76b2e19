"""Sales for the counter tests, on the embedded demo store (hand-computed totals in comments)."""

from __future__ import annotations

from collections.abc import Sequence

from pos.models import Order
from pos.session import PosSession


def sell(session: PosSession, items: Sequence[tuple[str, int]], *, method: str = "cash",
         tendered: str | None = None, coupon: str | None = None) -> Order:
    checkout = session.new_checkout(persist=False)
    for code, qty in items:
        checkout.add(code, qty)
    if coupon:
        checkout.apply_coupon(coupon)
    checkout.take_payment(method, tendered)
    return checkout.place()


def sale_a(session: PosSession) -> Order:
    """SCARF-VAT ×2 = 48.00 (VAT 20% inside: 48 − 48/1.2 = 8.00), MUG ×3 = 28.50 + 8.25% tax
    2.35125 → 2.35, BANANA 1.99 (food, no tax): total 48.00 + 28.50 + 2.35 + 1.99 = 80.84,
    cash 100.00 tendered → change 19.16."""
    return sell(session, [("SCARF-VAT", 2), ("MUG", 3), ("BANANA", 1)], tendered="100")


def sale_b(session: PosSession) -> Order:
    """MUG ×1 = 9.50 + tax 0.78375 → 0.78 = 10.28, by bank transfer."""
    return sell(session, [("MUG", 1)], method="bank_transfer")


def sale_c(session: PosSession) -> Order:
    """MUG ×2 = 19.00, coupon SAVE10 −1.90, tax on 17.10 = 1.41075 → 1.41; BANANA 1.99, coupon
    −0.199 → −0.20; discount 2.10; total 20.99 − 2.10 + 1.41 = 20.30; cash 50 → change 29.70."""
    return sell(session, [("MUG", 2), ("BANANA", 1)], tendered="50", coupon="SAVE10")


def sale_d(session: PosSession) -> Order:
    """MUG ×3 = 28.50 + tax 2.35 = 30.85, gift voucher GIFT10 −10.00: 20.85 in exact cash."""
    checkout = session.new_checkout(persist=False)
    checkout.add("MUG", 3)
    checkout.add_voucher("GIFT10")
    checkout.take_payment("cash")
    return checkout.place()
