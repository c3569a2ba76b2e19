"""Benchmarks of the local store: catalog import, lookup, search, RSS; durable order writes."""

from __future__ import annotations

import csv
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

from benchmarks.common import Run, emit, note, percentile
from benchmarks.data import HEADER, write_catalog_csv
from pos.store import Catalog, Ledger

# --- data ---------------------------------------------------------------------------------------


def catalog_csv(run: Run, count: int) -> tuple[Path, list[list[str]]]:
    """The CSV of a `count`-product catalog (generated once per run)."""
    key = f"csv-{count}"
    if key not in run.cache:
        path = run.workdir / f"catalog-{count}.csv"
        started = time.perf_counter()
        rows = write_catalog_csv(path, count)
        note(f"generated {count:,} products in {time.perf_counter() - started:.1f} s")
        run.cache[key] = (path, rows)
    result: tuple[Path, list[list[str]]] = run.cache[key]
    return result


def catalog_db(run: Run, count: int) -> Path:
    """A catalog database holding `count` products (imported by the real code)."""
    key = f"db-{count}"
    if key not in run.cache:
        csv_path, _ = catalog_csv(run, count)
        path = run.workdir / f"catalog-{count}.db"
        catalog = Catalog(path)
        catalog.import_csv(csv_path)
        catalog.close()
        run.cache[key] = path
    db: Path = run.cache[key]
    return db


def _remove_db(path: Path) -> None:
    """A database file and its WAL files, where they exist."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


# --- import ---------------------------------------------------------------------------------------


def _reference_import(csv_path: Path, db_path: Path) -> float:
    """sqlite-utils `insert_all` with its defaults, same rows (parsed from the same CSV)."""
    started = time.perf_counter()
    db = sqlite_utils.Database(db_path)
    with csv_path.open(newline="", encoding="utf-8") as fh:
        db.table("products").insert_all(csv.DictReader(fh))
    db.conn.close()
    return time.perf_counter() - started


def bench_import(run: Run, count: int, name: str, target: float) -> None:
    csv_path, _ = catalog_csv(run, count)
    reference = _reference_import(csv_path, run.workdir / f"reference-{count}.db")
    (run.workdir / f"reference-{count}.db").unlink()
    path = run.workdir / f"catalog-{count}.db"
    _remove_db(path)
    started = time.perf_counter()
    catalog = Catalog(path)
    imported = catalog.import_csv(csv_path)
    catalog.close()
    value = time.perf_counter() - started
    assert imported == count, (imported, count)
    run.cache[f"db-{count}"] = path
    emit(name, value, "s", target=target, reference=reference, rows=count)


def bench_import_100k(run: Run) -> None:
    bench_import(run, 100_000, "catalog_import_100k_s", 1.5)


def bench_import_1m(run: Run) -> None:
    bench_import(run, 1_000_000, "catalog_import_1m_s", 15.0)


# --- refresh --------------------------------------------------------------------------------------

# how a refresh file differs from the catalog it goes into: (kind, share of prices changed, share
# of names changed, new products). "daily" is the figure; the others are printed beside it.
REFRESHES = (("daily", 0.1, 0.01, 1_000), ("same_file", 0.0, 0.0, 0),
             ("every_price", 1.0, 0.0, 0), ("every_name", 0.0, 1.0, 0))


def refresh_rows(rows: list[list[str]], prices: float, names: float, new: int,
                 seed: int = 4) -> list[list[str]]:
    """The catalog's rows as a later export of the store would give them."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        row = list(row)
        if rng.random() < prices:
            row[4] = f"{Decimal(row[4]) * Decimal('1.05'):.2f}"
        if rng.random() < names:
            row[3] = f"{row[3]} (new recipe)"
        out.append(row)
    for i in range(new):
        out.append([f"N{i:07d}", f"NEW-{i:06d}", "", f"Seasonal Gift Box {i}", "19.90", "5",
                    "Gifts"])
    return out


def copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a catalog (SQLite's backup), so each refresh starts the same."""
    _remove_db(target)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()


def _reference_refresh(csv_path: Path, refresh_path: Path, db_path: Path) -> float:
    """sqlite-utils `upsert_all` (pk id) of the refresh file into a table loaded from the CSV."""
    db = sqlite_utils.Database(db_path)
    with csv_path.open(newline="", encoding="utf-8") as fh:
        db.table("products").insert_all(csv.DictReader(fh), pk="id")
    started = time.perf_counter()
    with refresh_path.open(newline="", encoding="utf-8") as fh:
        db.table("products").upsert_all(csv.DictReader(fh), pk="id")
    elapsed = time.perf_counter() - started
    db.conn.close()
    return elapsed


def bench_refresh(run: Run, count: int, name: str, target: float,
                  refreshes: tuple[tuple[str, float, float, int], ...], repeat: int) -> None:
    """`pos catalog import` of a newer export into the `count` catalog (a copy of the one
    `catalog_import_*` built): Catalog opened, import, closed. The first of `refreshes` is the
    figure (median of `repeat` runs); the others are printed beside it."""
    csv_path, rows = catalog_csv(run, count)
    source = catalog_db(run, count)
    target_db = run.workdir / f"refresh-{count}.db"
    seconds: dict[str, float] = {}
    files: dict[str, Path] = {}
    for kind, prices, names, new in refreshes:
        files[kind] = run.workdir / f"refresh-{count}-{kind}.csv"
        with files[kind].open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([HEADER, *refresh_rows(rows, prices, names, new)])
        times = []
        for _ in range(repeat if kind == refreshes[0][0] else 1):
            copy_db(source, target_db)
            started = time.perf_counter()
            catalog = Catalog(target_db)
            catalog.import_csv(files[kind])
            catalog.close()
            times.append(time.perf_counter() - started)
        seconds[kind] = statistics.median(times)
        note(f"refresh of {count:,} ({kind}): {', '.join(f'{t:.2f}' for t in times)} s")
    _remove_db(target_db)
    first = refreshes[0][0]
    reference = _reference_refresh(csv_path, files[first], run.workdir / "reference-r.db")
    (run.workdir / "reference-r.db").unlink()
    figure = seconds.pop(first)
    others: dict[str, Any] = {f"{kind}_s": round(t, 3) for kind, t in seconds.items()}
    emit(name, figure, "s", target=target, reference=reference, rows=count,
         changes="a tenth of the prices, a hundredth of the names, 1,000 new", **others)


def bench_refresh_100k(run: Run) -> None:
    bench_refresh(run, 100_000, "catalog_refresh_100k_s", 1.5,
                  REFRESHES[:1] if run.quick else REFRESHES, 1 if run.quick else 3)


def bench_refresh_1m(run: Run) -> None:
    bench_refresh(run, 1_000_000, "catalog_refresh_1m_s", 15.0, REFRESHES[:1], 1)


# --- lookup ---------------------------------------------------------------------------------------


def bench_lookup(run: Run) -> None:
    count = run.big
    _, rows = catalog_csv(run, count)
    catalog = Catalog(catalog_db(run, count))
    rng = random.Random(1)
    n = 2_000 if run.quick else 10_000
    codes = [row[2] if rng.random() < 0.7 else row[1] for row in rng.choices(rows, k=n)]
    for code in codes[:200]:  # warm the page cache like a till that has been open a while
        catalog.lookup(code)
    samples, cpu = [], []
    for code in codes:
        started, cpu_started = time.perf_counter(), time.thread_time()
        product = catalog.lookup(code)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        assert product is not None, code
    catalog.close()
    emit("barcode_lookup_p99_ms", percentile(samples, 99), "ms", target=1.0, reference=None,
         p50=round(percentile(samples, 50), 4), cpu_p99=round(percentile(cpu, 99), 4),
         lookups=n, catalog=count)


# --- search ---------------------------------------------------------------------------------------


def search_queries(rows: list[list[str]], n: int, seed: int = 2) -> list[str]:
    """What a cashier types: 3–8 char prefixes of a word, or substrings of a name."""
    rng = random.Random(seed)
    out = []
    for row in rng.choices(rows, k=n):
        name = row[3].lower()
        if rng.random() < 0.6:
            word = rng.choice([w for w in name.split() if len(w) >= 3])
            out.append(word[: rng.randint(3, min(8, len(word)))])
        else:
            length = rng.randint(3, min(8, len(name)))
            start = rng.randint(0, len(name) - length)
            text = name[start:start + length].strip()
            out.append(text if len(text) >= 3 else name[:length])
    return out


def bench_search(run: Run) -> None:
    count = run.big
    _, rows = catalog_csv(run, count)
    path = catalog_db(run, count)
    catalog = Catalog(path)
    n = 300 if run.quick else 1_000
    queries = search_queries(rows, n)
    for q in queries[:20]:
        catalog.search(q)
    samples, cpu, hits = [], [], 0
    for q in queries:
        started, cpu_started = time.perf_counter(), time.thread_time()
        found = catalog.search(q, limit=50)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        hits += bool(found)
    catalog.close()
    # reference: a LIKE '%x%' scan of the same table for the same first 50 hits
    conn = sqlite3.connect(path)
    ref_queries = queries[: max(50, n // 5)]
    ref = []
    for q in ref_queries:
        started = time.perf_counter()
        conn.execute("SELECT * FROM products WHERE name LIKE ? OR sku LIKE ? OR barcode LIKE ? "
                     "LIMIT 50", [f"%{q}%"] * 3).fetchall()
        ref.append((time.perf_counter() - started) * 1000)
    conn.close()
    emit("search_p99_ms", percentile(samples, 99), "ms", target=10.0,
         reference=percentile(ref, 99), p50=round(percentile(samples, 50), 4),
         cpu_p99=round(percentile(cpu, 99), 4), queries=n,
         with_hits=hits, catalog=count)


# --- RSS ------------------------------------------------------------------------------------------

_RSS_SCRIPT = """
import json, sys
from pathlib import Path
from pos.store import Catalog
catalog = Catalog(Path(sys.argv[1]))
codes, queries = json.loads(sys.argv[2]), json.loads(sys.argv[3])
for code in codes:
    catalog.lookup(code)
for q in queries:
    catalog.search(q)
def vm(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
print(json.dumps({"rss": vm("VmRSS:"), "hwm": vm("VmHWM:")}))
"""


def bench_rss(run: Run) -> None:
    count = run.big
    _, rows = catalog_csv(run, count)
    path = catalog_db(run, count)
    rng = random.Random(3)
    codes = [r[2] for r in rng.choices(rows, k=50)]
    queries = search_queries(rows, 50, seed=4)
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(path), json.dumps(codes),
                          json.dumps(queries)], capture_output=True, text=True, check=True)
    measured = json.loads(out.stdout)
    ref = subprocess.run([sys.executable, "-c", "import pos.store, json\n"
                          "print(json.dumps([l for l in open('/proc/self/status') "
                          "if l.startswith('VmRSS:')][0].split()[1]))"],
                         capture_output=True, text=True, check=True)
    emit("rss_1m_catalog_mb", measured["rss"], "MB", target=120.0,
         reference=int(json.loads(ref.stdout)) / 1024, peak_mb=round(measured["hwm"], 1),
         catalog=count)


# --- orders ---------------------------------------------------------------------------------------


def sample_order(number: str, lane: str = "B1") -> Any:
    from pos.models import CartLine, Order, Payment, PricedLine, Totals

    lines, priced = [], []
    for i in range(5):
        price = Decimal("3.49") + i
        lines.append(CartLine(key=f"k{i}", product_id=f"P{i:07d}", sku=f"GR-00{i}",
                              barcode=f"400000000000{i}", name=f"Alpine Organic Chocolate {i}",
                              quantity=i + 1, unit_price=price, tax_class="std"))
        priced.append(PricedLine(key=f"k{i}", unit_price=price, total=price * (i + 1),
                                 tax=Decimal("0.50")))
    total = sum((p.total for p in priced), Decimal("0"))
    return Order(number=number, lane=lane, cashier="bench", profile="bench", backend="bench",
                 created_at=datetime.now(UTC), lines=tuple(lines), priced=tuple(priced),
                 payments=(Payment(method="cash", kind="cash", amount=total,
                                   tendered=total + 1, change=Decimal(1)),),
                 totals=Totals(subtotal=total, total=total))


def bench_order_write(run: Run) -> None:
    data_dir = run.workdir / "orders"
    ledger = Ledger(data_dir)
    n = 500 if run.quick else 3_000
    orders = [sample_order(f"B1-{i:06d}") for i in range(n + 50)]
    for order in orders[:50]:  # warm-up
        ledger.orders.record_sale(order, [("bench", "place")], None)
    samples = []
    for order in orders[50:]:
        started = time.perf_counter()
        ledger.orders.record_sale(order, [("bench", "place")], None)
        samples.append((time.perf_counter() - started) * 1000)
    # reference: the bare fsync'ed commit of one tiny row (the floor set by the disk)
    conn = ledger.db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS bench_floor (x INTEGER)")
    floor = []
    for i in range(min(n, 500)):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO bench_floor VALUES (?)", [i])
        conn.execute("COMMIT")
        floor.append((time.perf_counter() - started) * 1000)
    ledger.close()
    emit("order_write_p50_ms", percentile(samples, 50), "ms", target=1.0,
         reference=percentile(floor, 50), writes=n)
    emit("order_write_p99_ms", percentile(samples, 99), "ms", target=5.0,
         reference=percentile(floor, 99), writes=n)
