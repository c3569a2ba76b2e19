"""The FTS index of a big catalog import, built in a process of its own (started by
`catalog_import._FtsBuilder` as a script: it imports nothing of pos).

    python fts_build.py DATABASE "CREATE VIRTUAL TABLE products_fts ..." AUTOMERGE

Creates the FTS table in DATABASE (a new temporary file: no journal, no syncs), then reads lines
`<first rowid>\\t<JSON array of names>` on stdin and indexes each name under its rowid (the
first one's, counted on). On the line `end` it commits and exits 0; the importing process then
copies the index into the catalog. If stdin ends without it (the importing process died), it
removes DATABASE and exits 1. In its own process, the tokenizing runs on the other core
without sharing SQLite's or Python's locks with the process inserting the rows.
"""

from __future__ import annotations

import os
import sqlite3
import sys

INSERT = "INSERT INTO products_fts(rowid, name) SELECT ? + key, value FROM json_each(?)"


def build(path: str, create_sql: str, automerge: int) -> bool:
    """Index what stdin sends; whether it ended with `end`."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
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
