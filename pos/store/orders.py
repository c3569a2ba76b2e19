"""Orders: lane-safe numbering and the durable record of every sale.

A sale's number is `<lane>-<sequence>` (e.g. `L1-000042`): the sequence is per lane and taken
inside a write transaction, so two processes on one data dir never draw the same number, and two
lanes never collide because the lane is part of the number. The number is reserved and stored
before anything leaves the machine; the order, its lines and its outbox entries are written in
one `synchronous=FULL` transaction.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import NamedTuple

from pos.errors import NotFoundError, RuleError
from pos.models import Order, OrderStatus
from pos.store.db import Database, transaction


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class StatusChange(NamedTuple):
    """A new status for a sale (`OrderStore.set_statuses`); `remote_id=None` keeps the stored
    one; `event` (with `detail`) adds a line to the sale's history."""

    number: str
    status: OrderStatus
    last_error: str = ""
    remote_id: str | None = None
    event: str = ""
    detail: str = ""


_SET_STATUS = (
    "UPDATE orders SET status = ?1, last_error = ?2, updated_at = ?3, "
    "data = json_set(data, '$.status', ?1, '$.last_error', ?2) WHERE number = ?4")
_SET_STATUS_AND_REMOTE_ID = (
    "UPDATE orders SET status = ?1, last_error = ?2, updated_at = ?3, remote_id = ?4, "
    "data = json_set(data, '$.status', ?1, '$.last_error', ?2, '$.remote_id', ?4) "
    "WHERE number = ?5")
_INSERT_EVENT = "INSERT INTO events (number, at, kind, detail) VALUES (?, ?, ?, ?)"


class OrderStore:
    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    # --- numbering ---------------------------------------------------------------------------

    def reserve_number(self, lane: str) -> str:
        """Take the lane's next number, durably (committed before it is returned)."""
        with transaction(self.db, self.path) as conn:
            seq = conn.execute(
                "INSERT INTO sequences (lane, next) VALUES (?, 2) "
                "ON CONFLICT(lane) DO UPDATE SET next = next + 1 RETURNING next - 1",
                [lane],
            ).fetchone()[0]
        return f"{lane}-{seq:06d}"

    # --- writing -----------------------------------------------------------------------------

    def record_sale(self, order: Order, deliveries: Sequence[tuple[str, str]],
                    cart_id: str | None, *, replace_failed: bool = False) -> None:
        """Write the order, its lines and its outbox entries, and close the cart: all or nothing.

        `deliveries`: (target profile, kind) pairs, kind `place` or `mirror`. Writing the same
        number twice is refused by the primary key, so a sale can never be recorded twice.
        `replace_failed`: the sale was refused by the store and fixed by the cashier — the
        order under this number is replaced and its entries queued again, but only while it is
        still `failed` (never one the store may have).
        """
        with transaction(self.db, self.path) as conn:
            event = "recorded"
            if replace_failed and self._clear_failed(conn, order.number):
                event = "edited"
            self._insert_order(conn, order, replace=event == "edited")
            stamp = now_iso()
            conn.executemany(
                "INSERT INTO outbox (number, target, kind, state, created_at, updated_at) "
                "VALUES (?, ?, ?, 'queued', ?, ?) ON CONFLICT(number, target, kind) DO UPDATE "
                "SET state = 'queued', attempts = 0, next_attempt_at = 0, last_error = '', "
                "remote_id = NULL, updated_at = excluded.updated_at",
                [(order.number, target, kind, stamp, stamp) for target, kind in deliveries],
            )
            if cart_id:
                conn.execute("DELETE FROM carts WHERE id = ?", [cart_id])
            self.note(order.number, event, order.status.value, conn=conn, stamp=stamp)

    def _clear_failed(self, conn: sqlite3.Connection, number: str) -> bool:
        """Drop a refused sale's lines before its edited copy is written (False: no such sale)."""
        row = conn.execute("SELECT status FROM orders WHERE number = ?", [number]).fetchone()
        if row is None:
            return False
        if row[0] != OrderStatus.FAILED.value:
            raise RuleError(
                title="Sale already handled",
                message=f"Sale {number} is {row[0]} now (retried or cancelled meanwhile): "
                        "this edited copy is not sent.",
                hint="Void this cart; the Orders screen shows the sale.", field="place")
        conn.execute("DELETE FROM order_lines WHERE number = ?", [number])
        return True

    def _insert_order(self, conn: sqlite3.Connection, order: Order, *,
                      replace: bool = False) -> None:
        stamp = now_iso()
        upsert = (" ON CONFLICT(number) DO UPDATE SET updated_at = excluded.updated_at, "
                  "status = excluded.status, profile = excluded.profile, "
                  "backend = excluded.backend, currency = excluded.currency, "
                  "total = excluded.total, customer = excluded.customer, "
                  "cashier = excluded.cashier, remote_id = excluded.remote_id, "
                  "last_error = excluded.last_error, data = excluded.data") if replace else ""
        conn.execute(
            "INSERT INTO orders (number, lane, created_at, updated_at, status, profile, backend, "
            "currency, total, customer, cashier, remote_id, last_error, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + upsert,
            [order.number, order.lane, order.created_at.isoformat(), stamp, order.status.value,
             order.profile, order.backend, order.currency, str(order.totals.total),
             order.customer.name, order.cashier, order.remote_id, order.last_error,
             order.model_dump_json()],
        )
        priced = {p.key: p for p in order.priced}
        conn.executemany(
            "INSERT INTO order_lines (number, idx, product_id, sku, name, options, quantity, "
            "unit_price, total, tax) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(order.number, i, ln.product_id, ln.sku, ln.name, ln.options_label, ln.quantity,
              str(ln.unit_price), str(priced[ln.key].total if ln.key in priced else 0),
              str(priced[ln.key].tax if ln.key in priced else 0))
             for i, ln in enumerate(order.lines)],
        )

    def update(self, order: Order, event: str = "", detail: str = "",
               conn: sqlite3.Connection | None = None) -> None:
        """Store a changed order (status, remote id, error, payments)."""
        def write(c: sqlite3.Connection) -> None:
            stamp = now_iso()
            c.execute(
                "UPDATE orders SET status = ?, remote_id = ?, last_error = ?, total = ?, "
                "updated_at = ?, data = ? WHERE number = ?",
                [order.status.value, order.remote_id, order.last_error, str(order.totals.total),
                 stamp, order.model_dump_json(), order.number],
            )
            if event:
                self.note(order.number, event, detail, conn=c, stamp=stamp)
        if conn is not None:
            write(conn)
        else:
            with transaction(self.db, self.path) as c:
                write(c)

    def note(self, number: str, kind: str, detail: str = "", *,
             conn: sqlite3.Connection | None = None, stamp: str | None = None) -> None:
        """Add an event to a sale's history: in `conn`'s transaction, or in its own."""
        row = [number, stamp or now_iso(), kind, detail]
        if conn is not None:
            conn.execute(_INSERT_EVENT, row)
            return
        with transaction(self.db, self.path) as c:
            c.execute(_INSERT_EVENT, row)

    def set_status(self, conn: sqlite3.Connection, number: str, status: OrderStatus, *,
                   last_error: str = "", remote_id: str | None = None, event: str = "",
                   detail: str = "", stamp: str | None = None) -> None:
        """Change only an order's status, error (and remote id when given), in `conn`'s
        transaction: the sync engine's state changes (`set_statuses`, for one order)."""
        self.set_statuses(conn, [StatusChange(number, status, last_error, remote_id, event,
                                              detail)], stamp=stamp)

    def set_statuses(self, conn: sqlite3.Connection, changes: Sequence[StatusChange], *,
                     stamp: str | None = None) -> None:
        """Change only some orders' status, error (and remote id when given), in `conn`'s
        transaction, with one statement per kind of change for them all (`executemany`).

        Same result as `update` with a copy of each order carrying these fields, without reading
        and re-serialising whole orders: SQLite patches the stored JSON (`json_set`), so the
        `data` column and the columns stay in step. `remote_id=None` keeps the one stored.
        `stamp`: the time to record (one per transaction), now by default. The changes are
        made in the order given; then their events (`event`, `detail`) are added.
        """
        stamp = stamp or now_iso()
        for keeps_remote_id, run in groupby(changes, key=lambda c: c.remote_id is None):
            if keeps_remote_id:
                conn.executemany(_SET_STATUS, [(c.status.value, c.last_error, stamp, c.number)
                                                for c in run])
            else:
                conn.executemany(_SET_STATUS_AND_REMOTE_ID, [
                    (c.status.value, c.last_error, stamp, c.remote_id, c.number) for c in run])
        events = [(c.number, stamp, c.event, c.detail) for c in changes if c.event]
        if events:
            conn.executemany(_INSERT_EVENT, events)

    # --- reading -----------------------------------------------------------------------------

    def get(self, number: str) -> Order:
        row = self.db.execute("SELECT data FROM orders WHERE number = ?", [number]).fetchone()
        if row is None:
            raise NotFoundError(message=f"There is no order {number}.",
                                hint="`pos orders list` shows the numbers.")
        return Order.model_validate_json(row[0])

    def get_many(self, numbers: Sequence[str]) -> dict[str, Order]:
        """The orders with these numbers (those that exist), read in one query."""
        rows = self.db.execute(
            "SELECT number, data FROM orders WHERE number IN (SELECT value FROM json_each(?))",
            [json.dumps(list(numbers))])
        return {number: Order.model_validate_json(data) for number, data in rows}

    def exists(self, number: str) -> bool:
        return self.db.execute("SELECT 1 FROM orders WHERE number = ?", [number]).fetchone() is not None

    def list(self, *, limit: int = 100, search: str = "", status: str | None = None,
             since: str | None = None) -> builtins.list[Order]:
        sql = "SELECT data FROM orders WHERE 1=1"
        params: list[object] = []
        if status:
            sql += " AND status = ?"
            params.append(status)
        if since:
            sql += " AND created_at >= ?"
            params.append(since)
        if search:
            sql += (" AND (number LIKE ? OR customer LIKE ? OR remote_id LIKE ? OR number IN "
                    "(SELECT number FROM order_lines WHERE name LIKE ? OR sku = ?))")
            like = f"%{search}%"
            params += [like, like, like, like, search]
        sql += " ORDER BY created_at DESC, number DESC LIMIT ?"
        params.append(limit)
        return [Order.model_validate_json(r[0]) for r in self.db.execute(sql, params)]

    def count_by_status(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.db.execute(
            "SELECT status, count(*) FROM orders GROUP BY status")}

    def events(self, number: str) -> builtins.list[tuple[str, str, str]]:
        return [tuple(r) for r in self.db.execute(
            "SELECT at, kind, detail FROM events WHERE number = ? ORDER BY id", [number])]


__all__ = ["OrderStatus", "OrderStore", "StatusChange", "now_iso"]
