"""Money on the wire: JSON floats in, exact Decimal numbers out, Stripe line items that add up.

Money arrives as JSON floats (`149.99`): every amount goes through `Decimal(str(x))` and is
rounded to cents; amounts sent are Decimals written as JSON numbers by `dumps_money`, never
floats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pos.backends.pycommerce.settings import STORE
from pos.errors import (
    InputError,
    PermanentError,
)
from pos.models import Order
from pos.money import ZERO, round_money, to_decimal


def money_in(value: object, what: str = "price") -> Decimal:
    """A JSON number (float) from the API → Decimal cents, via its shortest repr."""
    if value is None:
        return ZERO
    try:
        return round_money(to_decimal(value, what))
    except InputError:
        raise PermanentError(message=f"{STORE} sent a {what} that is not a number: {value!r}.",
                             hint="The store's data is inconsistent.") from None


class _Raw:
    """A pre-formatted JSON number placed into the output of `json.dumps`."""

    def __init__(self, text: str) -> None:
        self.text = text


def dumps_money(data: Any) -> str:
    """JSON with every `Decimal` written as a plain number of its exact digits (no float)."""
    raws: list[str] = []

    def prepare(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"not a finite amount: {value}")
            raws.append(format(value, "f"))
            return f"\x00pos-decimal-{len(raws) - 1}\x00"
        if isinstance(value, float):
            raise TypeError("floats never go on the wire: use Decimal")
        if isinstance(value, Mapping):
            return {k: prepare(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [prepare(v) for v in value]
        return value

    text = json.dumps(prepare(data), ensure_ascii=False)
    return re.sub(r'"\\u0000pos-decimal-(\d+)\\u0000"', lambda m: raws[int(m.group(1))], text)


def stripe_items(order: Order) -> list[dict[str, Any]]:
    """Line items whose `price × quantity` adds up exactly to `order.totals.total`.

    One item per cart line at its discounted shelf amount (coupon/reward shares already taken
    off), sold gift vouchers, then shipping and the tax added on top as their own items. Stripe
    has no negative items: when store credit or gift vouchers paid part of the sale, or the
    parts do not add up, a single item "Sale <number>" carries the total.
    """
    total = order.totals.total
    priced = {p.key: p for p in order.priced}
    items: list[dict[str, Any]] = []
    for line in order.lines:
        p = priced.get(line.key)
        amount = (p.total - p.discount) if p else round_money(line.unit_price * line.quantity)
        if amount <= 0:
            continue
        unit = amount / line.quantity
        if round_money(unit) == unit:
            items.append({"id": line.product_id, "name": line.name, "price": round_money(unit),
                          "quantity": line.quantity})
        else:  # a discount share that does not divide by the quantity: one item for the line
            items.append({"id": line.product_id, "name": f"{line.name} ×{line.quantity}",
                          "price": amount, "quantity": 1})
    for sold in order.sold_vouchers:
        items.append({"id": f"voucher-{sold.key}", "name": f"Gift voucher for {sold.to_name}",
                      "price": round_money(sold.amount), "quantity": 1})
    if order.totals.shipping > 0:
        title = order.shipping_method.title if order.shipping_method else "Shipping"
        items.append({"id": "shipping", "name": title, "price": order.totals.shipping,
                      "quantity": 1})
    if order.totals.tax > 0:
        items.append({"id": "tax", "name": "Tax", "price": order.totals.tax, "quantity": 1})
    added = sum((i["price"] * i["quantity"] for i in items), ZERO)
    if added != total or not items:
        return [{"id": order.number, "name": f"Sale {order.number}", "price": round_money(total),
                 "quantity": 1}]
    return items
