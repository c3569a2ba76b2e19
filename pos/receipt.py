"""Receipts, refund slips and end-of-day reports as lines of text: one layout for all.

`receipt_lines` is the one template; `render_receipt` makes plain text of it (screen, file
printer, `pos orders show`), and `pos.printing` turns the same lines into an ESC/POS job or HTML,
adding the order number as a barcode and a QR code where the medium can draw them (plain text
shows it as `*NUMBER*`, the Code 39 way of writing a scannable number).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pos.config import ShopSettings
from pos.models import Order
from pos.money import format_money

if TYPE_CHECKING:
    from pos.refunds import Refund


def _row(left: str, right: str, width: int) -> str:
    room = width - len(right) - 1
    if len(left) > room:
        left = left[: max(room - 1, 1)] + "…"
    return f"{left:<{room}} {right}"


def _header(shop: ShopSettings, width: int) -> list[str]:
    out = []
    for text in (shop.name, shop.address, f"Tax id {shop.tax_id}" if shop.tax_id else ""):
        if text:
            out.append(text.center(width).rstrip())
    out.append("=" * width)
    return out


def code_hint(number: str, width: int = 42) -> str:
    """The order number as plain text shows a barcode: `*T1-000001*`, centred."""
    return f"*{number}*".center(width).rstrip()


def render_receipt(order: Order, shop: ShopSettings | None = None, width: int = 42,
                   refunds: Sequence[Refund] = ()) -> str:
    """The plain-text receipt, ending with the order number as a barcode hint."""
    lines = receipt_lines(order, shop, width, refunds)
    return "\n".join([*lines, code_hint(order.number, width)]) + "\n"


def receipt_lines(order: Order, shop: ShopSettings | None = None, width: int = 42,
                  refunds: Sequence[Refund] = ()) -> list[str]:
    """The receipt's text lines (without the barcode, which each medium draws its own way)."""
    shop = shop or ShopSettings()
    cur = order.currency
    out = _header(shop, width)
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
        if line.price_override_reason:
            out.append(f"  price changed: {line.price_override_reason}"[:width])
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
    for refund in refunds:
        out.append(_row(f"Refund {refund.number}", format_money(-refund.amount, cur), width))
        out.append(f"  {refund.method}: {refund.reason}"[:width])
    out.append("=" * width)
    status = {"placed": "", "queued": "Queued: will be sent when the store is reachable.",
              "unknown": "Being confirmed with the store.",
              "canceled": "Canceled / refunded.",
              "failed": "Needs attention: see Orders."}.get(order.status.value, "")
    if status:
        out.append(status)
    if shop.footer:
        out.append(shop.footer.center(width).rstrip())
    return out


def refund_lines(refund: Refund, shop: ShopSettings | None = None, width: int = 42) -> list[str]:
    """A refund slip: what went back, how much, why, by whom."""
    shop = shop or ShopSettings()
    cur = refund.currency
    out = _header(shop, width)
    out.append(f"REFUND {refund.number}")
    out.append(_row("Date", refund.created_at.astimezone().strftime("%Y-%m-%d %H:%M"), width))
    out.append(f"Order: {refund.order_number}")
    if refund.cashier:
        out.append(f"Cashier: {refund.cashier}")
    out.append("-" * width)
    for line in refund.lines:
        out.append(_row(line.name, format_money(-line.amount, cur), width))
        out.append(f"  {line.quantity} x {line.sku or line.product_id}"[:width])
    if refund.shipping:
        out.append(_row("Shipping", format_money(-refund.shipping, cur), width))
    out.append("-" * width)
    out.append(_row("Refund total", format_money(-refund.amount, cur), width))
    if refund.tax:
        out.append(_row("  of which tax", format_money(-refund.tax, cur), width))
    out.append(_row(f"Paid back ({refund.method})", format_money(refund.amount, cur), width))
    out.append(f"Reason: {refund.reason}"[:width])
    if refund.full:
        out.append("The whole order is refunded.")
    out.extend(textwrap.wrap(refund.note, width))  # what went back besides money, caps
    out.append("=" * width)
    return out


def render_refund(refund: Refund, shop: ShopSettings | None = None, width: int = 42) -> str:
    return "\n".join([*refund_lines(refund, shop, width), code_hint(refund.number, width)]) + "\n"


def report_lines(report: Mapping[str, Any], shop: ShopSettings | None = None,
                 width: int = 42) -> list[str]:
    """An X or Z report (`DayReport.to_dict()`, or a stored Z report) as receipt lines."""
    shop = shop or ShopSettings()
    cur = str(report.get("currency", "USD"))

    def money(key: str, data: Mapping[str, Any] = report) -> str:
        value = data.get(key)
        return "-" if value is None else format_money(Decimal(str(value)), cur)

    out = _header(shop, width)
    title = "Z REPORT (day closed)" if report["kind"] == "z" else "X REPORT (so far)"
    out.append(title.center(width).rstrip())
    out.append(_row(f"Lane {report['lane']}", str(report["business_day"]), width))
    out.append(_row("Printed", str(report["generated_at"])[:16].replace("T", " "), width))
    if report.get("cashier"):
        out.append(f"Cashier: {report['cashier']}")
    out.append("-" * width)
    out.append(_row("Sales", str(report["count"]), width))
    first, last = report.get("first_number"), report.get("last_number")
    if first:
        out.append(_row("  Orders", f"{first} .. {last}", width))
    out.append(_row("Gross", money("gross"), width))
    out.append(_row("Refunds", money("refunds"), width))
    out.append(_row("Net", money("net"), width))
    out.append(_row("Discounts", money("discounts"), width))
    out.append("-" * width)
    out.append("By payment method")
    for method, amount in report["by_payment"].items():
        out.append(_row(f"  {method}", format_money(Decimal(str(amount)), cur), width))
    if report["refunds_by_method"]:
        out.append(f"Refunds ({report['refund_count']})")
        for method, amount in report["refunds_by_method"].items():
            out.append(_row(f"  {method}", format_money(-Decimal(str(amount)), cur), width))
    out.append("-" * width)
    out.append(_row("Tax", money("tax"), width))
    for name, amount in report["tax_by_rate"].items():
        out.append(_row(f"  {name}", format_money(Decimal(str(amount)), cur), width))
    out.append(_row("Tax refunded", money("refund_tax"), width))
    out.append(_row("Net tax", money("net_tax"), width))
    out.append("-" * width)
    cash = report["cash"]
    out.append("Cash drawer")
    for label, key in (("  Opening float", "opening_float"), ("  Cash sales", "cash_sales"),
                       ("  Cash refunds", "cash_refunds"), ("  Cash in", "cash_in"),
                       ("  Cash out", "cash_out"), ("  Expected", "expected"),
                       ("  Counted", "counted"), ("  Difference", "difference")):
        out.append(_row(label, money(key, cash), width))
    out.append("-" * width)
    if report["pending"] or report["failed"]:
        out.append(f"Not yet confirmed by the store: {report['pending']} queued/unknown, "
                   f"{report['failed']} failed."[: width * 2])
    out.append("=" * width)
    return out


def render_report(report: Mapping[str, Any], shop: ShopSettings | None = None,
                  width: int = 42) -> str:
    return "\n".join(report_lines(report, shop, width)) + "\n"
