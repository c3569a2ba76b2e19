"""The outbox: what still has to reach a backend, and how each attempt went.

Entry states: `queued` (to send; `next_attempt_at` says when), `sending` (a call is under way —
found in this state after a crash it means *unknown*), `done`, `unknown` (reconcile before any
retry), `failed` (the backend refused; a cashier retries, edits or cancels), `canceled`.
Each state change is committed before the call it announces, so a crash at any point leaves an
entry that says exactly what might have happened.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pos.store.db import Database, transaction
from pos.store.orders import now_iso

OPEN_STATES = ("queued", "sending", "unknown", "failed")


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    number: str
    target: str
    kind: str  # place | mirror | status
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str
    remote_id: str | None


_COLS = "id, number, target, kind, state, attempts, next_attempt_at, last_error, remote_id"


class Outbox:
    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    def _rows(self, where: str, params: list[object], limit: int = -1) -> list[OutboxEntry]:
        sql = f"SELECT {_COLS} FROM outbox WHERE {where} ORDER BY id LIMIT {int(limit)}"
        return [OutboxEntry(*r) for r in self.db.execute(sql, params)]

    def get(self, entry_id: int) -> OutboxEntry | None:
        rows = self._rows("id = ?", [entry_id])
        return rows[0] if rows else None

    def for_order(self, number: str) -> list[OutboxEntry]:
        return self._rows("number = ?", [number])

    def due(self, now: float | None = None, limit: int = 500) -> list[OutboxEntry]:
        """Entries to work on now: queued and due, or left `sending`/`unknown` (reconcile)."""
        now = time.time() if now is None else now
        return self._rows(
            "(state IN ('queued', 'unknown') AND next_attempt_at <= ?) OR state = 'sending'",
            [now], limit)

    def open_entries(self) -> list[OutboxEntry]:
        return self._rows("state IN ('queued', 'sending', 'unknown', 'failed')", [])

    def pending_count(self) -> int:
        return int(self.db.execute(
            "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending', 'unknown')"
        ).fetchone()[0])

    def set_state(self, entry_id: int, state: str, *, error: str | None = None,
                  remote_id: str | None = None, next_attempt_at: float | None = None,
                  count_attempt: bool = False, uncount_attempt: bool = False,
                  only_from: str | None = None, stamp: str | None = None,
                  conn: sqlite3.Connection | None = None) -> bool:
        """Change an entry's state: in its own transaction, or in `conn`'s when given.

        `only_from`: only if the entry is in that state now. `uncount_attempt`: an attempt
        counted for a call that was never made. `stamp`: the time to record (now by default).
        Returns whether the entry was changed.
        """
        sets = ["state = ?", "updated_at = ?"]
        params: list[object] = [state, stamp or now_iso()]
        if error is not None:
            sets.append("last_error = ?")
            params.append(error)
        if remote_id is not None:
            sets.append("remote_id = ?")
            params.append(remote_id)
        if next_attempt_at is not None:
            sets.append("next_attempt_at = ?")
            params.append(next_attempt_at)
        if count_attempt:
            sets.append("attempts = attempts + 1")
        if uncount_attempt:
            sets.append("attempts = attempts - 1")
        sql = f"UPDATE outbox SET {', '.join(sets)} WHERE id = ?"
        params.append(entry_id)
        if only_from is not None:
            sql += " AND state = ?"
            params.append(only_from)
        if conn is not None:
            return conn.execute(sql, params).rowcount > 0
        with transaction(self.db, self.path) as c:
            return c.execute(sql, params).rowcount > 0

    def set_done(self, conn: sqlite3.Connection, done: Sequence[tuple[int, str]], *,
                 stamp: str) -> None:
        """Entries `done` with their remote ids — (entry id, remote id) pairs — in `conn`'s
        transaction, in one statement (`executemany`): what `set_state(id, "done",
        remote_id=..., error="")` does for each."""
        conn.executemany(
            "UPDATE outbox SET state = 'done', updated_at = ?, last_error = '', remote_id = ? "
            "WHERE id = ?", [(stamp, remote_id, entry_id) for entry_id, remote_id in done])

    def add(self, number: str, target: str, kind: str) -> None:
        stamp = now_iso()
        with transaction(self.db, self.path) as conn:
            conn.execute(
                "INSERT INTO outbox (number, target, kind, state, created_at, updated_at) "
                "VALUES (?, ?, ?, 'queued', ?, ?) ON CONFLICT(number, target, kind) DO UPDATE "
                "SET state = 'queued', next_attempt_at = 0, updated_at = excluded.updated_at",
                [number, target, kind, stamp, stamp])
