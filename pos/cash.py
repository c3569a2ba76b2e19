"""The cash drawer: opening float, cash in/out with a reason, the count at close.

Expected cash for a lane's business day =
    float + cash taken for sales (cash payments' `amount`, i.e. tendered minus change)
    − cash refunds + cash in − cash out.
The count is what the cashier found in the drawer; the last count of the day is the one reports
use. Movements are rows in `cash_movements` (never updated), so the drawer's story can be read
back line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from pos.business_day import day_bounds, today
from pos.errors import InputError, RuleError
from pos.models import OrderStatus
from pos.money import ZERO, parse_money, round_money, to_decimal
from pos.store import Ledger
from pos.store.db import transaction
from pos.store.orders import now_iso

MovementKind = Literal["float", "in", "out", "count"]
# Orders whose money is in the drawer: taken at the counter, whether or not the store has them yet.
COUNTED_STATUSES = (OrderStatus.PLACED, OrderStatus.QUEUED, OrderStatus.SENDING,
                    OrderStatus.UNKNOWN)


@dataclass(frozen=True)
class CashMovement:
    id: int
    lane: str
    business_day: str
    at: str
    kind: str
    amount: Decimal
    reason: str
    cashier: str


@dataclass(frozen=True)
class CashSummary:
    lane: str
    business_day: str
    opening_float: Decimal
    cash_sales: Decimal
    cash_refunds: Decimal
    cash_in: Decimal
    cash_out: Decimal
    expected: Decimal
    counted: Decimal | None
    difference: Decimal | None  # counted − expected (negative: cash is missing)

    def to_dict(self) -> dict[str, str | None]:
        return {k: (None if v is None else str(round_money(v) if isinstance(v, Decimal) else v))
                for k, v in self.__dict__.items()}


MAX_AMOUNT = Decimal("1000000000")


def parse_amount(value: object, what: str = "amount") -> Decimal:
    """A typed amount ("50", "$12.50", Decimal) rounded to cents; never negative or absurd."""
    raw = parse_money(value) if isinstance(value, str) else to_decimal(value, what)
    if abs(raw) >= MAX_AMOUNT:
        raise InputError(message=f"The {what} {value!r} is too large.")
    amount = round_money(raw)
    if amount < 0:
        raise InputError(message=f"The {what} cannot be negative.", hint="Type an amount like 50.00.")
    return amount


class CashDrawer:
    """One lane's drawer. `cashier` is written on every movement."""

    def __init__(self, ledger: Ledger, *, lane: str, cashier: str = "") -> None:
        self.ledger = ledger
        self.lane = lane
        self.cashier = cashier

    def _add(self, kind: MovementKind, amount: Decimal, reason: str = "",
             day: date | None = None) -> CashMovement:
        business_day = (day or today()).isoformat()
        at = now_iso()
        with transaction(self.ledger.db, self.ledger.path) as conn:
            if kind == "float" and conn.execute(
                    "SELECT 1 FROM cash_movements WHERE lane = ? AND business_day = ? AND "
                    "kind = 'float'", [self.lane, business_day]).fetchone():
                raise RuleError(message=f"The drawer of lane {self.lane} is already open for "
                                        f"{business_day}.",
                                hint="Use `pos cash in` to add cash to it.", field="cash")
            if conn.execute("SELECT 1 FROM z_reports WHERE lane = ? AND business_day = ?",
                            [self.lane, business_day]).fetchone():
                raise RuleError(message=f"{business_day} is closed for lane {self.lane} "
                                        "(Z report done).", field="cash")
            row_id = conn.execute(
                "INSERT INTO cash_movements (lane, business_day, at, kind, amount, reason, "
                "cashier) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [self.lane, business_day, at, kind, str(amount), reason, self.cashier]
            ).fetchone()[0]
        return CashMovement(int(row_id), self.lane, business_day, at, kind, amount, reason,
                            self.cashier)

    def open(self, amount: object, day: date | None = None) -> CashMovement:
        """Open the drawer with its float (once per business day and lane)."""
        return self._add("float", parse_amount(amount, "opening float"), "opening float", day)

    def cash_in(self, amount: object, reason: str) -> CashMovement:
        return self._move("in", amount, reason)

    def cash_out(self, amount: object, reason: str) -> CashMovement:
        return self._move("out", amount, reason)

    def _move(self, kind: MovementKind, amount: object, reason: str) -> CashMovement:
        value = parse_amount(amount)
        if value <= 0:
            raise InputError(message="The amount must be more than zero.")
        if not reason.strip():
            raise InputError(message=f"Say why cash goes {kind}.", hint="--reason TEXT")
        return self._add(kind, value, reason.strip())

    def count(self, amount: object) -> CashSummary:
        """Record what is in the drawer; returns expected vs counted."""
        self._add("count", parse_amount(amount, "counted cash"), "count")
        return self.summary()

    def movements(self, day: date | None = None) -> list[CashMovement]:
        rows = self.ledger.db.execute(
            "SELECT id, lane, business_day, at, kind, amount, reason, cashier FROM "
            "cash_movements WHERE lane = ? AND business_day = ? ORDER BY id",
            [self.lane, (day or today()).isoformat()]).fetchall()
        return [CashMovement(r[0], r[1], r[2], r[3], r[4], Decimal(r[5]), r[6], r[7])
                for r in rows]

    def summary(self, day: date | None = None) -> CashSummary:
        day = day or today()
        moves = self.movements(day)

        def total(kind: str) -> Decimal:
            return sum((m.amount for m in moves if m.kind == kind), ZERO)

        counts = [m.amount for m in moves if m.kind == "count"]
        sales = cash_sales(self.ledger, self.lane, day)
        refunds = cash_refunds(self.ledger, self.lane, day)
        expected = total("float") + sales - refunds + total("in") - total("out")
        counted = counts[-1] if counts else None
        return CashSummary(
            lane=self.lane, business_day=day.isoformat(), opening_float=total("float"),
            cash_sales=sales, cash_refunds=refunds, cash_in=total("in"), cash_out=total("out"),
            expected=expected, counted=counted,
            difference=None if counted is None else counted - expected)


def cash_sales(ledger: Ledger, lane: str, day: date) -> Decimal:
    """Cash kept for the day's sales on a lane (payments of kind cash: their `amount`)."""
    from pos.reports import orders_of_day

    return sum((p.amount for o in orders_of_day(ledger, lane, day) for p in o.payments
                if p.kind == "cash" and p.status == "paid"), ZERO)


def cash_refunds(ledger: Ledger, lane: str, day: date) -> Decimal:
    start, end = day_bounds(day)
    rows = ledger.db.execute(
        "SELECT amount FROM refunds WHERE lane = ? AND method = 'cash' AND created_at >= ? "
        "AND created_at < ?", [lane, start, end]).fetchall()
    return sum((Decimal(r[0]) for r in rows), ZERO)
