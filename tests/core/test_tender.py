"""The rules of taking a payment (pos/tender.py), without a cart or a store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pos.errors import InputError, RuleError
from pos.models import PaymentMethod
from pos.tender import offered_method, pending_link, settle, tender

CASH = PaymentMethod(code="cash", title="Cash", kind="cash")
CARD = PaymentMethod(code="card", title="Card", kind="card")
D = Decimal


def test_offered_method_names_the_ones_offered() -> None:
    assert offered_method([CASH, CARD], "card") is CARD
    with pytest.raises(RuleError, match="'bitcoin' is not available") as refused:
        offered_method([CASH, CARD], "bitcoin")
    assert refused.value.hint == "Available: cash, card."


def test_cash_gives_change_and_exact_cash_by_default() -> None:
    paid = tender(CASH, D("12.30"), tendered="20", amount=None, split_tender=False,
                  currency="USD")
    assert (paid.amount, paid.tendered, paid.change) == (D("12.30"), D("20.00"), D("7.70"))
    exact = tender(CASH, D("12.30"), tendered=None, amount=None, split_tender=False,
                   currency="USD")
    assert (exact.tendered, exact.change) == (D("12.30"), D("0"))


def test_less_cash_than_due_is_a_part_payment_only_where_the_store_splits() -> None:
    part = tender(CASH, D("12.30"), tendered="10", amount=None, split_tender=True,
                  currency="USD")
    assert (part.amount, part.change) == (D("10.00"), D("0"))
    with pytest.raises(InputError, match=r"\$10.00 is less than the \$12.30 due"):
        tender(CASH, D("12.30"), tendered="10", amount=None, split_tender=False, currency="USD")


def test_a_card_cannot_pay_more_than_is_left_nor_part_where_the_store_does_not_split() -> None:
    with pytest.raises(InputError, match="more than the"):
        tender(CARD, D("5"), tendered=None, amount="6", split_tender=True, currency="USD")
    with pytest.raises(RuleError, match="one payment per sale"):
        tender(CARD, D("5"), tendered=None, amount="2", split_tender=False, currency="USD")
    with pytest.raises(RuleError, match="Nothing is left to pay"):
        tender(CARD, D("0"), tendered=None, amount=None, split_tender=True, currency="USD")


def test_a_link_waits_as_a_pending_payment_then_is_settled() -> None:
    link = pending_link(CARD, D("9.99"), amount=None, currency="USD", reference="L1",
                        url="https://pay.example/L1")
    assert (link.status, link.amount) == ("pending", D("9.99"))
    with pytest.raises(RuleError, match="more than"):
        pending_link(CARD, D("9.99"), amount="10", currency="USD", reference="L2", url="")
    kept, settled = settle((link,), "L1", paid=True)
    assert settled is not None and settled.status == "paid" and kept == (settled,)
    dropped, settled = settle((link,), "L1", paid=False)
    assert dropped == () and settled is not None
    assert settle((link,), "other", paid=True) == ((link,), None)
