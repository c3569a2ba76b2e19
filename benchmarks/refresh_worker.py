"""The store side of `scan_during_refresh_p99_ms`, in its own process as the counter runs `pos
catalog sync`: `python -m benchmarks.refresh_worker CATALOG LISTING` pulls the 100k-product
`StoreCatalog` (its `LISTING`-th listing) into CATALOG by `sync_catalog` and prints what `pos
catalog sync` prints."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from benchmarks.data import product_rows
from pos.backends.base import Backend, BackendContext, BackendInfo, BackendSettings, Capability
from pos.catalog_sync import sync_catalog
from pos.models import Product
from pos.store import Catalog

PAGE = 500  # products per page of the store's listing


class StoreCatalog(Backend):
    """A store whose catalog is `rows` (benchmarks.data), listed in pages of 500 products parsed
    from JSON as a backend parses its answers; each listing changes a hundredth of the prices
    (another one each time), as an hourly refresh finds them."""

    name = "bench-catalog"
    capabilities: ClassVar[Capability] = Capability.CATALOG

    def __init__(self, rows: list[list[str]], listing: int) -> None:
        super().__init__(BackendSettings(backend="bench-catalog"),
                         BackendContext(data_dir=Path("."), profile="bench"))
        self.rows, self.listing = rows, listing

    def info(self) -> BackendInfo:
        return BackendInfo(name=self.name)

    def catalog_size_hint(self) -> int | None:
        return len(self.rows)

    def iter_catalog(self, filters: Mapping[str, str] | None = None) -> Iterator[list[Product]]:
        for start in range(0, len(self.rows), PAGE):
            page = [{"id": r[0], "sku": r[1], "barcode": r[2], "name": r[3],
                     "price": r[4] if (start + i) % 100 != self.listing % 100
                     else f"{Decimal(r[4]) + Decimal('0.10'):.2f}",
                     "stock": int(r[5]) if r[5] else None, "category": r[6]}
                    for i, r in enumerate(self.rows[start:start + PAGE])]
            yield [Product.model_validate_json(json.dumps(p)) for p in page]


def main() -> None:
    path, listing = Path(sys.argv[1]), int(sys.argv[2])
    catalog = Catalog(path)
    try:
        count = sync_catalog(StoreCatalog(product_rows(100_000), listing), catalog)
    finally:
        catalog.close()
    print(f"Synced {count} products from bench.")


if __name__ == "__main__":
    main()
