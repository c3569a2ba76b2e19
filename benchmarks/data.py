"""Synthetic catalogs: realistic product names, unique SKUs and valid EAN-13 barcodes."""

from __future__ import annotations

import csv
import random
from pathlib import Path

BRANDS = [
    "Alpine", "Bellwood", "Cedar Hill", "Dolce Vita", "Evergreen", "Farmhouse", "Golden Acre",
    "Harvest Moon", "Island Breeze", "Juniper", "Kingsbridge", "Lakeside", "Meadowbrook",
    "Northwind", "Oakridge", "Pacific", "Queensbury", "Riverside", "Sunrise", "Thornbury",
    "Urban Pantry", "Valley Fresh", "Westfield", "Yellowstone", "Zephyr", "Acme", "Brightside",
    "Coastal", "Delmonte", "Emerald", "Fjord", "Granite", "Highland", "Ironwood", "Jade Garden",
]
ADJECTIVES = [
    "Organic", "Classic", "Premium", "Extra", "Light", "Dark", "Smoked", "Roasted", "Wholegrain",
    "Sparkling", "Unsalted", "Spicy", "Sweet", "Crunchy", "Creamy", "Fresh", "Frozen", "Mild",
    "Strong", "Natural", "Vegan", "Gluten Free", "Low Fat", "Original", "Double", "Mini",
]
PRODUCTS = {
    "Groceries": ["Chocolate", "Coffee Beans", "Green Tea", "Pasta", "Basmati Rice", "Olive Oil",
                  "Peanut Butter", "Granola", "Crackers", "Honey", "Tomato Sauce", "Cornflakes",
                  "Almonds", "Cashews", "Oat Milk", "Cheddar", "Mozzarella", "Yogurt", "Biscuits"],
    "Drinks": ["Mineral Water", "Orange Juice", "Apple Juice", "Lemonade", "Cola", "Ginger Ale",
               "Iced Tea", "Energy Drink", "Kombucha", "Red Wine", "Lager", "Cider"],
    "Household": ["Dish Soap", "Laundry Detergent", "Paper Towels", "Trash Bags", "Sponges",
                  "Glass Cleaner", "Candles", "Light Bulb", "Batteries", "Aluminium Foil"],
    "Personal care": ["Shampoo", "Conditioner", "Toothpaste", "Hand Cream", "Deodorant",
                      "Shower Gel", "Sunscreen", "Lip Balm", "Razor Blades", "Cotton Pads"],
    "Kitchen": ["Coffee Mug", "Teapot", "Chef Knife", "Cutting Board", "Frying Pan", "Whisk",
                "Measuring Cups", "Water Bottle", "Lunch Box", "Oven Gloves"],
}
FLAVOURS = ["Hazelnut", "Vanilla", "Lemon", "Strawberry", "Mint", "Caramel", "Sea Salt",
            "Raspberry", "Cinnamon", "Mango", "Coconut", "Blueberry", "Ginger", "Lime", "Cherry",
            "Original", "Black", "White", "Blue", "Red", "Green", "Large", "Small", "Family Pack"]
SIZES = ["100 g", "250 g", "500 g", "1 kg", "330 ml", "500 ml", "1 l", "1.5 l", "6 pack",
         "12 pack", "2 pcs", "4 pcs", "10 pcs", "XL", "M", "S", "24 cm", "28 cm"]
GS1_PREFIXES = ["400", "401", "405", "500", "501", "590", "300", "380", "540", "800", "840", "871"]
CATEGORIES = [(c, n) for c, names in PRODUCTS.items() for n in names]
HEADER = ["id", "sku", "barcode", "name", "price", "stock", "category"]
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ean13(twelve: str) -> str:
    """Append the EAN-13 check digit to 12 digits."""
    digits = twelve.encode()
    total = sum(digits[0::2]) + 3 * sum(digits[1::2]) - 4 * 6 * 48  # 6+6 ASCII '0' offsets
    return twelve + str(-total % 10)


def valid_ean13(code: str) -> bool:
    return len(code) == 13 and code.isdigit() and ean13(code[:12]) == code


def _scramble(i: int, modulus: int) -> int:
    """A bijection of 0..modulus-1 (so barcodes and SKUs are unique but look random)."""
    return (i * 7_919_843 + 104_729) % modulus


def _b36(n: int, width: int) -> str:
    out = []
    for _ in range(width):
        n, r = divmod(n, 36)
        out.append(_B36[r])
    return "".join(reversed(out))


def product_rows(count: int, seed: int = 9) -> list[list[str]]:
    rng = random.Random(seed)
    rows: list[list[str]] = []
    choice, randint = rng.choice, rng.randint
    for i in range(count):
        category, noun = choice(CATEGORIES)
        name = f"{choice(BRANDS)} {choice(ADJECTIVES)} {noun} {choice(FLAVOURS)} {choice(SIZES)}"
        body = f"{GS1_PREFIXES[i % len(GS1_PREFIXES)]}{_scramble(i, 1_000_000_000):09d}"
        sku = f"{category[:2].upper()}-{_b36(_scramble(i, 36 ** 6), 6)}"
        price = f"{randint(29, 19_999) / 100:.2f}"
        stock = "" if i % 10 == 0 else str(randint(0, 500))
        rows.append([f"P{i:07d}", sku, ean13(body), name, price, stock, category])
    return rows


def write_catalog_csv(path: Path, count: int, seed: int = 9) -> list[list[str]]:
    """Write a catalog CSV of `count` products; returns the rows (for picking queries)."""
    rows = product_rows(count, seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return rows
