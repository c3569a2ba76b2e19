"""Price a cart: line totals, discounts, taxes, shipping, vouchers, store credit, total.

Pure functions over a `Cart` and a `PricingContext` (what the backend's rules allowed). The
rounding policy of `pos.money` is applied here and only here: each line total, each line's
discount share and each line's tax is rounded on its own, and totals are sums of those.

Order of the totals (as in OpenCart, which most stores copy): Sub-Total, Reward Points, Coupon,
Shipping, taxes (one line per rate), Store Credit, Gift Voucher, Total.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pos.models import (
    Cart,
    CartLine,
    PaymentMethod,
    PricedLine,
    Quote,
    ShippingMethod,
    TaxClass,
    TotalLine,
    Totals,
)
from pos.money import ZERO, currency, round_money

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class CouponRule:
    code: str
    name: str
    kind: Literal["percent", "fixed"] = "percent"
    value: Decimal = ZERO
    free_shipping: bool = False
    minimum_total: Decimal = ZERO
    logged_only: bool = False
    product_ids: frozenset[str] = frozenset()  # empty: every product

    def applies_to(self, line: CartLine) -> bool:
        return not self.product_ids or line.product_id in self.product_ids


@dataclass(frozen=True)
class PricingContext:
    """What the store's rules resolved for this cart (already validated by the backend)."""

    tax_classes: Mapping[str, TaxClass] = field(default_factory=dict)
    coupon: CouponRule | None = None
    voucher_balances: Sequence[tuple[str, Decimal]] = ()
    reward_available: int = 0
    store_credit: Decimal = ZERO
    shipping_methods: Sequence[ShippingMethod] = ()
    payment_methods: Sequence[PaymentMethod] = ()
    warnings: Sequence[str] = ()
    remote: bool = False


def reward_maximum(cart: Cart) -> int:
    """Most reward points usable: the sum of each line's price in points × quantity."""
    return sum(line.points * line.quantity for line in cart.lines)


def _allocate(amount: Decimal, weights: Sequence[Decimal], cur: str) -> list[Decimal]:
    """Split `amount` over lines in proportion to `weights`; rounding remainder on the last."""
    total = sum(weights, ZERO)
    if total <= 0 or amount <= 0:
        return [ZERO for _ in weights]
    shares = [round_money(amount * w / total, cur) for w in weights]
    last = max(i for i, w in enumerate(weights) if w > 0)
    shares[last] += amount - sum(shares, ZERO)
    return shares


def _line_tax(base: Decimal, qty: int, tax_class: TaxClass | None, cur: str) -> dict[str, Decimal]:
    """Tax of one line per rate name. Included taxes are extracted from `base`, not added."""
    if tax_class is None:
        return {}
    taxes: dict[str, Decimal] = {}
    if tax_class.included:
        pct = sum((r.value for r in tax_class.rates if r.kind == "percent"), ZERO)
        if pct:
            inside = round_money(base - base * HUNDRED / (HUNDRED + pct), cur)
            # split the included tax over its rates, in proportion to their percentage
            rates = [r for r in tax_class.rates if r.kind == "percent"]
            for rate, share in zip(rates, _allocate(inside, [r.value for r in rates], cur),
                                   strict=True):
                taxes[rate.name] = share
        return taxes
    for rate in tax_class.rates:
        if rate.kind == "percent":
            amount = round_money(base * rate.value / HUNDRED, cur)
        else:
            amount = round_money(rate.value * qty, cur)
        taxes[rate.name] = taxes.get(rate.name, ZERO) + amount
    return taxes


def price_cart(cart: Cart, ctx: PricingContext) -> Quote:
    cur = cart.currency
    fmt_cur = currency(cur)
    totals_by_line = [round_money(line.unit_price * line.quantity, fmt_cur) for line in cart.lines]
    subtotal = sum(totals_by_line, ZERO) + sum((v.amount for v in cart.sold_vouchers), ZERO)

    coupon = ctx.coupon
    coupon_shares = [ZERO] * len(cart.lines)
    if coupon is not None:
        eligible = [t if coupon.applies_to(ln) else ZERO for ln, t in
                    zip(cart.lines, totals_by_line, strict=True)]
        if coupon.kind == "percent":
            coupon_shares = [round_money(t * coupon.value / HUNDRED, cur) for t in eligible]
        else:
            coupon_shares = _allocate(min(coupon.value, sum(eligible, ZERO)), eligible, cur)

    reward_max = reward_maximum(cart)
    reward_shares = [ZERO] * len(cart.lines)
    if cart.reward and reward_max:
        used = Decimal(min(cart.reward, reward_max))
        reward_shares = [
            round_money(t * used / reward_max, cur) if ln.points else ZERO
            for ln, t in zip(cart.lines, totals_by_line, strict=True)
        ]

    priced: list[PricedLine] = []
    tax_by_rate: dict[str, Decimal] = {}
    tax_added = ZERO
    tax_included = ZERO
    for line, total, c_share, r_share in zip(
        cart.lines, totals_by_line, coupon_shares, reward_shares, strict=True
    ):
        discount = min(total, c_share + r_share)
        tax_class = ctx.tax_classes.get(line.tax_class)
        line_taxes = _line_tax(total - discount, line.quantity, tax_class, cur)
        line_tax = sum(line_taxes.values(), ZERO)
        for name, amount in line_taxes.items():
            tax_by_rate[name] = tax_by_rate.get(name, ZERO) + amount
        if tax_class is not None and tax_class.included:
            tax_included += line_tax
        else:
            tax_added += line_tax
        priced.append(
            PricedLine(key=line.key, unit_price=line.unit_price, total=total, discount=discount,
                       tax=line_tax)
        )

    coupon_total = sum((min(p.total, c) for p, c in zip(priced, coupon_shares, strict=True)), ZERO)
    reward_total = sum((p.discount for p in priced), ZERO) - coupon_total

    shipping = ZERO
    method = cart.shipping_method
    if method is not None and cart.needs_shipping and not cart.pickup:
        shipping = round_money(method.cost, cur)
        if coupon is not None and coupon.free_shipping:
            shipping = ZERO
        ship_taxes = _line_tax(shipping, 1, ctx.tax_classes.get(method.tax_class), cur)
        for name, amount in ship_taxes.items():
            tax_by_rate[name] = tax_by_rate.get(name, ZERO) + amount
            tax_added += amount

    lines_out: list[TotalLine] = [TotalLine(code="sub_total", title="Sub-Total", amount=subtotal)]
    if reward_total:
        lines_out.append(TotalLine(code="reward", title=f"Reward Points ({cart.reward})",
                                   amount=-reward_total))
    if coupon is not None:
        lines_out.append(TotalLine(code="coupon", title=f"Coupon ({coupon.code})",
                                   amount=-coupon_total))
    if method is not None and cart.needs_shipping and not cart.pickup:
        lines_out.append(TotalLine(code="shipping", title=method.title, amount=shipping))
    for name, amount in tax_by_rate.items():
        lines_out.append(TotalLine(code="tax", title=name, amount=amount))

    running = subtotal - coupon_total - reward_total + shipping + tax_added
    credit_used = ZERO
    if cart.use_store_credit and ctx.store_credit > 0 and running > 0:
        credit_used = min(ctx.store_credit, running)
        running -= credit_used
        lines_out.append(TotalLine(code="credit", title="Store Credit", amount=-credit_used))
    vouchers_used = ZERO
    for code, balance in ctx.voucher_balances:
        use = min(balance, running) if running > 0 else ZERO
        running -= use
        vouchers_used += use
        lines_out.append(TotalLine(code="voucher", title=f"Gift Voucher ({code})", amount=-use))
    lines_out.append(TotalLine(code="total", title="Total", amount=running))

    totals = Totals(
        currency=cur, subtotal=subtotal, discount=coupon_total + reward_total, shipping=shipping,
        tax=tax_added, tax_included=tax_included, vouchers=vouchers_used,
        store_credit=credit_used, total=running, lines=tuple(lines_out),
    )
    return Quote(
        lines=tuple(priced), totals=totals,
        shipping_methods=tuple(ctx.shipping_methods),
        payment_methods=available_payment_methods(ctx.payment_methods, running),
        reward_max=reward_max, reward_available=ctx.reward_available,
        warnings=tuple(ctx.warnings), remote=ctx.remote,
    )


def available_payment_methods(
    methods: Sequence[PaymentMethod], total: Decimal
) -> tuple[PaymentMethod, ...]:
    """`free` only for a zero total; every other method only when something is left to pay."""
    if total <= 0:
        return tuple(m for m in methods if m.kind == "free")
    return tuple(m for m in methods if m.kind != "free")
