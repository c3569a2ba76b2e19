"""Pull a backend's catalog into the local cache (`pos catalog sync`, which the counter's
background refresh runs too: `pos.catalog_refresher`).

The products are written as their pages arrive, in one transaction by the catalog's bulk path
(`Catalog.load`): a sync that stops half-way (the network, the store's error, the counter
closing) leaves the catalog as it was, and a till that has it open sells from the old catalog
until the sync commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime

from pos.backends.base import Backend, Capability
from pos.errors import PosError, TransientError
from pos.models import Product
from pos.store import Catalog

SYNCED_AT = "synced_at"  # catalog meta: when the last sync committed (ISO, UTC)


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
    try:
        done = catalog.load(_fetched(backend, filters, total, progress))
    except TransientError as exc:  # its hint speaks of sales ("kept and sent later")
        exc.hint = "The local catalog is unchanged; sync again when the store answers."
        raise
    except PosError as exc:
        exc.hint = " ".join(filter(None, [exc.hint, "The local catalog is unchanged."]))
        raise
    catalog.set_meta(SYNCED_AT, datetime.now(UTC).isoformat())
    return done


def synced_at(catalog: Catalog) -> datetime | None:
    """When the catalog was last synced from its store (None: never, or unreadable)."""
    value = catalog.meta(SYNCED_AT)
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _fetched(backend: Backend, filters: Mapping[str, str] | None, total: int | None,
             progress: Callable[[int, int | None], None] | None) -> Iterator[Product]:
    """The backend's products page by page, counting them as they arrive."""
    count = 0
    for page in backend.iter_catalog(filters):
        for product in page:
            yield product
            count += 1
        if progress:
            progress(count, total)
