"""Importing a catalog CSV (`pos catalog import`): the file checked and parsed row by row, and
loaded in one transaction (all rows or none) by the fast path a big load needs.

Imported by `Catalog.import_csv` when it is first used, not at the counter's start-up.
"""

from __future__ import annotations

import csv
import gc
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pos.errors import InputError
from pos.models import ProductOption
from pos.money import parse_money
from pos.store.catalog import COLUMNS, UPSERT, max_rowid
from pos.store.catalog_refresh import KeyChanges, RenameLog
from pos.store.db import Database, set_wal, transaction
from pos.store.fts_build import FtsBuilder

log = logging.getLogger(__name__)

REQUIRED_CSV = ("id", "sku", "barcode", "name", "price", "stock", "category")
OPTIONAL_CSV = ("tax_class", "options", "minimum")


def import_csv(db: Database, db_path: Path, path: Path,
               progress: Callable[[int], None] | None = None) -> int:
    """Stream the CSV at `path` into the catalog `db` (see `Catalog.import_csv`)."""
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(message=f"Cannot read {path}: {exc.strerror}") from None
    with fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise InputError(message=f"{path} is empty.", hint="The first line is the header.") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InputError(message=f"{path}: not a CSV file ({exc}).") from None
        missing = [c for c in REQUIRED_CSV if c not in header]
        if missing:
            raise InputError(
                message=f"{path}: the header lacks {', '.join(missing)}.",
                hint="Required: " + ",".join(REQUIRED_CSV) + "; optional: "
                + ",".join(OPTIONAL_CSV) + ".",
            )
        unknown = [c for c in header if c not in REQUIRED_CSV + OPTIONAL_CSV]
        if unknown:
            raise InputError(message=f"{path}: unknown column(s) {', '.join(unknown)}.")
        rows = _csv_rows(reader, header, path)
        return bulk_upsert(db, db_path, rows, progress)


def bulk_upsert(db: Database, db_path: Path, rows: Iterator[tuple[Any, ...]],
                 progress: Callable[[int], None] | None) -> int:
    """Upsert rows in one transaction (all or nothing); see `_load`.

    Into an empty catalog that no other connection has open, the transaction runs with a
    rollback journal instead of the WAL (see `_rollback_journal`).
    """
    chunks = _chunks(rows, _CHUNK)
    journal = not max_rowid(db.conn) and _rollback_journal(db.conn)
    try:
        with _no_cycle_collection(), transaction(db, db_path) as conn:
            return _load(conn, chunks, progress, db_path)
    finally:
        if journal:
            # still locked after the busy timeout: the next `connect` switches the file back
            with suppress(sqlite3.OperationalError):
                set_wal(db.conn)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while rows are read: they are tuples of strings and
    numbers (no cycles, freed as soon as they are inserted), and the collector would walk each
    one several times, for nothing (an eighth of the time spent reading a CSV). Loads in two
    threads: the last one to finish turns it back on. Off already (by the program): left off."""
    global _gc_pauses
    with _GC_LOCK:
        paused = _gc_pauses > 0 or gc.isenabled()
        if paused:
            _gc_pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if paused:
            with _GC_LOCK:
                _gc_pauses -= 1
                if not _gc_pauses:
                    gc.enable()


_GC_LOCK = threading.Lock()
_gc_pauses = 0


def _rollback_journal(conn: sqlite3.Connection) -> bool:
    """Switch the connection from WAL to a rollback journal, if no other connection has the
    file open (SQLite refuses at once otherwise, and the load stays in the WAL); return whether
    it did.

    A first import writes every page of a catalog that held nothing. With the WAL, COMMIT reads
    the whole log back to rewrite the checksums of pages spilled and changed again, and the
    checkpoint copies it all into the file a second time. With a journal (`TRUNCATE`: the commit
    is the journal cut to nothing and synced, with `synchronous=FULL`), only the few pages the
    empty catalog had are saved in the journal, and each page goes into the file once. A crash
    leaves the journal behind, and the next connection rolls the file back to the empty catalog.

    While the load runs, another process cannot open the catalog: `connect` cannot switch it
    back to WAL while this connection holds the write lock, and waits for it like for any write
    lock (busy timeout, then "busy"). A connection opened before the load (a till) keeps the
    load in the WAL, where it reads the old catalog until COMMIT.
    """
    try:
        return str(conn.execute("PRAGMA journal_mode=TRUNCATE").fetchone()[0]) == "truncate"
    except sqlite3.OperationalError:  # "database is locked": another connection has it open
        return False


def _load(conn: sqlite3.Connection, chunks: Iterator[list[tuple[Any, ...]]],
          progress: Callable[[int], None] | None, db_path: Path) -> int:
    """Upsert the rows inside the caller's transaction; returns how many.

    A big load (a first import, a full refresh) does not update the FTS index row by row
    through the triggers: they are dropped inside the transaction and recreated before the one
    COMMIT. Into an empty table, the FTS index is built beside the rows, on the other core (see
    `FtsBuilder`), and the secondary indexes are built once at the end (sorted, not row by row).
    Into a table holding rows, unchanged rows are skipped and only the renamed and new products
    are indexed at the end (see `_refresh`). A small load into a big catalog keeps the triggers.
    """
    chunk = next(chunks, [])
    last_rowid = max_rowid(conn)
    if len(chunk) < _CHUNK and last_rowid >= 4 * len(chunk):
        return _upsert_chunks(conn, chunk, chunks, progress)
    rebuilt = _drop_schema(conn, "trigger")  # CREATE statements to run again after the load
    if last_rowid:
        count = _refresh(conn, chunk, chunks, progress, last_rowid)
    else:
        rebuilt = _drop_schema(conn, "index") + rebuilt
        count = _load_into_empty(conn, chunk, chunks, progress, db_path)
    # CREATE INDEX sorts runs of rows in worker threads, one per core
    conn.execute(f"PRAGMA threads = {min(os.cpu_count() or 1, 4)}")
    try:
        for sql in rebuilt:
            conn.execute(sql)
    finally:
        conn.execute("PRAGMA threads = 0")
    return count


def _refresh(conn: sqlite3.Connection, chunk: list[tuple[Any, ...]],
             chunks: Iterator[list[tuple[Any, ...]]],
             progress: Callable[[int], None] | None, last_rowid: int) -> int:
    """Upsert into a table holding rows; then only its renamed and new products are indexed
    for search, or the whole index is rebuilt if many were renamed (see `RenameLog`)."""
    automerge = _fts_automerge(conn, _BULK_FTS_AUTOMERGE)
    renames = RenameLog(conn, last_rowid)
    keys = KeyChanges(conn)
    try:
        count = _upsert_chunks(conn, chunk, chunks, progress, renames.check, keys.upsert)
        how = renames.update_index()
        log.info("catalog import: %d rows into a catalog of %d, search index %s", count,
                 last_rowid, how)
    finally:
        renames.close()
    _fts_automerge(conn, automerge)
    return count


def _load_into_empty(conn: sqlite3.Connection, chunk: list[tuple[Any, ...]],
                     chunks: Iterator[list[tuple[Any, ...]]],
                     progress: Callable[[int], None] | None, db_path: Path) -> int:
    """Upsert into an empty table while `FtsBuilder` indexes the names, the n-th row of the
    load as rowid n. If every row was new, that is the rowid the table gave it, and the
    builder's index becomes the catalog's. A load naming a product twice (an update), a load of
    one chunk (nothing to win) or a failed builder: the index is built from the table."""
    builder = _start_builder(conn, db_path) if len(chunk) >= _CHUNK else None
    try:
        count = _upsert_chunks(conn, chunk, chunks, progress, builder.add if builder else None)
        if not (builder and max_rowid(conn) == count and builder.copy_into(conn)):
            conn.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
    finally:
        if builder:
            builder.close()
    return count


def _start_builder(conn: sqlite3.Connection, db_path: Path) -> FtsBuilder | None:
    try:
        return FtsBuilder(_fts_sql(conn), db_path, automerge=_BULK_FTS_AUTOMERGE,
                          name_column=_NAME)
    except OSError as exc:  # no temporary file, no process: indexed from the table
        log.warning("catalog import: cannot start the FTS builder (%s)", exc.strerror or exc)
        return None


def _upsert_chunks(conn: sqlite3.Connection, chunk: list[tuple[Any, ...]],
                   chunks: Iterator[list[tuple[Any, ...]]],
                   progress: Callable[[int], None] | None,
                   each: Callable[[list[tuple[Any, ...]]], None] | None = None,
                   upsert: Callable[[list[tuple[Any, ...]]], None] | None = None) -> int:
    """Upsert `chunk` and the next ones (`each` is shown each before it goes in; `upsert`
    instead of `UPSERT`); return how many rows."""
    count = 0
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {_BULK_CACHE_KIB}")  # the table stays in memory
    try:
        while chunk:
            if each:
                each(chunk)
            if upsert:
                upsert(chunk)
            else:
                conn.executemany(UPSERT, chunk)
            count += len(chunk)
            if progress:
                progress(count)
            chunk = next(chunks, [])
    finally:
        # the sorts of CREATE INDEX run faster with the default cache (runs of ~2 MiB sorted,
        # then merged) than in one big in-memory sort
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
    return count


def _fts_sql(conn: sqlite3.Connection) -> str:
    return str(conn.execute("SELECT sql FROM sqlite_master WHERE name = 'products_fts'")
               .fetchone()[0])


def _fts_automerge(conn: sqlite3.Connection, value: int) -> int:
    """Set the FTS index's 'automerge' option (inside the transaction); return the old value.

    While loading, 16 (the most) instead of the default 4: up to ~3M rows the index is written
    as a few segments that are never merged, a quarter less work than with 4, and searches are as
    fast; a bigger load still merges, so no level reaches 'crisismerge' (16 segments, merged all
    at once by the next write: a pause at the till).
    """
    row = conn.execute("SELECT v FROM products_fts_config WHERE k = 'automerge'").fetchone()
    conn.execute("INSERT INTO products_fts(products_fts, rank) VALUES ('automerge', ?)", [value])
    return int(row[0]) if row else _FTS_DEFAULT_AUTOMERGE


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    """Lists of up to `size` rows; an error raised by `rows` (a bad line) comes after the
    chunks before it."""
    while chunk := list(islice(rows, size)):
        yield chunk


def _drop_schema(conn: sqlite3.Connection, kind: str) -> list[str]:
    """Drop the products table's triggers or (non-automatic) indexes; return their SQL."""
    found = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = ? "
                         "AND tbl_name = 'products' AND sql IS NOT NULL ORDER BY name",
                         [kind]).fetchall()
    for name, _ in found:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _, sql in found]


_CHUNK = 20_000
_NAME = COLUMNS.index("name")  # the name's place in a products row (UPSERT's order)
_BULK_CACHE_KIB = -65_536  # 64 MiB of page cache while loading rows, the default after
_BULK_FTS_AUTOMERGE = 16
_FTS_DEFAULT_AUTOMERGE = 4  # FTS5's own default, when the table's config holds none


def _csv_rows(reader: Iterator[list[str]], header: list[str], path: Path) -> Iterator[tuple[Any, ...]]:
    convert = _row_converter(header)
    width = len(header)
    for line_no, cells in enumerate(reader, start=2):
        if len(cells) != width:
            # blank lines (no cells, or only whitespace) are skipped, not errors
            if not cells or not "".join(cells).strip():
                continue
            raise InputError(message=f"{path}, line {line_no}: {len(cells)} fields, expected {width}.")
        try:
            yield convert(cells)
        except (InputError, ValueError, ValidationError) as exc:
            if not "".join(cells).strip():
                continue
            reason = exc.message if isinstance(exc, InputError) else str(exc).splitlines()[0]
            raise InputError(message=f"{path}, line {line_no}: {reason}") from None


_PLAIN_PRICE = re.compile(r"\d+(\.\d+)?")
# a price whose text is already what `str(Decimal(text))` gives back (no leading zeros, ASCII)
_CANONICAL_PRICE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")


def _row_converter(header: list[str]) -> Callable[[list[str]], tuple[Any, ...]]:
    """A function turning one CSV record into a products row (columns looked up once)."""
    index = {name: i for i, name in enumerate(header)}
    i_id, i_sku, i_barcode, i_name, i_price, i_stock, i_category = (
        index[c] for c in ("id", "sku", "barcode", "name", "price", "stock", "category"))
    i_tax, i_options, i_minimum = (index.get(c) for c in ("tax_class", "options", "minimum"))
    plain_price = _PLAIN_PRICE.fullmatch
    canonical_price = _CANONICAL_PRICE.fullmatch

    def convert(cells: list[str]) -> tuple[Any, ...]:
        pid, name = cells[i_id].strip(), cells[i_name].strip()
        if not pid:
            raise InputError(message="id is empty")
        if not name:
            raise InputError(message="name is empty")
        price_text = cells[i_price].strip()
        if canonical_price(price_text):
            price = price_text  # the common case: no Decimal round trip needed
        else:
            # a plain "012.50" is what parse_money returns for it; anything else goes through it
            value = Decimal(price_text) if plain_price(price_text) else parse_money(price_text)
            if value < 0:
                raise InputError(message=f"price {price_text!r} is negative")
            price = str(value)
        stock_text = cells[i_stock]
        stock = int(stock_text) if stock_text and not stock_text.isspace() else None
        if i_minimum is None:
            minimum = 1
        else:
            minimum_text = cells[i_minimum].strip()
            minimum = int(minimum_text or 1)
            if minimum < 1:
                raise InputError(message="minimum must be at least 1")
        options_text = cells[i_options].strip() if i_options is not None else ""
        options = _options_json(options_text) if options_text else ""
        return (pid, cells[i_sku].strip(), cells[i_barcode].strip(), name, price,
                cells[i_tax].strip() if i_tax is not None else "", stock, minimum, options,
                cells[i_category].strip(), 1, 0, 0)

    return convert


def _options_json(options_text: str) -> str:
    try:
        parsed = json.loads(options_text)
    except json.JSONDecodeError:
        raise InputError(message="options is not a JSON list") from None
    if not isinstance(parsed, list):
        raise InputError(message="options is not a JSON list")
    return json.dumps([ProductOption.model_validate(o).model_dump(mode="json") for o in parsed])
