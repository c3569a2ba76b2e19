"""Carts in progress and parked carts: saved after every change, so a crash loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pos.errors import NotFoundError
from pos.models import Cart
from pos.store.db import Database, transaction


class CartStore:
    def __init__(self, db: Database, path: Path) -> None:
        self.db = db
        self.path = path

    def save_active(self, cart: Cart, lane: str) -> None:
        """Make `cart` this lane's active cart (one per lane), durably."""
        with transaction(self.db, self.path) as conn:
            conn.execute("DELETE FROM carts WHERE lane = ? AND state = 'active' AND id != ?",
                         [lane, cart.id])
            conn.execute(
                "INSERT INTO carts (id, lane, state, label, updated_at, data) "
                "VALUES (?, ?, 'active', ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "state='active', label=excluded.label, updated_at=excluded.updated_at, "
                "data=excluded.data",
                [cart.id, lane, cart.label, _now(), cart.model_dump_json()],
            )

    def load_active(self, lane: str) -> Cart | None:
        row = self.db.execute(
            "SELECT data FROM carts WHERE lane = ? AND state = 'active' "
            "ORDER BY updated_at DESC LIMIT 1", [lane]).fetchone()
        return Cart.model_validate_json(row[0]) if row else None

    def park(self, cart: Cart, lane: str) -> None:
        with transaction(self.db, self.path) as conn:
            conn.execute(
                "INSERT INTO carts (id, lane, state, label, updated_at, data) "
                "VALUES (?, ?, 'parked', ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "state='parked', label=excluded.label, updated_at=excluded.updated_at, "
                "data=excluded.data",
                [cart.id, lane, cart.label, _now(), cart.model_dump_json()],
            )

    def parked(self, lane: str | None = None) -> list[Cart]:
        sql = "SELECT data FROM carts WHERE state = 'parked'"
        params: list[str] = []
        if lane is not None:
            sql += " AND lane = ?"
            params.append(lane)
        rows = self.db.execute(sql + " ORDER BY updated_at", params).fetchall()
        return [Cart.model_validate_json(r[0]) for r in rows]

    def recall(self, cart_id: str, lane: str) -> Cart:
        """Make a parked cart the active one (the current active cart must be parked first)."""
        row = self.db.execute("SELECT data FROM carts WHERE id = ? AND state = 'parked'",
                              [cart_id]).fetchone()
        if row is None:
            raise NotFoundError(message=f"No parked cart {cart_id}.")
        cart = Cart.model_validate_json(row[0])
        self.save_active(cart, lane)
        return cart

    def delete(self, cart_id: str) -> None:
        with transaction(self.db, self.path) as conn:
            conn.execute("DELETE FROM carts WHERE id = ?", [cart_id])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
