"""A catalog refresh: a big upsert into a catalog holding rows (`catalog_import._refresh`).

Most rows of a refresh are unchanged (skipped by `UPSERT`'s WHERE) or change a price or a
stock. Two things keep the rest cheap:

* `KeyChanges`: SKU, barcode and name are set only for the rows where they changed (SQLite
  rewrites a row's entry in every index whose column a statement sets, changed or not).
* `RenameLog`: without the row-by-row FTS triggers (dropped for the load), the search index
  needs only the renamed products (old name deleted, new one added) and the new ones (added).
  While the load runs, a temporary trigger writes each renamed product's rowid and old name, as
  it was before the load, into a temporary table. At the end, if few products were renamed,
  only those and the new rows are indexed; if many were, the whole index is rebuilt from the
  table, which is cheaper past a point:

      measured on 100,000 products: 10,000 renames updated in 0.15 s, a rebuild 0.22–0.25 s
      (≈ 15 µs a renamed product, ≈ 2.3 µs a row of the table)

  so the log stops (and the index is rebuilt) once more than a fifth of the rows are renamed.

100,000-row refresh of a 100,000-product catalog, old code and this alternating (the files of
`python -m benchmarks`' `catalog_refresh_100k_s`, docs/benchmarks.md): a tenth of the prices,
a hundredth of the names and 1,000 new products 1.71 → 0.95 s; the same file 1.69 → 0.84 s;
every price 1.87 → 1.05 s; every name 2.03 → 2.11 s (each row compared, logged, its name index
entry rewritten: no gain there).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pos.store.catalog import COLUMNS, UPSERT, differs, max_rowid, upsert_sql

_KEYS = ("sku", "barcode", "name")  # the columns an index holds (besides id)
_OTHERS = [c for c in COLUMNS if c != "id" and c not in _KEYS]
_NOTE_FUNCTION = "pos_note_key_change"
_REFRESH_UPSERT = upsert_sql(_OTHERS, f"{_NOTE_FUNCTION}(products.rowid, " + ", ".join(
    f"excluded.{c}, {differs([c])}" for c in _KEYS) + f", {differs(_OTHERS)})")

# a rebuild costs about what updating the index for a fifth of the rows does (see above)
_REBUILD_RATIO = 5


class RenameLog:
    """The renamed products of one load, in a temporary table, inside the load's transaction.

    `last_rowid`: the table's highest rowid before the load. Rows above it are new: they are
    indexed as new rows, even when the same load renames them again (a product twice in a file).
    """

    def __init__(self, conn: sqlite3.Connection, last_rowid: int) -> None:
        self.conn = conn
        self.last_rowid = last_rowid
        self.logging = True
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS pos_renamed "
                     "(rowid INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.execute("DELETE FROM temp.pos_renamed")
        conn.execute("DROP TRIGGER IF EXISTS temp.pos_renamed")  # (its rowid is this load's)
        # the first old name is kept: it is the one the index holds (not with INSERT OR IGNORE:
        # the upsert's own conflict handling overrides a trigger's)
        conn.execute(
            "CREATE TEMP TRIGGER pos_renamed AFTER UPDATE OF name ON main.products "
            f"WHEN old.rowid <= {int(last_rowid)} AND old.name IS NOT new.name BEGIN "
            "INSERT INTO pos_renamed (rowid, name) SELECT old.rowid, old.name "
            "WHERE NOT EXISTS (SELECT 1 FROM pos_renamed WHERE rowid = old.rowid); END")

    def renamed(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM temp.pos_renamed").fetchone()[0])

    def check(self, _: object = None) -> None:
        """Between chunks: stop logging once a rebuild is the cheaper end."""
        if self.logging and self.renamed() * _REBUILD_RATIO > max_rowid(self.conn):
            self.logging = False
            self.conn.execute("DROP TRIGGER IF EXISTS temp.pos_renamed")

    def update_index(self) -> str:
        """Bring products_fts up to date with the table; returns "updated" or "rebuilt"."""
        self.check()
        conn = self.conn
        if not self.logging:
            conn.execute("INSERT INTO products_fts(products_fts) VALUES ('rebuild')")
            return "rebuilt"
        conn.execute("INSERT INTO products_fts(products_fts, rowid, name) "
                     "SELECT 'delete', rowid, name FROM temp.pos_renamed")
        # CROSS JOIN: the renamed rows first (SQLite would otherwise scan the whole table)
        conn.execute("INSERT INTO products_fts(rowid, name) SELECT p.rowid, p.name "
                     "FROM temp.pos_renamed r CROSS JOIN products p ON p.rowid = r.rowid")
        conn.execute("INSERT INTO products_fts(rowid, name) "
                     "SELECT rowid, name FROM products WHERE rowid > ?", [self.last_rowid])
        return "updated"

    def close(self) -> None:
        self.conn.execute("DROP TRIGGER IF EXISTS temp.pos_renamed")
        self.conn.execute("DROP TABLE IF EXISTS temp.pos_renamed")


class KeyChanges:
    """A refresh's upsert, cheaper when most rows keep their SKU, barcode and name (held by
    the indexes): SQLite rewrites a row's entry in every index whose column a statement sets,
    changed or not (≈ 10 µs a row for the three). The upsert sets the other columns; it notes
    the rows whose SKU, barcode or name differ (a function called by its WHERE), and an UPDATE
    by rowid sets, for those rows only, just the keys that changed (a renamed product: its name
    alone). A chunk naming a product twice goes through `UPSERT` (its second row would be
    compared with keys not yet set)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # which keys changed (a tuple of column names) → (their new values..., rowid) per row
        self.changed: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        conn.create_function(_NOTE_FUNCTION, 2 + 2 * len(_KEYS), self._note)

    def _note(self, rowid: int, sku: str, sku_differs: int, barcode: str, barcode_differs: int,
              name: str, name_differs: int, others_differ: int) -> int:
        changed = [(column, value) for column, value, differs_ in zip(
            _KEYS, (sku, barcode, name), (sku_differs, barcode_differs, name_differs),
            strict=True) if differs_]
        if changed:
            columns, values = zip(*changed, strict=True)
            self.changed.setdefault(columns, []).append((*values, rowid))
        return others_differ

    def upsert(self, chunk: list[tuple[Any, ...]]) -> None:
        if len({row[0] for row in chunk}) < len(chunk):
            self.conn.executemany(UPSERT, chunk)
            return
        self.conn.executemany(_REFRESH_UPSERT, chunk)
        for keys, rows in self.changed.items():
            self.conn.executemany(f"UPDATE products SET {', '.join(f'{k} = ?' for k in keys)} "
                                  "WHERE rowid = ?", rows)
        self.changed.clear()
