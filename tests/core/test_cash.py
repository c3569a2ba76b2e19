"""The cash drawer: float once a day, in/out with a reason, expected vs counted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pos.errors import InputError, RuleError
from pos.session import PosSession
from tests.core.counter_helpers import sale_a, sale_b

D = Decimal


def test_expected_cash(session: PosSession) -> None:
    drawer = session.cash
    drawer.open("100")
    sale_a(session)  # cash 100 tendered, 19.16 change: 80.84 stays in the drawer
    sale_b(session)  # bank transfer: no cash
    session.refunds.refund("T1-000001", {"BANANA": 1}, reason="bruised")  # 1.99 cash back
    drawer.cash_out("30", "bank deposit")
    drawer.cash_in("10.50", "coins")
    summary = drawer.count("159.35")
    # 100 + 80.84 − 1.99 − 30 + 10.50 = 159.35
    assert summary.expected == D("159.35") and summary.difference == D("0.00")
    assert (summary.cash_sales, summary.cash_refunds) == (D("80.84"), D("1.99"))
    assert [m.kind for m in drawer.movements()] == ["float", "out", "in", "count"]
    assert drawer.count("160").difference == D("0.65")  # the last count wins


def test_refusals(session: PosSession) -> None:
    drawer = session.cash
    drawer.open("50")
    with pytest.raises(RuleError, match="already open"):
        drawer.open("50")
    with pytest.raises(InputError, match="Say why"):
        drawer.cash_in("5", " ")
    with pytest.raises(InputError, match="more than zero"):
        drawer.cash_out("0", "x")
    with pytest.raises(InputError, match="negative"):
        drawer.count("-1")
    with pytest.raises(InputError, match="not an amount"):
        drawer.cash_in("ten", "x")


def test_cashier_recorded(session: PosSession) -> None:
    session.cashiers.add("Bea", "4321")
    session.open_till("bea", "4321")
    move = session.cash.open("20")
    assert move.cashier == "Bea"
