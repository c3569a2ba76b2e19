"""The FTS index of a big first catalog import, built in a second process while the first one
inserts the rows: both sides of that here.

`FtsBuilder` (used by `catalog_import`) starts this module as a script, which imports nothing of
pos and only the standard library:

    python -I fts_build.py DATABASE "CREATE VIRTUAL TABLE products_fts ..." AUTOMERGE

The script (`build`) creates the FTS table in DATABASE (a new temporary file: no journal, no
syncs), then reads lines `<first rowid>\\t<JSON array of names>` on stdin and indexes each name
under its rowid (the first one's, counted on). On the line `end` it commits and exits 0; the
importing process then copies the index into the catalog. If stdin ends without it (the
importing process died), it removes DATABASE and exits 1. In its own process, the tokenizing
runs on the other core without sharing SQLite's or Python's locks with the process inserting
the rows.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import queue
import sqlite3
import subprocess
import sys
import tempfile
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCRIPT = Path(__file__)
AHEAD = 2  # chunks waiting for the builder, at most
INSERT = "INSERT INTO products_fts(rowid, name) SELECT ? + key, value FROM json_each(?)"
_CACHE_KIB = -65_536  # the builder's page cache: 64 MiB, as the importing connection's


class FtsBuilder:
    """The FTS index of a load into an empty catalog, built by another process (this module run
    as a script, `build`) in a temporary file beside the catalog while this one inserts the
    rows: tokenizing names and inserting rows each take a third of a big import, and in two
    processes they run on two cores without sharing a lock (two threads here slow each other
    down by 40 %: the GIL, and SQLite's global memory lock).

    Each chunk's names go down a pipe as one JSON array, written by a thread of this process (a
    full pipe never stops the load; at most `AHEAD` chunks wait). `copy_into` then replaces the
    catalog's (empty) index with the other process's: the same FTS5 table definition, so the
    same rows of its shadow tables (`_data`: the segments, `_idx`: their first terms).
    """

    def __init__(self, create_sql: str, db_path: Path, *, automerge: int,
                 name_column: int) -> None:
        # a file left by an import that was killed (this one holds the catalog's write lock)
        prefix = f".{db_path.name}-fts-"
        for stale in db_path.parent.glob(glob.escape(prefix) + "*.tmp"):
            stale.unlink(missing_ok=True)
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=db_path.parent)
        os.close(fd)
        self._path = Path(name)
        self._create_sql = create_sql
        self._name_column = name_column
        self._next_rowid = 1
        self._failed = False  # the pipe broke: the index is built from the table instead
        self._done: bool | None = None  # the builder exited: whether it built the index
        self._error = ""
        self._queue: queue.Queue[tuple[int, list[str]] | None] = queue.Queue(AHEAD)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", str(SCRIPT), name, create_sql, str(automerge)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError:
            self._path.unlink(missing_ok=True)
            raise
        self._feeder = threading.Thread(target=self._feed, name="catalog-import-fts",
                                        daemon=True)
        self._feeder.start()

    def add(self, chunk: list[tuple[Any, ...]]) -> None:
        """Index the names of `chunk`, the next rows of the load (rowids counted on)."""
        first, self._next_rowid = self._next_rowid, self._next_rowid + len(chunk)
        self._queue.put((first, [row[self._name_column] for row in chunk]))

    def _feed(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        while (item := self._queue.get()) is not None:
            if self._failed:
                continue  # the rest is taken off the queue, so `add` never waits for nothing
            first, names = item
            try:
                stdin.write(b"%d\t%s\n" % (first, json.dumps(names, ensure_ascii=False)
                                                .encode("utf-8")))
            except Exception:  # the builder died or was stopped (BrokenPipeError), a name
                self._failed = True  # not UTF-8 (the load fails on it too): never stop feeding
        with suppress(OSError):
            if not self._failed:
                stdin.write(b"end\n")
            stdin.close()

    def _finish(self) -> bool:
        """Wait for every chunk to be indexed and the builder to exit; whether all went well."""
        if self._done is None:
            if self._feeder.is_alive():
                self._queue.put(None)
                self._feeder.join()
            assert self._proc.stderr is not None
            errors = self._proc.stderr.read().decode("utf-8", "replace").strip()
            self._proc.stderr.close()
            self._done = self._proc.wait() == 0 and not self._failed
            self._error = errors.splitlines()[-1] if errors else f"exit {self._proc.returncode}"
        return self._done

    def copy_into(self, conn: sqlite3.Connection) -> bool:
        """Make the builder's index the catalog's, inside the load's transaction; False (and
        nothing changed) if the builder failed (a full disk, say).

        The catalog's FTS table is dropped and created again first: an FTS5 table keeps its
        index's structure in memory until another connection changes the file, so the one this
        connection may have read (empty) must not outlive the copy.
        """
        if not self._finish():
            log.warning("catalog import: the FTS builder failed (%s); indexing from the table",
                        self._error)
            return False
        built = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True)
        try:
            data = built.execute("SELECT id, block FROM products_fts_data")
            idx = built.execute("SELECT segid, term, pgno FROM products_fts_idx").fetchall()
            config = conn.execute("SELECT k, v FROM products_fts_config").fetchall()
            conn.execute("DROP TABLE products_fts")
            conn.execute(self._create_sql)
            for table in ("products_fts_data", "products_fts_idx", "products_fts_config"):
                conn.execute(f"DELETE FROM {table}")
            conn.executemany("INSERT INTO products_fts_config (k, v) VALUES (?, ?)", config)
            conn.executemany("INSERT INTO products_fts_data (id, block) VALUES (?, ?)", data)
            conn.executemany("INSERT INTO products_fts_idx (segid, term, pgno) "
                             "VALUES (?, ?, ?)", idx)
        finally:
            built.close()
        return True

    def close(self) -> None:
        """Stop the builder if it still runs (the load failed), and remove its file."""
        if self._done is None:
            self._proc.kill()
            self._finish()
        self._path.unlink(missing_ok=True)


def build(path: str, create_sql: str, automerge: int) -> bool:
    """The script: index what stdin sends; whether it ended with `end`."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(f"PRAGMA cache_size = {_CACHE_KIB}")
        conn.execute(create_sql)
        conn.execute("INSERT INTO products_fts(products_fts, rank) VALUES ('automerge', ?)",
                     [automerge])
        conn.execute("BEGIN")
        for line in sys.stdin.buffer:
            if line == b"end\n":
                conn.execute("COMMIT")
                return True
            first, names = line.split(b"\t", 1)
            conn.execute(INSERT, [int(first), names.decode("utf-8")])
        return False
    finally:
        conn.close()


if __name__ == "__main__":
    if not build(sys.argv[1], sys.argv[2], int(sys.argv[3])):
        os.unlink(sys.argv[1])
        sys.exit(1)
