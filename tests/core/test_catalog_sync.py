"""`pos catalog sync`: a backend's pages written in one transaction by the bulk path."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest

from pos.backends.base import Backend, BackendContext, BackendInfo, BackendSettings, Capability
from pos.catalog_sync import sync_catalog
from pos.errors import TransientError
from pos.models import Product
from pos.store import Catalog


def product(i: int, name: str = "Hazelnut Spread") -> Product:
    return Product(id=f"P{i:06d}", sku=f"SKU-{i:06d}", barcode="", name=f"{name} {i}",
                   price=Decimal("2.50"), stock=5, category="Food")


class PagedBackend(Backend):
    """A store listing `count` products in pages of `page`; the network fails at `fail_at`."""

    name = "paged"
    capabilities: ClassVar[Capability] = Capability.CATALOG
    Settings = BackendSettings

    def __init__(self, count: int, page: int = 100, fail_at: int | None = None,
                 name: str = "Hazelnut Spread") -> None:
        super().__init__(BackendSettings(backend="paged"),
                         BackendContext(data_dir=Path("."), profile="paged"))
        self.count, self.page, self.fail_at, self.product_name = count, page, fail_at, name

    def info(self) -> BackendInfo:
        return BackendInfo(name=self.name)

    def catalog_size_hint(self) -> int | None:
        return self.count

    def iter_catalog(self, filters: Mapping[str, str] | None = None) -> Iterator[list[Product]]:
        for start in range(0, self.count, self.page):
            if self.fail_at is not None and start >= self.fail_at:
                raise TransientError(message="The store did not answer.")
            yield [product(i, self.product_name)
                   for i in range(start, min(start + self.page, self.count))]


def test_a_big_sync_is_searchable_and_reports_progress(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.db")
    seen: list[tuple[int, int | None]] = []
    assert sync_catalog(PagedBackend(25_000, page=500), catalog,
                        progress=lambda done, total: seen.append((done, total))) == 25_000
    assert catalog.count() == 25_000
    assert seen[0] == (500, 25_000) and seen[-1] == (25_000, 25_000)
    assert [p.id for p in catalog.search("hazelnut spread 24999")] == ["P024999"]
    assert catalog.lookup("SKU-000007") is not None
    assert catalog.meta("synced_at")
    catalog.close()


def test_a_refresh_renames_what_search_finds(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.db")
    sync_catalog(PagedBackend(30_000), catalog)
    sync_catalog(PagedBackend(30_000, name="Walnut Butter"), catalog)
    assert catalog.count() == 30_000
    assert catalog.search("hazelnut") == []
    assert [p.id for p in catalog.search("walnut butter 29999")] == ["P029999"]
    catalog.close()


def test_a_sync_that_fails_half_way_leaves_the_catalog_as_it_was(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.db")
    sync_catalog(PagedBackend(1_000), catalog)
    with pytest.raises(TransientError) as failed:
        sync_catalog(PagedBackend(30_000, name="Walnut Butter", fail_at=25_000), catalog)
    assert "The local catalog is unchanged" in failed.value.hint
    assert "sale" not in failed.value.hint  # not the network hint of a sale's sending
    assert catalog.count() == 1_000
    assert catalog.search("walnut") == []
    assert len(catalog.search("hazelnut")) > 0
    catalog.close()
