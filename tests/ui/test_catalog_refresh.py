"""The counter pulls its store's catalog in the background (the Align Commerce emulator served on
loopback: the refresh is `pos catalog sync` in another process, as on a till): a product added
on the store can be sold without anyone running a command, the status bar says when the catalog
was last pulled, and a store that is down leaves the counter selling from the catalog it has."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos.catalog_sync import sync_catalog
from pos.config import load_settings
from pos.session import PosSession, open_session
from screens.app import PosApp
from screens.widgets import StatusBar
from tests.backends._aligncommerce import CONFIG, make_session, write_config
from tests.emulators.aligncommerce import AlignCommerceEmulator, make_emulator
from tests.emulators.serve import serve_in_thread
from tests.ui.conftest import scan, settle, wait_until

BACKGROUND = 3600.0  # the background work is on (its timers do not fire during a test)


@pytest.fixture
def emu() -> AlignCommerceEmulator:
    return make_emulator()


@pytest.fixture
def served(emu: AlignCommerceEmulator, data_dir: Path,
           config_file: Path) -> Iterator[PosSession]:
    server, url = serve_in_thread(emu.handle)
    point_at(config_file, f"{url}/")
    session = open_session(data_dir, "ac", load_settings())
    yield session
    session.close()
    server.shutdown()


def point_at(config_file: Path, base_url: str) -> None:
    config_file.write_text(CONFIG.replace('"https://ac.test/"', f'"{base_url}"')
                           + "allow_http = true\n", "utf-8")


def status(app: PosApp) -> str:
    return str(app.screen.query_one(StatusBar).content)


def line_names(app: PosApp) -> list[str]:
    return [line.name for line in app.checkout.cart.lines]


async def test_a_product_new_on_the_store_is_sold_after_the_refresh(
        served: PosSession, emu: AlignCommerceEmulator) -> None:
    emu.add_product("Lightning Teapot", "21.00")  # on the store, never synced to this till
    app = PosApp(served, sync_interval=BACKGROUND)
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_until(pilot, lambda: app.catalog_refresher is not None
                         and app.catalog_refresher.synced_at is not None
                         and "catalog " in status(app) and "not synced" not in status(app))
        await settle(pilot)
        assert "refresh failed" not in status(app)
        await scan(pilot, "lightning teapot")
        assert line_names(app) == ["Lightning Teapot"]
    assert served.catalog.count() == len(emu.products)


async def test_a_store_that_is_down_leaves_the_counter_selling(
        emu: AlignCommerceEmulator, data_dir: Path, config_file: Path) -> None:
    write_config(config_file)
    synced = make_session(emu, data_dir)
    sync_catalog(synced.backend, synced.catalog)  # yesterday's catalog
    synced.catalog.set_meta("synced_at", "2026-01-01T12:00:00+00:00")
    synced.close()
    point_at(config_file, "http://127.0.0.1:9/")  # nothing listens there
    session = open_session(data_dir, "ac", load_settings())
    app = PosApp(session, sync_interval=BACKGROUND)
    try:
        async with app.run_test(size=(140, 36)) as pilot:
            await wait_until(pilot, lambda: "refresh failed" in status(app))
            assert "catalog 01 Jan" in status(app)  # when it was last pulled
            await scan(pilot, "bitcoin mug")
            assert line_names(app) == ["Bitcoin Mug"]
            assert not app.catalog_refresher or not app.catalog_refresher.due()  # waits
    finally:
        session.close()


async def test_no_catalog_part_for_the_demo_store(session: PosSession) -> None:
    app = PosApp(session, sync_interval=BACKGROUND)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(pilot)
        assert app.catalog_refresher is None
        assert "catalog" not in status(app)




def test_quitting_during_a_refresh_ends_it_at_once(
        emu: AlignCommerceEmulator, data_dir: Path, config_file: Path) -> None:
    """The store is slow to list its products (30 s): quitting the counter ends the `pos
    catalog sync` process under way instead of waiting for it, and writes nothing. (Timed
    to the end of `asyncio.run`, which waits for the app's worker threads.)"""
    listing = threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.rstrip("/").endswith("products"):
            listing.set()
            time.sleep(30)
        return emu.handle(request)

    server, url = serve_in_thread(slow)
    point_at(config_file, f"{url}/")
    session = open_session(data_dir, "ac", load_settings())
    app = PosApp(session, sync_interval=BACKGROUND)

    async def refresh_then_quit() -> None:
        async with app.run_test(size=(140, 36)) as pilot:
            await wait_until(pilot, lambda: app.catalog_refresher is not None
                             and app.catalog_refresher.running and listing.is_set())

    try:
        started = time.monotonic()
        asyncio.run(refresh_then_quit())
        assert time.monotonic() - started < 10
        assert app.catalog_refresher is not None and not app.catalog_refresher.running
        assert not app.catalog_refresher.failed  # stopped, not failed
        assert session.catalog.count() == 0
    finally:
        session.close()
        server.shutdown()
