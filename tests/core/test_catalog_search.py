"""Search-as-you-type on the catalog: names by any part in any case, codes from their start."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pos.models import Product
from pos.store import Catalog
from pos.store.catalog import MIGRATIONS, product_row
from pos.store.db import connect

PRODUCTS = [
    ("1", "AP-100", "4006381333931", "Äpfel Saft 1 l"),
    ("2", "AP-101", "4006381333948", "Bio äpfelmus"),
    ("3", "CR-7", "5000112637922", "Crème brûlée dessert"),
    ("4", "cr-8", "", "CRÈME fraîche"),
    ("5", "MUG-RED", "", "Coffee Mug red"),
    ("6", "MUG-BLU", "", "Coffee Mug blue"),
    ("7", "SALE50", "", "Tea towel 50% off"),
    ("8", "X1", "", "Abc chocolate"),
    ("11", "TT_50%", "", "Tea towel pack"),
]


def _product(pid: str, sku: str, barcode: str, name: str) -> Product:
    return Product(id=pid, sku=sku, barcode=barcode, name=name, price=Decimal("1.00"))


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(tmp_path / "catalog.db")
    catalog.upsert(_product(*p) for p in PRODUCTS)
    return catalog


def ids(products: list[Product]) -> list[str]:
    return [p.id for p in products]


def test_any_part_of_a_name_in_any_case(catalog: Catalog) -> None:
    assert ids(catalog.search("offee")) == ["5", "6"]
    assert ids(catalog.search("FEE MU")) == ["5", "6"]  # short words filter the hits
    assert ids(catalog.search("mug blu")) == ["6"]
    assert ids(catalog.search("colat")) == ["8"]
    assert ids(catalog.search("nothing like it")) == []


def test_the_text_as_typed_comes_before_words_in_another_order(catalog: Catalog) -> None:
    catalog.upsert([_product("9", "", "", "Mug for coffee"), _product("10", "", "", "A coffee mug")])
    assert ids(catalog.search("coffee mug")) == ["5", "6", "10", "9"]
    assert ids(catalog.search("coffee mug", limit=3)) == ["5", "6", "10"]
    assert ids(catalog.search("mug coffee")) == ["5", "6", "9", "10"]  # catalog order


def test_letters_beyond_ascii_fold_case(catalog: Catalog) -> None:
    assert ids(catalog.search("äpfel")) == ["1", "2"]
    assert ids(catalog.search("ÄPFEL")) == ["1", "2"]
    assert ids(catalog.search("crème")) == ["3", "4"]
    assert ids(catalog.search("brûlée")) == ["3"]
    assert ids(catalog.search("crème fr")) == ["4"]


def test_codes_from_their_start_come_first(catalog: Catalog) -> None:
    assert ids(catalog.search("AP-10")) == ["1", "2"]
    assert ids(catalog.search("ap-101")) == ["2"]  # typed in lower case
    assert ids(catalog.search("cr-")) == ["4", "3"]  # as typed, then in capitals
    assert ids(catalog.search("40063813339")) == ["1", "2"]  # barcode from its start
    assert ids(catalog.search("333931")) == []  # not from the middle of a barcode
    # a SKU hit and a name hit for the same product: listed once
    assert ids(catalog.search("MUG-RED")) == ["5"]
    assert ids(catalog.search("mug")) == ["6", "5"]  # SKUs (in SKU order) before names
    assert ids(catalog.search("tt_5")) == ["11"]  # "_" and "%" are plain text in a code


def test_wildcards_are_plain_text(catalog: Catalog) -> None:
    assert ids(catalog.search("towel 50%")) == ["7"]
    assert ids(catalog.search("m_g")) == []  # "_" is not "any letter"
    assert ids(catalog.search("%")) == []


def test_short_text_finds_names_starting_with_it(catalog: Catalog) -> None:
    assert ids(catalog.search("co")) == ["6", "5"]  # in name order, through its index
    assert ids(catalog.search("coffee mug", limit=1)) == ["5"]
    assert ids(catalog.search("   ")) == []


def test_short_text_order_is_the_case_insensitive_name_order(tmp_path: Path) -> None:
    """The lower(name) index gives what `LIKE 'text%'` in NOCASE order gave (ASCII folding)."""
    names = ["ab", "AB c", "Ab", "abz", "aB ", "äb", "Äb", "abé", "Ac", "xab", "a", "AB C"]
    catalog = Catalog(tmp_path / "catalog.db")
    catalog.upsert(_product(f"S{i}", "", "", name) for i, name in enumerate(names))
    for text in ("ab", "AB", "a", "ab c", "äb", "ÄB", "x"):
        prefix = " ".join(text.lower().split())
        expected = [r[0] for r in catalog.db.execute(
            "SELECT id FROM products WHERE name LIKE ? ORDER BY name COLLATE NOCASE, rowid",
            [prefix + "%"])]
        assert ids(catalog.search(text)) == expected, text
        assert expected, text
    catalog.close()


def test_limit_counts_code_and_name_hits(catalog: Catalog) -> None:
    catalog.upsert(_product(f"M{i}", f"MUG-{i:03d}", "", f"Mug number {i}") for i in range(60))
    assert len(catalog.search("mug", limit=50)) == 50
    assert len(catalog.search("MUG-0", limit=7)) == 7


def test_a_catalog_of_the_first_schema_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = connect(path, MIGRATIONS[:1])
    old.conn.executemany(
        "INSERT INTO products (id, sku, barcode, name, price, tax_class, stock, minimum, options,"
        " category, shipping, points, reward) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [product_row(_product(*p)) for p in PRODUCTS])
    old.conn.close()
    catalog = Catalog(path)
    assert ids(catalog.search("äpfel")) == ["1", "2"]
    assert ids(catalog.search("AP-1")) == ["1", "2"]
    columns = [r[1] for r in catalog.db.execute("PRAGMA table_info(products_fts)")]
    assert columns == ["name"]
    # the triggers keep the new index in step
    catalog.upsert([_product("1", "AP-100", "4006381333931", "Birnen Saft 1 l")])
    assert ids(catalog.search("äpfel")) == ["2"]
    assert ids(catalog.search("birnen")) == ["1"]


def test_a_sku_typed_in_lower_case_is_found_when_no_code_matches_exactly(catalog: Catalog) -> None:
    found = catalog.lookup("mug-red")
    assert found is not None and found.id == "5"
    exact = catalog.lookup("cr-8")  # a SKU in lower case is found as it is
    assert exact is not None and exact.id == "4"
    assert catalog.lookup("mug-") is None  # still exact: no prefix
