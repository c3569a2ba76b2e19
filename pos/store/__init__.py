"""The local store: `pos.db` (carts, orders, outbox, numbering) and one catalog per profile."""

from __future__ import annotations

from pathlib import Path

from pos.store.carts import CartStore
from pos.store.catalog import Catalog
from pos.store.db import connect
from pos.store.orders import OrderStore
from pos.store.outbox import Outbox, OutboxEntry
from pos.store.schema import MIGRATIONS


class Ledger:
    """The sales side of a data dir: one `pos.db` shared by every lane and profile."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "pos.db"
        self.db = connect(self.path, MIGRATIONS)
        self.carts = CartStore(self.db, self.path)
        self.orders = OrderStore(self.db, self.path)
        self.outbox = Outbox(self.db, self.path)

    def close(self) -> None:
        self.db.conn.close()


def catalog_path(data_dir: Path, profile: str) -> Path:
    return data_dir / f"catalog-{profile}.db"


__all__ = ["Catalog", "Ledger", "Outbox", "OutboxEntry", "catalog_path"]
