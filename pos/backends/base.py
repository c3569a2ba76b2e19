"""The one interface between the counter and a shop's system of record.

A backend is a class derived from `Backend`, registered under the entry-point group
`pos.backends` (see `pos.backends.registry`), configured by a `[profiles.NAME]` table whose keys
are validated by the backend's own `Settings` model. The checkout service and the screens know
nothing else about a backend than this module: what it `capabilities` say it can do, the typed
values it returns, and the `PosError`s it raises (`TransientError` when retrying may help,
`PermanentError`/`RuleError` when the store refused, `OutcomeUnknown` when a non-idempotent call
went out and no answer came back).

Every method has a default that either does the honest local thing (price the cart from the
local catalog cache) or raises `UnsupportedError`; a backend overrides what it supports and says
so in `capabilities`.
"""

from __future__ import annotations

import argparse
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Flag, auto
from pathlib import Path
from typing import Any, ClassVar, Literal

from pos.errors import OutcomeUnknown, PermanentError, PosError, TransientError
from pos.model_base import Model
from pos.models import (
    Cart,
    Customer,
    Order,
    PaymentMethod,
    Product,
    Quote,
    ShippingMethod,
    TaxClass,
)
from pos.money import format_money
from pos.pricing import PricingContext, price_cart


class Capability(Flag):
    NONE = 0
    CATALOG = auto()  # products can be listed/synced from the backend
    REMOTE_PRICING = auto()  # the backend prices the cart itself (a remote checkout session)
    CUSTOMERS = auto()  # customers can be searched/looked up
    CREATE_CUSTOMERS = auto()
    COUPONS = auto()
    VOUCHERS = auto()  # redeem gift vouchers
    SELL_VOUCHERS = auto()  # sell new gift vouchers
    REWARDS = auto()  # reward/loyalty points
    STORE_CREDIT = auto()
    SHIPPING = auto()  # shipping methods for an address
    PAYMENT_METHODS = auto()  # the backend lists payment methods
    PAYMENT_LINK = auto()  # a payment link / invoice / checkout URL for the customer to pay
    PAYMENT_LINK_STATUS = auto()  # the backend tells when a link is paid (else the cashier does)
    SPLIT_TENDER = auto()  # several payments for one sale
    ORDER_PLACEMENT = auto()  # sales are placed as orders on the backend
    ORDER_HISTORY = auto()  # orders can be listed/read back
    ORDER_SINK = auto()  # receives a copy of sales placed elsewhere (upsert by local number)
    REFUNDS = auto()


class UnsupportedError(PermanentError):
    title = "Not supported"


@dataclass(kw_only=True)
class BackendSettings(Model):
    """Base of each backend's profile settings (a `[profiles.NAME]` table, validated by
    pydantic: `pos.backends.create_backend`). `backend` names the backend."""

    backend: str


@dataclass(frozen=True)
class BackendInfo:
    name: str
    version: str = ""
    detail: str = ""
    reachable: bool = True


@dataclass(frozen=True)
class PlacedOrder:
    remote_id: str
    status: str = ""
    detail: str = ""


@dataclass(frozen=True)
class RemoteOrder:
    remote_id: str
    number: str | None  # the local order number, when the backend carries it
    status: str
    total: Decimal | None = None
    currency: str = ""
    customer: str = ""
    created_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    def total_text(self, default_currency: str) -> str:
        """The total formatted in its currency (or `default_currency`); "?" when unknown."""
        if self.total is None:
            return "?"
        return format_money(self.total, self.currency or default_currency)


@dataclass(frozen=True)
class PaymentLink:
    """A URL for the customer to pay on their phone (Stripe checkout, bitcoin invoice ...)."""

    id: str
    url: str
    status: Literal["pending", "paid", "canceled", "failed"] = "pending"
    amount: Decimal | None = None
    detail: str = ""


@dataclass(frozen=True)
class BackendContext:
    """What the application hands a backend: where its files live and the local catalog."""

    data_dir: Path
    profile: str = "local"
    lane: str = ""
    cashier: str = ""
    tax_classes: Callable[[], Mapping[str, TaxClass]] = dict
    # Tests hand an emulator's transport here (httpx.MockTransport); None = the real network.
    transport: Any = None


class Backend(ABC):
    name: ClassVar[str] = ""
    capabilities: ClassVar[Capability] = Capability.NONE
    Settings: ClassVar[type[BackendSettings]] = BackendSettings
    #: `find_order` (when overridden) also answers for a sale whose `place_order` was never
    #: called: it searches the store itself, not a record `place_order` writes first. The sync
    #: engine then announces several placements `sending` in one transaction before their calls
    #: (after a crash each one is looked up). A backend whose lookup needs what `place_order`
    #: recorded (OpenCart's order-id hint) says False: one announcement per call, so a crash
    #: never leaves more than one sale it cannot look up.
    finds_unsent_orders: ClassVar[bool] = True

    def __init__(self, settings: BackendSettings, context: BackendContext) -> None:
        self.settings = settings
        self.context = context

    # --- command line ------------------------------------------------------------------------
    # A backend may add `pos <name> ...` commands: fill the parser here, run them in `run_cli`.

    cli_help: ClassVar[str] = ""

    @classmethod
    def build_cli(cls, parser: argparse.ArgumentParser) -> None:
        """Add this backend's subcommands to `parser` (only called when `cli_help` is set)."""
        return None

    def run_cli(self, args: argparse.Namespace) -> int:
        raise self._unsupported("run commands")

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def _unsupported(self, what: str) -> UnsupportedError:
        return UnsupportedError(
            message=f"The {self.name} backend cannot {what}.",
            hint="This profile's store has no such feature.",
        )

    # --- lifecycle -------------------------------------------------------------------------

    @abstractmethod
    def info(self) -> BackendInfo:
        """Check the backend is reachable and say what it is (for `pos doctor`)."""

    def reachable(self) -> bool | None:
        """Whether the store answers, asked every half minute while nothing waits to be sent
        (the counter's online/offline). Only where asking is cheap and changes nothing on the
        store; None (the default): no such check, the status follows the sync's outcomes."""
        return None

    def _reachable_by(self, ask: Callable[[], bool]) -> bool:
        """`reachable` through one call: unreachable only when the network or the server
        failed; any other error is an answer (the sync reports what is wrong)."""
        try:
            return ask()
        except (TransientError, OutcomeUnknown):
            return False
        except PosError:
            return True

    def _info_reachable(self) -> bool:
        return self._reachable_by(lambda: self.info().reachable)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    # --- catalog ---------------------------------------------------------------------------

    def iter_catalog(self, filters: Mapping[str, str] | None = None) -> Iterator[list[Product]]:
        """Yield pages of products for the local cache."""
        raise self._unsupported("list its products")

    def catalog_size_hint(self) -> int | None:
        """How many products `iter_catalog` will yield, if known (for a progress bar)."""
        return None

    def tax_classes(self) -> list[TaxClass]:
        return []

    # --- customers -------------------------------------------------------------------------

    def search_customers(self, query: str, limit: int = 20) -> list[Customer]:
        raise self._unsupported("search customers")

    def create_customer(self, customer: Customer) -> Customer:
        raise self._unsupported("create customers")

    # --- pricing ---------------------------------------------------------------------------

    def shipping_methods(self, cart: Cart) -> list[ShippingMethod]:
        """Methods for the cart's shipping address (pickup included where offered)."""
        return []

    def payment_methods(self, cart: Cart) -> list[PaymentMethod]:
        return [
            PaymentMethod(code="cash", title="Cash", kind="cash"),
            PaymentMethod(code="free_checkout", title="Free Checkout", kind="free"),
        ]

    def pricing_context(self, cart: Cart) -> PricingContext:
        """The rules for this cart; raises `RuleError` for what the store refuses."""
        for name, refused in (("coupon", cart.coupon), ("voucher", cart.vouchers),
                              ("reward", cart.reward), ("store credit", cart.use_store_credit)):
            if refused:
                raise self._unsupported(f"take a {name}")
        return PricingContext(
            tax_classes=self.context.tax_classes(),
            shipping_methods=self.shipping_methods(cart),
            payment_methods=self.payment_methods(cart),
        )

    def quote(self, cart: Cart) -> Quote:
        """Price the cart. The default prices it locally from the catalog cache."""
        return price_cart(cart, self.pricing_context(cart))

    # --- payment links ---------------------------------------------------------------------

    def create_payment_link(self, order: Order, method: PaymentMethod) -> PaymentLink:
        raise self._unsupported("create a payment link")

    def payment_link_status(self, link: PaymentLink) -> PaymentLink:
        raise self._unsupported("check a payment link")

    # --- orders ----------------------------------------------------------------------------

    def place_order(self, order: Order) -> PlacedOrder:
        """Create the order remotely. Must carry `order.number` so it can be found again."""
        raise self._unsupported("place orders")

    def find_order(self, order: Order) -> PlacedOrder | None:
        """Reconcile: the remote order carrying `order.number`, or None if there is none.

        Called before any retry of a placement whose outcome is unknown. A backend that cannot
        tell raises `UnsupportedError` and the sale stays `unknown` for the cashier to decide.
        """
        raise self._unsupported("look up an order by its local number")

    def list_orders(self, **filters: str) -> list[RemoteOrder]:
        raise self._unsupported("list orders")

    def get_order(self, remote_id: str) -> RemoteOrder:
        raise self._unsupported("read an order")

    # --- sinks -----------------------------------------------------------------------------

    def mirror_order(self, order: Order) -> PlacedOrder:
        """Upsert a copy of a sale placed elsewhere (idempotent on `order.number`)."""
        raise self._unsupported("mirror orders")

    def update_order_status(self, order: Order, status: str, reason: str = "") -> None:
        raise self._unsupported("change an order's status")
