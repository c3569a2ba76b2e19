"""End of day: the X report (so far, as often as wanted) and the Z report (closes the day).

A report covers one lane's business day. Sales are the day's orders whose money was taken at
the counter (placed, or still on their way to the store: queued/sending/unknown), plus orders
that were later refunded in full (the refund shows under `refunds`). Failed orders and orders
cancelled before they reached the store are not sales. Every figure is a sum of already-rounded
amounts (see `pos.money`), so the report adds up to the cent:

    gross   = Σ order totals              net = gross − refunds
    tax     = Σ (added + included tax)    net_tax = tax − refunded tax
    by_payment: Σ payment amounts per method (cash: tendered minus change)

A Z report is stored in `z_reports`, once per lane and business day: a second one is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pos.business_day import day_bounds, today
from pos.cash import COUNTED_STATUSES, CashDrawer, CashSummary
from pos.errors import NotFoundError, RuleError
from pos.models import Order, OrderStatus
from pos.money import ZERO, round_money
from pos.store import Ledger
from pos.store.db import transaction
from pos.store.orders import now_iso

PENDING = (OrderStatus.QUEUED, OrderStatus.SENDING, OrderStatus.UNKNOWN)


def orders_of_day(ledger: Ledger, lane: str, day: date) -> list[Order]:
    """The day's sales on a lane, oldest first (see the module docstring for which count)."""
    start, end = day_bounds(day)
    rows = ledger.db.execute(
        "SELECT data, status, number FROM orders WHERE lane = ? AND created_at >= ? AND "
        "created_at < ? ORDER BY created_at, number", [lane, start, end]).fetchall()
    refunded = {r[0] for r in ledger.db.execute(
        "SELECT DISTINCT order_number FROM refunds WHERE full = 1 AND order_number IN "
        "(SELECT number FROM orders WHERE lane = ? AND created_at >= ? AND created_at < ?)",
        [lane, start, end])}
    out: list[Order] = []
    for data, status, number in rows:
        if status in {s.value for s in COUNTED_STATUSES} or (
                status == OrderStatus.CANCELED.value and number in refunded):
            out.append(Order.model_validate_json(data))
    return out


@dataclass(frozen=True)
class DayReport:
    kind: Literal["x", "z"]
    lane: str
    business_day: str
    generated_at: str
    cashier: str
    currency: str
    count: int
    gross: Decimal
    refunds: Decimal
    net: Decimal
    by_payment: dict[str, Decimal]
    tax: Decimal
    tax_by_rate: dict[str, Decimal]
    refund_tax: Decimal
    net_tax: Decimal
    discounts: Decimal
    refund_count: int
    refunds_by_method: dict[str, Decimal]
    first_number: str | None
    last_number: str | None
    pending: int  # sales still queued/sending/unknown
    failed: int
    cash: CashSummary
    cashiers: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every amount, and `count`, a decimal string."""
        def amount(value: object) -> str:
            if isinstance(value, Decimal):
                return str(round_money(value, self.currency))
            return str(value)

        data: dict[str, Any] = json.loads(json.dumps(asdict(self), default=amount))
        data["count"] = str(self.count)  # like the amounts: a decimal string (the JSON contract)
        return data


def build_report(ledger: Ledger, lane: str, day: date | None = None, *, cashier: str = "",
                 kind: Literal["x", "z"] = "x", currency: str = "USD") -> DayReport:
    day = day or today()
    orders = orders_of_day(ledger, lane, day)
    start, end = day_bounds(day)
    by_payment: dict[str, Decimal] = {}
    tax_by_rate: dict[str, Decimal] = {}
    for order in orders:
        for p in order.payments:
            if p.status == "paid":
                by_payment[p.method] = by_payment.get(p.method, ZERO) + p.amount
        for line in order.totals.lines:
            if line.code == "tax":
                tax_by_rate[line.title] = tax_by_rate.get(line.title, ZERO) + line.amount
    refund_rows = ledger.db.execute(
        "SELECT amount, tax, method, cashier FROM refunds WHERE lane = ? AND created_at >= ? "
        "AND created_at < ?", [lane, start, end]).fetchall()
    refunds_by_method: dict[str, Decimal] = {}
    for amount, _tax, method, _who in refund_rows:
        refunds_by_method[method] = refunds_by_method.get(method, ZERO) + Decimal(amount)
    gross = sum((o.totals.total for o in orders), ZERO)
    refunds = sum(refunds_by_method.values(), ZERO)
    tax = sum((o.totals.tax + o.totals.tax_included for o in orders), ZERO)
    refund_tax = sum((Decimal(r[1]) for r in refund_rows), ZERO)
    status_rows = ledger.db.execute(
        "SELECT status, count(*) FROM orders WHERE lane = ? AND created_at >= ? AND "
        "created_at < ? GROUP BY status", [lane, start, end]).fetchall()
    statuses = {s: n for s, n in status_rows}
    who = sorted({o.cashier for o in orders if o.cashier} | {r[3] for r in refund_rows if r[3]})
    return DayReport(
        kind=kind, lane=lane, business_day=day.isoformat(), generated_at=now_iso(),
        cashier=cashier, currency=orders[0].currency if orders else currency,
        count=len(orders), gross=gross, refunds=refunds, net=gross - refunds,
        by_payment=dict(sorted(by_payment.items())), tax=tax,
        tax_by_rate=dict(sorted(tax_by_rate.items())), refund_tax=refund_tax,
        net_tax=tax - refund_tax, discounts=sum((o.totals.discount for o in orders), ZERO),
        refund_count=len(refund_rows), refunds_by_method=dict(sorted(refunds_by_method.items())),
        first_number=orders[0].number if orders else None,
        last_number=orders[-1].number if orders else None,
        pending=sum(statuses.get(s.value, 0) for s in PENDING),
        failed=statuses.get(OrderStatus.FAILED.value, 0),
        cash=CashDrawer(ledger, lane=lane).summary(day), cashiers=who)


class Reports:
    """X and Z reports for one lane. The TUI calls `x_report()` and `z_report()`."""

    def __init__(self, ledger: Ledger, *, lane: str, cashier: str = "",
                 currency: str = "USD") -> None:
        self.ledger = ledger
        self.lane = lane
        self.cashier = cashier
        self.currency = currency

    def x_report(self, day: date | None = None) -> DayReport:
        return build_report(self.ledger, self.lane, day, cashier=self.cashier, kind="x",
                            currency=self.currency)

    def z_report(self, day: date | None = None) -> DayReport:
        """Close the business day: build the report and store it (once per day and lane)."""
        day = day or today()
        with transaction(self.ledger.db, self.ledger.path) as conn:
            row = conn.execute("SELECT at, cashier FROM z_reports WHERE lane = ? AND "
                               "business_day = ?", [self.lane, day.isoformat()]).fetchone()
            if row is not None:
                raise RuleError(
                    message=f"The Z report for lane {self.lane} on {day.isoformat()} was "
                            f"already run at {row[0][:19]}" + (f" by {row[1]}" if row[1] else "")
                            + ".",
                    hint="Run an X report, or `pos report z --reprint` to see it again.",
                    field="z_report")
            report = build_report(self.ledger, self.lane, day, cashier=self.cashier, kind="z",
                                  currency=self.currency)
            conn.execute("INSERT INTO z_reports (lane, business_day, at, cashier, data) "
                         "VALUES (?, ?, ?, ?, ?)",
                         [self.lane, day.isoformat(), datetime.now(UTC).isoformat(),
                          self.cashier, json.dumps(report.to_dict())])
        return report

    def stored_z(self, day: date | None = None) -> dict[str, Any]:
        """A Z report as it was stored (for a reprint)."""
        day = day or today()
        row = self.ledger.db.execute("SELECT data FROM z_reports WHERE lane = ? AND "
                                     "business_day = ?", [self.lane, day.isoformat()]).fetchone()
        if row is None:
            raise NotFoundError(message=f"No Z report for lane {self.lane} on {day.isoformat()}.")
        data: dict[str, Any] = json.loads(row[0])
        return data
