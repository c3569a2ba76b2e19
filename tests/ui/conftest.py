"""UI fixtures: the app on the demo store (lane T1), no background sync timer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from pos.session import PosSession
from screens.app import PosApp
from screens.cart import CartScreen


@pytest.fixture
def app(session: PosSession) -> PosApp:
    return PosApp(session, sync_interval=0)


async def settle(pilot: Pilot[int]) -> None:
    """Let every worker finish and the UI take their results."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def type_text(pilot: Pilot[int], text: str) -> None:
    """Type `text` key by key, as a cashier (or a scanner) does."""
    for char in text:
        await pilot.press("space" if char == " " else char)


async def type_and_enter(pilot: Pilot[int], text: str) -> None:
    """Type `text`, press Enter, and let the work it starts finish."""
    await type_text(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


async def wait_until(pilot: Pilot[int], test: Callable[[], object], tries: int = 1000) -> None:
    """Until `test()` holds, up to ~20 s: generous, so a loaded machine (CI) does not fail it.

    `Pilot.pause()` waits until the process looks idle (its CPU time stops moving), which on a
    loaded machine can be before a key's messages have gone through every widget: what a test
    waits for next is the state it needs, not a number of pauses.
    """
    for _ in range(tries):
        await pilot.pause()
        if test():
            return
        await pilot.pause(0.02)
    raise AssertionError("timed out")


async def scan(pilot: Pilot[int], code: str) -> None:
    """Type a code into the cart input and press Enter, as a barcode scanner does."""
    app = pilot.app
    assert isinstance(app, PosApp)
    for char in code:
        await pilot.press(char if char != "*" else "asterisk")
    await pilot.press("enter")
    if isinstance(app.screen, CartScreen):  # the cart empties its input when it takes a scan
        await wait_until(pilot, lambda: not app.cart_screen.scan_input.value)
    await settle(pilot)


async def cash_sale(pilot: Pilot[int], code: str = "MUG") -> None:
    """Scan a product, pay in exact cash (F12, Enter) and go back to the cart (Esc)."""
    await scan(pilot, code)
    await pilot.press("f12")
    app = pilot.app
    await wait_until(pilot, lambda: type(app.screen).__name__ == "PaymentScreen"
                     and app.focused is not None and app.focused.id == "amount")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)


def error_titles(app: PosApp) -> list[str]:
    return [n.title for n in app._notifications if n.severity == "error"]


__all__ = ["cash_sale", "error_titles", "scan", "settle"]
