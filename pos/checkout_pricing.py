"""How the checkout prices its cart: locally, by the store, or both in turn.

Where the backend prices every sale itself (`Capability.REMOTE_PRICING`: OpenCart, a login and
a dozen calls a quote), a change of lines is estimated locally at once and the store prices
the sale at review, before anything is paid. A cart holding the store's own discounts (a
customer, a coupon…) is `awaiting_store` meanwhile: the counter asks the store in the
background on a backend instance of its own (`store_quote`) and shows its answer if the cart
is still the one it priced (`apply_store_quote`). A store that does not answer is in
`offline_targets` until the flush or the probe reaches it, and is not asked meanwhile.
"""

from __future__ import annotations

import time

from pos.backends.base import Backend, Capability
from pos.errors import PosError, RuleError, TransientError
from pos.models import Cart, Quote
from pos.pricing import PricingContext, price_cart
from pos.store import Catalog
from pos.sync import SyncEngine

# how long the store's quote of a cart stands for placing it without asking the store again
# (the review at F12 and the sale's placement each replay the whole cart on OpenCart)
STORE_QUOTE_FRESH_S = 60.0


class CheckoutPricing:
    """The pricing half of `pos.checkout.Checkout` (its base class)."""

    backend: Backend
    catalog: Catalog
    sync: SyncEngine
    profile: str
    cart: Cart
    quote: Quote
    awaiting_store: Cart | None  # the cart shown with a local estimate until the store prices it
    _store_quoted: tuple[Quote, float] | None  # the store's last quote, and when

    def _estimate(self, cart: Cart) -> Quote:
        """Price without the network: the backend's rules when local, else the catalog cache."""
        if not self.backend.supports(Capability.REMOTE_PRICING):
            try:
                return self.backend.quote(cart)
            except RuleError:
                pass  # a rule that no longer holds (coupon expired): show the plain price
        return price_cart(cart, PricingContext(
            tax_classes=self.catalog.tax_classes(),
            payment_methods=self.backend.payment_methods(cart)))

    def _await_store(self, cart: Cart) -> None:
        if (cart.lines and _store_priced(cart) and self.profile not in self.sync.offline_targets
                and self.backend.supports(Capability.REMOTE_PRICING)):
            self.awaiting_store = cart

    def store_quote(self, cart: Cart, backend: Backend) -> Quote | None:
        """The store's quote of `cart` on `backend` (an instance of the counter's backend of
        its own, so this can run outside the counter's lock while the cashier scans on);
        None when the store does not answer (it is then offline until the flush or the probe
        reaches it). Raises the store's `RuleError` (a coupon that no longer applies, a product
        it has no more of). Touches no local state but `offline_targets`."""
        offline = self.sync.offline_targets
        if self.profile in offline:
            return None
        try:
            quote = backend.quote(cart)
        except TransientError:
            offline.add(self.profile)
            return None
        offline.discard(self.profile)
        return quote

    def apply_store_quote(self, cart: Cart, quote: Quote | None,
                          refusal: PosError | None = None) -> bool:
        """Show the store's quote of `cart` (`store_quote`) if the cart is still the one it
        priced; False (nothing changed) when the cashier changed the sale meanwhile. No quote
        (the store did not answer, or refused the cart: `refusal`): the estimate stays, with
        that said; the review (F12) asks the store again before anything is paid."""
        if self.awaiting_store is not cart or self.cart is not cart:
            return False
        self.awaiting_store = None
        if quote is not None:
            self._store_quoted = (quote, time.monotonic())
        elif refusal is not None:
            quote = _warned(self.quote,
                            f"The store refuses the sale as it stands: {refusal.message}")
        else:
            quote = _warned(self.quote, OFFLINE)
        self.quote = quote
        return True

    def _price(self, cart: Cart) -> Quote:
        """The store's quote where it prices remotely; estimated locally while it does not
        answer. A store that failed to answer (here or in the sync engine: `offline_targets`)
        is not asked again until the background flush or its probe finds it: a store that
        hangs would hold every review for the whole timeout."""
        if self.backend.supports(Capability.REMOTE_PRICING):
            quote = self.store_quote(cart, self.backend)
            if quote is not None:
                self._store_quoted = (quote, time.monotonic())
                return quote
        else:
            try:
                return self.backend.quote(cart)
            except TransientError:
                pass
        return _warned(self._estimate(cart), OFFLINE)

    def review(self) -> Quote:
        """Price the sale as the store will (remotely where the backend prices)."""
        self.quote = self._price(self.cart)
        self.awaiting_store = None
        return self.quote

    def _quote_is_fresh(self) -> bool:
        """Whether the quote shown is the store's, of this cart, from the last minute: a
        change of lines, customer or discounts replaces the quote, a payment keeps it."""
        quoted = self._store_quoted
        return (quoted is not None and quoted[0] is self.quote
                and time.monotonic() - quoted[1] < STORE_QUOTE_FRESH_S)


OFFLINE = "The store is offline: prices are estimated locally."


def _warned(quote: Quote, warning: str) -> Quote:
    return quote.model_copy(update={"warnings": (*quote.warnings, warning)})


def _store_priced(cart: Cart) -> bool:
    """Whether the cart holds something only a remote-pricing store can price."""
    return bool(cart.customer or cart.coupon or cart.vouchers or cart.reward
                or cart.shipping_method or cart.use_store_credit)
