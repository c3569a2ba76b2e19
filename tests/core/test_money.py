from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.errors import InputError
from pos.money import cents, currency, format_money, parse_money, round_money, to_decimal


@pytest.mark.parametrize(("text", "expected"), [
    ("$1,311.59", "1311.59"), ("96.66€", "96.66"), ("$-28.20", "-28.20"), ("-$28.20", "-28.20"),
    ("£75.46", "75.46"), ("1311.59", "1311.59"), ("  $0.00 ", "0.00"), ("$123,323.20", "123323.20"),
    ("12", "12"), ("-28.20 EUR", "-28.20"), ("(5.00)", "-5.00"), (".5", "0.5"),
])
def test_parse_formatted_amounts(text: str, expected: str) -> None:
    assert parse_money(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "abc", "$", "1,31.00", "1.2.3", "--5", "12,34", "$1e3",
                                  "NaN", "1 2"])
def test_malformed_amounts_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_money(text)
    assert repr(text.strip()) in err.value.message or text == ""


def test_comma_decimal_currency() -> None:
    from pos.money import Currency

    eur_de = Currency("EUR", "€", symbol_left=False, decimal_point=",", thousands_sep=".")
    assert parse_money("1.311,59 €", eur_de) == Decimal("1311.59")
    assert format_money(Decimal("1311.59"), eur_de) == "1.311,59€"


@pytest.mark.parametrize(("amount", "code", "text"), [
    ("1311.59", "USD", "$1,311.59"), ("-28.2", "USD", "$-28.20"), ("96.66", "EUR", "96.66€"),
    ("75.455", "GBP", "£75.46"), ("1000", "JPY", "¥1,000"), ("0.125", "USD", "$0.13"),
])
def test_format(amount: str, code: str, text: str) -> None:
    assert format_money(Decimal(amount), code) == text


def test_rounding_is_half_up_to_the_minor_unit() -> None:
    assert round_money(Decimal("0.125")) == Decimal("0.13")
    assert round_money(Decimal("0.124999")) == Decimal("0.12")
    assert round_money(Decimal("-0.125")) == Decimal("-0.13")  # half away from zero
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert cents(Decimal("200.00")) == 20000
    assert cents(Decimal("0.005")) == 1


def test_floats_go_through_their_shortest_repr() -> None:
    assert to_decimal(149.99) == Decimal("149.99")
    assert to_decimal(0.1) + to_decimal(0.2) == Decimal("0.3")
    with pytest.raises(InputError):
        to_decimal(float("nan"))
    with pytest.raises(InputError):
        to_decimal(True)


amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2,
                      allow_nan=False, allow_infinity=False)


@given(amounts, st.sampled_from(["USD", "EUR", "GBP"]))
def test_format_then_parse_round_trips(amount: Decimal, code: str) -> None:
    assert parse_money(format_money(amount, code)) == amount


@given(st.text(max_size=20))
def test_parse_never_crashes_on_garbage(text: str) -> None:
    try:
        value = parse_money(text)
    except InputError:
        return
    assert value.is_finite()


@given(st.lists(amounts, min_size=1, max_size=30))
def test_sum_of_rounded_lines_is_stable(values: list[Decimal]) -> None:
    rounded = [round_money(v) for v in values]
    assert round_money(sum(rounded, Decimal(0))) == sum(rounded, Decimal(0))
    assert currency("usd").code == "USD"
