"""pos.model_base: values as dataclasses that pydantic validates and serializes.

The JSON below was written by the pydantic models these values replaced (commit 334607b): a
till's saved carts, orders and refunds read back the same and are written byte for byte the
same.
"""

from __future__ import annotations

import dataclasses
import json
import random
from decimal import Decimal
from typing import Any

import pytest

from pos.backends.local import LocalSettings
from pos.backends.opencart import OpenCartSettings
from pos.config import PrinterSettings, Settings, ShopSettings
from pos.model_base import InvalidData, _build_plain, check_types, validate, validate_plain
from pos.models import Cart, Order, OrderStatus, Product, ProductOption, TaxClass
from pos.refunds import Refund

# written by the pydantic models of commit 334607b (every field set, non-ASCII, options)
CART = '{"id":"c0ffee","created_at":"2026-12-05T18:00:01.123456Z","currency":"EUR","number":"L1-000007","lines":[{"key":"k1","product_id":"42","sku":"MUG","barcode":"4006381333931","name":"Mug “Ø”","quantity":3,"unit_price":"9.50","options":[{"option_id":"o1","name":"Colour","value_id":"v1","value":"Red","price":"0.50"}],"tax_class":"9","shipping":true,"points":100,"reward":5,"price_override_reason":"damaged"}],"sold_vouchers":[{"key":"v","from_name":"A","from_email":"a@x","to_name":"B","to_email":"b@x","message":"hi","amount":"25.00","code":"GIFT"}],"customer":{"id":"7","firstname":"Ann","lastname":"Lee","email":"ann@x","telephone":"555","reward_points":120,"store_credit":"3.10"},"coupon":"SAVE10","vouchers":["GIFT1"],"reward":50,"use_store_credit":true,"pickup":false,"shipping_address":{"firstname":"Ann","lastname":"Lee","company":"ACME","address_1":"1 Main St","address_2":"Apt 2","city":"Springfield","postcode":"12345","country":"US","zone":"IL"},"shipping_method":{"code":"flat.flat","title":"Flat","cost":"5.00","tax_class":"9"},"payment_address":{"firstname":"Ann","lastname":"Lee","company":"ACME","address_1":"1 Main St","address_2":"Apt 2","city":"Springfield","postcode":"12345","country":"US","zone":"IL"},"payment_method":{"code":"cash","title":"Cash","kind":"cash"},"payments":[{"method":"cash","title":"Cash","kind":"cash","amount":"10.00","tendered":"20.00","change":"10.00","reference":"r","url":"","status":"paid"}],"comment":"note","label":"parked","reopened":true}'  # noqa: E501
ORDER = '{"number":"L1-000007","lane":"L1","cashier":"ann","profile":"shop","backend":"opencart","created_at":"2026-12-05T18:00:01.123456Z","status":"placed","currency":"EUR","customer":{"id":"7","firstname":"Ann","lastname":"Lee","email":"ann@x","telephone":"555","reward_points":120,"store_credit":"3.10"},"lines":[{"key":"k1","product_id":"42","sku":"MUG","barcode":"4006381333931","name":"Mug “Ø”","quantity":3,"unit_price":"9.50","options":[{"option_id":"o1","name":"Colour","value_id":"v1","value":"Red","price":"0.50"}],"tax_class":"9","shipping":true,"points":100,"reward":5,"price_override_reason":"damaged"}],"priced":[{"key":"k1","unit_price":"9.50","total":"28.50","discount":"2.85","tax":"1.20"}],"sold_vouchers":[{"key":"v","from_name":"A","from_email":"a@x","to_name":"B","to_email":"b@x","message":"hi","amount":"25.00","code":"GIFT"}],"coupon":"SAVE10","vouchers":["GIFT1"],"reward":50,"use_store_credit":true,"pickup":false,"shipping_address":{"firstname":"Ann","lastname":"Lee","company":"ACME","address_1":"1 Main St","address_2":"Apt 2","city":"Springfield","postcode":"12345","country":"US","zone":"IL"},"shipping_method":{"code":"flat.flat","title":"Flat","cost":"5.00","tax_class":"9"},"payment_address":{"firstname":"Ann","lastname":"Lee","company":"ACME","address_1":"1 Main St","address_2":"Apt 2","city":"Springfield","postcode":"12345","country":"US","zone":"IL"},"payment_method":{"code":"cash","title":"Cash","kind":"cash"},"payments":[{"method":"cash","title":"Cash","kind":"cash","amount":"10.00","tendered":"20.00","change":"10.00","reference":"r","url":"","status":"paid"}],"totals":{"currency":"EUR","subtotal":"28.50","discount":"2.85","shipping":"5.00","tax":"1.20","tax_included":"0","vouchers":"1","store_credit":"3.10","total":"27.75","lines":[{"code":"total","title":"Total","amount":"27.75"}]},"comment":"note","remote_id":"123","last_error":""}'  # noqa: E501
REFUND = '{"number":"L1-000007-R1","order_number":"L1-000007","lane":"L1","created_at":"2026-12-05T18:00:01.123456Z","cashier":"ann","reason":"broken","method":"cash","currency":"EUR","lines":[{"key":"k1","product_id":"42","sku":"MUG","name":"Mug","quantity":1,"amount":"9.90","tax":"0.40"}],"shipping":"0","amount":"9.90","tax":"0.40","full":false,"note":"n"}'  # noqa: E501
TAX_CLASS = '{"id":"9","name":"VAT","rates":[{"name":"VAT 20%","kind":"percent","value":"20.0000"}],"included":true}'  # noqa: E501
OPTION = '{"id":"o1","name":"Colour","type":"radio","required":true,"values":[{"id":"v1","name":"Red","price":"0.50","stock":3}]}'  # noqa: E501


@pytest.mark.parametrize(("cls", "text"), [(Cart, CART), (Order, ORDER), (Refund, REFUND),
                                           (TaxClass, TAX_CLASS), (ProductOption, OPTION)])
def test_what_the_pydantic_models_wrote_reads_and_writes_the_same(cls: Any, text: str) -> None:
    value = cls.model_validate_json(text)
    assert type(value) is cls
    assert value.model_dump_json() == text
    assert cls.model_validate(json.loads(text)) == value
    assert value.model_dump(mode="json") == json.loads(text)


def test_a_read_value_has_the_domains_types() -> None:
    order = Order.model_validate_json(ORDER)
    check_types(order)  # tuples, Decimals, the enum, nested values
    assert order.status is OrderStatus.PLACED and isinstance(order.lines, tuple)
    assert order.lines[0].unit_price == Decimal("9.50") and order.created_at.tzinfo is not None


def test_values_are_frozen_and_copied_with_changes() -> None:
    order = Order.model_validate_json(ORDER)
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.comment = "x"  # type: ignore[misc]
    placed = order.model_copy(update={"status": OrderStatus.FAILED, "last_error": "no"})
    assert (placed.status, placed.last_error, order.status) == (OrderStatus.FAILED, "no",
                                                                 OrderStatus.PLACED)
    assert placed.lines is order.lines and order.model_copy() == order
    with pytest.raises(TypeError, match="no field colour"):
        order.model_copy(update={"colour": "red"})
    with pytest.raises(TypeError, match=r"Order\.reward: a str"):  # the suite's type check
        order.model_copy(update={"reward": "50"})
    assert hash(placed) != hash(order)
    assert order.model_dump(include={"number", "lane"}) == {"number": "L1-000007",
                                                            "lane": "L1"}
    assert "customer" not in order.model_dump(exclude={"customer"})


def test_bad_data_raises_invalid_data_with_where_and_why() -> None:
    with pytest.raises(InvalidData) as info:
        Cart.model_validate_json(CART.replace('"quantity":3', '"quantity":"three"'))
    assert info.value.loc == ("lines", 0, "quantity") and "integer" in info.value.msg
    assert str(info.value).startswith("lines.0.quantity: ")
    with pytest.raises(InvalidData, match="Unexpected keyword"):
        TaxClass.model_validate({"id": "1", "name": "x", "colour": "red"})
    with pytest.raises(InvalidData):
        Cart.model_validate_json("<html>502 Bad Gateway</html>")
    assert isinstance(InvalidData([]), ValueError)


def test_a_secret_is_never_in_the_error() -> None:
    with pytest.raises(InvalidData) as info:
        validate(OpenCartSettings, {"backend": "opencart", "base_url": "https://s",
                                    "key": "hunter2-secret", "store_id": "not-a-number"})
    assert "hunter2" not in str(info.value) and info.value.loc == ("store_id",)
    settings = validate(OpenCartSettings, {"backend": "opencart", "base_url": "https://s",
                                           "key": "hunter2-secret"})
    assert "hunter2" not in repr(settings) and settings.key.get_secret_value() == "hunter2-secret"


def test_the_type_check_names_the_field_and_never_the_value() -> None:
    with pytest.raises(TypeError, match=r"Product\.price: a str is not a") as info:
        Product(id="1", name="Mug", price="9.99")  # type: ignore[arg-type]
    assert "9.99" not in str(info.value)
    with pytest.raises(TypeError, match="options"):
        Product(id="1", name="Mug", price=Decimal(1), options=[])  # type: ignore[arg-type]


# --- plain tables: built without pydantic, the same value as pydantic's -----------------------


def _random_table(rng: random.Random) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if rng.random() < 0.7:
        table["lane"] = rng.choice(["L1", "B2", "counter_3", "X" * 24])
    for key in ("cashier", "default_profile"):
        if rng.random() < 0.5:
            table[key] = rng.choice(["", "ann", "shop", "Zoë"])
    if rng.random() < 0.5:
        table["profiles"] = {f"p{i}": {"backend": rng.choice(["local", "opencart"]),
                                       "key": "k", "timeout": rng.choice([4, 4.5])}
                             for i in range(rng.randrange(3))}
    if rng.random() < 0.5:
        table["sinks"] = [f"p{i}" for i in range(rng.randrange(3))]
    if rng.random() < 0.5:
        table["keys"] = {"pay": rng.choice(["f12", "ctrl+g"])}
    if rng.random() < 0.5:
        table["shop"] = {k: rng.choice(["", "Corner Shop", "Ünïcode"])
                         for k in rng.sample(["name", "address", "tax_id", "footer"], 2)}
    if rng.random() < 0.5:
        table["printer"] = {"kind": rng.choice(["file", "network"]),
                            "port": rng.choice([9100, 1]), "width": rng.choice([32, 42])}
    return table


def _odd(rng: random.Random, table: dict[str, Any]) -> dict[str, Any]:
    """`table` with one value pydantic must convert or refuse."""
    odd: dict[str, Any] = json.loads(json.dumps(table))
    choice = rng.randrange(6)
    if choice == 0:
        odd.setdefault("printer", {})["port"] = "9100"  # converted by pydantic
    elif choice == 1:
        odd["colour"] = "red"  # unknown key
    elif choice == 2:
        odd["sinks"] = ("a", "b")  # a tuple where a list goes: converted
    elif choice == 3:
        odd["keys"] = {"pay": 12}  # refused
    elif choice == 4:
        odd.setdefault("printer", {})["width"] = 42.0  # a float for an int: converted
    else:
        odd["shop"] = ShopSettings(name="given")  # a value of the class itself
    return odd


def test_a_plain_table_is_built_as_pydantic_builds_it() -> None:
    rng = random.Random(20261205)
    built = 0
    for _ in range(1500):
        table = _random_table(rng)
        for candidate in (table, _odd(rng, table)):
            fast = _build_plain(Settings, candidate)
            try:
                slow: Settings | None = validate(Settings, candidate)
            except InvalidData:
                slow = None
            if fast is not None:
                built += 1
                assert fast == slow, candidate
            assert validate_plain(Settings, candidate) == slow if slow else True
    assert built > 1000  # most random tables are plain


def test_what_is_not_plain_goes_to_pydantic() -> None:
    assert _build_plain(PrinterSettings, {"port": "9100"}) is None
    assert validate_plain(PrinterSettings, {"port": "9100"}).port == 9100
    assert _build_plain(Settings, {"lane": "L1", "bogus": 1}) is None
    with pytest.raises(InvalidData, match="Unexpected keyword"):
        validate_plain(Settings, {"lane": "L1", "bogus": 1})
    assert _build_plain(LocalSettings, {"currency": "EUR"}) is None  # `backend` is required
    with pytest.raises(InvalidData) as info:
        validate_plain(LocalSettings, {"currency": "EUR"})
    assert info.value.loc == ("backend",)
    assert _build_plain(LocalSettings, {"backend": "local"}) == LocalSettings(backend="local")
    # a constrained or pydantic-typed field always goes to pydantic
    assert _build_plain(OpenCartSettings, {"backend": "opencart", "base_url": "https://s",
                                           "key": "k"}) is None


def test_invalid_data_keeps_no_refused_input() -> None:
    with pytest.raises(InvalidData) as info:
        validate(OpenCartSettings, {"backend": "opencart", "base_url": "https://s",
                                    "key": ["hunter2-secret"]})
    assert info.value.loc == ("key",)
    assert "hunter2" not in repr(info.value.errors) and "hunter2" not in str(info.value)
