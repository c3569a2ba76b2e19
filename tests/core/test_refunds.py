"""Refunds: amounts per line (rounding policy), partial refunds adding up, stock back, the
order canceled by a full refund, the outbox told when the store has a refund API."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pos.backends.base import Backend, BackendInfo, Capability
from pos.errors import InputError, RuleError
from pos.models import Order, OrderStatus
from pos.refunds import RefundService, refund_amounts
from pos.session import PosSession
from pos.sync import SyncEngine
from tests.core.counter_helpers import sale_a, sale_b, sale_c, sale_d

D = Decimal


def stock(session: PosSession, product_id: str) -> int | None:
    product = session.catalog.get(product_id)
    assert product is not None
    return product.stock


def test_partial_refund_amounts_and_stock(session: PosSession) -> None:
    order = sale_a(session)
    assert order.totals.total == D("80.84") and order.change == D("19.16")
    assert stock(session, "3") == 97  # MUG: 100 − 3
    refund = session.refunds.refund(order.number, {"MUG": 1}, reason="chipped")
    # MUG line paid 28.50 + 2.35 tax = 30.85; one of three: 10.2833 → 10.28, tax 0.7833 → 0.78
    assert refund.number == f"{order.number}-R1"
    assert (refund.amount, refund.tax, refund.full) == (D("10.28"), D("0.78"), False)
    assert stock(session, "3") == 98
    assert session.ledger.orders.get(order.number).status == OrderStatus.PLACED
    # VAT-inclusive line: one scarf = 24.00 of which 4.00 VAT (20% inside 24.00)
    scarf = session.refunds.refund(order.number, {"SCARF-VAT": 1}, reason="wrong colour")
    assert (scarf.number, scarf.amount, scarf.tax) == (f"{order.number}-R2", D("24.00"), D("4.00"))
    assert stock(session, "7") == 29  # 30 − 2 + 1


def test_partial_refunds_add_up_to_the_line(session: PosSession) -> None:
    order = sale_c(session)
    assert order.totals.total == D("20.30") and order.totals.discount == D("2.10")
    first = session.refunds.refund(order.number, {"MUG": 1}, reason="r1")
    # MUG line paid 19.00 − 1.90 + 1.41 = 18.51; half: 9.255 → 9.26 (half up), tax 0.705 → 0.71
    assert (first.amount, first.tax) == (D("9.26"), D("0.71"))
    second = session.refunds.refund(order.number, {"MUG": 1}, reason="r2")
    # the last unit takes what is left: 18.51 − 9.26 = 9.25, tax 1.41 − 0.71 = 0.70
    assert (second.amount, second.tax) == (D("9.25"), D("0.70"))
    assert first.amount + second.amount == D("18.51")
    last = session.refunds.refund(order.number, None, reason="rest")
    # BANANA 1.99 − 0.20 coupon share = 1.79; everything refunded → the order is canceled
    assert (last.amount, last.full) == (D("1.79"), True)
    assert first.amount + second.amount + last.amount == order.totals.total
    assert session.ledger.orders.get(order.number).status == OrderStatus.CANCELED
    assert stock(session, "3") == 100 and stock(session, "10") == 200


def test_full_refund_cancels_and_sets_remote_status(session: PosSession) -> None:
    order = sale_b(session)
    refund = session.refunds.refund(order.number, reason="changed mind", method="card")
    assert (refund.amount, refund.full, refund.method) == (D("10.28"), True, "card")
    assert session.ledger.orders.get(order.number).status == OrderStatus.CANCELED
    status = session.backend.db.execute(  # type: ignore[attr-defined]
        "SELECT status FROM demo_orders WHERE number = ?", [order.number]).fetchone()[0]
    assert status == "refunded"
    events = [k for _, k, _ in session.ledger.orders.events(order.number)]
    assert "refunded" in events


@pytest.mark.parametrize(("lines", "error", "text"), [
    ({"MUG": 4}, RuleError, "cannot refund 4; 3 sold, 3 left"),
    ({"NOPE": 1}, InputError, "has no line 'NOPE'"),
    ({"MUG": 0}, InputError, "at least 1"),
])
def test_refusals(session: PosSession, lines: dict[str, int], error: type[Exception],
                  text: str) -> None:
    order = sale_a(session)
    with pytest.raises(error, match=text):
        session.refunds.refund(order.number, lines, reason="x")
    assert session.refunds.refunds_of(order.number) == []


def test_refusals_over_several_refunds_and_states(session: PosSession) -> None:
    order = sale_a(session)
    session.refunds.refund(order.number, {"MUG": 2}, reason="x")
    with pytest.raises(RuleError, match="cannot refund 2; 3 sold, 1 left"):
        session.refunds.refund(order.number, {"MUG": 2}, reason="x")
    with pytest.raises(InputError, match="Say why"):
        session.refunds.refund(order.number, {"MUG": 1}, reason="  ")
    with pytest.raises(InputError, match="not a refund method"):
        session.refunds.refund(order.number, {"MUG": 1}, reason="x", method="gold")
    session.refunds.refund(order.number, reason="all")
    with pytest.raises(RuleError, match="already canceled or fully refunded"):
        session.refunds.refund(order.number, reason="again")
    queued = order.model_copy(update={"number": "T1-000099", "status": OrderStatus.QUEUED})
    session.ledger.orders.record_sale(queued, [], None)
    with pytest.raises(RuleError, match="is queued, not placed"):
        session.refunds.refund("T1-000099", reason="x")


class RemoteStore(Backend):
    """A store with a refund API, reached through the outbox (kind `status`)."""

    name = "remote"
    capabilities: ClassVar[Capability] = Capability.ORDER_PLACEMENT | Capability.REFUNDS
    calls: ClassVar[list[tuple[str, str, str]]] = []

    def info(self) -> BackendInfo:
        return BackendInfo(name="remote")

    def update_order_status(self, order: Order, status: str, reason: str = "") -> None:
        self.calls.append((order.number, status, reason))


class NoRefunds(RemoteStore):
    capabilities: ClassVar[Capability] = Capability.ORDER_PLACEMENT


def _service(session: PosSession, backend: Backend, sinks: tuple[str, ...] = ()) -> RefundService:
    return RefundService(session.ledger, backend, lane="T1", cashier="ann", profile="shop",
                         sinks=sinks, tax_classes=session.catalog.tax_classes())


def test_remote_store_hears_through_the_outbox(session: PosSession) -> None:
    order = sale_a(session)
    backend = RemoteStore(RemoteStore.Settings(backend="remote"), session.backend.context)
    RemoteStore.calls.clear()
    refund = _service(session, backend, sinks=("voucherify",)).refund(
        order.number, {"MUG": 1}, reason="chipped")
    kinds = {(e.target, e.kind, e.state) for e in session.ledger.outbox.for_order(order.number)}
    # a partial refund: the status API knows whole-order states only, so nothing is queued
    assert not any(k in ("mirror", "status") for _, k, _ in kinds)
    assert "told when the whole order is refunded" in refund.note and refund.cashier == "ann"
    engine = SyncEngine(session.ledger, lambda name: backend)
    engine.flush()
    assert RemoteStore.calls == []
    full = _service(session, backend, sinks=("voucherify",)).refund(order.number, reason="all")
    kinds = {(e.target, e.kind, e.state) for e in session.ledger.outbox.for_order(order.number)}
    assert ("voucherify", "mirror", "queued") in kinds and ("shop", "status", "queued") in kinds
    engine.flush()
    assert RemoteStore.calls == [(order.number, "refunded", f"{full.number}: all")]
    assert full.note == ""


def test_store_without_refund_api_is_noted(session: PosSession) -> None:
    order = sale_a(session)
    backend = NoRefunds(NoRefunds.Settings(backend="remote"), session.backend.context)
    refund = _service(session, backend).refund(order.number, {"BANANA": 1}, reason="bruised")
    assert "no refund API" in refund.note and refund.amount == D("1.99")
    assert all(e.kind != "status" for e in session.ledger.outbox.for_order(order.number))
    assert session.refunds.get(refund.number).note == refund.note


def test_preview_writes_nothing(session: PosSession) -> None:
    order = sale_a(session)
    preview = session.refunds.preview(order.number, {"MUG": 2})
    # 30.85 × 2/3 = 20.5666 → 20.57, tax 2.35 × 2/3 = 1.5666 → 1.57
    assert (preview.amount, preview.tax, preview.number) == (D("20.57"), D("1.57"), "")
    assert session.refunds.refunds_of(order.number) == []
    assert stock(session, "3") == 97


def test_never_more_than_paid_at_the_till(session: PosSession) -> None:
    order = sale_d(session)
    assert order.totals.total == D("20.85")  # 28.50 + 2.35 − 10.00 gift voucher
    preview = session.refunds.preview(order.number)  # what the confirmation shows
    assert preview.amount == D("20.85") and "Capped at the $20.85" in preview.note
    refund = session.refunds.refund(order.number, reason="all")
    assert refund.amount == D("20.85") and "gift voucher" in refund.note  # not 30.85
    assert refund.lines[0].amount == D("30.85")  # the line's value, for the record
    # the tax paid back shrinks with the amount: 2.35 × 20.85 / 30.85 = 1.588 → 1.59
    assert preview.tax == refund.tax == D("1.59")


def test_a_capped_refund_pays_back_its_share_of_the_tax(session: PosSession) -> None:
    order = sale_d(session)  # 3 mugs, 30.85 with 2.35 tax; 20.85 paid at the till
    first = session.refunds.refund(order.number, {"MUG": 2}, reason="chipped")
    assert (first.amount, first.tax) == (D("20.57"), D("1.57"))
    last = session.refunds.preview(order.number)  # 10.28 (0.78 tax) left, 0.28 paid at the till
    assert last.amount == D("0.28") and last.tax == D("0.02")  # 0.78 × 0.28 / 10.28


@settings(max_examples=300, deadline=None)
@example(cents=3, tax_cents=3, parts=[1, 1, 1, 1, 1, 1])  # 0.005 → 0.01 six times: 0.06 > 0.03
@given(cents=st.integers(min_value=0, max_value=10_000_00),
       tax_cents=st.integers(min_value=0, max_value=2_000_00),
       parts=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=6))
def test_partial_refunds_always_add_up(cents: int, tax_cents: int, parts: list[int]) -> None:
    """However a line of `sum(parts)` units is refunded, the pieces add up to its value."""
    value, tax = D(cents) / 100, D(tax_cents) / 100
    sold = sum(parts)
    done_qty, done_amount, done_tax = 0, D("0"), D("0")
    for qty in parts:
        amount, part_tax = refund_amounts(value, tax, sold, done_qty, done_amount, done_tax,
                                          qty, "USD")
        assert amount == amount.quantize(D("0.01")) and amount >= 0 and part_tax >= 0
        done_qty, done_amount, done_tax = done_qty + qty, done_amount + amount, done_tax + part_tax
    assert (done_amount, done_tax) == (value, tax)


def test_checked_again_under_the_write_lock(session: PosSession) -> None:
    """Two tills refunding the same units: the second is refused when it writes."""
    order = sale_a(session)
    service = session.refunds
    chosen = service.resolve_lines(order, {"MUG": 3})  # till 1 looked: 3 mugs refundable
    session.refunds.refund(order.number, {"MUG": 2}, reason="till 2 was quicker")
    with pytest.raises(RuleError, match="refunded meanwhile"):
        service._record(order, chosen, "till 1", "cash", session.backend, "local")
    assert len(service.refunds_of(order.number)) == 1


def test_shipping_goes_back_with_the_last_refund(session: PosSession) -> None:
    from pos.models import Address

    checkout = session.new_checkout(persist=False)
    checkout.add("MUG", 2)
    checkout.set_shipping_address(Address(firstname="Jane", lastname="Doe", address_1="1 Main St",
                                          city="Fresno", country="US", zone="CA"))
    checkout.set_shipping_method("flat.flat")
    checkout.take_payment("cash")
    order = checkout.place()
    # MUG ×2 = 19.00 + tax 1.5675 → 1.57, flat shipping 5.00 (no tax class): 25.57
    assert order.totals.total == D("25.57")
    first = session.refunds.refund(order.number, {"MUG": 1}, reason="a")
    assert (first.amount, first.shipping) == (D("10.29"), D("0"))  # 20.57 / 2 = 10.285 → 10.29
    last = session.refunds.refund(order.number, {"MUG": 1}, reason="b")
    assert (last.amount, last.shipping, last.full) == (D("15.28"), D("5.00"), True)  # 10.28 + 5
    assert first.amount + last.amount == order.totals.total


def demo_row(session: PosSession, sql: str, key: str) -> tuple[object, ...]:
    row = session.backend.db.execute(sql, [key]).fetchone()  # type: ignore[attr-defined]
    assert row is not None
    return tuple(row)


def test_a_refund_gives_back_what_the_sale_took_from_the_demo_store(
        session: PosSession) -> None:
    """Ana (250 points, 10.00 store credit) buys 3 mugs (9 points earned each) and 2 scarves
    paying 100 points, coupon SAVE10, gift voucher GIFT10 and her credit: a partial refund takes back the
    points its units earned; the refund of the rest gives back the points spent, the coupon use,
    the voucher's balance and the credit (the money part is capped at what the till took)."""
    points = "SELECT reward_points, store_credit FROM demo_customers WHERE id = ?"
    uses = "SELECT uses FROM demo_coupons WHERE code = ?"
    balance = "SELECT balance FROM demo_vouchers WHERE code = ?"
    before_uses = int(str(demo_row(session, uses, "SAVE10")[0]))
    checkout = session.new_checkout(persist=False)
    checkout.set_customer(next(c for c in checkout.search_customers("Lima") if c.id == "3"))
    checkout.add("MUG", 3)
    checkout.add("SCARF-VAT", 2)
    checkout.apply_coupon("SAVE10")
    checkout.set_reward(100)
    checkout.add_voucher("GIFT10")
    checkout.use_store_credit()
    checkout.take_payment("cash")
    order = checkout.place()
    assert order.reward == 100 and order.totals.store_credit == D("10.00")
    assert order.totals.total > 0
    sold = demo_row(session, points, "3")
    assert sold[0] == 250 - 100 + 27  # spent 100, earned 3 × 9
    assert D(str(sold[1])) == D("10.00") - order.totals.store_credit
    assert demo_row(session, uses, "SAVE10")[0] == before_uses + 1
    assert D(str(demo_row(session, balance, "GIFT10")[0])) < D("10.00")

    first = session.refunds.refund(order.number, {"MUG": 1}, reason="chipped")
    assert not first.full and "9 points earned taken back" in first.note
    assert demo_row(session, points, "3")[0] == 250 - 100 + 18
    assert demo_row(session, uses, "SAVE10")[0] == before_uses + 1  # not yet: partial

    rest = session.refunds.refund(order.number, None, reason="all of it")
    assert rest.full
    for text in ("100 reward points back", "18 points earned taken back",
                 "coupon SAVE10 use returned", "back on gift voucher GIFT10",
                 "$10.00 store credit back"):
        assert text in rest.note
    assert demo_row(session, points, "3") == (250, "10.00")
    assert demo_row(session, uses, "SAVE10")[0] == before_uses
    assert D(str(demo_row(session, balance, "GIFT10")[0])) == D("10.00")
    assert session.refunds.get(rest.number).note == rest.note  # kept with the refund
    # booked once: telling the demo store again changes nothing
    assert session.backend.refund(order, rest) == ""  # type: ignore[attr-defined]
    assert demo_row(session, points, "3") == (250, "10.00")


def test_points_earned_and_already_spent_never_go_below_zero(session: PosSession) -> None:
    checkout = session.new_checkout(persist=False)
    checkout.set_customer(next(c for c in checkout.search_customers("Lima") if c.id == "3"))
    checkout.add("HEADPHONES", 1)  # earns 60
    checkout.take_payment("cash")
    order = checkout.place()
    session.backend.db.execute(  # type: ignore[attr-defined]
        "UPDATE demo_customers SET reward_points = 10 WHERE id = '3'")  # spent elsewhere
    refund = session.refunds.refund(order.number, None, reason="returned")
    assert "60 points earned taken back" in refund.note
    assert demo_row(session, "SELECT reward_points FROM demo_customers WHERE id = ?", "3") == (0,)
