"""The counter on a store that prices every sale itself (OpenCart, its emulator in-process)."""

from __future__ import annotations

import io
import threading
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
from screens.receipt import ReceiptScreen
from tests.backends.oc_helpers import CATALOG, KEY, logins, routes_since
from tests.emulators.faults import FaultyTransport
from tests.emulators.opencart import make_emulator
from tests.ui.conftest import error_titles, scan, settle, wait_until


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



async def test_with_a_coupon_scans_are_instant_and_the_store_prices_after_a_pause(
        shop: tuple[PosSession, FaultyTransport]) -> None:
    """A cart holding the store's discount (a coupon) is estimated at each scan like any other,
    marked "asking the store…"; once the cashier pauses, one quote on the pricing backend's own
    session brings the store's figures (the coupon off) to the screen."""
    session, faults = shop
    session.checkout.add("0001")
    session.checkout.apply_coupon("1111")  # 10.00 off, priced by the store
    before = logins(faults)
    app = PosApp(session, sync_interval=0, store_pause=2.0)  # > two scans, even on a busy CI
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "0002")
        await scan(pilot, "0002")
        assert logins(faults) == before  # no scan waited on the store
        shown = totals_text(app)
        assert "$301.00" in shown and "asking the store" in shown
        await wait_until(pilot, lambda: "Estimate" not in totals_text(app))
        assert "$291.00" in totals_text(app)  # the store's figures: the coupon off
        assert logins(faults) == before + 1  # the two scans were priced by one quote


async def test_a_background_quote_for_an_older_cart_is_not_shown(
        shop: tuple[PosSession, FaultyTransport]) -> None:
    """The cashier scans again while the store prices the cart: that answer is dropped, and the
    cart as it now stands is priced after the next pause."""
    session, faults = shop
    session.checkout.add("0001")
    session.checkout.apply_coupon("1111")
    answer = threading.Event()

    def slow_store(_seconds: float) -> None:
        answer.wait(10)

    faults.sleep = slow_store
    app = PosApp(session, sync_interval=0, store_pause=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        faults.plan("api/cart/products", "delay")  # the store answers once `answer` is set
        await scan(pilot, "0002")
        await wait_until(pilot, lambda: "cart/products" in faults.calls[-1])
        await scan(pilot, "0002")  # while the first quote waits for the store
        answer.set()
        await wait_until(pilot, lambda: "Estimate" not in totals_text(app))
        # both HTCs, the coupon off: the second quote's figures (the first one's, $191.00 for
        # one HTC, was for a cart no longer on the screen)
        assert "$291.00" in totals_text(app)


async def test_a_store_refusing_the_cart_in_the_background_says_so(
        shop: tuple[PosSession, FaultyTransport]) -> None:
    session, faults = shop
    session.checkout.add("0001")
    session.checkout.apply_coupon("1111")
    app = PosApp(session, sync_interval=0, store_pause=0.05)
    async with app.run_test(size=(120, 40)) as pilot:
        faults.plan("api/coupon", "html")
        await scan(pilot, "0002")
        await wait_until(pilot, lambda: error_titles(app))
        shown = totals_text(app)
        assert "$201.00" in shown and "store's at F12" in shown  # the estimate stays
        assert "refuses" in " ".join(session.checkout.quote.warnings)


async def test_paying_places_the_sale_in_the_session_the_payment_screen_priced(
        shop: tuple[PosSession, FaultyTransport]) -> None:
    """F12 prices the sale on the store (one login, the whole cart replayed); Enter takes the
    cash and places it: one `order/add` in that same session, no second login or replay."""
    session, faults = shop
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "0001")
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, PaymentScreen)
                         and logins(faults) == 1
                         and not any(w.is_running for w in app.workers))
        start = len(faults.calls)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        assert "placed" in str(app.screen.query_one("#receipt-head").render())
        routes = routes_since(faults, start)
        assert "login" not in routes and routes.count("order/add") == 1
