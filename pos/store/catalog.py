"""The local catalog cache: products (+ FTS5 trigram index), tax classes, categories.

One file per profile (`catalog-<profile>.db`), so a shop with two backends keeps two catalogs.
Lookups by barcode/SKU/id use unique indexes (≤ 1 ms at a million products); search-as-you-type
uses an FTS5 trigram index of names without ranking (any part of a name) and the SKU and barcode
indexes (codes starting with the text).
"""

from __future__ import annotations

import csv
import json
import queue
import re
import sqlite3
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pos.errors import InputError
from pos.models import Product, ProductOption, TaxClass
from pos.money import parse_money
from pos.store.db import Database, connect, transaction

MIGRATIONS = [
    """
    CREATE TABLE products (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        sku TEXT NOT NULL DEFAULT '',
        barcode TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL,
        price TEXT NOT NULL,
        tax_class TEXT NOT NULL DEFAULT '',
        stock INTEGER,
        minimum INTEGER NOT NULL DEFAULT 1,
        options TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '',
        shipping INTEGER NOT NULL DEFAULT 1,
        points INTEGER NOT NULL DEFAULT 0,
        reward INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX products_barcode ON products(barcode) WHERE barcode != '';
    CREATE INDEX products_sku ON products(sku) WHERE sku != '';
    CREATE INDEX products_name ON products(name COLLATE NOCASE);
    CREATE VIRTUAL TABLE products_fts USING fts5(
        name, sku, barcode, content='products', content_rowid='rowid', tokenize='trigram'
    );
    CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
        INSERT INTO products_fts(rowid, name, sku, barcode)
        VALUES (new.rowid, new.name, new.sku, new.barcode);
    END;
    CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
        INSERT INTO products_fts(products_fts, rowid, name, sku, barcode)
        VALUES ('delete', old.rowid, old.name, old.sku, old.barcode);
    END;
    CREATE TRIGGER products_au AFTER UPDATE OF name, sku, barcode ON products BEGIN
        INSERT INTO products_fts(products_fts, rowid, name, sku, barcode)
        VALUES ('delete', old.rowid, old.name, old.sku, old.barcode);
        INSERT INTO products_fts(rowid, name, sku, barcode)
        VALUES (new.rowid, new.name, new.sku, new.barcode);
    END;
    CREATE TABLE tax_classes (id TEXT PRIMARY KEY, name TEXT NOT NULL, data TEXT NOT NULL);
    CREATE TABLE categories (id TEXT PRIMARY KEY, name TEXT NOT NULL, parent_id TEXT);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: the search index covers names only, without positions (detail=none) or sizes: a
    # quarter of the build time of the first one. SKUs and barcodes (random text, millions of
    # distinct trigrams) are searched from their start through their own indexes.
    """
    DROP TRIGGER products_ai;
    DROP TRIGGER products_ad;
    DROP TRIGGER products_au;
    DROP TABLE products_fts;
    CREATE VIRTUAL TABLE products_fts USING fts5(
        name, content='products', content_rowid='rowid', tokenize='trigram', detail='none',
        columnsize=0
    );
    INSERT INTO products_fts(products_fts) VALUES ('rebuild');
    CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
        INSERT INTO products_fts(rowid, name) VALUES (new.rowid, new.name);
    END;
    CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
        INSERT INTO products_fts(products_fts, rowid, name) VALUES ('delete', old.rowid, old.name);
    END;
    CREATE TRIGGER products_au AFTER UPDATE OF name ON products BEGIN
        INSERT INTO products_fts(products_fts, rowid, name) VALUES ('delete', old.rowid, old.name);
        INSERT INTO products_fts(rowid, name) VALUES (new.rowid, new.name);
    END;
    """,
]

COLUMNS = ("id", "sku", "barcode", "name", "price", "tax_class", "stock", "minimum", "options",
           "category", "shipping", "points", "reward")
REQUIRED_CSV = ("id", "sku", "barcode", "name", "price", "stock", "category")
OPTIONAL_CSV = ("tax_class", "options", "minimum")
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM products"
# `AND barcode != ''` lets SQLite use the partial indexes (it cannot prove `barcode = ?` implies
# it for a bound parameter, and would scan the table instead).
_LOOKUPS = (
    _SELECT + " WHERE barcode = ? AND barcode != '' LIMIT 1",
    _SELECT + " WHERE sku = ? AND sku != '' LIMIT 1",
    _SELECT + " WHERE id = ? LIMIT 1",
)
_SEARCH_NAMES = ("SELECT " + ", ".join(f"p.{c}" for c in COLUMNS) + " FROM products_fts f "
                 "JOIN products p ON p.rowid = f.rowid WHERE ")  # (MATCH names the table)
# typed text is split into words at spaces and at LIKE's wildcards
_SEPARATORS = re.compile(r"[\s%_]+")
_SPACE = re.compile(r"\s")  # a code (SKU, barcode) has none
_UPSERT = (
    f"INSERT INTO products ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in COLUMNS if c != "id")
)


def product_row(p: Product) -> tuple[Any, ...]:
    options = json.dumps([o.model_dump(mode="json") for o in p.options]) if p.options else ""
    return (p.id, p.sku, p.barcode, p.name, str(p.price), p.tax_class, p.stock, p.minimum,
            options, p.category, int(p.shipping), p.points, p.reward)


def row_product(row: sqlite3.Row | tuple[Any, ...]) -> Product:
    (pid, sku, barcode, name, price, tax_class, stock, minimum, options, category, shipping,
     points, reward) = row
    return Product(
        id=pid, sku=sku, barcode=barcode, name=name, price=Decimal(price), tax_class=tax_class,
        stock=stock, minimum=minimum,
        options=tuple(ProductOption.model_validate(o) for o in json.loads(options))
        if options else (),
        category=category, shipping=bool(shipping), points=points, reward=reward,
    )


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: Database = connect(path, MIGRATIONS)

    def close(self) -> None:
        self.db.conn.close()

    # --- reads -------------------------------------------------------------------------------

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM products").fetchone()[0])

    def get(self, product_id: str) -> Product | None:
        row = self.db.execute(_SELECT + " WHERE id = ?", [product_id]).fetchone()
        return row_product(row) if row else None

    def lookup(self, code: str) -> Product | None:
        """A product by barcode, then SKU, then id (exact match)."""
        code = code.strip()
        if not code:
            return None
        conn = self.db.conn
        for sql in _LOOKUPS:
            row = conn.execute(sql, (code,)).fetchone()
            if row:
                return row_product(row)
        return None

    def search(self, text: str, limit: int = 50) -> list[Product]:
        """Search-as-you-type, unranked: SKUs and barcodes starting with the text, then names
        holding every typed word (any case, anywhere in the name)."""
        words = _SEPARATORS.split(text.strip().lower())
        words = [w for w in words if w]
        if not words:
            return []
        code = text.strip()
        rows = self._code_rows(code, limit) if not _SPACE.search(code) else []
        seen = {row[0] for row in rows}
        for row in self._name_rows(words, limit):
            if len(rows) >= limit:
                break
            if row[0] not in seen:
                seen.add(row[0])
                rows.append(row)
        return [row_product(r) for r in rows]

    def _code_rows(self, code: str, limit: int) -> list[tuple[Any, ...]]:
        """Products whose SKU (as typed, or in capitals) or barcode starts with `code`."""
        found: list[tuple[Any, ...]] = []
        columns = ("sku", "barcode") if code.isdigit() else ("sku",)
        for column in columns:
            for prefix in dict.fromkeys((code, code.upper())):
                found += self.db.execute(
                    _SELECT + f" WHERE {column} >= ? AND {column} < ? AND {column} != '' LIMIT ?",
                    [prefix, prefix + "\U0010ffff", limit - len(found)]).fetchall()
                if len(found) >= limit:
                    return found[:limit]
        return found

    def _name_rows(self, words: list[str], limit: int) -> Iterator[tuple[Any, ...]]:
        """Names holding the words as typed, one after the other, then the other names holding
        every word (in any order)."""
        phrase = " ".join(words)
        if len(words) > 1 and phrase.isascii():
            # the whole text's trigrams (spaces included) pick few candidates: fast even where
            # each word alone is common and short words leave many of its hits to look at
            found = self.db.execute(_SEARCH_NAMES + "f.name LIKE ? LIMIT ?",
                                    [f"%{phrase}%", limit]).fetchall()
            yield from found
            if len(found) >= limit:
                return
            limit += len(found)  # they come again in the next query
        yield from self._rows_with_words(words, limit)

    def _rows_with_words(self, words: list[str], limit: int) -> Iterator[tuple[Any, ...]]:
        """Names holding every word, in catalog order.

        Words of three letters or more go through the trigram index: an ASCII word as a LIKE
        pattern (SQLite checks the hits itself), any other as the AND of its trigrams. Shorter
        words filter those hits. SQLite folds the case of ASCII letters only ("ÄPFEL" is not
        LIKE "äpfel"), so words with other letters are checked here. With no long word, names
        *starting* with the text are found through the name index.
        """
        long_words = [w for w in words if len(w) >= 3]
        if not long_words:
            prefix = " ".join(words)
            yield from self.db.execute(_SELECT + " WHERE name LIKE ? LIMIT ?",
                                       [prefix + "%", limit])
            return
        where: list[str] = []
        params: list[Any] = []
        unfolded = [w for w in long_words if not w.isascii()]
        for word in long_words:
            if word.isascii():
                where.append("f.name LIKE ?")
                params.append(f"%{word}%")
        if unfolded:
            trigrams = dict.fromkeys(w[i:i + 3] for w in unfolded for i in range(len(w) - 2))
            where.append("products_fts MATCH ?")
            params.append(" AND ".join('"' + t.replace('"', '""') + '"' for t in trigrams))
        for word in words:
            if len(word) < 3 and word.isascii():
                where.append("instr(lower(p.name), ?) > 0")
                params.append(word)
        checked = [w for w in words if not w.isascii()]
        sql = _SEARCH_NAMES + " AND ".join(where)
        if not checked:
            yield from self.db.execute(sql + " LIMIT ?", [*params, limit])
            return
        found = 0
        for row in self.db.execute(sql, params):
            name = row[3].lower()
            if all(w in name for w in checked):
                yield row
                found += 1
                if found >= limit:
                    return

    def tax_classes(self) -> dict[str, TaxClass]:
        return {
            row[0]: TaxClass.model_validate_json(row[1])
            for row in self.db.execute("SELECT id, data FROM tax_classes")
        }

    def categories(self) -> list[tuple[str, str, str | None]]:
        return [tuple(r) for r in self.db.execute("SELECT id, name, parent_id FROM categories")]

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return str(row[0]) if row else None

    # --- writes ------------------------------------------------------------------------------

    def upsert(self, products: Iterable[Product], batch: int = 20_000) -> int:
        """Insert or update products in one transaction; returns how many."""
        count = 0
        with transaction(self.db, self.path) as conn:
            chunk: list[tuple[Any, ...]] = []
            for product in products:
                chunk.append(product_row(product))
                if len(chunk) >= batch:
                    conn.executemany(_UPSERT, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                conn.executemany(_UPSERT, chunk)
                count += len(chunk)
        return count

    def set_tax_classes(self, classes: Iterable[TaxClass]) -> None:
        with transaction(self.db, self.path) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO tax_classes (id, name, data) VALUES (?, ?, ?)",
                [(c.id, c.name, c.model_dump_json()) for c in classes],
            )

    def set_categories(self, rows: Iterable[tuple[str, str, str | None]]) -> None:
        with transaction(self.db, self.path) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO categories (id, name, parent_id) VALUES (?, ?, ?)", rows
            )

    def set_meta(self, key: str, value: str) -> None:
        with transaction(self.db, self.path) as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    def adjust_stock(self, conn: sqlite3.Connection, product_id: str, delta: int) -> None:
        conn.execute(
            "UPDATE products SET stock = stock + ? WHERE id = ? AND stock IS NOT NULL",
            [delta, product_id],
        )

    def import_csv(self, path: Path, progress: Callable[[int], None] | None = None) -> int:
        """Stream a CSV into the catalog in one transaction: all rows or none.

        Header: `id,sku,barcode,name,price,stock,category` required, `tax_class,options,minimum`
        optional (`options` is a JSON list of options). A bad row aborts the import with its line
        number; nothing is written.
        """
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
            return self._bulk_upsert(rows, progress)

    def _bulk_upsert(self, rows: Iterator[tuple[Any, ...]],
                     progress: Callable[[int], None] | None) -> int:
        """Upsert rows in one transaction (all or nothing).

        A big load (a first import, a full refresh) does not update the FTS index row by row
        through the triggers: they are dropped inside the transaction, the index is rebuilt once
        at the end and the triggers recreated, still before the one COMMIT. A small load into a
        big catalog keeps the triggers (a rebuild would cost more than the rows). Into an empty
        table, the secondary indexes are also built once at the end (sorted, not row by row).
        """
        count = 0
        chunks = _chunks_in_background(rows, _CHUNK)
        try:
            with transaction(self.db, self.path) as conn:
                chunk = next(chunks, [])
                existing = conn.execute("SELECT max(rowid) FROM products").fetchone()[0] or 0
                bulk = len(chunk) == _CHUNK or existing < 4 * len(chunk)
                rebuilt: list[str] = []  # CREATE statements to run again after the load
                if bulk:
                    rebuilt = _drop_schema(conn, "trigger")
                    if not existing:
                        rebuilt = _drop_schema(conn, "index") + rebuilt
                cache = conn.execute("PRAGMA cache_size").fetchone()[0]
                conn.execute(f"PRAGMA cache_size = {_BULK_CACHE_KIB}")  # indexes stay in memory
                try:
                    while chunk:
                        conn.executemany(_UPSERT, chunk)
                        count += len(chunk)
                        if progress:
                            progress(count)
                        chunk = next(chunks, [])
                    if bulk:
                        conn.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
                        for sql in rebuilt:
                            conn.execute(sql)
                finally:
                    conn.execute(f"PRAGMA cache_size = {int(cache)}")
        finally:
            chunks.close()  # stops the reader thread if the load ended early
        return count


def _chunks_in_background(rows: Iterator[tuple[Any, ...]],
                          size: int) -> Generator[list[tuple[Any, ...]], None, None]:
    """Lists of up to `size` rows, read from `rows` by a worker thread a little ahead.

    The CSV parsing (Python) then overlaps SQLite's inserts, which release the GIL. An error
    raised by `rows` (a bad line) is raised here, in order, after the chunks before it; closing
    the generator early stops the worker.
    """
    ready: queue.Queue[list[tuple[Any, ...]] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def work() -> None:
        item: list[tuple[Any, ...]] | BaseException | None
        try:
            while True:
                item = [row for _, row in zip(range(size), rows, strict=False)]
                if not item:
                    item = None
                    break
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed over to the consumer, raised there
            item = exc
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    worker = threading.Thread(target=work, name="catalog-import-reader", daemon=True)
    worker.start()
    try:
        while True:
            got = ready.get()
            if got is None:
                return
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        worker.join()


def _drop_schema(conn: sqlite3.Connection, kind: str) -> list[str]:
    """Drop the products table's triggers or (non-automatic) indexes; return their SQL."""
    found = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = ? "
                         "AND tbl_name = 'products' AND sql IS NOT NULL ORDER BY name",
                         [kind]).fetchall()
    for name, _ in found:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _, sql in found]


_CHUNK = 20_000
_BULK_CACHE_KIB = -65_536  # 64 MiB of page cache while loading, back to the default after


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
