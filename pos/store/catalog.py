"""The local catalog cache: products (+ FTS5 trigram index), tax classes, categories.

One file per profile (`catalog-<profile>.db`), so a shop with two backends keeps two catalogs.
Lookups by barcode/SKU/id use unique indexes (≤ 1 ms at a million products); search-as-you-type
uses an FTS5 trigram index of names without ranking (any part of a name) and the SKU and barcode
indexes (codes starting with the text).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pos.models import Product, ProductOption, TaxClass
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
    # 4: a product's search entry is rewritten only when its name changes, not whenever a row
    # is written with its name (UPDATE OF fires for the columns set, changed or not): a price or
    # stock update no longer costs an FTS delete and insert (≈ 15 µs a row)
    """
    DROP TRIGGER products_au;
    CREATE TRIGGER products_au AFTER UPDATE OF name ON products
    WHEN old.name IS NOT new.name BEGIN
        INSERT INTO products_fts(products_fts, rowid, name) VALUES ('delete', old.rowid, old.name);
        INSERT INTO products_fts(rowid, name) VALUES (new.rowid, new.name);
    END;
    """,
]

COLUMNS = ("id", "sku", "barcode", "name", "price", "tax_class", "stock", "minimum", "options",
           "category", "shipping", "points", "reward")
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


def upsert_sql(updated: Sequence[str], where: str) -> str:
    """One product row (`COLUMNS`' order) inserted, or its `updated` columns set by id when
    `where` holds (it sees `products.<column>` and `excluded.<column>`)."""
    return (f"INSERT INTO products ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)}) ON CONFLICT(id) DO UPDATE SET "
            + ", ".join(f"{c}=excluded.{c}" for c in updated) + f" WHERE {where}")


def differs(columns: Sequence[str]) -> str:
    """SQL true when the stored row's `columns` differ from the row being upserted."""
    return (f"({', '.join(f'products.{c}' for c in columns)}) IS NOT "
            f"({', '.join(f'excluded.{c}' for c in columns)})")


_UPDATED = [c for c in COLUMNS if c != "id"]
# a row that would not change is left alone (no page written, no index entry rewritten: most
# rows of a catalog refresh)
UPSERT = upsert_sql(_UPDATED, differs(_UPDATED))


def max_rowid(conn: sqlite3.Connection) -> int:
    """The products table's highest rowid (0 when empty)."""
    return int(conn.execute("SELECT max(rowid) FROM products").fetchone()[0] or 0)


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


class LazyTaxClasses(Mapping[str, TaxClass]):
    """Tax classes by id, read by `load` the first time they are looked into."""

    def __init__(self, load: Callable[[], dict[str, TaxClass]]) -> None:
        self._load = load
        self._items: dict[str, TaxClass] | None = None

    def _read(self) -> dict[str, TaxClass]:
        if self._items is None:
            self._items = self._load()
        return self._items

    def __getitem__(self, key: str) -> TaxClass:
        return self._read()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())


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

    def tax_classes(self) -> Mapping[str, TaxClass]:
        """The tax classes by id, read when first looked into: pricing a cart with nothing
        taxable in it (the empty cart the counter starts with) reads none."""
        return LazyTaxClasses(self._read_tax_classes)

    def _read_tax_classes(self) -> dict[str, TaxClass]:
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
                    conn.executemany(UPSERT, chunk)
                    count += len(chunk)
                    chunk = []
            if chunk:
                conn.executemany(UPSERT, chunk)
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

    def load(self, products: Iterable[Product],
             progress: Callable[[int], None] | None = None) -> int:
        """Upsert a stream of products in one transaction (all or nothing), by the CSV import's
        bulk path: a whole catalog from a backend costs what importing it from a file does, not
        a row-by-row update of the search index per product."""
        from pos.store.catalog_import import bulk_upsert  # threads: not at start-up

        return bulk_upsert(self.db, self.path, (product_row(p) for p in products), progress)

    def import_csv(self, path: Path, progress: Callable[[int], None] | None = None) -> int:
        """Stream a CSV into the catalog in one transaction: all rows or none.

        Header: `id,sku,barcode,name,price,stock,category` required, `tax_class,options,minimum`
        optional (`options` is a JSON list of options). A bad row aborts the import with its line
        number; nothing is written.
        """
        from pos.store.catalog_import import import_csv  # csv and threads: not at start-up

        return import_csv(self.db, self.path, path, progress)
