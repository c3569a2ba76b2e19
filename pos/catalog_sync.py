"""Pull a backend's catalog into the local cache (`pos catalog sync`, and the counter's
background refresh: `CatalogRefresher`).

The products are written as their pages arrive, in one transaction by the catalog's bulk path
(`Catalog.load`): a sync that stops half-way (the network, the store's error, the counter
closing) leaves the catalog as it was, and a till that has it open sells from the old catalog
until the sync commits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from pos.backends.base import Backend, Capability
from pos.errors import PosError
from pos.models import Product
from pos.store import Catalog

SYNCED_AT = "synced_at"  # catalog meta: when the last sync committed (ISO, UTC)
log = logging.getLogger("pos.catalog")


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


class RefreshStopped(PosError):
    title = "Catalog refresh stopped"


class CatalogRefresher:
    """The counter's background catalog refresh: when one is due, and running it.

    Due when the catalog was never synced, or last synced `every_s` ago or more — the time
    `sync_catalog` records in the catalog, so a `pos catalog sync` run by hand counts and a
    restarted counter does not refresh again; after a failed refresh, not before `RETRY_S`
    later (a store that is down is not asked every few seconds). A refresh opens its own backend
    (`open_backend`: a client of its own, not the one placing sales) and its own connection to
    the catalog file, so the counter sells from the catalog as it was until the refresh commits.
    `run` is called from a worker thread; `due` and the properties from any thread.
    """

    RETRY_S = 300.0

    def __init__(self, every_s: float, catalog_path: Path, open_backend: Callable[[], Backend],
                 clock: Callable[[], float] = time.time) -> None:
        self.every_s = every_s
        self.catalog_path = catalog_path
        self.open_backend = open_backend
        self.clock = clock
        self.synced_at: datetime | None = None
        self.failed: str = ""  # the last refresh's error ("" when it succeeded)
        self._checked = False  # synced_at read from the catalog
        self._failed_at = -float("inf")
        self._running = threading.Lock()

    @property
    def running(self) -> bool:
        return self._running.locked()

    def _read_synced_at(self) -> None:
        catalog = Catalog(self.catalog_path)
        try:
            self.synced_at = synced_at(catalog)
        finally:
            catalog.close()
        self._checked = True

    def due(self) -> bool:
        if self.running:
            return False
        if not self._checked:
            self._read_synced_at()
        now = self.clock()
        if now - self._failed_at < self.RETRY_S:
            return False
        return self.synced_at is None or now - self.synced_at.timestamp() >= self.every_s

    def run(self, stop: Callable[[], bool] = lambda: False,
            started: Callable[[], object] = lambda: None) -> int | None:
        """Refresh now; the number of products, or None when one is already running.

        `started()` is called once the refresh is under way (`running` is True); `stop()` is
        asked after each page: True abandons the refresh (nothing is written). A failure is
        recorded (`failed`) and raised.
        """
        if not self._running.acquire(blocking=False):
            return None
        began = time.monotonic()
        try:
            started()
            backend = self.open_backend()
            catalog = Catalog(self.catalog_path)

            def page_done(count: int, total: int | None) -> None:
                if stop():
                    raise RefreshStopped(message="The counter closed during the refresh.",
                                         hint="The catalog is unchanged.")

            try:
                count = sync_catalog(backend, catalog, progress=page_done)
                self.synced_at = synced_at(catalog)
            finally:
                backend.close()
                catalog.close()
        except Exception as exc:  # a bug too: not retried before RETRY_S (the log has it)
            self._failed_at = self.clock()
            self.failed = (exc.one_line() if isinstance(exc, PosError)
                           else f"unexpected error ({type(exc).__name__}), see the log")
            log.warning("catalog refresh failed: %s", self.failed)
            raise
        finally:
            self._running.release()
        self.failed = ""
        self._failed_at = -float("inf")
        log.info("catalog refreshed: %d products (%.1f s)", count, time.monotonic() - began)
        return count
