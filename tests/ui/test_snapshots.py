"""Snapshots of every screen (lane T1, no clock on screen, fixed receipt time and link token).

Regenerate with `python -m pytest tests/ui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from pos.session import PosSession
from screens.app import PosApp
from tests.fakes import install_flaky
from tests.ui.conftest import cash_sale, scan, settle

SIZE = (120, 36)
Snap = Callable[..., bool]


async def still(pilot: Pilot[int]) -> None:
    """No toasts and no blinking cursors: the same picture on every run."""
    pilot.app.clear_notifications()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def steps(*keys: str, codes: tuple[str, ...] = ("MUG", "2*HEADPHONES")
          ) -> Callable[[Pilot[int]], Awaitable[None]]:
    async def run(pilot: Pilot[int]) -> None:
        for code in codes:
            await scan(pilot, code)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await still(pilot)

    return run


@pytest.fixture
def app(session: PosSession, monkeypatch: pytest.MonkeyPatch) -> PosApp:
    monkeypatch.setattr("pos.backends.local.secrets.token_hex", lambda n=8: "0" * 2 * n)
    return PosApp(session, sync_interval=0)


@pytest.mark.parametrize(("name", "keys"), [
    ("cart", ()),
    ("payment", ("f12",)),
    ("customer", ("f2",)),
    ("discounts", ("f3",)),
    ("shipping", ("f4",)),
    ("orders", ("f7",)),
    ("help", ("f1",)),
    ("void_confirm", ("f10",)),
    ("review", ("f11",)),
])
def test_screen(name: str, keys: tuple[str, ...], app: PosApp, snap_compare: Snap) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(*keys))


def test_options_modal(app: PosApp, snap_compare: Snap) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=steps(codes=("TSHIRT",)))


def test_payment_link(app: PosApp, snap_compare: Snap) -> None:
    async def run(pilot: Pilot[int]) -> None:
        await steps("f12")(pilot)
        pilot.app.screen.query_one("#methods").focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_parked(session: PosSession, app: PosApp, snap_compare: Snap) -> None:
    session.checkout.add("MUG")
    session.checkout.park("Table 4")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("f6", codes=("EBOOK",)))


def test_receipt(session: PosSession, app: PosApp, snap_compare: Snap,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    checkout = session.checkout
    checkout.add("MUG", 2)
    checkout.take_payment("cash", "50")
    order = checkout.place().model_copy(
        update={"created_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)})

    async def run(pilot: Pilot[int]) -> None:
        from screens.receipt import ReceiptScreen

        app_: Any = pilot.app
        app_.push_screen(ReceiptScreen(order.number, order=order))
        await settle(pilot)
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


# --- refunds, drawer, end of day, login (business day and clock frozen) ---------------------

DAY = date(2026, 1, 2)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("pos.cash", "pos.reports"):
        monkeypatch.setattr(f"{module}.today", lambda: DAY)
        monkeypatch.setattr(f"{module}.now_iso", lambda: "2026-01-02T09:30:00+00:00")


def test_refund(session: PosSession, app: PosApp, snap_compare: Snap) -> None:
    checkout = session.checkout
    checkout.add("MUG", 3)
    checkout.add("HEADPHONES")
    checkout.take_payment("cash")
    number = checkout.place().number

    async def run(pilot: Pilot[int]) -> None:
        from screens.refund import RefundScreen

        pilot.app.push_screen(RefundScreen(number))
        await settle(pilot)
        await pilot.press("plus", "plus")
        await settle(pilot)
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_drawer(session: PosSession, app: PosApp, snap_compare: Snap, frozen: None) -> None:
    session.cash.open("100")
    session.cash.cash_in("20", "change from the bank")
    session.cash.count("119")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("ctrl+o", codes=()))


def test_end_of_day(session: PosSession, app: PosApp, snap_compare: Snap, frozen: None) -> None:
    session.cash.open("100")
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("ctrl+y", codes=()))


def test_z_confirm(session: PosSession, app: PosApp, snap_compare: Snap, frozen: None) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=steps("ctrl+y", "f10", codes=()))


def test_login(session: PosSession, snap_compare: Snap) -> None:
    session.cashiers.add("Ann", "1234")
    session.cashiers.add("Bob", "5678")

    async def run(pilot: Pilot[int]) -> None:
        await settle(pilot)
        for key in ("B", "o", "b", "enter", "1", "2"):
            await pilot.press(key)
        await still(pilot)

    assert snap_compare(PosApp(session, sync_interval=0), terminal_size=SIZE, run_before=run)


def test_refund_slip(session: PosSession, app: PosApp, snap_compare: Snap,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    from pos.printing import PrintJob
    from pos.receipt import refund_lines

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    checkout = session.checkout
    checkout.add("MUG", 3)
    checkout.take_payment("cash")
    number = checkout.place().number
    refund = session.refunds.refund(number, {"MUG": 1}, reason="chipped").model_copy(
        update={"created_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)})
    job = PrintJob(refund_lines(refund, session.settings.shop), refund.number,
                   f"Refund {refund.number}")

    async def run(pilot: Pilot[int]) -> None:
        from screens.slip import SlipScreen

        pilot.app.push_screen(SlipScreen(job, refund.number))
        await settle(pilot)
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)


def test_outbox(session: PosSession, app: PosApp, snap_compare: Snap) -> None:
    install_flaky(session).plan = ["refuse", "down"]

    async def run(pilot: Pilot[int]) -> None:
        for code in ("MUG", "HEADPHONES"):
            await cash_sale(pilot, code)
        await pilot.press("ctrl+b")
        await settle(pilot)
        await still(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run)
