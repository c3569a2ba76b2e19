"""Stripe line items from a priced sale: exact JSON numbers that add up to the sale total."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pos.backends.pycommerce import dumps_money, money_in, stripe_items
from pos.models import Cart, CartLine, Order, ShippingMethod, TaxClass, TaxRate
from pos.money import ZERO
from pos.pricing import CouponRule, PricingContext, price_cart

TAX = TaxClass(id="std", name="Sales tax", rates=(TaxRate(name="Tax 8.25%",
                                                          value=Decimal("8.25")),))
VAT = TaxClass(id="vat", name="VAT", rates=(TaxRate(name="VAT 20%", value=Decimal(20)),),
               included=True)


def priced_order(lines: list[tuple[float, int, str]], coupon: Decimal | None = None,
                 shipping: Decimal | None = None, credit: Decimal = ZERO) -> Order:
    cart_lines = tuple(
        CartLine(key=f"k{i}", product_id=f"p{i}", name=f"Product {i}", quantity=qty,
                 unit_price=money_in(price), tax_class=tax)
        for i, (price, qty, tax) in enumerate(lines))
    method = ShippingMethod(code="flat", title="Flat", cost=shipping, tax_class="std") \
        if shipping is not None else None
    cart = Cart(id="c", created_at=datetime.now(UTC), lines=cart_lines,
                pickup=method is None, shipping_method=method,
                use_store_credit=bool(credit))
    ctx = PricingContext(
        tax_classes={"std": TAX, "vat": VAT},
        coupon=CouponRule(code="C", name="C", value=coupon) if coupon else None,
        store_credit=credit)
    quote = price_cart(cart, ctx)
    return Order(number="T1-000007", lane="T1", created_at=cart.created_at, lines=cart_lines,
                 priced=quote.lines, totals=quote.totals, pickup=cart.pickup,
                 shipping_method=method)


def wire_total(order: Order) -> Decimal:
    """What Stripe would charge: the JSON as sent, parsed back without floats."""
    body = json.loads(dumps_money({"items": stripe_items(order), "order_id": "x"}),
                      parse_float=Decimal)
    return sum((Decimal(i["price"]) * i["quantity"] for i in body["items"]), ZERO)


def test_no_float_drift_point_one_plus_point_two() -> None:
    order = priced_order([(0.1, 1, ""), (0.2, 1, "")])
    assert 0.1 + 0.2 != 0.3  # what floats would have done
    text = dumps_money({"items": stripe_items(order)})
    assert '"price": 0.10' in text and '"price": 0.20' in text
    assert wire_total(order) == Decimal("0.30") == order.totals.total


def test_discount_tax_and_shipping_lines() -> None:
    order = priced_order([(149.99, 1, "std"), (79.99, 2, "std")], coupon=Decimal(10),
                         shipping=Decimal("5.00"))
    items = stripe_items(order)
    names = [i["name"] for i in items]
    assert names[-2:] == ["Flat", "Tax"]
    assert items[0]["price"] == Decimal("134.99")  # 149.99 - 15.00 coupon share
    assert wire_total(order) == order.totals.total


def test_discount_not_divisible_by_quantity_gives_one_line_item() -> None:
    order = priced_order([(0.97, 3, "")], coupon=Decimal(10))  # 2.91 - 0.29 = 2.62 / 3
    items = stripe_items(order)
    assert items == [{"id": "p0", "name": "Product 0 ×3", "price": Decimal("2.62"),
                      "quantity": 1}]
    assert wire_total(order) == order.totals.total


def test_store_credit_falls_back_to_one_sale_item() -> None:
    order = priced_order([(10.0, 1, "")], credit=Decimal(3))
    assert stripe_items(order) == [{"id": "T1-000007", "name": "Sale T1-000007",
                                    "price": Decimal("7.00"), "quantity": 1}]


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2).map(
    float)  # the API's floats


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.tuples(prices, st.integers(1, 9), st.sampled_from(["", "std", "vat"])),
                      min_size=1, max_size=6),
       coupon=st.none() | st.decimals(min_value=1, max_value=50, places=0),
       shipping=st.none() | st.decimals(min_value=0, max_value=30, places=2))
def test_stripe_total_equals_sale_total(lines: list[tuple[float, int, str]],
                                        coupon: Decimal | None,
                                        shipping: Decimal | None) -> None:
    order = priced_order(lines, coupon, shipping)
    items = stripe_items(order)
    assert all(i["price"] == i["price"].quantize(Decimal("0.01")) and i["price"] > 0
               for i in items)
    assert all(isinstance(i["price"], Decimal) for i in items)
    assert wire_total(order) == order.totals.total
