"""Pull a backend's catalog into the local cache (`pos catalog sync`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from pos.backends.base import Backend, Capability
from pos.errors import PosError
from pos.store import Catalog


def sync_catalog(backend: Backend, catalog: Catalog, filters: Mapping[str, str] | None = None,
                 progress: Callable[[int, int | None], None] | None = None) -> int:
    if not backend.supports(Capability.CATALOG):
        raise PosError(title="No catalog to sync",
                       message=f"The {backend.name} backend has no product listing.",
                       hint="Import the catalog from a CSV file: pos catalog import FILE.csv")
    total = backend.catalog_size_hint()
    classes = backend.tax_classes()
    if classes:
        catalog.set_tax_classes(classes)
    categories = getattr(backend, "categories", None)  # optional: (id, name, parent_id) rows
    if callable(categories):
        catalog.set_categories(categories())
    done = 0
    for page in backend.iter_catalog(filters):
        done += catalog.upsert(page)
        if progress:
            progress(done, total)
    catalog.set_meta("synced_at", datetime.now(UTC).isoformat())
    return done
