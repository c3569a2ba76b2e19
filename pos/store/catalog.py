"""The local catalog cache: products (+ FTS5 trigram index), tax classes, categories.

One file per profile (`catalog-<profile>.db`), so a shop with two backends keeps two catalogs.
Lookups by barcode/SKU/id use unique indexes (≤ 1 ms at a million products); search-as-you-type
uses an FTS5 trigram index of names without ranking (any part of a name) and the SKU and barcode
indexes (codes starting with the text).
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from itertools import islice
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
    # 3: names starting with a short text are found through an index of lower(name), not of
    # name COLLATE NOCASE: the same order (both fold ASCII letters only) at about half the
    # build time (the sort of CREATE INDEX calls the collation for every comparison).
    """
    DROP INDEX products_name;
    CREATE INDEX products_name ON products(lower(name));
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
# the key of the products_name index: names in case-insensitive (ASCII) order
_NAME_KEY = "lower(name)"
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
        """A product by barcode, then SKU, then id (exact match), then SKU in capitals."""
        code = code.strip()
        if not code:
            return None
        conn = self.db.conn
        for sql in _LOOKUPS:
            row = conn.execute(sql, (code,)).fetchone()
            if row:
                return row_product(row)
        if code != code.upper():  # "mug" typed for the SKU MUG
            row = conn.execute(_LOOKUPS[1], (code.upper(),)).fetchone()
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
            yield from self.db.execute(_SELECT + f" WHERE {_NAME_KEY} >= ? AND {_NAME_KEY} < ? "
                                       f"ORDER BY {_NAME_KEY} LIMIT ?",
                                       [prefix, prefix + "\U0010ffff", limit])
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
        """Upsert rows in one transaction (all or nothing); see `_load`."""
        reader = _ChunkReader(rows, _CHUNK)
        try:
            with transaction(self.db, self.path) as conn:
                return _load(conn, reader, progress)
        finally:
            reader.close()  # waits for a chunk being read if the load ended early


def _load(conn: sqlite3.Connection, reader: _ChunkReader,
          progress: Callable[[int], None] | None) -> int:
    """Upsert the reader's rows inside the caller's transaction; returns how many.

    A big load (a first import, a full refresh) does not update the FTS index row by row
    through the triggers: they are dropped inside the transaction and recreated before the one
    COMMIT. Into an empty table, each chunk's new rows are added to the FTS index by one
    statement while the next chunk is parsed (see `_ChunkReader`), and the secondary indexes are
    built once at the end (sorted, not row by row). Otherwise, or if a row of the file updated an
    earlier one, the FTS index is rebuilt once at the end. A small load into a big catalog keeps
    the triggers (a rebuild would cost more than the rows).
    """
    chunk = reader.next()
    last_rowid = _max_rowid(conn)
    if len(chunk) < _CHUNK and last_rowid >= 4 * len(chunk):
        return _upsert_chunks(conn, chunk, reader, progress, index_after=None)[0]
    rebuilt = _drop_schema(conn, "trigger")  # CREATE statements to run again after the load
    if not last_rowid:
        rebuilt = _drop_schema(conn, "index") + rebuilt
    automerge = _fts_automerge(conn, _BULK_FTS_AUTOMERGE)
    count, indexed = _upsert_chunks(conn, chunk, reader, progress,
                                    index_after=None if last_rowid else 0)
    if not indexed:
        conn.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
    _fts_automerge(conn, automerge)
    for sql in rebuilt:
        conn.execute(sql)
    return count


def _upsert_chunks(conn: sqlite3.Connection, chunk: list[tuple[Any, ...]], reader: _ChunkReader,
                   progress: Callable[[int], None] | None,
                   index_after: int | None) -> tuple[int, bool]:
    """Upsert `chunk` and the reader's next ones; return how many rows, and whether the FTS
    index was kept in step.

    With `index_after` (the table's last rowid before the load), each chunk's new rows are added
    to the FTS index while the reader reads the next chunk, as long as each row of a chunk was
    new (the same id twice in a file may rename a product already indexed).
    """
    count = 0
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {_BULK_CACHE_KIB}")  # the table stays in memory
    try:
        while chunk:
            conn.executemany(_UPSERT, chunk)
            count += len(chunk)
            if progress:
                progress(count)
            if index_after is not None:
                reader.read_ahead()
                added = conn.execute(
                    "INSERT INTO products_fts(rowid, name) SELECT rowid, name FROM products "
                    "WHERE rowid > ?", [index_after]).rowcount
                index_after = index_after + added if added == len(chunk) else None
            chunk = reader.next()
    finally:
        # the sorts of CREATE INDEX run faster with the default cache (runs of ~2 MiB sorted,
        # then merged) than in one big in-memory sort
        conn.execute(f"PRAGMA cache_size = {int(cache)}")
    return count, index_after is not None


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


def _max_rowid(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT max(rowid) FROM products").fetchone()[0] or 0)


class _ChunkReader:
    """Lists of up to `size` rows from `rows`, read in the calling thread or, after
    `read_ahead()`, by a worker thread while the caller runs SQL.

    Parsing the CSV is Python (it holds the GIL); `sqlite3_step` releases it. The next chunk is
    read ahead only while one long statement runs (the FTS insert of a whole chunk): during
    `executemany` each row needs the GIL back from the reader (up to the 5 ms switch interval),
    which made a free-running reader slower than none. An error raised by `rows` (a bad line)
    is raised by `next()`, after the chunks before it.
    """

    def __init__(self, rows: Iterator[tuple[Any, ...]], size: int) -> None:
        self._rows = rows
        self._size = size
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalog-import-reader")
        self._ahead: Future[list[tuple[Any, ...]]] | None = None

    def _take(self) -> list[tuple[Any, ...]]:
        return list(islice(self._rows, self._size))

    def read_ahead(self) -> None:
        if self._ahead is None:
            self._ahead = self._pool.submit(self._take)

    def next(self) -> list[tuple[Any, ...]]:
        """The next chunk; empty at the end."""
        ahead, self._ahead = self._ahead, None
        return ahead.result() if ahead else self._take()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _drop_schema(conn: sqlite3.Connection, kind: str) -> list[str]:
    """Drop the products table's triggers or (non-automatic) indexes; return their SQL."""
    found = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = ? "
                         "AND tbl_name = 'products' AND sql IS NOT NULL ORDER BY name",
                         [kind]).fetchall()
    for name, _ in found:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _, sql in found]


_CHUNK = 20_000
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
