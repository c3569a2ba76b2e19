"""Payment links at the counter: an Align Commerce bitcoin invoice (polled) and the demo store's
card link (no status: the cashier marks it paid)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import OptionList

from pos.catalog_sync import sync_catalog
from pos.models import OrderStatus
from pos.session import PosSession
from screens.app import PosApp
from screens.payment import PaymentScreen
from screens.receipt import ReceiptScreen
from tests.backends._aligncommerce import ac_session, make_session, write_config
from tests.emulators.aligncommerce import AlignCommerceEmulator, make_emulator
from tests.ui.conftest import scan, settle

FAST = {"first_delay": 0.01, "max_delay": 0.02}
SLOW = {"first_delay": 60.0, "max_delay": 60.0}  # interrupted by closing the app


@pytest.fixture
def emu() -> AlignCommerceEmulator:
    return make_emulator()


@pytest.fixture
def ac(emu: AlignCommerceEmulator, data_dir: Path, config_file: Path) -> Iterator[PosSession]:
    with ac_session(emu, data_dir, config_file) as s:
        sync_catalog(s.backend, s.catalog)
        yield s


@pytest.fixture(autouse=True)
def fast_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PaymentScreen, "poll_options", FAST)


def mug_id(emu: AlignCommerceEmulator) -> str:
    return next(pid for pid, p in emu.products.items() if p["product_name"] == "Bitcoin Mug")


async def choose(pilot: object, app: PosApp, code: str) -> None:
    methods = app.screen.query_one("#methods", OptionList)
    methods.focus()
    screen = app.screen
    assert isinstance(screen, PaymentScreen)
    methods.highlighted = [m.code for m in screen.methods].index(code)
    await pilot.press("enter")  # type: ignore[attr-defined]


async def settle_io(pilot: object) -> None:
    """Like `settle`, but without waiting for the link poller (it runs until the link ends)."""
    app = pilot.app  # type: ignore[attr-defined]
    for _ in range(3):
        others = [w for w in app.workers if w.group != "link-poll"]
        if others:  # (an empty list would mean "all workers")
            await app.workers.wait_for_complete(others)
        await pilot.pause()  # type: ignore[attr-defined]


async def wait_until(pilot: object, test: Callable[[], object], tries: int = 1000) -> None:
    """Up to ~20 s: generous, so a loaded machine (CI, parallel jobs) does not fail it."""
    for _ in range(tries):
        await settle_io(pilot)
        if test():
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("timed out")


async def pay_mug_in_bitcoin(pilot: object, app: PosApp,
                             emu: AlignCommerceEmulator) -> PaymentScreen:
    """Scan the mug, F12, choose bitcoin: the payment screen (the invoice on its way)."""
    await sell_mug(pilot, app, emu)
    screen = app.screen
    assert isinstance(screen, PaymentScreen)
    await choose(pilot, app, "bitcoin")
    return screen


async def sell_mug(pilot: object, app: PosApp, emu: AlignCommerceEmulator) -> None:
    app.cart_screen.scan_input.value = mug_id(emu)
    await pilot.press("enter")  # type: ignore[attr-defined]
    # the scan's Enter goes through the input and the cart screen, the F12 straight to the app:
    # pressed before the cart has taken the scan, F12 would find it empty (seen once in CI)
    await wait_until(pilot, lambda: not app.checkout.cart.empty)
    await pilot.press("f12")  # type: ignore[attr-defined]
    await wait_until(pilot, lambda: isinstance(app.screen, PaymentScreen))


async def test_bitcoin_sale_scan_to_receipt(ac: PosSession, emu: AlignCommerceEmulator) -> None:
    emu.plan_invoice("success", polls=1)
    app = PosApp(ac, sync_interval=0)
    async with app.run_test(size=(120, 50)) as pilot:
        await pay_mug_in_bitcoin(pilot, app, emu)
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
    [order] = ac.ledger.orders.list()
    assert order.status == OrderStatus.PLACED
    [payment] = order.payments
    assert (payment.method, payment.status) == ("bitcoin", "paid")
    assert payment.reference in emu.invoices


async def test_bitcoin_link_cancelled_keeps_the_sale(ac: PosSession,
                                                    emu: AlignCommerceEmulator) -> None:
    emu.plan_invoice("success", polls=100_000)
    app = PosApp(ac, sync_interval=0)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await pay_mug_in_bitcoin(pilot, app, emu)
        await wait_until(pilot, lambda: screen.link is not None)
        assert screen.link is not None
        assert screen.link.id in str(screen.query_one("#link-status").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.link is None)
        assert app.screen is screen  # back to the choice of method
        assert screen.query_one("#methods").display
    assert ac.ledger.orders.list() == []
    assert not ac.checkout.cart.empty and ac.checkout.cart.payments == ()


async def test_bitcoin_link_failed_keeps_the_sale(ac: PosSession,
                                                 emu: AlignCommerceEmulator) -> None:
    emu.plan_invoice("fail", polls=1)
    app = PosApp(ac, sync_interval=0)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await pay_mug_in_bitcoin(pilot, app, emu)
        await wait_until(pilot, lambda: any(
            n.title == "Payment link not paid" for n in app._notifications))
        assert screen.link is None
    assert ac.ledger.orders.list() == []
    assert ac.checkout.cart.payments == ()


async def test_restart_while_waiting_resumes(emu: AlignCommerceEmulator, data_dir: Path,
                                             config_file: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(config_file)
    first = make_session(emu, data_dir)
    sync_catalog(first.backend, first.catalog)
    emu.plan_invoice("success", polls=1)
    monkeypatch.setattr(PaymentScreen, "poll_options", SLOW)
    app = PosApp(first, sync_interval=0)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await pay_mug_in_bitcoin(pilot, app, emu)
        await wait_until(pilot, lambda: screen.link is not None)
        link = screen.link
        assert link is not None
    first.close()
    monkeypatch.setattr(PaymentScreen, "poll_options", FAST)
    second = make_session(emu, data_dir)
    pending = second.checkout.pending_payment()
    assert pending is not None and pending.reference == link.id
    app = PosApp(second, sync_interval=0)
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
    [order] = second.ledger.orders.list()
    assert order.status == OrderStatus.PLACED
    assert order.payments[0].reference == link.id
    second.close()


async def open_card_link(pilot: Pilot[int], app: PosApp) -> None:
    """Scan the mug, F12, choose the demo store's card link (it has no status call)."""
    await scan(pilot, "MUG")
    await pilot.press("f12")
    await settle(pilot)
    await choose(pilot, app, "card")
    await settle(pilot)


async def test_demo_card_link_marked_paid(session: PosSession) -> None:
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_card_link(pilot, app)
        screen = app.screen
        assert isinstance(screen, PaymentScreen) and screen.link is not None
        assert "F9: mark paid" in str(screen.query_one("#link-status").render())
        assert session.checkout.pending_payment() is not None
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
    [order] = session.ledger.orders.list()
    assert [(p.method, p.status) for p in order.payments] == [("card", "paid")]


async def test_demo_card_link_cancelled(session: PosSession) -> None:
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 50)) as pilot:
        await open_card_link(pilot, app)
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PaymentScreen) and screen.link is None
    assert session.checkout.pending_payment() is None
    assert session.ledger.orders.list() == []
