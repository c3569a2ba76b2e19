"""The catalog's fast paths (bulk import with one FTS rebuild, indexed lookups, search) give the
same answers as the row-by-row ones; the benchmark data is valid."""

from __future__ import annotations

import csv
import gc
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import pos.store.db
from benchmarks.data import ean13, product_rows, valid_ean13, write_catalog_csv
from pos.errors import InputError, StorageError
from pos.store import Catalog, fts_build


def fts_names(catalog: Catalog, word: str) -> set[str]:
    """What the FTS index says (checks it was rebuilt/kept in step with the table)."""
    return {r[0] for r in catalog.db.execute(
        "SELECT p.id FROM products_fts f JOIN products p ON p.rowid = f.rowid "
        "WHERE f.name LIKE ?", [f"%{word}%"])}


def table_names(catalog: Catalog, word: str) -> set[str]:
    return {r[0] for r in catalog.db.execute(
        "SELECT id FROM products WHERE instr(lower(name), ?) > 0", [word])}


def fts_check(catalog: Catalog) -> None:
    """FTS5's own check of the index against the products table (raises if they differ)."""
    catalog.db.execute("INSERT INTO products_fts(products_fts, rank) VALUES ('integrity-check', 1)")


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if "-fts-" in p.name]


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
    """The row is in the second chunk: the index builder had started; it is stopped, its file
    removed (and one left by a killed import)."""
    path = tmp_path / "c.csv"
    rows = write_catalog_csv(path, 25_000)
    rows[24_000][4] = "12,5x"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([["id", "sku", "barcode", "name", "price", "stock", "category"],
                                  *rows])
    (tmp_path / ".c.db-fts-stale.tmp").write_text("left by a killed import")
    catalog = Catalog(tmp_path / "c.db")
    with pytest.raises(InputError, match="line 24002"):
        catalog.import_csv(path)
    assert catalog.count() == 0
    fts_check(catalog)
    assert leftovers(tmp_path) == []
    triggers = {r[0] for r in catalog.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert triggers == {"products_ai", "products_ad", "products_au"}  # rolled back with the rest
    catalog.close()


def test_first_import_indexes_names_in_another_process(tmp_path: Path) -> None:
    """The index built beside the load (`FtsBuilder`) is the one FTS5 itself would build; the
    connection that had searched the empty catalog sees it, and keeps it in step afterwards."""
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 45_000)
    with path.open("a", newline="", encoding="utf-8") as fh:  # names the pipe carries as JSON
        csv.writer(fh).writerows([["U1", "", "", "Crème brûlée 🍮 \"Tab\tTab\"", "1", "", "x"],
                                  ["U2", "", "", "Äpfel, 2\nlines", "1", "", "x"]])
    catalog = Catalog(tmp_path / "c.db")
    assert catalog.search("hazel") == []  # this connection read the empty index
    builders: list[object] = []
    real = fts_build.FtsBuilder.copy_into

    def spy(self: fts_build.FtsBuilder, conn: sqlite3.Connection) -> bool:
        builders.append(self)
        copied = real(self, conn)
        assert copied
        return copied

    fts_build.FtsBuilder.copy_into = spy  # type: ignore[method-assign]
    try:
        assert catalog.import_csv(path) == 45_002
    finally:
        fts_build.FtsBuilder.copy_into = real  # type: ignore[method-assign]
    assert len(builders) == 1
    fts_check(catalog)
    assert [p.id for p in catalog.search("brûlée 🍮")] == ["U1"]
    assert [p.id for p in catalog.search("tab\ttab")] == ["U1"]
    assert [p.id for p in catalog.search("äpfel")] == ["U2"]
    assert fts_names(catalog, "hazel") == table_names(catalog, "hazel") != set()
    assert {p.id for p in catalog.search("hazel", limit=10_000)} >= table_names(catalog, "hazel")
    automerge = catalog.db.execute(
        "SELECT v FROM products_fts_config WHERE k = 'automerge'").fetchone()
    assert automerge is None  # FTS5's default (4), as before the load
    # row by row through the triggers, on the same connection: the copied index is extended
    first = catalog.lookup("P0000000")
    assert first is not None
    catalog.upsert([first.model_copy(update={"name": "Quokka Plush"}),
                    first.model_copy(update={"id": "NEW", "sku": "NEW-1", "barcode": "",
                                             "name": "Quokka Mug"})])
    fts_check(catalog)
    assert fts_names(catalog, "quokka") == {"P0000000", "NEW"}
    catalog.close()
    other = Catalog(tmp_path / "c.db")  # a new connection reads the same
    assert fts_names(other, "quokka") == {"P0000000", "NEW"}
    other.close()
    assert leftovers(tmp_path) == []


def test_first_import_when_the_index_builder_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A builder that dies (a full disk) or cannot start: the index is built from the table,
    the import goes through, and no temporary file stays."""
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 45_000)
    dying = tmp_path / "dying.py"
    dying.write_text("import sys\nsys.stdin.buffer.readline()\n"
                     "sys.exit('sqlite3.OperationalError: database or disk is full')\n")
    monkeypatch.setattr(fts_build, "SCRIPT", dying)
    catalog = Catalog(tmp_path / "c.db")
    assert catalog.import_csv(path) == 45_000
    fts_check(catalog)
    assert fts_names(catalog, "hazel") == table_names(catalog, "hazel") != set()
    assert "the FTS builder failed (sqlite3.OperationalError: database or disk is full)" \
        in caplog.text
    catalog.close()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))  # fts_build's sys
    (tmp_path / "c.db").unlink()
    catalog = Catalog(tmp_path / "c.db")
    assert catalog.import_csv(path) == 45_000
    fts_check(catalog)
    assert "cannot start the FTS builder" in caplog.text
    catalog.close()
    assert leftovers(tmp_path) == []


def test_an_import_pauses_the_cycle_collector_and_turns_it_back_on(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 100)
    catalog = Catalog(tmp_path / "c.db")
    seen: list[bool] = []
    assert gc.isenabled()
    catalog.import_csv(path, progress=lambda _: seen.append(gc.isenabled()))
    assert seen == [False] and gc.isenabled()
    bad = tmp_path / "bad.csv"
    bad.write_text("id,sku,barcode,name,price,stock,category\nX1,,,Tea,1.x,,\n")
    with pytest.raises(InputError):
        catalog.import_csv(bad)
    assert gc.isenabled()
    gc.disable()  # the program's own choice is kept
    try:
        catalog.import_csv(path)
        assert not gc.isenabled()
    finally:
        gc.enable()
    catalog.close()


def test_the_index_builder_removes_its_file_when_the_import_dies(tmp_path: Path) -> None:
    """Its input ends without `end` (the importing process was killed): nothing is kept."""
    db = tmp_path / "b.tmp"
    sql = ("CREATE VIRTUAL TABLE products_fts USING fts5(name, content='products', "
           "content_rowid='rowid', tokenize='trigram', detail='none', columnsize=0)")
    script = str(fts_build.SCRIPT)
    out = subprocess.run([sys.executable, "-I", script, str(db), sql, "16"],
                         input=b'1\t["Hazel Tea", "Oat Milk"]\n', capture_output=True)
    assert out.returncode == 1 and not db.exists()
    out = subprocess.run([sys.executable, "-I", script, str(db), sql, "16"],
                         input=b'1\t["Hazel Tea", "Oat Milk"]\nend\n', capture_output=True)
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT rowid FROM products_fts('oat')").fetchall() == [(2,)]


@pytest.mark.slow
def test_quick_benchmarks_run() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only",
                          "catalog_refresh_100k_s,barcode_lookup_p99_ms,order_write_p50_ms,"
                          "sync_orders_per_s"],
                         capture_output=True, text=True, timeout=600, check=True)
    names = [line.split('"name": "')[1].split('"')[0] for line in out.stdout.splitlines()]
    assert names == ["catalog_refresh_100k_s", "barcode_lookup_p99_ms", "order_write_p50_ms",
                     "order_write_p99_ms", "sync_orders_per_s", "sync_cpu_ms_per_order"]


# --- a first import with a rollback journal (pos.store.catalog_import._rollback_journal) --------

_CRASHING_IMPORT = """
import os, sys
from pathlib import Path
from pos.store import Catalog, catalog_import
catalog_import._BULK_CACHE_KIB = -512  # a small cache: pages reach the file before COMMIT
db = Path(sys.argv[1])
catalog = Catalog(db)
def crash(count):
    if count >= 40_000:
        print(db.stat().st_size, Path(str(db) + "-journal").exists(), flush=True)
        os._exit(1)  # like kill -9: no rollback, no cleanup
catalog.import_csv(Path(sys.argv[2]), progress=crash)
"""


def journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def test_first_import_uses_a_rollback_journal_and_leaves_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 25_000)
    catalog = Catalog(tmp_path / "c.db")
    modes: list[str] = []
    catalog.import_csv(path, progress=lambda _: modes.append(
        catalog.db.execute("PRAGMA journal_mode").fetchone()[0]))
    assert set(modes) == {"truncate"}
    assert catalog.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not (tmp_path / "c.db-journal").exists()
    modes.clear()
    catalog.import_csv(path, progress=lambda _: modes.append(  # a refresh: in the WAL
        catalog.db.execute("PRAGMA journal_mode").fetchone()[0]))
    assert set(modes) == {"wal"}
    catalog.close()
    assert journal_mode(tmp_path / "c.db") == "wal"


def test_crash_during_a_first_import_leaves_the_empty_catalog(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 60_000)
    db = tmp_path / "c.db"
    catalog = Catalog(db)
    catalog.set_meta("kept", "yes")
    catalog.close()
    size = db.stat().st_size
    out = subprocess.run([sys.executable, "-c", _CRASHING_IMPORT, str(db), str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    crashed_size, journal = out.stdout.split()
    assert int(crashed_size) > size and journal == "True"  # pages were in the file already
    catalog = Catalog(db)  # rolls the journal back
    assert catalog.count() == 0
    assert catalog.meta("kept") == "yes"
    assert catalog.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert catalog.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert catalog.import_csv(path) == 60_000
    assert fts_names(catalog, "hazel") == table_names(catalog, "hazel")
    catalog.close()


def test_first_import_stays_in_the_wal_while_another_connection_reads(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 25_000)
    till = Catalog(tmp_path / "c.db")
    catalog = Catalog(tmp_path / "c.db")
    seen: list[int] = []
    catalog.import_csv(path, progress=lambda _: seen.append(till.count()))
    assert seen == [0, 0]  # the till went on reading the old catalog, without waiting
    assert till.count() == 25_000
    till.close()
    catalog.close()


def test_opening_the_catalog_during_a_first_import_waits_for_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 25_000)
    db = tmp_path / "c.db"
    catalog = Catalog(db)
    opened: list[int] = []
    starting: list[threading.Thread] = []

    def open_and_count() -> None:
        till = Catalog(db)
        opened.append(till.count())
        till.close()

    def start_till(count: int) -> None:
        if not starting:
            starting.append(threading.Thread(target=open_and_count))
            starting[0].start()
            time.sleep(0.3)  # the till is waiting for the import

    catalog.import_csv(path, progress=start_till)
    starting[0].join(timeout=20)
    assert opened == [25_000]  # opened once the import was done, on the new catalog
    # the same while the import's lock is held longer than the busy timeout: a clear error
    catalog.db.execute("PRAGMA journal_mode=TRUNCATE")
    catalog.db.execute("BEGIN IMMEDIATE")
    catalog.db.execute("DELETE FROM products WHERE rowid < 10")
    monkeypatch.setattr(pos.store.db, "_BUSY_TIMEOUT_S", 0.3)
    with pytest.raises(StorageError, match="busy"):
        Catalog(db)
    catalog.db.execute("ROLLBACK")
    catalog.close()
    assert Catalog(db).count() == 25_000


def test_a_till_opens_the_catalog_during_a_refresh(tmp_path: Path) -> None:
    """A refresh runs in the WAL: a till started meanwhile opens at once and reads the old
    catalog (opening an up-to-date file takes no write lock)."""
    path = tmp_path / "c.csv"
    write_catalog_csv(path, 25_000)
    db = tmp_path / "c.db"
    catalog = Catalog(db)
    catalog.import_csv(path)
    seen: list[int] = []

    def start_till(count: int) -> None:
        started = time.monotonic()
        till = Catalog(db)
        seen.append(till.count())
        till.close()
        assert time.monotonic() - started < 2

    catalog.db.execute("DELETE FROM products WHERE rowid <= 100")
    assert catalog.import_csv(path, progress=start_till) == 25_000
    assert seen == [24_900, 24_900]
    catalog.close()
