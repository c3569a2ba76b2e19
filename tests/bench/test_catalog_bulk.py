"""The catalog's fast paths (bulk import with one FTS rebuild, indexed lookups, search) give the
same answers as the row-by-row ones; the benchmark data is valid."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.data import ean13, product_rows, valid_ean13, write_catalog_csv
from pos.errors import InputError
from pos.store import Catalog


def fts_names(catalog: Catalog, word: str) -> set[str]:
    """What the FTS index says (checks it was rebuilt/kept in step with the table)."""
    return {r[0] for r in catalog.db.execute(
        "SELECT p.id FROM products_fts f JOIN products p ON p.rowid = f.rowid "
        "WHERE f.name LIKE ?", [f"%{word}%"])}


def table_names(catalog: Catalog, word: str) -> set[str]:
    return {r[0] for r in catalog.db.execute(
        "SELECT id FROM products WHERE instr(lower(name), ?) > 0", [word])}


def test_ean13() -> None:
    assert ean13("400638133393") == "4006381333931"
    rows = product_rows(2_000)
    assert all(valid_ean13(r[2]) for r in rows)
    assert len({r[2] for r in rows}) == len({r[1] for r in rows}) == 2_000


def test_bulk_import_then_refresh_then_small_update(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    rows = write_catalog_csv(path, 30_000)  # more than one chunk: the bulk path
    catalog = Catalog(tmp_path / "c.db")
    assert catalog.import_csv(path) == 30_000
    assert fts_names(catalog, "hazel") == table_names(catalog, "hazel")
    triggers = {r[0] for r in catalog.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"products_ai", "products_ad", "products_au"}
    indexes = {r[0] for r in catalog.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    assert indexes == {"products_barcode", "products_sku", "products_name"}  # built again
    # a refresh renaming some products: upserted, the index follows
    for row in rows[:5_000]:
        row[3] = "Zanzibar " + row[3]
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([["id", "sku", "barcode", "name", "price", "stock", "category"],
                                  *rows])
    assert catalog.import_csv(path) == 30_000
    assert catalog.count() == 30_000
    assert fts_names(catalog, "zanzibar") == table_names(catalog, "zanzibar")
    assert len(fts_names(catalog, "zanzibar")) == 5_000
    # a small file into a big catalog: row by row through the triggers
    small = tmp_path / "small.csv"
    small.write_text("id,sku,barcode,name,price,stock,category\n"
                     "P0000001,NEW-1,4006381333931,Quokka Plush,9.99,3,Toys\n"
                     "NEW2,NEW-2,,Quokka Mug,$4.50,,Kitchen\n")
    assert catalog.import_csv(small) == 2
    assert fts_names(catalog, "quokka") == {"P0000001", "NEW2"}
    assert catalog.lookup("4006381333931").name == "Quokka Plush"  # type: ignore[union-attr]
    assert str(catalog.lookup("NEW-2").price) == "4.50"  # type: ignore[union-attr]
    assert catalog.lookup("NEW2") is not None
    assert catalog.lookup(rows[7][2]).id == rows[7][0]  # type: ignore[union-attr]
    assert catalog.lookup("nope") is None
    assert [p.name for p in catalog.search("quokka")] == ["Quokka Plush", "Quokka Mug"]
    assert {p.id for p in catalog.search("quokka mu")} == {"NEW2"}
    assert catalog.search("NEW-2")[0].id == "NEW2"  # SKU from its start
    assert catalog.search("new-")[0].id in {"P0000001", "NEW2"}  # typed in lower case
    assert catalog.search("4006381333")[0].id == "P0000001"  # barcode from its start
    catalog.close()


def test_bulk_import_of_a_file_naming_a_product_twice(tmp_path: Path) -> None:
    """The FTS index of a first import is filled chunk by chunk; a later row of the file that
    renames a product of an earlier chunk is still what search finds (rebuilt at the end)."""
    path = tmp_path / "c.csv"
    rows = write_catalog_csv(path, 45_000)
    again = [*rows[5][:3], "Zanzibar Tea", *rows[5][4:]]
    with path.open("a", newline="") as fh:
        csv.writer(fh).writerow(again)
    catalog = Catalog(tmp_path / "c.db")
    assert catalog.import_csv(path) == 45_001
    assert catalog.count() == 45_000
    assert fts_names(catalog, "zanzibar") == {rows[5][0]}
    assert rows[5][0] not in fts_names(catalog, rows[5][3].lower())
    assert fts_names(catalog, "hazel") == table_names(catalog, "hazel")
    catalog.close()


def test_bulk_import_restores_the_fts_merge_setting(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 25_000)
    catalog = Catalog(tmp_path / "c.db")
    assert catalog.import_csv(path) == 25_000  # into an empty table
    assert catalog.import_csv(path) == 25_000  # a refresh: the index rebuilt
    automerge = catalog.db.execute(
        "SELECT v FROM products_fts_config WHERE k = 'automerge'").fetchone()
    assert automerge == (4,)  # FTS5's default: 16 only while loading
    catalog.close()


def test_bad_row_in_bulk_import_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    rows = write_catalog_csv(path, 25_000)
    rows[24_000][4] = "12,5x"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([["id", "sku", "barcode", "name", "price", "stock", "category"],
                                  *rows])
    catalog = Catalog(tmp_path / "c.db")
    with pytest.raises(InputError, match="line 24002"):
        catalog.import_csv(path)
    assert catalog.count() == 0
    triggers = {r[0] for r in catalog.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"products_ai", "products_ad", "products_au"}  # rolled back with the rest
    catalog.close()


@pytest.mark.slow
def test_quick_benchmarks_run() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only",
                          "barcode_lookup_p99_ms,order_write_p50_ms,sync_orders_per_s"],
                         capture_output=True, text=True, timeout=600, check=True)
    names = [line.split('"name": "')[1].split('"')[0] for line in out.stdout.splitlines()]
    assert names == ["barcode_lookup_p99_ms", "order_write_p50_ms", "order_write_p99_ms",
                     "sync_orders_per_s", "sync_cpu_ms_per_order"]
