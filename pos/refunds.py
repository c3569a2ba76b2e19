"""Refunds and voids of placed orders: whole orders or some lines, with a reason and a method.

Amounts follow the one rounding policy (`pos.money`): a line's *refundable value* is what the
customer paid for it — its priced total minus its discount share, plus its tax when the tax was
added on top (an included tax is already inside the total). A partial quantity refunds that value
in proportion, rounded per line; the refund that takes a line's last units refunds exactly what is
left of its value, so several partial refunds always add up to the full line.

Each refund has its own lane-safe number `<order number>-R<n>`. The embedded store books it at
once (`LocalBackend.refund`: stock and earned points, and for a whole order what the sale spent
of points, coupon, vouchers and credit; what it gave back joins the refund's note); another
backend that can take refunds is told through the
outbox (kind `status`: `update_order_status(order, "refunded", reason)`) once the whole order is
refunded (the status API knows whole-order states only); a backend that cannot is noted. A
refund that returns everything cancels the order, and every configured sink gets a `mirror`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pos.backends.base import Backend, Capability
from pos.errors import InputError, NotFoundError, PosError, RuleError
from pos.model_base import Model
from pos.models import (  # REFUND_METHODS lives in models: the CLI parser needs only it
    REFUND_METHODS as REFUND_METHODS,
)
from pos.models import (
    CartLine,
    Order,
    OrderStatus,
    PricedLine,
    TaxClass,
)
from pos.money import ZERO, format_money, round_money
from pos.store import Ledger
from pos.store.db import transaction
from pos.store.orders import now_iso


@dataclass(frozen=True, kw_only=True)
class RefundLine(Model):
    key: str  # the order line's key
    product_id: str
    sku: str = ""
    name: str
    quantity: int
    amount: Decimal  # refunded, tax included
    tax: Decimal  # of which tax


@dataclass(frozen=True, kw_only=True)
class Refund(Model):
    number: str  # <order number>-R<n>
    order_number: str
    lane: str
    created_at: datetime
    cashier: str = ""
    reason: str
    method: str = "cash"
    currency: str = "USD"
    lines: tuple[RefundLine, ...] = ()
    shipping: Decimal = ZERO  # shipping (with its tax), refunded with the last lines
    amount: Decimal = ZERO  # lines + shipping
    tax: Decimal = ZERO
    full: bool = False  # the order has nothing left to refund: it is canceled
    note: str = ""  # e.g. "the store has no refund API: recorded locally"


# --- arithmetic (pure) ------------------------------------------------------------------------


def line_value(line: CartLine, priced: PricedLine | None, tax_class: TaxClass | None,
               cur: str) -> tuple[Decimal, Decimal]:
    """(what the customer paid for the whole line, of which tax)."""
    if priced is None:
        total = round_money(line.unit_price * line.quantity, cur)
        return total, ZERO
    paid = priced.total - priced.discount
    if tax_class is None or not tax_class.included:
        paid += priced.tax
    return paid, priced.tax


def shipping_value(order: Order, tax_classes: Mapping[str, TaxClass]) -> tuple[Decimal, Decimal]:
    """(shipping paid with the tax added on it, of which tax): the order's added tax minus the
    tax its lines added."""
    if not order.totals.shipping:
        return ZERO, ZERO
    lines_tax = sum((p.tax for ln, p in zip(order.lines, order.priced, strict=False)
                     if not (tc := tax_classes.get(ln.tax_class)) or not tc.included), ZERO)
    tax = max(order.totals.tax - lines_tax, ZERO)
    return order.totals.shipping + tax, tax


def refund_amounts(full_value: Decimal, full_tax: Decimal, sold: int, already_qty: int,
                   already_amount: Decimal, already_tax: Decimal, qty: int,
                   cur: str) -> tuple[Decimal, Decimal]:
    """Amount and tax for refunding `qty` more units of a line (rounded per line)."""
    if already_qty + qty >= sold:  # the last units: what is left, so the parts add up
        return full_value - already_amount, full_tax - already_tax
    # never past what is left, so the last units never get a negative amount
    amount = min(round_money(full_value * qty / sold, cur), full_value - already_amount)
    tax = min(round_money(full_tax * qty / sold, cur), full_tax - already_tax)
    return max(amount, ZERO), max(tax, ZERO)


# --- the service ------------------------------------------------------------------------------


class RefundService:
    """Refund placed orders. The TUI and `pos orders refund` both call `refund()`."""

    def __init__(self, ledger: Ledger, backend: Backend, *, lane: str, cashier: str = "",
                 profile: str = "local", sinks: Sequence[str] = (),
                 tax_classes: Mapping[str, TaxClass] | None = None,
                 deliver: Callable[[str], object] | None = None,
                 backend_for: Callable[[str], Backend] | None = None) -> None:
        self.ledger = ledger
        self.backend = backend
        self.lane = lane
        self.cashier = cashier
        self.profile = profile
        self.sinks = tuple(s for s in sinks if s != profile)
        self.tax_classes = dict(tax_classes or {})
        self.deliver = deliver  # the sync engine's deliver(number): try the outbox now
        self.backend_for = backend_for  # an order placed under another profile: its backend

    # --- reading ---------------------------------------------------------------------------

    def refunds_of(self, order_number: str) -> list[Refund]:
        rows = self.ledger.db.execute(
            "SELECT data FROM refunds WHERE order_number = ? ORDER BY created_at, number",
            [order_number]).fetchall()
        return [Refund.model_validate_json(r[0]) for r in rows]

    def get(self, number: str) -> Refund:
        row = self.ledger.db.execute("SELECT data FROM refunds WHERE number = ?",
                                     [number]).fetchone()
        if row is None:
            raise NotFoundError(message=f"There is no refund {number}.")
        return Refund.model_validate_json(row[0])

    def refunded_quantities(self, order_number: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for refund in self.refunds_of(order_number):
            for line in refund.lines:
                out[line.key] = out.get(line.key, 0) + line.quantity
        return out

    def refundable(self, order: Order) -> dict[str, int]:
        """Line key → quantity that can still be refunded."""
        done = self.refunded_quantities(order.number)
        return {ln.key: ln.quantity - done.get(ln.key, 0) for ln in order.lines}

    # --- planning (no writes) --------------------------------------------------------------

    def resolve_lines(self, order: Order, wanted: Mapping[str, int] | None) -> dict[str, int]:
        """`CODE → qty` (code: SKU, barcode, product id or line key) → line key → qty.

        None or empty: everything still refundable. Several lines of one product are filled
        in order. Raises `InputError`/`RuleError` with a one-line reason.
        """
        left = self.refundable(order)
        if not wanted:
            chosen = {k: q for k, q in left.items() if q > 0}
            if not chosen:
                raise RuleError(message=f"Order {order.number} has nothing left to refund.",
                                field="refund")
            return chosen
        chosen = {}
        for code, qty in wanted.items():
            if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
                raise InputError(message=f"{code}: the quantity to refund must be at least 1.")
            lines = [ln for ln in order.lines if code.strip().lower() in
                     {ln.key.lower(), ln.sku.lower(), ln.barcode.lower(), ln.product_id.lower()}]
            if not lines:
                raise InputError(message=f"Order {order.number} has no line {code!r}.",
                                 hint="Use the SKU, barcode or product id of a sold line.")
            available = sum(left[ln.key] - chosen.get(ln.key, 0) for ln in lines)
            if qty > available:
                sold = sum(ln.quantity for ln in lines)
                raise RuleError(message=f"{code}: cannot refund {qty}; {sold} sold, "
                                        f"{available} left to refund.", field="refund")
            rest = qty
            for ln in lines:
                take = min(rest, left[ln.key] - chosen.get(ln.key, 0))
                if take > 0:
                    chosen[ln.key] = chosen.get(ln.key, 0) + take
                    rest -= take
        return chosen

    def plan(self, order: Order, chosen: Mapping[str, int], *, reason: str, method: str,
             number: str = "") -> Refund:
        """The refund these quantities make (amounts per line, rounded per line)."""
        cur = order.currency
        priced = {p.key: p for p in order.priced}
        previous = self.refunds_of(order.number)
        lines_out: list[RefundLine] = []
        for line in order.lines:
            qty = chosen.get(line.key, 0)
            if qty <= 0:
                continue
            value, tax = line_value(line, priced.get(line.key),
                                    self.tax_classes.get(line.tax_class), cur)
            prev = [rl for r in previous for rl in r.lines if rl.key == line.key]
            amount, line_tax = refund_amounts(
                value, tax, line.quantity, sum(rl.quantity for rl in prev),
                sum((rl.amount for rl in prev), ZERO), sum((rl.tax for rl in prev), ZERO),
                qty, cur)
            lines_out.append(RefundLine(key=line.key, product_id=line.product_id, sku=line.sku,
                                        name=line.name, quantity=qty, amount=amount,
                                        tax=line_tax))
        left = self.refundable(order)
        full = all(left[k] - chosen.get(k, 0) <= 0 for k in left)
        shipping, shipping_tax = ZERO, ZERO
        if full and not any(r.shipping for r in previous):
            shipping, shipping_tax = shipping_value(order, self.tax_classes)
        amount = sum((rl.amount for rl in lines_out), ZERO) + shipping
        tax = sum((rl.tax for rl in lines_out), ZERO) + shipping_tax
        return Refund(number=number, order_number=order.number, lane=self.lane,
                      created_at=datetime.now(UTC), cashier=self.cashier, reason=reason,
                      method=method, currency=cur, lines=tuple(lines_out), shipping=shipping,
                      amount=amount, tax=tax, full=full)

    # --- doing -----------------------------------------------------------------------------

    def refund(self, order_number: str, lines: Mapping[str, int] | None = None, *,
               reason: str, method: str = "cash") -> Refund:
        """Refund `lines` (code → quantity; None: all that is left) of a placed order."""
        reason = reason.strip()
        if not reason:
            raise InputError(message="Say why the order is refunded.", hint="--reason TEXT")
        if method not in REFUND_METHODS:
            raise InputError(message=f"{method!r} is not a refund method.",
                             hint="One of: " + ", ".join(REFUND_METHODS) + ".")
        order = self.ledger.orders.get(order_number)
        if order.status != OrderStatus.PLACED:
            why = {"canceled": "is already canceled or fully refunded"}.get(
                order.status.value, f"is {order.status.value}, not placed")
            raise RuleError(message=f"Order {order.number} {why}.",
                            hint="Only placed orders can be refunded.", field="refund")
        chosen = self.resolve_lines(order, lines)
        backend, profile = self.backend, self.profile
        if order.profile != self.profile and self.backend_for is not None:
            backend, profile = self.backend_for(order.profile), order.profile
        refund = self._record(order, chosen, reason, method, backend, profile)
        refund = self._tell_backend(order, refund, backend)
        if self.deliver is not None:
            with suppress(PosError):  # offline: the outbox keeps it and sends it later
                self.deliver(order.number)
        return refund

    def void(self, order_number: str, *, reason: str) -> Refund:
        """Refund everything still refundable, paid back the way the sale was paid."""
        order = self.ledger.orders.get(order_number)
        kinds = [p.kind for p in order.payments if p.status == "paid"]
        method = {"cash": "cash", "card": "card", "link": "card", "voucher": "voucher"}.get(
            kinds[0] if kinds else "", "other")
        return self.refund(order_number, None, reason=reason, method=method)

    def preview(self, order_number: str, lines: Mapping[str, int] | None = None, *,
                method: str = "cash") -> Refund:
        """What `refund()` would do, written nowhere (for a confirmation screen): the amount
        paid back capped as the refund will be, so the cashier is never shown more than the
        till will give."""
        order = self.ledger.orders.get(order_number)
        chosen = self.resolve_lines(order, lines)
        return _cap_to_paid(order, self.plan(order, chosen, reason="", method=method),
                            previous=self.refunds_of(order_number))

    def _record(self, order: Order, chosen: Mapping[str, int], reason: str, method: str,
                backend: Backend, profile: str) -> Refund:
        ledger = self.ledger
        with transaction(ledger.db, ledger.path) as conn:
            # checked again under the write lock: another till may have refunded meanwhile
            current = conn.execute("SELECT status FROM orders WHERE number = ?",
                                   [order.number]).fetchone()[0]
            left = self.refundable(order)
            if current != OrderStatus.PLACED.value or any(
                    q > left.get(k, 0) for k, q in chosen.items()):
                raise RuleError(message=f"Order {order.number} was refunded meanwhile.",
                                hint="Look at the order again and retry.", field="refund")
            seq = conn.execute("SELECT count(*) FROM refunds WHERE order_number = ?",
                               [order.number]).fetchone()[0] + 1
            number = f"{order.number}-R{seq}"
            refund = self.plan(order, chosen, reason=reason, method=method, number=number)
            refund = _cap_to_paid(order, refund, previous=self.refunds_of(order.number))
            note = ""
            if not backend.supports(Capability.REFUNDS):
                note = f"The {backend.name} store has no refund API: recorded locally only."
            elif not _is_local(backend) and not refund.full:  # it knows whole-order states
                note = f"The {backend.name} store is told when the whole order is refunded."
            if note:
                refund = refund.model_copy(update={"note": " ".join(
                    n for n in (refund.note, note) if n)})
            _insert(conn, refund)
            detail = f"{refund.number} {refund.amount} {method}: {reason}"
            if refund.full:
                canceled = order.model_copy(update={"status": OrderStatus.CANCELED,
                                                    "last_error": f"refunded: {reason}"})
                ledger.orders.update(canceled, "refunded", detail, conn=conn)
            else:
                ledger.orders.note(order.number, "refund", detail, conn=conn)
            stamp = now_iso()
            targets: list[tuple[str, str]] = []
            remote = backend.supports(Capability.REFUNDS) and not _is_local(backend)
            if remote and refund.full:
                targets.append((profile, "status"))
            if refund.full:
                targets += [(sink, "mirror") for sink in self.sinks]
            for target, kind in targets:
                conn.execute(
                    "INSERT INTO outbox (number, target, kind, state, created_at, updated_at) "
                    "VALUES (?, ?, ?, 'queued', ?, ?) ON CONFLICT(number, target, kind) DO "
                    "UPDATE SET state = 'queued', next_attempt_at = 0, attempts = 0, "
                    "updated_at = excluded.updated_at",
                    [order.number, target, kind, stamp, stamp])
        return refund

    def _tell_backend(self, order: Order, refund: Refund, backend: Backend) -> Refund:
        """The embedded store books the refund now (stock, points, and for a whole order its
        coupon, vouchers and credit: what it gave back joins the refund's note); other stores
        hear through the outbox."""
        if not _is_local(backend):
            return refund
        try:
            given = str(backend.refund(order, refund) or "")  # type: ignore[attr-defined]
        except PosError as exc:
            given = f"Stock not returned: {exc.one_line()}"
        if not given:
            return refund
        note = " ".join(n for n in (refund.note, f"{given[0].upper()}{given[1:]}.") if n)
        with transaction(self.ledger.db, self.ledger.path) as conn:
            conn.execute("UPDATE refunds SET note = ?, data = json_set(data, '$.note', ?) "
                         "WHERE number = ?", [note, note, refund.number])
        return refund.model_copy(update={"note": note})


def _cap_to_paid(order: Order, refund: Refund, previous: Sequence[Refund]) -> Refund:
    """Never pay back more than was paid at the till: the part of a sale paid by gift voucher or
    store credit is not handed back by this refund's method."""
    paid = order.totals.total
    already = sum((r.amount for r in previous), ZERO)
    if already + refund.amount <= paid:
        return refund
    capped = max(paid - already, ZERO)
    # the tax paid back shrinks with the amount (the end-of-day report sums refunded tax)
    tax = round_money(refund.tax * capped / refund.amount, order.currency) if refund.amount \
        else ZERO
    return refund.model_copy(update={
        "amount": capped,
        "tax": min(tax, refund.tax),
        "note": f"Capped at the {format_money(paid, order.currency)} paid at the till: the "
                "rest was paid by gift voucher or store credit."})


def _is_local(backend: Backend) -> bool:
    return callable(getattr(backend, "refund", None))


def _insert(conn: sqlite3.Connection, refund: Refund) -> None:
    conn.execute(
        "INSERT INTO refunds (number, order_number, lane, created_at, cashier, reason, method, "
        "currency, amount, tax, full, note, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [refund.number, refund.order_number, refund.lane, refund.created_at.isoformat(),
         refund.cashier, refund.reason, refund.method, refund.currency, str(refund.amount),
         str(refund.tax), int(refund.full), refund.note, refund.model_dump_json()])
    conn.executemany(
        "INSERT INTO refund_lines (refund_number, line_key, product_id, sku, name, quantity, "
        "amount, tax) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(refund.number, rl.key, rl.product_id, rl.sku, rl.name, rl.quantity, str(rl.amount),
          str(rl.tax)) for rl in refund.lines])


def refund_status(ledger: Ledger, order: Order) -> tuple[str, str]:
    """What to tell a backend about a refunded order: (status, reason) for the outbox."""
    row = ledger.db.execute(
        "SELECT reason, full, number, amount FROM refunds WHERE order_number = ? "
        "ORDER BY created_at DESC, number DESC LIMIT 1", [order.number]).fetchone()
    if row is None:
        return ("canceled", order.last_error)
    reason, full, number, amount = row
    if full:
        return ("refunded", f"{number}: {reason}")
    return ("refunded", f"{number} ({amount}): {reason}")  # not queued for partial refunds


def refund_json(refund: Refund) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(refund.model_dump_json())
    return data
