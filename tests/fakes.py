"""Test doubles shared by the core and UI tests."""

from __future__ import annotations

from pos.backends.base import BackendSettings, PlacedOrder, UnsupportedError
from pos.backends.local import LocalBackend
from pos.errors import OutcomeUnknown, PermanentError, TransientError
from pos.models import Order
from pos.session import PosSession


class FlakyBackend(LocalBackend):
    """The demo store with a plan of faults for `place_order`, one per call:
    `down` (connection refused), `lost` (placed, but the answer is lost), `refuse` (the store
    refuses: permanent); an empty plan places normally. `can_reconcile = False`: a store that
    cannot look orders up."""

    def __init__(self, settings: BackendSettings, context: object) -> None:
        super().__init__(settings, context)  # type: ignore[arg-type]
        self.plan: list[str] = []
        self.calls = 0
        self.can_reconcile = True

    def place_order(self, order: Order) -> PlacedOrder:
        self.calls += 1
        fault = self.plan.pop(0) if self.plan else ""
        if fault == "down":
            raise TransientError(message="connection refused")
        if fault == "lost":
            super().place_order(order)
            raise OutcomeUnknown(message="timed out after sending")
        if fault == "refuse":
            raise PermanentError(message="Price changed on the store")
        return super().place_order(order)

    def find_order(self, order: Order) -> PlacedOrder | None:
        if not self.can_reconcile:
            raise UnsupportedError(message="cannot look up")
        return super().find_order(order)

    def stored_numbers(self) -> list[str]:
        """The sale numbers the demo store holds (each must appear once)."""
        return [r[0] for r in self.db.execute("SELECT number FROM demo_orders")]


def install_flaky(session: PosSession) -> FlakyBackend:
    """Put a `FlakyBackend` in place of the session's demo store (same database)."""
    real = session.backend
    real.close()
    flaky = FlakyBackend(real.settings, real.context)
    session._backends[session.profile] = flaky
    if session._checkout is not None:
        session._checkout.backend = flaky
    return flaky
