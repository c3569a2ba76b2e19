"""The counter pulls its store's catalog in the background (Align Commerce emulator): a product
added on the store can be sold without `pos catalog sync`, the status bar says when the catalog
was last pulled, and a store that is down leaves the counter selling from the catalog it has."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos.catalog_sync import sync_catalog
from pos.session import PosSession
from screens.app import PosApp
from screens.widgets import StatusBar
from tests.backends._aligncommerce import make_session, write_config
from tests.emulators.aligncommerce import AlignCommerceEmulator, make_emulator
from tests.ui.conftest import scan, settle, wait_until

BACKGROUND = 3600.0  # the background work is on (its timers do not fire during a test)


@pytest.fixture
def emu() -> AlignCommerceEmulator:
    return make_emulator()


@pytest.fixture
def ac(emu: AlignCommerceEmulator, data_dir: Path, config_file: Path) -> Iterator[PosSession]:
    write_config(config_file)
    session = make_session(emu, data_dir)
    yield session
    session.close()


def status(app: PosApp) -> str:
    return str(app.screen.query_one(StatusBar).content)


def line_names(app: PosApp) -> list[str]:
    return [line.name for line in app.checkout.cart.lines]


async def test_a_product_new_on_the_store_is_sold_after_the_refresh(
        ac: PosSession, emu: AlignCommerceEmulator) -> None:
    emu.add_product("Lightning Teapot", "21.00")  # on the store, never synced to this till
    app = PosApp(ac, sync_interval=BACKGROUND)
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_until(pilot, lambda: app.catalog_refresher is not None
                         and app.catalog_refresher.synced_at is not None
                         and "catalog " in status(app) and "not synced" not in status(app))
        await settle(pilot)
        assert "refresh failed" not in status(app)
        await scan(pilot, "lightning teapot")
        assert line_names(app) == ["Lightning Teapot"]
    assert ac.catalog.count() == len(emu.products)


async def test_a_store_that_is_down_leaves_the_counter_selling(
        emu: AlignCommerceEmulator, data_dir: Path, config_file: Path) -> None:
    write_config(config_file)
    synced = make_session(emu, data_dir)
    sync_catalog(synced.backend, synced.catalog)  # yesterday's catalog
    synced.catalog.set_meta("synced_at", "2026-01-01T12:00:00+00:00")
    synced.close()

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    session = make_session(emu, data_dir, transport=httpx.MockTransport(down))
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


