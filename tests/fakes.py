"""Test doubles shared by the core and UI tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pos.backends.base import BackendSettings, PlacedOrder, UnsupportedError
from pos.backends.local import LocalBackend
from pos.errors import OutcomeUnknown, PermanentError, TransientError
from pos.models import Order
from pos.session import PosSession


class Faults:
    """What a `FlakyBackend` is told to do, shared by the instances of one store (the
    counter's backend and the background flush's own)."""

    def __init__(self) -> None:
        self.plan: list[str] = []
        self.calls = 0
        self.can_reconcile = True
        self.slow: Callable[[Order], None] | None = None  # called before placing (a slow store)


class FlakyBackend(LocalBackend):
    """The demo store with a plan of faults for `place_order`, one per call:
    `down` (connection refused), `lost` (placed, but the answer is lost), `refuse` (the store
    refuses: permanent); an empty plan places normally. `can_reconcile = False`: a store that
    cannot look orders up."""

    def __init__(self, settings: BackendSettings, context: object,
                 faults: Faults | None = None) -> None:
        super().__init__(settings, context)  # type: ignore[arg-type]
        self.faults = faults or Faults()

    @property
    def plan(self) -> list[str]:
        return self.faults.plan

    @plan.setter
    def plan(self, plan: list[str]) -> None:
        self.faults.plan = plan

    @property
    def calls(self) -> int:
        return self.faults.calls

    @property
    def can_reconcile(self) -> bool:
        return self.faults.can_reconcile

    @can_reconcile.setter
    def can_reconcile(self, can: bool) -> None:
        self.faults.can_reconcile = can

    def place_order(self, order: Order) -> PlacedOrder:
        self.faults.calls += 1
        if self.faults.slow is not None:
            self.faults.slow(order)
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
    # the counter's background flush has its own instance (own connection), same faults
    old = session._own_backends.pop(("flush", session.profile), None)
    if old is not None:
        old.close()
    session._own_backends["flush", session.profile] = FlakyBackend(
        real.settings, real.context, flaky.faults)
    return flaky


def backlog_of(session: PosSession, backend: FlakyBackend, sales: int) -> list[str]:
    """Sales queued while the store was down; then it is back (back-off over)."""
    backend.plan = ["down"]
    calls, numbers = backend.calls, []
    for _ in range(sales):
        checkout = session.new_checkout(persist=False)
        checkout.add("MUG")
        checkout.take_payment("cash")
        numbers.append(checkout.place().number)
    assert backend.calls == calls + 1  # after the first, the others did not wait on it
    session.ledger.db.execute("UPDATE outbox SET next_attempt_at = 0")
    session.sync.offline_targets.clear()
    return numbers


def hold_background_sends(backend: FlakyBackend) -> tuple[threading.Event, threading.Event]:
    """A store that takes its time: a sale sent from another thread than the main one (the
    counter's background flush) waits until `release` is set; `sending` says one has started."""
    sending, release = threading.Event(), threading.Event()

    def hold(order: Order) -> None:
        if threading.current_thread() is not threading.main_thread() and not release.is_set():
            sending.set()
            release.wait(10)

    backend.faults.slow = hold
    return sending, release


class Clock:
    """A clock a test moves by hand: call it for the time, set `now` to move it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
