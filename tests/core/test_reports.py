"""X/Z reports against a hand-computed day with refunds, a coupon and tax-inclusive prices."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from pos.errors import RuleError
from pos.session import PosSession
from tests.core.counter_helpers import sale_a, sale_b, sale_c

D = Decimal


def the_day(session: PosSession) -> None:
    """Float 50; sales A (cash 80.84), B (bank 10.28), C (cash 20.30); refunds: one MUG of A in
    cash (10.28, tax 0.78) and all of C in cash (20.30, tax 1.41); cash in 20, out 5."""
    session.cash.open("50")
    a = sale_a(session)
    sale_b(session)
    c = sale_c(session)
    session.refunds.refund(a.number, {"MUG": 1}, reason="chipped")
    session.refunds.refund(c.number, reason="changed mind")
    session.cash.cash_in("20", "change from the bank")
    session.cash.cash_out("5", "window cleaner")


def test_x_report_arithmetic(session: PosSession) -> None:
    the_day(session)
    session.cash.count("135.00")
    r = session.reports.x_report()
    assert r.count == 3  # C is refunded in full but was a sale; its refund is under refunds
    assert r.gross == D("111.42")  # 80.84 + 10.28 + 20.30
    assert r.refunds == D("30.58")  # 10.28 + 20.30
    assert r.net == D("80.84")  # 111.42 − 30.58
    assert r.by_payment == {"bank_transfer": D("10.28"), "cash": D("101.14")}  # 80.84 + 20.30
    assert r.tax == D("12.54")  # A 2.35 + 8.00 VAT inside, B 0.78, C 1.41
    assert r.tax_by_rate == {"Sales Tax (8.25%)": D("4.54"), "VAT (20%) incl.": D("8.00")}
    assert r.refund_tax == D("2.19") and r.net_tax == D("10.35")  # 0.78 + 1.41
    assert r.discounts == D("2.10")
    assert r.refund_count == 2 and r.refunds_by_method == {"cash": D("30.58")}
    assert (r.first_number, r.last_number) == ("T1-000001", "T1-000003")
    assert (r.pending, r.failed) == (0, 0)
    cash = r.cash
    # expected = 50 + 101.14 − 30.58 + 20 − 5 = 135.56; counted 135.00 → 0.56 missing
    assert cash.expected == D("135.56") and cash.counted == D("135.00")
    assert cash.difference == D("-0.56")
    data = r.to_dict()
    for key in ("gross", "refunds", "net", "tax", "discounts", "count"):
        assert isinstance(data[key], str)
    assert data["net"] == "80.84" and data["by_payment"]["cash"] == "101.14"
    assert data["cash"]["difference"] == "-0.56"


def test_x_any_number_of_times_z_once(session: PosSession) -> None:
    the_day(session)
    assert session.reports.x_report().gross == session.reports.x_report().gross
    z = session.reports.z_report()
    assert z.kind == "z" and z.net == D("80.84")
    with pytest.raises(RuleError, match="already run"):
        session.reports.z_report()
    assert session.reports.stored_z()["net"] == "80.84"
    with pytest.raises(RuleError, match="closed"):
        session.cash.cash_in("1", "late")
    assert session.reports.x_report().gross == D("111.42")  # X still works after Z


def test_other_day_and_pending_counts(session: PosSession) -> None:
    sale_b(session)
    yesterday = date.today() - timedelta(days=1)
    empty = session.reports.x_report(yesterday)
    assert (empty.count, empty.gross, empty.first_number) == (0, D("0"), None)
    session.reports.z_report(yesterday)  # a different day: its own Z
    order = sale_b(session)
    from pos.models import OrderStatus

    session.ledger.orders.update(order.model_copy(update={"status": OrderStatus.QUEUED}))
    r = session.reports.x_report()
    assert r.pending == 1 and r.count == 2 and r.gross == D("20.56")  # 10.28 × 2
