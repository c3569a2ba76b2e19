"""Local sales → Voucherify order bodies (integer minor units), and Voucherify orders → `RemoteOrder`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pos.backends.base import RemoteOrder
from pos.backends.voucherify.settings import MAX_ITEMS
from pos.models import Order, OrderStatus
from pos.money import cents


def voucherify_status(order: Order) -> str:
    return "CANCELED" if order.status == OrderStatus.CANCELED else "PAID"


def _customer(order: Order) -> dict[str, Any]:
    c = order.customer
    source_id = c.id if c.id else f"guest-{order.number}"
    out: dict[str, Any] = {"source_id": source_id}
    name = f"{c.firstname} {c.lastname}".strip()
    for key, value in (("name", name), ("email", c.email), ("phone", c.telephone)):
        if value:
            out[key] = value
    return out


def _payment_method(order: Order) -> str:
    methods = [p.method for p in order.payments if p.status == "paid"] or (
        [order.payment_method.code] if order.payment_method else [])
    return "+".join(dict.fromkeys(methods))


def order_payload(order: Order) -> dict[str, Any]:
    """The OrdersCreate body for a local sale.

    `amount` is the sum of the items' amounts (the spec's definition): the lines, sold gift
    vouchers and shipping, before discounts; `discount_amount` is the order-level discount
    (coupon + reward points). Tax and what was paid by gift vouchers/store credit ride in
    `metadata` (integer cents) so the local total can be rebuilt.
    """
    cur = order.currency
    priced = {p.key: p for p in order.priced}
    items: list[dict[str, Any]] = []
    for line in order.lines:
        price = cents(line.unit_price, cur)
        p = priced.get(line.key)
        amount = cents(p.total, cur) if p is not None else price * line.quantity
        item: dict[str, Any] = {
            "source_id": line.sku or line.product_id,
            "related_object": "product",
            "quantity": line.quantity,
            "price": price,
            "amount": amount,
            "product": {"name": line.name[:200], "price": price},
        }
        items.append(item)
    for voucher in order.sold_vouchers:
        amount = cents(voucher.amount, cur)
        items.append({"source_id": "gift-voucher", "related_object": "product", "quantity": 1,
                      "price": amount, "amount": amount,
                      "product": {"name": "Gift voucher", "price": amount}})
    shipping = cents(order.totals.shipping, cur)
    if shipping:
        items.append({"source_id": "shipping", "related_object": "product", "quantity": 1,
                      "price": shipping, "amount": shipping,
                      "product": {"name": order.shipping_method.title if order.shipping_method
                                  else "Shipping", "price": shipping}})
    if len(items) > MAX_ITEMS:  # the API takes 500 items: fold the tail into one summary item
        rest = items[MAX_ITEMS - 1:]
        folded = sum(int(i["amount"]) for i in rest)
        items = [*items[:MAX_ITEMS - 1], {
            "source_id": "more-items", "related_object": "product", "quantity": 1,
            "price": folded, "amount": folded,
            "product": {"name": f"{len(rest)} more items", "price": folded}}]
    amount = sum(int(i["amount"]) for i in items)
    metadata: dict[str, Any] = {
        "local_number": order.number,
        "lane": order.lane,
        "cashier": order.cashier,
        "payment_method": _payment_method(order),
        "checkout_backend": order.backend,
        "remote_id": order.remote_id or "",
        "currency": cur,
        "tax": cents(order.totals.tax, cur),
        "total": cents(order.totals.total, cur),
    }
    if order.totals.vouchers:
        metadata["gift_vouchers"] = cents(order.totals.vouchers, cur)
    if order.totals.store_credit:
        metadata["store_credit"] = cents(order.totals.store_credit, cur)
    if order.coupon:
        metadata["coupon"] = order.coupon
    body: dict[str, Any] = {
        "source_id": order.number,
        "status": voucherify_status(order),
        "amount": amount,
    }
    discount = cents(order.totals.discount, cur)
    if discount:
        body["discount_amount"] = discount
    if items:
        body["items"] = items
    body["customer"] = _customer(order)
    body["metadata"] = {k: v for k, v in metadata.items() if v != ""}
    return body


def import_payload(order: Order) -> dict[str, Any]:
    """An import item: the create body plus the sale's own `created_at`."""
    body = order_payload(order)
    created = order.created_at
    body["created_at"] = created.isoformat().replace("+00:00", "Z") if created.tzinfo else (
        created.isoformat() + "Z")
    return body


def _remote_order(data: dict[str, Any]) -> RemoteOrder:
    created = data.get("created_at")
    try:
        created_at = datetime.fromisoformat(str(created).replace("Z", "+00:00")) if created \
            else None
    except ValueError:
        created_at = None
    total = data.get("total_amount", data.get("amount"))
    meta = data.get("metadata") or {}
    return RemoteOrder(
        remote_id=str(data.get("id", "")),
        number=data.get("source_id"),
        status=str(data.get("status", "")),
        total=Decimal(int(total)) / 100 if isinstance(total, int) else None,
        currency=str(meta.get("currency", "")) if isinstance(meta, dict) else "",
        customer=str(data.get("customer_id") or ""),
        created_at=created_at,
        raw=data,
    )

