"""The counter's background catalog refresh (`CatalogRefresher`, `PosSession.catalog_refresher`):
when it is due, what it writes, and that a failure or a stop leaves the catalog as it was."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos.backends import create_backend
from pos.backends.base import BackendContext
from pos.catalog_sync import CatalogRefresher, RefreshStopped, sync_catalog
from pos.config import load_settings
from pos.errors import PosError, TransientError
from pos.session import PosSession, open_session
from pos.store import Catalog
from tests.backends._aligncommerce import CONFIG, make_session, write_config
from tests.core.test_catalog_sync import PagedBackend
from tests.emulators.aligncommerce import AlignCommerceEmulator, make_emulator


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emu() -> AlignCommerceEmulator:
    return make_emulator()


@pytest.fixture
def ac(emu: AlignCommerceEmulator, data_dir: Path, config_file: Path) -> Iterator[PosSession]:
    write_config(config_file)
    session = make_session(emu, data_dir)
    yield session
    session.close()


def test_a_store_with_a_catalog_gets_a_refresher_every_hour_by_default(ac: PosSession) -> None:
    refresher = ac.catalog_refresher()
    assert refresher is not None
    assert refresher.every_s == 3600
    assert refresher.catalog_path == ac.catalog.path


def test_no_refresher_for_the_demo_store_or_when_turned_off(
        session: PosSession, emu: AlignCommerceEmulator, data_dir: Path,
        config_file: Path) -> None:
    assert session.catalog_refresher() is None  # local: the cache *is* the store's catalog
    config_file.write_text(CONFIG + "catalog_refresh_minutes = 0\n", "utf-8")
    off = open_session(data_dir / "off", "ac", load_settings(),
                       transports={"ac": emu.transport()})
    try:
        assert off.catalog_refresher() is None
    finally:
        off.close()


def test_refresh_pulls_the_store_with_its_own_client_and_the_counter_sees_it(
        ac: PosSession, emu: AlignCommerceEmulator) -> None:
    refresher = ac.catalog_refresher()
    assert refresher is not None
    assert refresher.due()  # never synced
    counter_backend = ac.backend
    opened = []
    original = refresher.open_backend

    def open_backend():  # type: ignore[no-untyped-def]
        backend = original()
        opened.append(backend)
        return backend

    refresher.open_backend = open_backend
    count = refresher.run()
    assert count == len(emu.products) and count > 0
    assert opened and opened[0] is not counter_backend  # a client of its own...
    assert ac.backend is counter_backend  # ...the counter's is untouched
    assert ac.catalog.count() == count  # the counter's own connection sees the commit
    assert refresher.synced_at is not None and not refresher.failed
    assert not refresher.due()
    # a new product on the store reaches the counter with the next refresh, not before
    emu.add_product("Refreshed Teapot", "12.00")
    assert not ac.catalog.search("refreshed teapot")
    assert refresher.run() == count + 1
    assert [p.name for p in ac.catalog.search("refreshed teapot")] == ["Refreshed Teapot"]


def test_due_follows_the_last_sync_even_one_made_by_hand(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "catalog.db"
    refresher = CatalogRefresher(600, path, lambda: PagedBackend(10), clock=clock)
    catalog = Catalog(path)
    sync_catalog(PagedBackend(10), catalog)  # `pos catalog sync`, before the counter started
    catalog.close()
    assert refresher.synced_at is None
    clock.now = refresher_synced(refresher) + 599
    assert not refresher.due()
    clock.now += 1
    assert refresher.due()
    refresher.run()
    synced = refresher.synced_at
    assert synced is not None
    clock.now = synced.timestamp() + 10
    assert not refresher.due()


def refresher_synced(refresher: CatalogRefresher) -> float:
    refresher.due()  # reads the catalog's last sync
    assert refresher.synced_at is not None
    return refresher.synced_at.timestamp()


def test_a_failed_refresh_keeps_the_catalog_and_waits_before_trying_again(
        tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "catalog.db"
    refresher = CatalogRefresher(600, path, lambda: PagedBackend(1_000, fail_at=500),
                                 clock=clock)
    with pytest.raises(TransientError):
        refresher.run()
    assert "did not answer" in refresher.failed
    catalog = Catalog(path)
    assert catalog.count() == 0 and catalog.meta("synced_at") is None  # nothing written
    catalog.close()
    assert not refresher.due()  # a store that is down is not asked on every check
    clock.now += CatalogRefresher.RETRY_S
    assert refresher.due()
    refresher.open_backend = lambda: PagedBackend(1_000)
    assert refresher.run() == 1_000
    assert not refresher.failed


def test_a_store_answering_garbage_is_a_failure_not_a_crash(
        ac: PosSession, emu: AlignCommerceEmulator) -> None:
    refresher = ac.catalog_refresher()
    assert refresher is not None
    garbage = httpx.MockTransport(
        lambda request: httpx.Response(200, text="<html>Maintenance</html>"))
    refresher.open_backend = lambda: create_backend(
        ac.settings.profile_table("ac"),
        BackendContext(data_dir=ac.data_dir, profile="ac", transport=garbage))
    with pytest.raises(PosError):
        refresher.run()
    assert refresher.failed and "Maintenance" not in refresher.failed
    assert ac.catalog.count() == 0


def test_stopping_abandons_the_refresh_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    pages = 0

    def stop() -> bool:
        nonlocal pages
        pages += 1
        return pages >= 2  # the counter closes during the second page

    refresher = CatalogRefresher(600, path, lambda: PagedBackend(1_000, page=100))
    with pytest.raises(RefreshStopped):
        refresher.run(stop=stop)
    catalog = Catalog(path)
    assert catalog.count() == 0
    catalog.close()


def test_one_refresh_at_a_time(tmp_path: Path) -> None:
    inside, release = threading.Event(), threading.Event()

    class SlowBackend(PagedBackend):
        def iter_catalog(self, filters=None):  # type: ignore[no-untyped-def]
            inside.set()
            release.wait(10)
            yield from super().iter_catalog(filters)

    refresher = CatalogRefresher(600, tmp_path / "c.db", lambda: SlowBackend(10))
    results: list[int | None] = []
    thread = threading.Thread(target=lambda: results.append(refresher.run()))
    thread.start()
    assert inside.wait(10)
    assert refresher.running and not refresher.due()
    assert refresher.run() is None  # a second one does nothing
    release.set()
    thread.join(10)
    assert results == [10] and not refresher.running
