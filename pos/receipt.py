"""Plain-text receipts (screen, file printer, `pos orders show`), one layout for all."""

from __future__ import annotations

from pos.config import ShopSettings
from pos.models import Order
from pos.money import format_money


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(room - 1, 1)] + "…"
    return f"{left:<{room}} {right}"


def render_receipt(order: Order, shop: ShopSettings | None = None, width: int = 42) -> str:
    shop = shop or ShopSettings()
    cur = order.currency
    out: list[str] = []
    for text in (shop.name, shop.address, f"Tax id {shop.tax_id}" if shop.tax_id else ""):
        if text:
            out.append(text.center(width).rstrip())
    out.append("=" * width)
    out.append(_row(f"Order {order.number}", order.created_at.astimezone().strftime(
        "%Y-%m-%d %H:%M"), width))
    if order.cashier:
        out.append(f"Cashier: {order.cashier}")
    if not order.customer.guest or order.customer.name != "Guest":
        out.append(f"Customer: {order.customer.name}")
    out.append("-" * width)
    priced = {p.key: p for p in order.priced}
    for line in order.lines:
        total = priced[line.key].total if line.key in priced else line.unit_price * line.quantity
        out.append(_row(line.name, format_money(total, cur), width))
        detail = f"  {line.quantity} x {format_money(line.unit_price, cur)}"
        if line.options:
            detail += f"  ({line.options_label})"
        out.append(detail[:width])
    for sold in order.sold_vouchers:
        out.append(_row(f"Gift voucher for {sold.to_name}", format_money(sold.amount, cur), width))
    out.append("-" * width)
    for total_line in order.totals.lines:
        out.append(_row(total_line.title, format_money(total_line.amount, cur), width))
    if order.totals.tax_included:
        out.append(_row("  of which tax included", format_money(order.totals.tax_included, cur),
                        width))
    out.append("-" * width)
    for payment in order.payments:
        out.append(_row(payment.title or payment.method, format_money(payment.amount, cur), width))
        if payment.tendered is not None and payment.tendered != payment.amount:
            out.append(_row("  Tendered", format_money(payment.tendered, cur), width))
        if payment.change:
            out.append(_row("  Change", format_money(payment.change, cur), width))
        if payment.reference:
            out.append(f"  Ref {payment.reference}"[:width])
    if order.shipping_address and not order.pickup:
        out.append("Ship to: " + order.shipping_address.one_line())
        if order.shipping_method:
            out.append(f"  via {order.shipping_method.title}")
    out.append("=" * width)
    status = {"placed": "", "queued": "Queued: will be sent when the store is reachable.",
              "unknown": "Being confirmed with the store.",
              "failed": "Needs attention: see Orders."}.get(order.status.value, "")
    if status:
        out.append(status)
    if shop.footer:
        out.append(shop.footer.center(width).rstrip())
    return "\n".join(out) + "\n"
