"""Money: `Decimal` amounts, currencies, formatting, parsing and THE rounding policy.

Rounding policy (the only one in this code base — everything else calls `round_money`):

* Every amount is rounded **half-up to the currency's minor unit** (2 decimals for USD/EUR/GBP,
  0 for JPY ...).
* Rounding happens **per line**: a line's unit price × quantity, each line's tax and each line's
  share of a discount are rounded on their own.
* **Totals are the sum of already-rounded lines**, never re-derived from unrounded figures, so
  the screen, the receipt and the backend payload always add up to the same cents.

Floats never touch an amount: parsing goes from text to `Decimal`, and JSON numbers coming from
a backend are converted with `Decimal(str(value))` by `to_decimal`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pos.errors import InputError

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class Currency:
    """How a currency is written: code, symbol, minor unit and separators."""

    code: str
    symbol: str
    decimals: int = 2
    symbol_left: bool = True
    decimal_point: str = "."
    thousands_sep: str = ","

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.decimals)


CURRENCIES: dict[str, Currency] = {
    "USD": Currency("USD", "$"),
    "EUR": Currency("EUR", "€", symbol_left=False),
    "GBP": Currency("GBP", "£"),
    "CAD": Currency("CAD", "CA$"),
    "AUD": Currency("AUD", "A$"),
    "CHF": Currency("CHF", "CHF ", symbol_left=True),
    "JPY": Currency("JPY", "¥", decimals=0),
    "BTC": Currency("BTC", "₿", decimals=8),
}


def currency(code: str) -> Currency:
    """The currency for an ISO code; unknown codes get a plain `CODE ` prefix, 2 decimals."""
    code = code.upper()
    return CURRENCIES.get(code) or Currency(code, f"{code} ")


def round_money(amount: Decimal, cur: Currency | str = "USD") -> Decimal:
    """Round half-up to the currency's minor unit. The one rounding function."""
    c = currency(cur) if isinstance(cur, str) else cur
    return amount.quantize(c.quantum, rounding=ROUND_HALF_UP)


def to_decimal(value: object, what: str = "amount") -> Decimal:
    """A Decimal from a str/int/Decimal, or a float via its shortest repr (never its binary).

    Raises `InputError` for anything that is not a finite number.
    """
    if isinstance(value, bool):
        raise InputError("Not a number", f"{what}: {value!r} is not a number.")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | float):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InputError(
                "Not a number", f"{what}: {value!r} is not a number.", "Use digits like 12.50."
            ) from None
    else:
        raise InputError("Not a number", f"{what}: {value!r} is not a number.")
    if not result.is_finite():
        raise InputError("Not a number", f"{what}: {value!r} is not a finite number.")
    return result


def format_money(amount: Decimal, cur: Currency | str = "USD") -> str:
    """Format like the stores do: `$1,311.59`, `$-28.20` (sign after the symbol), `96.66€`."""
    c = currency(cur) if isinstance(cur, str) else cur
    value = round_money(amount, c)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.{c.decimals}f}"
    whole, _, frac = digits.partition(".")
    whole = whole.replace(",", c.thousands_sep)
    number = whole + (c.decimal_point + frac if c.decimals else "")
    if c.symbol_left:
        return f"{c.symbol}{sign}{number}"
    return f"{sign}{number}{c.symbol}"


_SYMBOLS = sorted({c.symbol.strip() for c in CURRENCIES.values()} | {"US$", "€", "£", "$"},
                  key=len, reverse=True)
_AMOUNT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


def parse_money(text: str, cur: Currency | str | None = None) -> Decimal:
    """Parse a formatted amount: "$1,311.59", "96.66€", "$-28.20", "-28.20 EUR", "1311.59".

    The sign may stand before or after the symbol. Thousands separators must be well placed.
    A currency with `,` as decimal point (e.g. "1.311,59 €") is parsed when `cur` says so.
    Raises `InputError` with the offending text otherwise.
    """
    if not isinstance(text, str):
        raise InputError("Not an amount", f"{text!r} is not an amount.")
    raw = text.strip().replace("\u00a0", " ")
    s = raw
    code_match = re.search(r"\b([A-Z]{3})\b", s)
    if code_match:
        s = s.replace(code_match.group(1), "")
    for sym in _SYMBOLS:
        if sym and sym in s:
            s = s.replace(sym, "")
            break
    s = s.strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    signs = [ch for ch in s if ch in "+-"]
    if len(signs) > 1 or (negative and signs):
        raise InputError("Not an amount", f"{raw!r} is not an amount.", "Type an amount like 12.50.")
    if s.startswith(("-", "+")):
        negative, s = negative or s[0] == "-", s[1:].strip()
    elif s.endswith("-"):
        negative, s = True, s[:-1].strip()
    c = currency(cur) if isinstance(cur, str) else cur
    if c is not None and c.decimal_point == ",":
        s = s.replace(".", "\x00").replace(",", ".").replace("\x00", ",")
    if not s or not _AMOUNT.match(s) or s in {".", ","}:
        raise InputError(
            "Not an amount", f"{raw!r} is not an amount.", "Type an amount like 12.50."
        )
    value = Decimal(s.replace(",", ""))
    return -value if negative else value


def cents(amount: Decimal, cur: Currency | str = "USD") -> int:
    """The amount in integer minor units (for APIs such as Voucherify): 200.00 → 20000."""
    c = currency(cur) if isinstance(cur, str) else cur
    return int(round_money(amount, c).scaleb(c.decimals))
