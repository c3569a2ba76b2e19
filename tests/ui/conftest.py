"""UI fixtures: the app on the demo store (lane T1), no background sync timer."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from pos.session import PosSession
from screens.app import PosApp


@pytest.fixture
def app(session: PosSession) -> PosApp:
    return PosApp(session, sync_interval=0)


async def settle(pilot: Pilot[int]) -> None:
    """Let every worker finish and the UI take their results."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def scan(pilot: Pilot[int], code: str) -> None:
    """Type a code into the cart input and press Enter, as a barcode scanner does."""
    for char in code:
        await pilot.press(char if char != "*" else "asterisk")
    await pilot.press("enter")
    await settle(pilot)


async def cash_sale(pilot: Pilot[int], code: str = "MUG") -> None:
    """Scan a product, pay in exact cash (F12, Enter) and go back to the cart (Esc)."""
    await scan(pilot, code)
    await pilot.press("f12")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)


def error_titles(app: PosApp) -> list[str]:
    return [n.title for n in app._notifications if n.severity == "error"]


__all__ = ["cash_sale", "error_titles", "scan", "settle"]
