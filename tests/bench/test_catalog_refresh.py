"""A catalog refresh (an import into a catalog holding rows): unchanged rows are not written, and
the search index follows the renamed and new products, updated for them or rebuilt."""

from __future__ import annotations

import csv
import logging
import sqlite3
from pathlib import Path

import pytest

from benchmarks.data import write_catalog_csv
from benchmarks.store import refresh_rows
from pos.errors import InputError
from pos.store import Catalog
from pos.store.catalog import MIGRATIONS
from tests.bench.test_catalog_bulk import fts_check, fts_names, table_names

HEADER = ["id", "sku", "barcode", "name", "price", "stock", "category"]


def write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([HEADER, *rows])


def count_updates(catalog: Catalog) -> None:
    """Count the rows the next loads really update (a temporary trigger of the catalog's own
    connection: the load drops and recreates the catalog's triggers, not this one)."""
    catalog.db.execute("CREATE TEMP TABLE updates (n INTEGER)")
    catalog.db.execute("INSERT INTO updates VALUES (0)")
    catalog.db.execute("CREATE TEMP TRIGGER counting AFTER UPDATE ON main.products "
                       "BEGIN UPDATE updates SET n = n + 1; END")


def updates(catalog: Catalog) -> int:
    return int(catalog.db.execute("SELECT n FROM temp.updates").fetchone()[0])


def index_segments(catalog: Catalog) -> int:
    return int(catalog.db.execute("SELECT count(*) FROM products_fts_data").fetchone()[0])


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Catalog, Path, list[list[str]]]:
    path = tmp_path / "c.csv"
    rows = write_catalog_csv(path, 30_000)  # more than one chunk: the bulk path
    catalog = Catalog(tmp_path / "c.db")
    assert catalog.import_csv(path) == 30_000
    return catalog, path, rows


def test_a_refresh_writes_only_the_changed_rows_and_indexes_only_renames_and_new_ones(
        loaded: tuple[Catalog, Path, list[list[str]]], caplog: pytest.LogCaptureFixture) -> None:
    catalog, path, rows = loaded
    old_names = {rows[i][0]: rows[i][3] for i in range(100, 120)}
    for row in rows[:100]:
        row[4] = f"{float(row[4]) + 1:.2f}"  # a new price
    for row in rows[100:120]:
        row[3] = f"Zanzibar {row[0]}"  # renamed
    old_barcode, rows[120][2] = rows[120][2], "4006381333931"  # a new barcode, nothing else
    new = [[f"NEW{i}", f"NEW-SKU-{i}", "", f"Quokka Plush {i}", "3.50", "1", "Toys"]
           for i in range(10)]
    write(path, rows + new)
    count_updates(catalog)
    with caplog.at_level(logging.INFO, logger="pos.store.catalog_import"):
        assert catalog.import_csv(path) == 30_010
    assert updates(catalog) == 121  # the 29,879 rows that did not change were left alone
    assert catalog.lookup("4006381333931").id == rows[120][0]  # type: ignore[union-attr]
    assert catalog.lookup(old_barcode) is None
    assert "search index updated" in caplog.text
    fts_check(catalog)
    assert fts_names(catalog, "zanzibar") == set(old_names) == table_names(catalog, "zanzibar")
    assert fts_names(catalog, "quokka") == {f"NEW{i}" for i in range(10)}
    for pid, name in old_names.items():  # the old name is gone from the index
        assert pid not in fts_names(catalog, name.lower())
    assert fts_names(catalog, "hazel") == table_names(catalog, "hazel")
    assert str(catalog.lookup(rows[5][2]).price) == rows[5][4]  # type: ignore[union-attr]
    assert catalog.search("NEW-SKU-3")[0].id == "NEW3"
    count_before = index_segments(catalog)
    assert catalog.import_csv(path) == 30_010  # the same file again: nothing to write
    assert updates(catalog) == 121
    assert index_segments(catalog) == count_before
    catalog.close()


def test_a_refresh_renaming_many_products_rebuilds_the_index(
        loaded: tuple[Catalog, Path, list[list[str]]], caplog: pytest.LogCaptureFixture) -> None:
    catalog, path, rows = loaded
    for row in rows[:12_000]:  # 40 %: past the point where a rebuild costs less
        row[3] = "Zanzibar " + row[3]
    write(path, rows)
    with caplog.at_level(logging.INFO, logger="pos.store.catalog_import"):
        assert catalog.import_csv(path) == 30_000
    assert "search index rebuilt" in caplog.text
    fts_check(catalog)
    assert len(fts_names(catalog, "zanzibar")) == 12_000
    assert fts_names(catalog, "hazel") == table_names(catalog, "hazel")
    assert catalog.db.execute(  # the log's temporary table and trigger are gone
        "SELECT count(*) FROM sqlite_temp_master WHERE name = 'pos_renamed'").fetchone() == (0,)
    catalog.close()


def test_a_refresh_naming_products_twice(loaded: tuple[Catalog, Path, list[list[str]]]) -> None:
    """An old product renamed twice in one file (the index held its first name), and a new
    product renamed by a later row of the same file (indexed once, as a new row)."""
    catalog, path, rows = loaded
    first, second = [*rows[7][:3], "Wombat Tea", *rows[7][4:]], [*rows[7][:3], "Wallaby Tea",
                                                                   *rows[7][4:]]
    new = ["NEW1", "NEW-1", "", "Quokka Mug", "4.00", "", "Kitchen"]
    renamed_new = [*new[:3], "Platypus Mug", *new[4:]]
    write(path, [first, new, *rows[8:25_000], second, renamed_new])
    assert catalog.import_csv(path) == 24_996
    fts_check(catalog)
    assert fts_names(catalog, "wallaby") == {rows[7][0]}
    assert fts_names(catalog, "wombat") == set()
    assert fts_names(catalog, "platypus") == {"NEW1"}
    assert fts_names(catalog, "quokka") == set()
    assert rows[7][0] not in fts_names(catalog, rows[7][3].lower())
    catalog.close()


def test_a_refresh_naming_a_product_twice_in_one_chunk(
        loaded: tuple[Catalog, Path, list[list[str]]]) -> None:
    """Renamed, then named as before, 100 rows apart: the last row of the file wins."""
    catalog, path, rows = loaded
    renamed = [*rows[7][:3], "Wombat Tea", "1.00", *rows[7][5:]]
    again = [*rows[7][:4], "2.00", *rows[7][5:]]
    write(path, [*rows[:100], renamed, *rows[100:200], again, *rows[200:]])
    assert catalog.import_csv(path) == 30_002
    product = catalog.lookup(rows[7][0])
    assert product is not None and (product.name, str(product.price)) == (rows[7][3], "2.00")
    assert fts_names(catalog, "wombat") == set()
    fts_check(catalog)
    catalog.close()


def test_a_refresh_changing_every_name(loaded: tuple[Catalog, Path, list[list[str]]]) -> None:
    """Most keys change in the first chunk: the rest goes through the one-statement upsert."""
    catalog, path, rows = loaded
    for row in rows:
        row[1], row[3] = row[1] + "-B", f"Zanzibar {row[0]}"
    write(path, rows)
    assert catalog.import_csv(path) == 30_000
    assert len(fts_names(catalog, "zanzibar")) == 30_000
    assert catalog.lookup(rows[29_000][1]).id == rows[29_000][0]  # type: ignore[union-attr]
    assert catalog.search(rows[29_000][1])[0].id == rows[29_000][0]
    fts_check(catalog)
    catalog.close()


def test_a_refresh_stopped_by_a_bad_row_changes_nothing(
        loaded: tuple[Catalog, Path, list[list[str]]]) -> None:
    catalog, path, rows = loaded
    before = catalog.lookup(rows[3][2])
    rows[3][3] = "Zanzibar Tea"
    rows[24_000][4] = "12,5x"  # in the second chunk
    write(path, rows)
    with pytest.raises(InputError, match="line 24002"):
        catalog.import_csv(path)
    assert catalog.lookup(rows[3][2]) == before
    fts_check(catalog)
    assert fts_names(catalog, "zanzibar") == set()
    assert catalog.db.execute(
        "SELECT count(*) FROM sqlite_temp_master WHERE name = 'pos_renamed'").fetchone() == (0,)
    rows[24_000][4] = "12.50"
    write(path, rows)
    assert catalog.import_csv(path) == 30_000  # the next refresh goes through
    assert fts_names(catalog, "zanzibar") == {rows[3][0]}
    fts_check(catalog)
    catalog.close()


def test_a_price_change_leaves_the_search_index_alone(
        loaded: tuple[Catalog, Path, list[list[str]]], tmp_path: Path) -> None:
    """A small file goes row by row through the triggers: a new price writes nothing into the
    index (the trigger fires only on a changed name); a new name does."""
    catalog, _, rows = loaded
    small = tmp_path / "small.csv"
    write(small, [[*rows[9][:4], "99.00", *rows[9][5:]]])
    segments = index_segments(catalog)
    assert catalog.import_csv(small) == 1
    assert str(catalog.lookup(rows[9][0]).price) == "99.00"  # type: ignore[union-attr]
    assert index_segments(catalog) == segments
    write(small, [[*rows[9][:3], "Zanzibar Tea", "99.00", *rows[9][5:]]])
    assert catalog.import_csv(small) == 1
    assert index_segments(catalog) > segments
    assert fts_names(catalog, "zanzibar") == {rows[9][0]}
    fts_check(catalog)
    catalog.close()


def test_a_catalog_of_the_previous_schema_gets_the_name_only_trigger(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    conn = sqlite3.connect(db)
    for step in MIGRATIONS[:3]:
        conn.executescript(step)
    conn.execute("PRAGMA user_version = 3")
    conn.execute("INSERT INTO products (id, name, price) VALUES ('A', 'Hazel Mug', '4.00')")
    conn.commit()
    conn.close()
    catalog = Catalog(db)
    sql = catalog.db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'products_au'").fetchone()[0]
    assert "WHEN old.name IS NOT new.name" in sql
    assert fts_names(catalog, "hazel") == {"A"}
    fts_check(catalog)
    catalog.close()


def test_the_benchmarks_daily_refresh(loaded: tuple[Catalog, Path, list[list[str]]]) -> None:
    """The benchmark's file (`catalog_refresh_100k_s`) changes what it says, and the catalog
    takes exactly those changes."""
    catalog, path, rows = loaded
    daily = refresh_rows(rows, 0.1, 0.01, 1_000)
    changed = [new for old, new in zip(rows, daily, strict=False) if old != new]
    renamed = [new for old, new in zip(rows, daily, strict=False) if old[3] != new[3]]
    assert 2_500 < len(changed) < 3_500 and 200 < len(renamed) < 400
    write(path, daily)
    count_updates(catalog)
    assert catalog.import_csv(path) == 31_000
    # one update a row for its price, one for its name (SKU, barcode and name are set apart)
    assert updates(catalog) == sum((old[4:] != new[4:]) + (old[1:4] != new[1:4])
                                   for old, new in zip(rows, daily, strict=False))
    assert catalog.count() == 31_000
    assert fts_names(catalog, "new recipe") == {r[0] for r in renamed}
    assert len(fts_names(catalog, "seasonal gift box")) == 1_000
    fts_check(catalog)
    catalog.close()
