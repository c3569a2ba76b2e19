"""Cashiers: PIN stored only as a salted hash; wrong PINs; lockout; the cashier on every record."""

from __future__ import annotations

import pytest

from pos.cashiers import Cashiers, PinError, hash_pin
from pos.errors import InputError, NotFoundError, RuleError
from pos.session import PosSession
from tests.core.counter_helpers import sale_b


def test_add_list_open(session: PosSession) -> None:
    cashiers = session.cashiers
    cashiers.add("Ann", "1234")
    cashiers.add("Bob Ross", "987654")
    assert [c.name for c in cashiers.list()] == ["Ann", "Bob Ross"]
    assert cashiers.open_till("ann", "1234").name == "Ann"
    rows = session.ledger.db.execute("SELECT * FROM cashiers").fetchall()
    assert all("1234" not in row and "987654" not in row for row in rows)  # never the PIN
    salt, stored = session.ledger.db.execute(
        "SELECT salt, pin_hash FROM cashiers WHERE name = 'Ann'").fetchone()
    assert stored == hash_pin("1234", bytes.fromhex(salt)) and len(stored) == 64
    assert len({row[1] for row in rows}) == 2  # a salt of its own for each


@pytest.mark.parametrize(("name", "pin", "error"), [
    ("", "1234", InputError), ("Ann", "12", InputError), ("Ann", "12ab", InputError),
])
def test_bad_input(session: PosSession, name: str, pin: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        session.cashiers.add(name, pin)


def test_duplicate_and_unknown(session: PosSession) -> None:
    session.cashiers.add("Ann", "1234")
    with pytest.raises(RuleError, match="already a cashier"):
        session.cashiers.add("ANN", "5555")
    with pytest.raises(NotFoundError):
        session.cashiers.open_till("Zed", "1234")


def test_lockout_after_repeated_failures(session: PosSession) -> None:
    cashiers = Cashiers(session.ledger, max_failures=3, lockout_seconds=60)
    cashiers.add("Ann", "1234")
    now = 1_000_000.0
    with pytest.raises(PinError, match="2 tries left"):
        cashiers.open_till("Ann", "0000", now=now)
    with pytest.raises(PinError, match="1 try left"):
        cashiers.open_till("Ann", "0000", now=now)
    with pytest.raises(PinError, match="locked out for 60 s"):
        cashiers.open_till("Ann", "0000", now=now)
    with pytest.raises(PinError, match="locked out"):  # even the right PIN, while locked
        cashiers.open_till("Ann", "1234", now=now + 30)
    assert cashiers.open_till("Ann", "1234", now=now + 61).name == "Ann"
    with pytest.raises(PinError, match="2 tries left"):  # the count started again
        cashiers.open_till("Ann", "0000", now=now + 62)


def test_cashier_on_orders_refunds_reports(session: PosSession) -> None:
    session.cashiers.add("Ann", "1234")
    session.open_till("Ann", "1234")
    checkout = session.checkout
    checkout.add("MUG")
    checkout.take_payment("cash")
    order = checkout.place()
    assert order.cashier == "Ann"
    assert sale_b(session).cashier == "Ann"
    refund = session.refunds.refund(order.number, reason="x")
    assert refund.cashier == "Ann"
    report = session.reports.x_report()
    assert report.cashier == "Ann" and report.cashiers == ["Ann"]


def test_open_till_after_the_checkout_exists(session: PosSession) -> None:
    """The counter builds its checkout before the login: the cashier must still reach orders."""
    session.cashiers.add("Ann", "1234")
    checkout = session.checkout
    assert checkout.cashier == ""
    session.open_till("Ann", "1234")
    checkout.add("MUG")
    checkout.take_payment("cash")
    assert checkout.place().cashier == "Ann"
    assert session.cashier == "Ann"
