"""The counter's background catalog refresh (`pos.catalog_refresher`): when it is due, what it
writes, that it runs `pos catalog sync` in another process against a real store (an emulator on
loopback), and that a failure, garbage or a stop leaves the catalog as it was."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos.backends import create_backend
from pos.backends.base import Backend, BackendContext
from pos.catalog_refresher import (
    CatalogRefresher,
    RefreshFailed,
    RefreshStopped,
    pull_in_process,
    pull_in_thread,
)
from pos.catalog_sync import sync_catalog
from pos.config import load_settings
from pos.errors import PosError, TransientError
from pos.session import PosSession, open_session
from pos.store import Catalog
from tests.backends._aligncommerce import CONFIG, SECRETS, ac_session
from tests.core.test_catalog_sync import PagedBackend
from tests.emulators.aligncommerce import AlignCommerceEmulator, make_emulator
from tests.emulators.serve import serve_in_thread
from tests.fakes import Clock


@pytest.fixture
def emu() -> AlignCommerceEmulator:
    return make_emulator()


@pytest.fixture
def ac(emu: AlignCommerceEmulator, data_dir: Path, config_file: Path) -> Iterator[PosSession]:
    """A session whose store is the emulator in this process (the refresh runs here too)."""
    with ac_session(emu, data_dir, config_file) as session:
        yield session


@pytest.fixture
def served(emu: AlignCommerceEmulator, data_dir: Path,
           config_file: Path) -> Iterator[PosSession]:
    """A session whose store is the emulator served on loopback, as a real store is reached:
    the refresh is `pos catalog sync` in another process."""
    server, url = serve_in_thread(emu.handle)
    config_file.write_text(CONFIG.replace('"https://ac.test/"', f'"{url}/"')
                           + "allow_http = true\n", "utf-8")
    session = open_session(data_dir, "ac", load_settings())
    yield session
    session.close()
    server.shutdown()


def in_thread(path: Path, backend: Backend) -> CatalogRefresher:
    return CatalogRefresher(600, path, pull_in_thread(lambda: backend, path), clock=Clock(1_000_000.0))


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


def test_the_refresh_is_pos_catalog_sync_in_another_process(
        served: PosSession, emu: AlignCommerceEmulator) -> None:
    refresher = served.catalog_refresher()
    assert refresher is not None
    assert refresher.due()  # never synced
    counter_backend = served.backend
    assert refresher.run() == len(emu.products) > 0
    assert served.catalog.count() == len(emu.products)  # the counter's connection sees it
    assert served.backend is counter_backend
    assert refresher.synced_at is not None and not refresher.failed and not refresher.due()
    emu.add_product("Refreshed Teapot", "12.00")  # new on the store
    assert not served.catalog.search("refreshed teapot")  # not before the next refresh
    assert refresher.run() == len(emu.products)
    assert [p.name for p in served.catalog.search("refreshed teapot")] == ["Refreshed Teapot"]


def test_a_store_that_is_down_is_a_failure_the_cashier_can_read(
        served: PosSession, emu: AlignCommerceEmulator, config_file: Path) -> None:
    config_file.write_text(CONFIG.replace('"https://ac.test/"', '"http://127.0.0.1:9/"')
                           + "allow_http = true\n", "utf-8")
    refresher = served.catalog_refresher()
    assert refresher is not None
    with pytest.raises(RefreshFailed) as caught:
        refresher.run()
    assert "cannot be reached" in refresher.failed == caught.value.one_line()
    assert not any(secret in refresher.failed for secret in SECRETS)
    assert "sale" not in refresher.failed  # the catalog's hint, not a sale's
    assert served.catalog.count() == 0 and refresher.synced_at is None


def test_stopping_ends_the_other_process(tmp_path: Path) -> None:
    pull = pull_in_process([sys.executable, "-c", "import time; time.sleep(60)"], poll_s=0.05)
    refresher = CatalogRefresher(600, tmp_path / "c.db", pull)
    started = time.monotonic()
    with pytest.raises(RefreshStopped):
        refresher.run(stop=lambda: time.monotonic() - started > 0.3)
    assert time.monotonic() - started < 10 and not refresher.running


def test_an_answer_that_is_not_a_sync_is_a_failure(tmp_path: Path) -> None:
    refresher = CatalogRefresher(
        600, tmp_path / "c.db", pull_in_process([sys.executable, "-c", "print('hello')"]))
    with pytest.raises(RefreshFailed, match="exit code 0"):
        refresher.run()


def test_refresh_in_this_process_has_its_own_client(
        ac: PosSession, emu: AlignCommerceEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    refresher = ac.catalog_refresher()
    assert refresher is not None
    counter_backend = ac.backend
    opened: list[Backend] = []
    new_backend = ac.new_backend

    def spy(profile: str) -> Backend:
        opened.append(new_backend(profile))
        return opened[-1]

    monkeypatch.setattr(ac, "new_backend", spy)
    assert refresher.run() == len(emu.products)
    assert opened and opened[0] is not counter_backend and ac.backend is counter_backend
    assert ac.catalog.count() == len(emu.products)


def test_due_follows_the_last_sync_even_one_made_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    refresher = in_thread(path, PagedBackend(10))
    clock = refresher.clock
    assert isinstance(clock, Clock)
    catalog = Catalog(path)
    sync_catalog(PagedBackend(10), catalog)  # `pos catalog sync`, before the counter started
    catalog.close()
    refresher.due()  # reads the catalog's last sync
    assert refresher.synced_at is not None
    clock.now = refresher.synced_at.timestamp() + 599
    assert not refresher.due()
    clock.now += 1
    assert refresher.due()
    refresher.run()
    synced = refresher.synced_at
    assert synced is not None
    clock.now = synced.timestamp() + 10
    assert not refresher.due()


def test_a_failed_refresh_keeps_the_catalog_and_waits_before_trying_again(
        tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    refresher = in_thread(path, PagedBackend(1_000, fail_at=500))
    clock = refresher.clock
    assert isinstance(clock, Clock)
    with pytest.raises(TransientError):
        refresher.run()
    assert "did not answer" in refresher.failed
    catalog = Catalog(path)
    assert catalog.count() == 0 and catalog.meta("synced_at") is None  # nothing written
    catalog.close()
    assert not refresher.due()  # a store that is down is not asked on every check
    clock.now += CatalogRefresher.RETRY_S
    assert refresher.due()
    refresher.pull = pull_in_thread(lambda: PagedBackend(1_000), path)
    assert refresher.run() == 1_000
    assert not refresher.failed


def test_a_store_answering_garbage_is_a_failure_not_a_crash(ac: PosSession) -> None:
    garbage = httpx.MockTransport(
        lambda request: httpx.Response(200, text="<html>Maintenance</html>"))
    refresher = CatalogRefresher(600, ac.catalog.path, pull_in_thread(
        lambda: create_backend(ac.settings.profile_table("ac"), BackendContext(
            data_dir=ac.data_dir, profile="ac", transport=garbage)), ac.catalog.path))
    with pytest.raises(PosError):
        refresher.run()
    assert refresher.failed and "Maintenance" not in refresher.failed
    assert ac.catalog.count() == 0


def test_stopping_abandons_a_refresh_in_this_process_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "catalog.db"
    pages = 0

    def stop() -> bool:
        nonlocal pages
        pages += 1
        return pages >= 2  # the counter closes during the second page

    with pytest.raises(RefreshStopped):
        in_thread(path, PagedBackend(1_000, page=100)).run(stop=stop)
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

    refresher = in_thread(tmp_path / "c.db", SlowBackend(10))
    results: list[int | None] = []
    thread = threading.Thread(target=lambda: results.append(refresher.run()))
    thread.start()
    assert inside.wait(10)
    assert refresher.running and not refresher.due()
    assert refresher.run() is None  # a second one does nothing
    release.set()
    thread.join(10)
    assert results == [10] and not refresher.running
