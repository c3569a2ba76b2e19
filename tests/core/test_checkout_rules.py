"""Checkout rules on the embedded demo store: what a real store enforces, with clear errors."""

from decimal import Decimal

import pytest

from pos.backends.base import Capability
from pos.errors import InputError, NotFoundError, RuleError
from pos.models import Address, Customer, OrderStatus
from pos.session import PosSession

D = Decimal
CA_ADDRESS = Address(firstname="Ann", lastname="Lee", address_1="1 Main St", city="Fresno",
                     postcode="93650", country="US", zone="CA")


def test_scan_by_barcode_sku_and_id_and_quantity_prefix(session: PosSession) -> None:
    co = session.checkout
    mug = session.catalog.lookup("MUG")
    assert mug is not None
    co.scan(mug.barcode)
    co.scan("3")  # id 3 is the mug too: same line, quantity adds up
    co.scan("2*MUG")
    assert len(co.cart.lines) == 1 and co.cart.lines[0].quantity == 4
    assert co.quote.totals.subtotal == D("38.00")


def test_a_typed_name_one_product_has_adds_it(session: PosSession) -> None:
    """Enter on part of a name: the one product named so (what the search shows); several, or
    a code missing a digit (which starts a real barcode): a clear error, nothing added."""
    co = session.checkout
    co.scan("headph")
    co.scan("2*ceramic mug")
    assert [(ln.sku, ln.quantity) for ln in co.cart.lines] == [("HEADPHONES", 1), ("MUG", 2)]
    with pytest.raises(NotFoundError, match="several products") as err:
        co.scan("pen")
    assert "↓" in (err.value.hint or "")
    mug = session.catalog.lookup("MUG")
    assert mug is not None
    with pytest.raises(NotFoundError, match="No product with barcode"):
        co.scan(mug.barcode[:-1])
    assert len(co.cart.lines) == 2


def test_unknown_code_and_bad_quantity(session: PosSession) -> None:
    co = session.checkout
    with pytest.raises(NotFoundError, match="NOPE"):
        co.scan("NOPE")
    with pytest.raises(InputError):
        co.add("MUG", quantity="two")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        co.add("MUG", quantity=-1)
    assert co.cart.lines == ()


def test_out_of_stock_and_stock_limit(session: PosSession) -> None:
    co = session.checkout
    with pytest.raises(RuleError, match="out of stock") as err:
        co.scan("CAMERA-VINTAGE")
    assert err.value.field == "stock"
    co.add("HEADPHONES", 12)
    with pytest.raises(RuleError, match="only 12 in stock"):
        co.add("HEADPHONES", 1)
    assert co.cart.lines[0].quantity == 12


def test_required_options(session: PosSession) -> None:
    co = session.checkout
    with pytest.raises(RuleError, match="choose Grind") as err:
        co.scan("COFFEE-1KG")
    assert err.value.field == "option"
    with pytest.raises(InputError, match="not a Grind"):
        co.add("COFFEE-1KG", 1, {"grind": "powder"})
    with pytest.raises(RuleError, match="out of stock"):
        co.add("TSHIRT", 1, {"size": "xl"})
    line = co.add("TSHIRT", 1, {"size": "m", "wrap": "yes"})
    assert line.unit_price == D("16.50") and "Size: M" in line.options_label
    co.add("ENGRAVED-PEN", 1, {"engraving": "For Sam"})
    assert co.cart.lines[-1].options[0].value == "For Sam"


def test_minimum_quantity_blocks_placement_with_the_stores_message(session: PosSession) -> None:
    co = session.checkout
    co.add("NAPKINS", 2)
    co.take_payment("cash")
    with pytest.raises(RuleError, match="Minimum order amount for Paper Napkins is 3"):
        co.place()
    co.set_quantity(co.cart.lines[0].key, 3)
    co.take_payment("cash")
    assert co.place().status is OrderStatus.PLACED


def test_tax_exclusive_and_inclusive(session: PosSession) -> None:
    co = session.checkout
    co.add("MUG")  # 9.50 + 8.25% = 0.78375 → 0.78
    co.add("SCARF-VAT")  # 24.00 with 20% VAT inside: 4.00
    co.add("BANANA")  # food: no tax
    t = co.quote.totals
    assert t.subtotal == D("35.49")
    assert t.tax == D("0.78") and t.tax_included == D("4.00")
    assert t.total == D("36.27")


def test_coupons(session: PosSession) -> None:
    co = session.checkout
    co.add("MUG", 2)
    with pytest.raises(RuleError, match="invalid, expired"):
        co.apply_coupon("BOGUS")
    with pytest.raises(RuleError, match="expired"):
        co.apply_coupon("EXPIRED")
    with pytest.raises(RuleError, match=r"at least \$50\.00"):
        co.apply_coupon("TENOFF")
    with pytest.raises(RuleError, match="registered customers"):
        co.apply_coupon("MEMBER5")
    assert co.cart.coupon is None
    co.apply_coupon("save10")  # codes are case-insensitive
    assert co.quote.totals.discount == D("1.90")
    # tax is on the discounted amount: 17.10 × 8.25% = 1.41
    assert co.quote.totals.tax == D("1.41")


def test_voucher_reward_and_store_credit(session: PosSession) -> None:
    co = session.checkout
    co.add("HEADPHONES")  # 59.99, 600 points
    with pytest.raises(RuleError, match="registered customer"):
        co.set_reward(100)
    jane = co.search_customers("jane")[0]
    co.set_customer(jane)
    with pytest.raises(RuleError, match="maximum number of points that can be applied is 600"):
        co.set_reward(700)
    co.set_reward(300)  # half the points price → half the line off
    assert co.quote.totals.discount == D("30.00")
    co.add_voucher("GIFT10")
    with pytest.raises(RuleError, match="already applied"):
        co.add_voucher("gift10")
    with pytest.raises(RuleError, match="invalid or the balance"):
        co.add_voucher("NOPE")
    t = co.quote.totals
    assert t.vouchers == D("10.00")
    with pytest.raises(RuleError, match="no store credit"):
        co.use_store_credit(True)
    co.take_payment("cash")
    order = co.place()
    assert order.status is OrderStatus.PLACED
    assert session.backend.search_customers("jane")[0].reward_points == 1000 - 300 + 60


def test_store_credit_covers_part_of_the_sale(session: PosSession) -> None:
    co = session.checkout
    co.add("MUG")
    co.set_customer(co.search_customers("John")[0])
    co.use_store_credit(True)
    assert co.quote.totals.store_credit == co.quote.totals.subtotal + co.quote.totals.tax
    assert co.quote.totals.total == 0
    assert [m.code for m in co.payment_methods()] == ["free_checkout"]
    order = co.place()  # zero total: free checkout taken automatically
    assert order.status is OrderStatus.PLACED and order.payments[0].method == "free_checkout"


def test_shipping_zones_and_methods(session: PosSession) -> None:
    co = session.checkout
    co.add("MUG")
    methods = co.set_shipping_address(CA_ADDRESS)
    assert [m.code for m in methods] == ["flat.flat", "pickup.pickup"]
    co.set_shipping_method("flat.flat")
    assert co.quote.totals.shipping == D("5.00")
    co.apply_coupon("FREESHIP")
    assert co.quote.totals.shipping == D("0")
    de = CA_ADDRESS.model_copy(update={"country": "DE", "zone": "BE"})
    assert co.set_shipping_address(de) == []
    with pytest.raises(RuleError, match="not offered"):
        co.set_shipping_method("flat.flat")
    co.take_payment("cash")
    with pytest.raises(RuleError, match="Choose a shipping method"):
        co.place()


def test_cash_change_split_tender_and_sold_voucher(session: PosSession) -> None:
    co = session.checkout
    co.add("MUG")
    co.sell_voucher("Sam", "25")
    due = co.quote.totals.total
    assert due == D("35.28")  # 9.50 + 0.78 tax + 25.00 voucher (no tax on vouchers)
    part = co.take_payment("cash", "20")  # less than due: part cash (split tender)
    assert part.amount == D("20.00") and part.change == 0
    with pytest.raises(InputError, match="more than"):
        co.take_payment("bank_transfer", amount="100")
    rest = co.take_payment("card", reference="slip-1")
    assert rest.amount == D("15.28")
    order = co.place()
    assert order.status is OrderStatus.PLACED
    assert [p.method for p in order.payments] == ["cash", "card"]
    row = session.backend.db.execute(  # type: ignore[attr-defined]
        "SELECT balance FROM demo_vouchers WHERE origin = ?", [order.number]).fetchone()
    assert row[0] == "25.00"


def test_exact_cash_and_change(session: PosSession) -> None:
    co = session.checkout
    co.add("BANANA", 3)
    payment = co.take_payment("cash")
    assert payment.tendered == payment.amount == D("5.97") and payment.change == 0
    co.cancel_payments()
    payment = co.take_payment("cash", "10")
    assert payment.change == D("4.03")
    order = co.place()
    assert order.change == D("4.03")


def test_customer_create_and_validation(session: PosSession) -> None:
    co = session.checkout
    with pytest.raises(RuleError, match="e-mail"):
        co.create_customer(Customer(firstname="A", lastname="B", email="nope"))
    created = co.create_customer(Customer(firstname="Zoe", lastname="Park",
                                          email="zoe@example.com", telephone="555"))
    assert created.id and co.cart.customer == created
    assert co.search_customers("zoe@")[0].id == created.id


def test_park_recall_and_void(session: PosSession) -> None:
    co = session.checkout
    co.add("MUG")
    parked = co.park("Table 4")
    assert co.cart.empty and co.parked()[0].label == "Table 4"
    co.add("BANANA")
    co.recall(parked.id)  # the current cart is parked automatically
    assert co.cart.lines[0].sku == "MUG"
    assert len(co.parked()) == 1 and co.parked()[0].lines[0].sku == "BANANA"
    co.void()
    assert co.cart.empty
    with pytest.raises(RuleError, match="nothing to park"):
        co.park()


def test_stock_is_booked_and_place_is_idempotent_on_the_backend(session: PosSession) -> None:
    co = session.checkout
    headphones = session.catalog.lookup("HEADPHONES")
    assert headphones is not None and headphones.stock is not None
    before = headphones.stock
    co.add("HEADPHONES", 2)
    co.take_payment("cash")
    order = co.place()
    assert session.catalog.lookup("HEADPHONES") == headphones.model_copy(  # booked once
        update={"stock": before - 2})
    again = session.backend.place_order(order)  # a retry of the same sale: no second booking
    assert again.remote_id == order.remote_id
    assert session.catalog.lookup("HEADPHONES") == headphones.model_copy(  # booked once
        update={"stock": before - 2})


def test_price_override_needs_a_reason(session: PosSession) -> None:
    co = session.checkout
    line = co.add("MUG")
    with pytest.raises(InputError, match="needs a reason"):
        co.override_price(line.key, "5.00", " ")
    with pytest.raises(InputError, match="not a number"):
        co.override_price(line.key, "five", "damaged")
    co.override_price(line.key, "5", "damaged box")
    assert co.cart.lines[0].unit_price == D("5.00")
    assert co.cart.lines[0].price_override_reason == "damaged box"
    assert co.quote.totals.subtotal == D("5.00")


def test_no_price_override_where_the_store_prices_the_sale(
        session: PosSession, monkeypatch: pytest.MonkeyPatch) -> None:
    co = session.checkout
    line = co.add("MUG")
    monkeypatch.setattr(type(co.backend), "capabilities",
                        co.backend.capabilities | Capability.REMOTE_PRICING)
    with pytest.raises(RuleError, match="prices every sale itself"):
        co.override_price(line.key, "5.00", "damaged box")
    assert co.cart.lines[0].unit_price == D("9.50")
