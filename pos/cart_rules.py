"""The rules of a cart line, without the cart: what a scan means, a valid quantity, the options
chosen for a product and whether the stock allows it. Pure functions (no store, no backend)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pos.errors import InputError, RuleError
from pos.models import CartLine, Product, SelectedOption

QUANTITY_PREFIX = re.compile(r"^\s*(\d{1,5})\s*[*xX]\s*(\S.*)$")
MAX_QUANTITY = 99_999


def parse_scan(text: str) -> tuple[int, str]:
    """`3*CODE` / `3xCODE` → (3, "CODE"); plain text → (1, text)."""
    match = QUANTITY_PREFIX.match(text)
    if match:
        return int(match.group(1)), match.group(2).strip()
    return 1, text.strip()


def parse_quantity(value: object) -> int:
    if isinstance(value, bool):
        raise InputError(message=f"Quantity {value!r} is not a whole number.")
    try:
        qty = int(str(value).strip())
    except ValueError:
        raise InputError(message=f"Quantity {value!r} is not a whole number.",
                         hint="Type a number like 2.") from None
    if not 0 <= qty <= MAX_QUANTITY:
        raise InputError(message=f"Quantity {qty} is out of range (0 to {MAX_QUANTITY}).")
    return qty


def select_options(product: Product, chosen: Mapping[str, str]) -> tuple[SelectedOption, ...]:
    """The options a cashier chose for `product`, checked: known, in stock, required ones set."""
    selected: list[SelectedOption] = []
    missing: list[str] = []
    for option in product.options:
        raw = str(chosen.get(option.id, "")).strip()
        if not raw:
            if option.required:
                missing.append(option.name)
            continue
        if option.type in ("select", "radio", "checkbox"):
            value = option.value(raw) or next(
                (v for v in option.values if v.name.lower() == raw.lower()), None)
            if value is None:
                choices = ", ".join(f"{v.id} ({v.name})" for v in option.values)
                raise InputError(message=f"{product.name}: {raw!r} is not a {option.name}.",
                                 hint=f"Choose one of: {choices}.")
            if value.stock is not None and value.stock <= 0:
                raise RuleError(message=f"{product.name} ({option.name}: {value.name}) is out "
                                        "of stock.", field="stock")
            selected.append(SelectedOption(option_id=option.id, name=option.name,
                                           value_id=value.id, value=value.name,
                                           price=value.price))
        else:
            selected.append(SelectedOption(option_id=option.id, name=option.name, value=raw))
    unknown = set(chosen) - {o.id for o in product.options}
    if unknown:
        raise InputError(message=f"{product.name} has no option {', '.join(sorted(unknown))}.")
    if missing:
        raise RuleError(message=f"{product.name}: choose {', '.join(missing)}.",
                        hint="This product has required options.", field="option")
    return tuple(selected)

def check_stock(product: Product, lines: tuple[CartLine, ...]) -> None:
    """Refuse `lines` when they want more of `product` than the store has."""
    if product.stock is None:
        return
    wanted = sum(ln.quantity for ln in lines if ln.product_id == product.id)
    if product.stock <= 0:
        raise RuleError(message=f"{product.name} is out of stock.", field="stock")
    if wanted > product.stock:
        raise RuleError(message=f"{product.name}: only {product.stock} in stock "
                                f"({wanted} wanted).", field="stock")

