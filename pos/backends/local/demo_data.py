"""The embedded demo store's data, generated deterministically (same codes on every machine).

320 products over ten categories with EAN-13 barcodes, plus the named products the README and the
tests use: required options (`TSHIRT`, `COFFEE-BEANS`, `ENGRAVED-PEN`), out of stock
(`CAMERA-VINTAGE`), a minimum quantity (`NAPKINS`, minimum 3), a tax-inclusive price
(`SCARF-VAT`), products bought with reward points, and a gift card that needs no shipping.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pos.models import Customer, OptionValue, Product, ProductOption, TaxClass, TaxRate

SALES_TAX = TaxClass(id="taxable", name="Taxable goods",
                     rates=(TaxRate(name="Sales Tax (8.25%)", value=Decimal("8.25")),))
FOOD = TaxClass(id="food", name="Food (no sales tax)", rates=())
VAT_INCLUDED = TaxClass(id="vat20", name="VAT 20% included", included=True,
                        rates=(TaxRate(name="VAT (20%) incl.", value=Decimal("20")),))
TAX_CLASSES = (SALES_TAX, FOOD, VAT_INCLUDED)

CATEGORIES = {
    "groceries": "Groceries", "beverages": "Beverages", "bakery": "Bakery", "dairy": "Dairy",
    "household": "Household", "stationery": "Stationery", "electronics": "Electronics",
    "clothing": "Clothing", "toys": "Toys", "garden": "Garden",
}
_NOUNS = {
    "groceries": ["Rice", "Pasta", "Lentils", "Oats", "Flour", "Sugar", "Olive Oil", "Honey"],
    "beverages": ["Orange Juice", "Green Tea", "Sparkling Water", "Cola", "Lemonade", "Cold Brew",
                  "Apple Juice", "Iced Tea"],
    "bakery": ["Sourdough", "Baguette", "Croissant", "Bagel", "Muffin", "Rye Bread", "Brioche",
               "Scone"],
    "dairy": ["Milk", "Yogurt", "Butter", "Cheddar", "Mozzarella", "Cream", "Kefir", "Feta"],
    "household": ["Dish Soap", "Sponges", "Trash Bags", "Paper Towels", "Detergent", "Candles",
                  "Light Bulb", "Batteries"],
    "stationery": ["Notebook", "Ballpoint Pen", "Pencil Set", "Stapler", "Sticky Notes", "Marker",
                   "Envelope Pack", "Ruler"],
    "electronics": ["USB Cable", "Phone Charger", "Earbuds", "Power Bank", "HDMI Cable",
                    "Mouse", "Keyboard", "SD Card"],
    "clothing": ["Socks", "Beanie", "Gloves", "Cap", "Belt", "Hoodie", "Sweater", "Apron"],
    "toys": ["Puzzle", "Yo-yo", "Kite", "Board Game", "Plush Bear", "Toy Car", "Jump Rope",
             "Building Blocks"],
    "garden": ["Seeds", "Trowel", "Watering Can", "Plant Pot", "Compost", "Gloves (garden)",
               "Pruner", "Hose Nozzle"],
}
_ADJECTIVES = ["Classic", "Organic", "Premium", "Family Size"]
_TAX_BY_CATEGORY = {"groceries": "food", "beverages": "food", "bakery": "food", "dairy": "food"}


def ean13(body12: str) -> str:
    """Append the EAN-13 check digit to 12 digits."""
    digits = [int(c) for c in body12]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return body12 + str(check)


def _price(i: int) -> Decimal:
    return Decimal(((i * 37) % 4000) + 99) / Decimal(100) + Decimal(i % 7)


def _named_products() -> list[Product]:
    size = ProductOption(id="size", name="Size", required=True, values=(
        OptionValue(id="s", name="S"), OptionValue(id="m", name="M"),
        OptionValue(id="l", name="L"), OptionValue(id="xl", name="XL", price=Decimal("2.00"),
                                                   stock=0)))
    grind = ProductOption(id="grind", name="Grind", type="radio", required=True, values=(
        OptionValue(id="whole", name="Whole bean"), OptionValue(id="espresso", name="Espresso"),
        OptionValue(id="filter", name="Filter")))
    engraving = ProductOption(id="engraving", name="Engraving", type="text", required=True)
    gift_wrap = ProductOption(id="wrap", name="Gift wrap", required=False, values=(
        OptionValue(id="yes", name="Yes", price=Decimal("1.50")),))
    return [
        Product(id="1", sku="COFFEE-1KG", barcode=ean13("200000000001"), name="Coffee Beans 1kg",
                price=Decimal("18.90"), tax_class="food", stock=40, category="groceries",
                options=(grind,)),
        Product(id="2", sku="TSHIRT", barcode=ean13("200000000002"), name="Logo T-Shirt",
                price=Decimal("15.00"), tax_class="taxable", stock=25, category="clothing",
                options=(size, gift_wrap)),
        Product(id="3", sku="MUG", barcode=ean13("200000000003"), name="Ceramic Mug",
                price=Decimal("9.50"), tax_class="taxable", stock=100, category="household",
                points=100, reward=9),
        Product(id="4", sku="CAMERA-VINTAGE", barcode=ean13("200000000004"),
                name="Vintage Camera", price=Decimal("120.00"), tax_class="taxable", stock=0,
                category="electronics"),
        Product(id="5", sku="NAPKINS", barcode=ean13("200000000005"), name="Paper Napkins",
                price=Decimal("2.25"), tax_class="taxable", stock=500, minimum=3,
                category="household"),
        Product(id="6", sku="HEADPHONES", barcode=ean13("200000000006"), name="Headphones",
                price=Decimal("59.99"), tax_class="taxable", stock=12, category="electronics",
                points=600, reward=60),
        Product(id="7", sku="SCARF-VAT", barcode=ean13("200000000007"),
                name="Wool Scarf (imported, VAT incl.)", price=Decimal("24.00"),
                tax_class="vat20", stock=30, category="clothing"),
        Product(id="8", sku="ENGRAVED-PEN", barcode=ean13("200000000008"), name="Engraved Pen",
                price=Decimal("12.00"), tax_class="taxable", stock=50, category="stationery",
                options=(engraving,)),
        Product(id="9", sku="EBOOK", barcode=ean13("200000000009"), name="Recipe E-Book",
                price=Decimal("7.99"), tax_class="", stock=None, category="stationery",
                shipping=False),
        Product(id="10", sku="BANANA", barcode=ean13("200000000010"), name="Bananas (bunch)",
                price=Decimal("1.99"), tax_class="food", stock=200, category="groceries"),
    ]


def products() -> list[Product]:
    out = _named_products()
    i = 0
    for cat, nouns in _NOUNS.items():
        for adj in _ADJECTIVES:
            for noun in nouns:
                i += 1
                pid = str(100 + i)
                out.append(Product(
                    id=pid, sku=f"{cat[:3].upper()}-{i:04d}",
                    barcode=ean13(f"2001{i:08d}"), name=f"{adj} {noun}",
                    price=_price(i), tax_class=_TAX_BY_CATEGORY.get(cat, "taxable"),
                    stock=20 + (i * 13) % 180, category=cat,
                    points=int(_price(i) * 10) if cat == "toys" else 0,
                    reward=int(_price(i)) if cat in ("toys", "electronics") else 0,
                ))
    return out


CUSTOMERS = (
    Customer(id="1", firstname="Jane", lastname="Doe", email="jane@example.com",
             telephone="555-0101", reward_points=1000),
    Customer(id="2", firstname="John", lastname="Smith", email="john@example.com",
             telephone="555-0102", store_credit=Decimal("25.00")),
    Customer(id="3", firstname="Ana", lastname="Lima", email="ana@example.com",
             telephone="555-0103", reward_points=250, store_credit=Decimal("10.00")),
    Customer(id="4", firstname="Wei", lastname="Chen", email="wei@example.com",
             telephone="555-0104"),
    Customer(id="5", firstname="Fatima", lastname="Khan", email="fatima@example.com",
             telephone="555-0105", reward_points=40),
)


@dataclass(frozen=True)
class CouponRow:
    code: str
    name: str
    kind: Literal["percent", "fixed"]
    value: Decimal
    free_shipping: bool = False
    minimum_total: Decimal = Decimal("0")
    logged_only: bool = False
    date_end: str = "2099-12-31"
    uses_total: int = 0  # 0: unlimited


COUPONS = (
    CouponRow("SAVE10", "10% off", "percent", Decimal("10")),
    CouponRow("TENOFF", "10.00 off orders over 50.00", "fixed", Decimal("10"),
              minimum_total=Decimal("50")),
    CouponRow("FREESHIP", "Free shipping", "fixed", Decimal("0"), free_shipping=True),
    CouponRow("MEMBER5", "5% off for members", "percent", Decimal("5"), logged_only=True),
    CouponRow("EXPIRED", "Last year's sale", "percent", Decimal("50"), date_end="2020-01-01"),
)

VOUCHERS = (("GIFT10", Decimal("10.00")), ("GIFT50", Decimal("50.00")),
            ("GIFT200", Decimal("200.00")))
