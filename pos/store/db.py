"""Opening SQLite files: pragmas, schema migrations, transactions, disk errors.

Every database is opened in WAL mode with `synchronous=FULL`: a committed sale survives a crash
*and* a power cut (WAL with NORMAL may lose the last commits on power loss). Writes go through
`transaction()`, which takes the write lock up front (`BEGIN IMMEDIATE`) so two processes on
one data dir serialise instead of failing half-way.

Schemas are lists of migration steps; `PRAGMA user_version` records how many have run.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pos.errors import StorageError

Migration = str  # one or more SQL statements
_BUSY_TIMEOUT_S = 10.0  # how long a connection waits for another's write lock


class Database:
    """A connection and `execute`: all that pos needs of `Database`.

    sqlite-utils' own class costs ~0.3 s of imports (dateutil, pluggy…) at the counter's
    start-up; this keeps what its constructor did to the connection (recursive triggers on).
    Connections are opened in autocommit mode (`isolation_level=None`): writes that must be
    atomic go through `transaction()`.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.execute("PRAGMA recursive_triggers=on;")

    def execute(self, sql: str,
                parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> sqlite3.Cursor:
        if parameters is None:
            return self.conn.execute(sql)
        return self.conn.execute(sql, parameters)


def storage_error(exc: BaseException, path: Path | str) -> StorageError:
    text = str(exc).lower()
    if "full" in text or "no space" in text:
        return StorageError(message=f"The disk holding {path} is full.",
                            hint="Free some space; the sale is kept in memory until then.")
    if "readonly" in text or "read-only" in text or "permission" in text:
        return StorageError(message=f"{path} cannot be written (read-only or no permission).",
                            hint="Check the data directory's permissions, or set --data-dir.")
    if "locked" in text or "busy" in text:
        return StorageError(message=f"{path} is busy: another pos process holds it.",
                            hint="Wait a moment and try again.")
    if "not a database" in text or "malformed" in text:
        return StorageError(message=f"{path} is damaged: {exc}",
                            hint="Restore it from a backup, or move it away to start afresh.")
    return StorageError(message=f"{path}: {exc}")


def connect(path: Path, migrations: Sequence[Migration]) -> Database:
    """Open (creating if needed) a database file and bring its schema up to date."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                               timeout=_BUSY_TIMEOUT_S)  # sqlite3_busy_timeout
        set_wal(conn)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn, migrations)
    except (sqlite3.Error, OSError) as exc:
        raise storage_error(exc, path) from None
    return Database(conn)


def set_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode.

    A catalog being imported with a rollback journal (see `pos.store.catalog_import`) cannot be
    switched while the import holds its write lock; SQLite says so at once, without waiting for
    the busy timeout, so this waits here as long as the busy timeout would, then lets the error
    ("database is locked") through. (A try may also wait in SQLite's busy handler, once the
    import holds its exclusive lock: the handler gets only what is left of the timeout.)
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    busy_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                left = deadline - time.monotonic()
                if not ("locked" in str(exc) or "busy" in str(exc)) or left <= 0:
                    raise
                time.sleep(min(0.05, left))
                conn.execute(f"PRAGMA busy_timeout={max(1, int(left * 1000))}")
    finally:
        conn.execute(f"PRAGMA busy_timeout={int(busy_ms)}")


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    """Run the missing steps, each in its own write transaction.

    The version is re-read *inside* the transaction, so several processes opening a new data dir
    at once run each step exactly once. An up-to-date file is not locked at all: a till can open
    the catalog while an import or refresh holds its write lock (in WAL mode it reads the old
    catalog until that COMMIT).
    """
    while True:
        if conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(migrations):
                raise StorageError(
                    message=f"This data was written by a newer pos (schema {version}).",
                    hint="Upgrade pos, or use another --data-dir.",
                )
            if version == len(migrations):
                conn.execute("COMMIT")
                return
            for statement in _statements(migrations[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (our migrations hold no `;` inside literals)."""
    out: list[str] = []
    buf: list[str] = []
    for part in script.split(";"):
        buf.append(part)
        candidate = ";".join(buf).strip()
        if candidate and sqlite3.complete_statement(candidate + ";"):
            out.append(candidate)
            buf = []
    return out


@contextmanager
def transaction(db: Database, path: Path | str = "") -> Iterator[sqlite3.Connection]:
    """`BEGIN IMMEDIATE` … `COMMIT`, rolled back on any error; disk errors become StorageError."""
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from None
    try:
        yield conn
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise storage_error(exc, path) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
