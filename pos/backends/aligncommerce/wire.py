"""What goes on the wire to Align Commerce: PHP-style form fields, invoice items, safe path ids."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pos.errors import InputError
from pos.models import Order
from pos.money import round_money


def _segment(value: str) -> str:
    text = str(value).strip()
    if not text or "/" in text or "?" in text or "#" in text:
        raise InputError(message=f"{value!r} is not a valid id.")
    return text


def _rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    return []


def _tax_included(order: Order) -> bool:
    # Totals.tax is tax added on top of prices; Totals.tax_included only informs.
    return order.totals.tax == 0


def _item(name: str, price: Decimal, quantity: int, cur: str) -> dict[str, str]:
    return {"product_name": name[:255], "product_price": str(round_money(price, cur)),
            "quantity": str(quantity), "product_shipping": "0"}


def _product_fields(name: str | None, price: Decimal | None, shipping: Decimal | None,
                    description: str | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    if name is not None:
        fields["product_name"] = name
    if description is not None:
        fields["product_description"] = description
    if price is not None:
        fields["product_price"] = str(price)
    if shipping is not None:
        fields["product_shipping"] = str(shipping)
    return fields


def _php_form(fields: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts/lists → PHP-style form keys (`products[0][product_name]`)."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            out.update(_php_form(value, name))
        elif isinstance(value, list | tuple):
            out.update(_php_form({str(i): v for i, v in enumerate(value)}, name))
        elif value is None:
            out[name] = ""
        else:
            out[name] = str(value)
    return out

