"""The store's prices in the background, where the store prices every sale (OpenCart).

A change of lines is estimated at once (`Checkout._commit_lines`); a cart holding the store's
own discounts (a customer, a coupon…) is `Checkout.awaiting_store`. Once the cashier has paused,
one quote on the session's pricing backend (an instance of its own: the cashier's and the
flush's store sessions are not touched) brings the store's figures, shown only if the cart is
still the one it priced (`Checkout.apply_store_quote`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from textual.timer import Timer

from pos.errors import PosError

if TYPE_CHECKING:
    from pos.models import Cart, Quote
    from screens.app import PosApp

log = logging.getLogger(__name__)


class StorePricing:
    def __init__(self, app: PosApp, *, pause: float) -> None:
        self.app = app
        self.pause = pause  # s after the last line change before the store is asked
        self._timer: Timer | None = None
        self._one_at_a_time = threading.Lock()  # the pricing backend's session: one quote

    def ask_soon(self) -> None:
        """Ask the store for the cart's figures once the cashier has paused for `pause` s
        (if the cart awaits them): a burst of scans is one quote, and no scan waits for one."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.app.checkout.awaiting_store is not None:
            self._timer = self.app.set_timer(self.pause, self._ask)

    def _ask(self) -> None:
        self._timer = None
        cart = self.app.checkout.awaiting_store
        if cart is not None:
            # a daemon thread, not a worker: a quote under way on a hanging store must not
            # hold the counter's exit (a quote changes nothing on the store that matters)
            threading.Thread(target=self._price, args=(cart,), daemon=True,
                             name="pos-pricing").start()

    def _price(self, cart: Cart) -> None:
        app, checkout = self.app, self.app.checkout
        quote: Quote | None = None
        refusal: PosError | None = None
        with self._one_at_a_time:
            if checkout.awaiting_store is not cart:
                return  # changed while the quote before was under way: its own quote follows
            try:
                quote = checkout.store_quote(cart, app.session.pricing_backend)
            except PosError as exc:
                refusal = exc
            except Exception as exc:  # a bug must not kill the counter mid-sale
                log.exception("background quote failed")
                refusal = PosError(title="Unexpected error",
                                   message=str(exc) or type(exc).__name__)
        with contextlib.suppress(RuntimeError):  # the counter closed meanwhile
            app.call_from_thread(self._show, cart, quote, refusal)

    def _show(self, cart: Cart, quote: Quote | None, refusal: PosError | None) -> None:
        app = self.app

        def shown(applied: bool) -> None:
            if not applied:
                return  # the cashier changed the sale meanwhile
            if refusal is not None:
                app.show_error(refusal)
            app.cart_screen.refresh_cart()

        app.run_io(lambda: app.checkout.apply_store_quote(cart, quote, refusal), shown)
