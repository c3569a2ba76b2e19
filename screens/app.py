"""The counter application: one `PosApp` per session, screens pushed on top of the cart.

All backend and disk work goes through `run_io`, which runs a function in a thread worker while
holding the checkout lock (one change to the sale at a time, in order) and hands the result or
the `PosError` back to the UI thread. Screens other than the cart are imported lazily (start-up
time is part of the contract, see PERFORMANCE.md).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.types import CSSPathType
from textual.worker import get_current_worker

from pos.errors import PosError
from pos.session import PosSession
from screens.cart import CartScreen
from screens.store_pricing import StorePricing
from screens.widgets import StatusBar

if TYPE_CHECKING:
    from pos.catalog_refresher import CatalogRefresher
    from pos.store import Ledger
    from pos.sync import SyncReport

T = TypeVar("T")
log = logging.getLogger(__name__)


class PosApp(App[int]):
    """The point-of-sale counter."""

    # the cart's stylesheet is the app's: a screen with its own CSS_PATH makes Textual re-parse
    # every stylesheet and restyle the whole DOM when it is first shown (start-up time)
    CSS_PATH: ClassVar[CSSPathType] = ["app.tcss", "cart.tcss"]
    TITLE = "pos"
    ENABLE_COMMAND_PALETTE = True
    PROBE_EVERY_S = 30.0  # with nothing to send, ask the store this often whether it answers
    CATALOG_CHECK_S = 60.0  # whether a background catalog refresh is due, checked this often
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="help"),
        Binding("f2", "open('customer')", "Customer", id="customer"),
        Binding("f3", "open('discounts')", "Discounts", id="discounts"),
        Binding("f4", "open('shipping')", "Shipping", id="shipping"),
        Binding("f5", "open('payment')", "Payment", id="payment"),
        Binding("f6", "open('parked')", "Park/recall", id="parked"),
        Binding("f7", "open('orders')", "Orders", id="orders"),
        Binding("ctrl+b", "open('outbox')", "Outbox", id="outbox"),
        Binding("f12", "pay", "Pay", id="pay"),
        Binding("ctrl+o", "open('drawer')", "Drawer", id="drawer"),
        Binding("ctrl+y", "open('endofday')", "End of day", id="endofday"),
        Binding("ctrl+l", "lock", "Switch cashier", id="lock"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        # Tab moves the focus before the keys after it are handed out: as a screen binding
        # (Textual's) it acts once the focused input has passed it up, by which time keys
        # typed right after it (a scanner, a fast typist) have gone into the field it left
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(self, session: PosSession, *, sync_interval: float = 10.0,
                 store_pause: float = 0.4) -> None:
        super().__init__()
        self.session = session
        self.checkout = session.checkout
        self.lock = threading.RLock()  # one change to the sale at a time
        self._turn = threading.Condition(self.lock)
        self._tickets = itertools.count()
        self._issued = 0  # tickets given out by `run_io`
        self._serving = 0  # ... and served
        self.sync_interval = sync_interval
        self.online = True
        self.pending = 0
        self._probed_at = -math.inf  # the first sync tick with nothing to send asks the store
        self.catalog_refresher: CatalogRefresher | None = None  # set with the background work
        self.cart_screen = CartScreen()
        self.logging_in = False  # the login modal is up: only quit works
        self._started = False  # background work starts after the cart's first paint
        self._quitting = threading.Event()  # quit asked: no further sale is sent
        self.store_pricing = StorePricing(self, pause=store_pause)
        self._flushes = 0  # flushes of the outbox under way (`_flushing`)
        self._flushes_lock = threading.Lock()
        if session.settings.keys:
            self.set_keymap(dict(session.settings.keys))

    # --- lifecycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(self.cart_screen)
        # the login, if any, before the first key can reach the cart (one small query)
        self.ask_login(self._cashier_names())

    def _start_background(self) -> None:
        """After the cart's first paint: the status, sync, the catalog's refresh (a store
        with a catalog to pull) and a pending payment."""
        threading.Thread(target=self._warm_up, name="pos-warm-up", daemon=True).start()
        if self.sync_interval > 0:
            self.set_interval(self.sync_interval, self.sync_now)
            self.catalog_refresher = self.session.catalog_refresher()
            if self.catalog_refresher is not None:
                self.refresh_catalog()
                self.set_interval(self.CATALOG_CHECK_S, self.refresh_catalog)
        self.refresh_status()
        self.run_io(self.checkout.pending_payment, self._resume_payment)
        self.store_pricing.ask_soon()  # a resumed cart with a customer or coupon: its figures

    def _resume_payment(self, pending: object) -> None:
        """A payment link was still waiting when the counter closed: resume the wait."""
        if pending is not None and self.screen is self.cart_screen:
            self.push_screen(self.make_screen("payment"))

    def cart_ready(self) -> None:
        """Called by the cart screen once it shows the cart with the input focused.

        With `POS_READY_FD` set (benchmarks/tui.py), writes one line to that file descriptor
        the first time and closes it: how a start-up benchmark knows the counter is usable.
        """
        if not self._started:
            self._started = True
            self._start_background()
        fd = os.environ.pop("POS_READY_FD", None)
        if fd is None:
            return
        try:
            os.write(int(fd), b"ready\n")
            os.close(int(fd))
        except (OSError, ValueError):
            log.warning("POS_READY_FD=%s: cannot signal ready", fd)

    def _warm_up(self) -> None:
        """In a thread, once the cart is on screen: what the first change of the sale needs
        (`PosSession.warm_up`). Then, when `pos` turned the collector off while the counter
        started: what the start and the warm-up built (~90,000 objects: modules, classes,
        widgets, pydantic's validators) lives as long as the counter, so it is moved out of the
        collector's way for good (only ~2,500 of them are garbage, a few hundred kB never
        freed), or the collector's first passes would rescan it all."""
        try:
            self.session.warm_up()
        except Exception:  # the first change will load it, and say what is wrong
            log.exception("warm-up failed")
        finally:
            if not gc.isenabled():
                gc.freeze()
                gc.enable()

    # --- cashier login ----------------------------------------------------------------------

    def _cashier_names(self) -> list[str]:
        return [c.name for c in self.session.cashiers.list() if c.active]

    def ask_login(self, names: list[str]) -> None:
        """Cashiers exist: the till opens only with a name and PIN (none: today's behaviour)."""
        if not names:
            return
        from screens.login import LoginModal

        self.logging_in = True

        def opened(name: str | None) -> None:
            self.logging_in = False
            self.notify(f"Till opened by {name}.", title="Welcome")
            self.refresh_status()

        self.push_screen(LoginModal(names), opened)

    def action_lock(self) -> None:
        """Lock the till for the next cashier (when cashiers are configured)."""
        def locked(names: list[str]) -> None:
            if not names:
                self.notify("No cashiers are configured: `pos cashier add NAME` adds one.",
                            title="Switch cashier")
                return
            self.to_cart()
            self.ask_login(names)

        self.run_io(self._cashier_names, locked)

    async def action_quit(self) -> None:
        """Quit, but not in the middle of sending a sale: cut off, it would be left for a
        person to check on the store (`sending` → reconciled, `unknown` where the store cannot
        be asked). The background flush stops after that sale, the screen says why it waits
        (at most the store's timeout), and the counter closes when the answer is in. The same
        for the cashier's own work under way (`run_io`: a review the store is slow to answer):
        the process would wait for it anyway, with a blank terminal."""
        first = not self._quitting.is_set()
        self._quitting.set()  # the flush sends no further sale, a probe is not waited for
        if not self._busy():
            self.exit()
            return
        backend = self.session.background_backend_for(self.session.profile)
        timeout = getattr(backend.settings, "timeout", None)
        if first:  # closes when nothing is under way, or in any case a little after a timeout
            give_up = time.monotonic() + (timeout or 15.0) + 5.0
            self.set_interval(0.1, lambda: self.exit() if not self._busy()
                              or time.monotonic() > give_up else None)
        self.notify("Closing once the store has answered the call under way"
                    + (f" (at most {timeout:g} s)" if timeout else "")
                    + (": a sale cut off mid-send would have to be checked on the store."
                       if self._sending() else "."),
                    title="Quitting", timeout=30)

    def _sending(self) -> bool:
        return self._flushes > 0

    def _busy(self) -> bool:
        """A flush, or the cashier's work (`run_io`), under way."""
        return self._sending() or self._serving < self._issued

    @contextlib.contextmanager
    def _flushing(self) -> Iterator[None]:
        """Around a flush of the outbox: quitting waits for it (`action_quit`)."""
        with self._flushes_lock:
            self._flushes += 1
        try:
            yield
        finally:
            with self._flushes_lock:
                self._flushes -= 1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.logging_in and action not in ("quit", "focus_next", "focus_previous"):
            return False
        return super().check_action(action, parameters)

    # --- background work ---------------------------------------------------------------------

    def run_io(self, fn: Callable[[], T], done: Callable[[T], Any] | None = None, *,
               failed: Callable[[PosError], Any] | None = None, group: str = "io") -> None:
        """Run `fn` in a thread, one at a time in call order; `done(result)` back on the UI."""

        ticket = next(self._tickets)
        self._issued = ticket + 1

        def job() -> None:
            try:
                with self._turn:  # in call order: fast scans land in the order scanned
                    self._turn.wait_for(lambda: self._serving == ticket)
                    try:
                        result = fn()
                    finally:
                        self._serving += 1
                        self._turn.notify_all()
            except PosError as exc:
                self.call_from_thread(self.show_error, exc)
                if failed is not None:
                    self.call_from_thread(failed, exc)
                return
            except Exception as exc:  # a bug must not kill the counter mid-sale
                log.exception("worker failed")
                self.call_from_thread(self.show_error, PosError(
                    title="Unexpected error", message=str(exc) or type(exc).__name__,
                    hint="The sale is saved; see the log file."))
                return
            if done is not None:
                self.call_from_thread(done, result)
            self.call_from_thread(self._set_status, *self._read_status())

        self.run_worker(job, thread=True, group=group, exit_on_error=False)

    def show_error(self, exc: PosError) -> None:
        text = f"{exc.message}\n{exc.hint}" if exc.hint else exc.message
        self.notify(text, title=exc.title, severity="error", timeout=6)

    @work(thread=True, group="sync", exit_on_error=False)  # a tick during a flush: it says so
    def sync_now(self) -> None:
        """Flush the outbox in the background and show what is left; with nothing to send,
        ask the store now and then whether it answers (the status bar's online/offline).

        The flush is the session's background engine: its own ledger connection and store
        clients, nothing shared with the cashier's work, so scanning and selling go on while
        a backlog is sent, however slow the store (a sale paid meanwhile waits in the outbox
        for this flush or the next)."""
        if self._quitting.is_set():
            return
        engine = self.session.background_sync
        try:
            if engine.ledger.outbox.pending_count():
                self._background_flush()
            elif time.monotonic() - self._probed_at >= self.PROBE_EVERY_S:
                self._probed_at = time.monotonic()
                self._probe()
        except PosError as exc:
            log.warning("sync: %s", exc.one_line())
        except Exception:  # a sync bug must not take the counter down: log it, keep selling
            log.exception("sync failed")
        self.call_from_thread(self._set_status, *self._read_status(engine.ledger))

    @work(thread=True, group="sync", exit_on_error=False)
    def send_all(self, sent: Callable[[SyncReport], Any]) -> None:
        """The outbox's "send all": every open entry now, back-off or not, by the background
        engine (so the counter stays usable meanwhile); `sent(report)` back on the UI."""
        engine = self.session.background_sync
        try:
            report = self._background_flush(now=math.inf)
        except PosError as exc:
            self.call_from_thread(self.show_error, exc)
            return
        self.call_from_thread(sent, report)
        self.call_from_thread(self._set_status, *self._read_status(engine.ledger))

    def _background_flush(self, now: float | None = None) -> SyncReport:
        """A flush by the background engine, from a worker: ended by the worker's cancel or
        the counter closing, and waited for when quitting (`_flushing`)."""
        worker = get_current_worker()
        with self._flushing():
            return self.session.background_sync.flush(
                now=now, stop=lambda: worker.is_cancelled or self._quitting.is_set())

    @work(thread=True, group="catalog", exit_on_error=False)
    def refresh_catalog(self) -> None:
        """Pull the catalog from the store when a refresh is due (`CatalogRefresher`), beside
        the sale: the counter sells from the catalog as it was until the refresh commits, and
        closing the counter abandons a refresh (nothing written)."""
        refresher = self.catalog_refresher
        if refresher is None:
            return
        worker = get_current_worker()
        try:
            if refresher.due():
                refresher.run(stop=lambda: worker.is_cancelled, started=lambda: (
                    self.call_from_thread(self._set_status, *self._read_status())))
        except PosError:
            pass  # kept by the refresher (the status bar shows it) and logged
        except Exception:  # a bug must not take the counter down: log it, keep selling
            log.exception("catalog refresh failed")
        if not worker.is_cancelled:
            self.call_from_thread(self._set_status, *self._read_status())

    def _probe(self) -> None:
        """The store answers (online) or not (offline), where its backend can tell cheaply.

        Asked from a daemon thread, and not waited for once the counter is closing: a probe
        of a store that hangs would otherwise hold the exit for the whole timeout."""
        answer: list[bool | None] = []
        backend = self.session.background_backend_for(self.session.profile)

        def ask() -> None:
            try:
                answer.append(backend.reachable())
            except Exception:  # a bug must not reach the terminal (stderr is the screen)
                log.exception("status probe failed")

        asking = threading.Thread(target=ask, daemon=True, name="pos-probe")
        asking.start()
        while asking.is_alive() and not self._quitting.is_set():
            asking.join(0.1)
        if not answer:
            return  # closing, or the probe failed (logged)
        answers = answer[0]
        offline = self.session.sync.offline_targets
        if answers is True:
            offline.discard(self.session.profile)
        elif answers is False:
            if self.session.profile not in offline:
                log.info("status: %s does not answer", self.session.profile)
            offline.add(self.session.profile)

    def _read_status(self, ledger: Ledger | None = None) -> tuple[int, bool]:
        """Outbox count and online state (reads the ledger, the counter's unless another
        connection is given: call it from a worker)."""
        return ((ledger or self.session.ledger).outbox.pending_count(),
                self.session.profile not in self.session.sync.offline_targets)

    def refresh_status(self) -> None:
        self.run_io(lambda: None)  # the worker reads the status after running

    def _set_status(self, pending: int, online: bool) -> None:
        self.pending, self.online = pending, online
        text = self.status_text
        for screen in self.screen_stack:  # the screens underneath too: current when shown again
            for bar in screen.query(StatusBar):
                bar.update(text)

    @property
    def status_text(self) -> str:
        s = self.session
        state = "[green]online[/]" if self.online else "[red]offline[/]"
        text = (f" {s.profile} │ {state} │ outbox {self.pending} │ lane {s.lane} │ "
                f"cashier {s.cashier or '-'}")
        if self.catalog_refresher is not None:
            text += f" │ {catalog_status(self.catalog_refresher)}"
        return text

    # --- navigation --------------------------------------------------------------------------

    def make_screen(self, name: str) -> Screen[Any]:
        """Import a screen on first use (only the cart is loaded at start)."""
        if name == "customer":
            from screens.customer import CustomerScreen
            return CustomerScreen()
        if name == "discounts":
            from screens.discounts import DiscountsScreen
            return DiscountsScreen()
        if name == "shipping":
            from screens.shipping import ShippingScreen
            return ShippingScreen()
        if name == "payment":
            from screens.payment import PaymentScreen
            return PaymentScreen()
        if name == "parked":
            from screens.parked import ParkedScreen
            return ParkedScreen()
        if name == "orders":
            from screens.orders import OrdersScreen
            return OrdersScreen()
        if name == "outbox":
            from screens.outbox import OutboxScreen
            return OutboxScreen()
        if name == "drawer":
            from screens.drawer import DrawerScreen
            return DrawerScreen()
        if name == "endofday":
            from screens.endofday import EndOfDayScreen
            return EndOfDayScreen()
        if name == "review":
            from screens.review import ReviewScreen
            return ReviewScreen()
        raise ValueError(name)

    def to_cart(self) -> None:
        """Back to the cart, closing every screen above it."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.cart_screen.refresh_cart()

    def action_open(self, name: str) -> None:
        current = type(self.screen).__name__.lower()
        if current.startswith(name):
            return
        self.to_cart()
        self.push_screen(self.make_screen(name))

    def action_help(self) -> None:
        from screens.help import HelpScreen
        self.push_screen(HelpScreen())

    def action_pay(self) -> None:
        """Straight to payment, asking only for what the sale still needs."""
        self.run_io(self.checkout.problems, self._pay_with)

    def _pay_with(self, problems: list[str]) -> None:
        blocking = [p for p in problems if "still to pay" not in p]
        if any("empty" in p or "Minimum" in p for p in blocking):
            self.show_error(PosError(title="Cannot pay yet", message=" ".join(blocking),
                                     hint="Fix the cart first."))
            return
        self.to_cart()
        if any("shipping" in p for p in blocking):
            self.notify(" ".join(blocking), title="Delivery")
            self.push_screen(self.make_screen("shipping"))
            return
        self.push_screen(self.make_screen("payment"))

    def show_receipt(self, number: str) -> None:
        from screens.receipt import ReceiptScreen
        self.to_cart()
        self.push_screen(ReceiptScreen(number))


def catalog_status(refresher: CatalogRefresher) -> str:
    """The status bar's catalog part: when the catalog was last pulled from the store (local
    time; the date when not today), and whether a refresh is running or the last one failed."""
    if refresher.synced_at is None:
        text = "catalog not synced"
    else:
        synced = refresher.synced_at.astimezone()
        today = datetime.now(synced.tzinfo).date()
        text = "catalog " + (f"{synced:%H:%M}" if synced.date() == today
                             else f"{synced:%d %b %H:%M}")
    if refresher.running:
        return f"{text}, refreshing…"
    if refresher.failed:
        return f"[yellow]{text}, refresh failed[/]"
    return text


def run_app(session: PosSession) -> int:
    return PosApp(session).run() or 0
