"""The counter on a store that prices every sale itself (OpenCart, its emulator in-process)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static

from pos.cli import main
from pos.config import load_settings
from pos.session import PosSession, open_session
from screens.app import PosApp
from screens.payment import PaymentScreen
from tests.backends.oc_helpers import CATALOG, KEY
from tests.emulators.faults import FaultyTransport
from tests.emulators.opencart import make_emulator
from tests.ui.conftest import scan, settle


@pytest.fixture
def shop(data_dir: Path, tmp_path: Path, config_file: Path) -> Iterator[
        tuple[PosSession, FaultyTransport]]:
    config_file.write_text(
        '[profiles.shop]\nbackend = "opencart"\nbase_url = "https://shop.test"\n'
        f'key = "{KEY}"\n', encoding="utf-8")
    csv = tmp_path / "catalog.csv"
    csv.write_text(CATALOG, encoding="utf-8")
    assert main(["--profile", "shop", "catalog", "import", str(csv)]) == 0
    faults = FaultyTransport(make_emulator().handle, sleep=lambda s: None)
    session = open_session(data_dir, "shop", load_settings(), transports={"shop": faults})
    yield session, faults
    session.close()


def totals_text(app: PosApp) -> str:
    """The cart's totals panel as text (a Rich table)."""
    console = Console(width=40, record=True, color_system=None, file=io.StringIO())
    console.print(app.cart_screen.query_one("#totals", Static).content)
    return console.export_text()


async def test_scans_are_estimated_at_once_and_the_store_prices_at_f12(
        shop: tuple[PosSession, FaultyTransport]) -> None:
    session, faults = shop
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "0001")
        await scan(pilot, "0002")
        assert faults.calls == []  # the store was not asked
        shown = totals_text(app)
        assert "$201.00" in shown and "Estimate" in shown and "store's at F12" in shown
        await pilot.press("f12")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen) and faults.calls  # priced by the store
        assert "$201.00" in str(app.screen.query_one("#pay-due").render())
        await pilot.press("escape")
        await settle(pilot)
        assert "Estimate" not in totals_text(app)  # the store's figures now
