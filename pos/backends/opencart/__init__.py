"""`opencart`: an OpenCart 3 store through its session API (`index.php?route=api/...`).

Profiles of this backend: Invotide and Cart API (shipcomet) are the same API. See
docs/opencart.md. Every quote and every placement logs in afresh (a new token is a clean
session: the server keeps coupon, vouchers, reward and sold vouchers after `order/add`) and
replays the whole cart. The session API cannot list products or search customers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from pos.backends.base import (
    Backend,
    BackendContext,
    BackendInfo,
    BackendSettings,
    Capability,
    PlacedOrder,
    RemoteOrder,
    UnsupportedError,
)
from pos.backends.http import HttpBackendSettings, HttpClient, check_base_url
from pos.backends.opencart.api import OpenCartApi, SessionExpired, messages, text
from pos.backends.opencart.replay import Replay, order_cart, replayed
from pos.errors import (
    AuthError,
    InputError,
    NotFoundError,
    PermanentError,
    PosError,
    RuleError,
)
from pos.models import Cart, Customer, Order, PaymentMethod, Quote, ShippingMethod
from pos.money import to_decimal

T = TypeVar("T")
log = logging.getLogger(__name__)
NOT_FOUND = "Order could not be found"
STATUS_IDS = {"pending": "1", "processing": "2", "shipped": "3", "complete": "5",
              "canceled": "7", "cancelled": "7", "refunded": "11", "voided": "16"}


@dataclass(kw_only=True)
class OpenCartSettings(HttpBackendSettings):
    backend: str = "opencart"
    username: str = "Default"
    key: SecretStr
    currency: str | None = None
    store_id: int | None = None
    payment_code: str | None = None  # store payment method for POS tenders (cash, card)
    # the walk-in customer and the counter's address (pickup sales need a shipping address)
    guest_firstname: str = "Walk-in"
    guest_lastname: str = "Customer"
    guest_email: str = "pos@example.com"
    guest_telephone: str = "0000000"
    counter_address_1: str = "Counter sale"
    counter_city: str = "New York"
    counter_postcode: str = "10001"
    counter_country: str = "US"
    counter_zone: str = "NY"
    pickup_method: str = "pickup.pickup"
    voucher_theme_id: int = 8
    reconcile_window: int = 50
    order_status_id: int | None = None


# how long the API session a quote built stays usable for placing that sale (the store drops a
# session's data after 24 minutes without a request)
PRICED_SESSION_S = 600.0


@dataclass(frozen=True)
class _PricedSession:
    token: str
    cart: str  # `replayed(cart)`: what the session holds
    replay: Replay
    at: float  # time.monotonic()


class OpenCartBackend(Backend):
    name = "opencart"
    capabilities = (
        Capability.REMOTE_PRICING | Capability.COUPONS | Capability.VOUCHERS
        | Capability.SELL_VOUCHERS | Capability.REWARDS | Capability.STORE_CREDIT
        | Capability.SHIPPING | Capability.PAYMENT_METHODS | Capability.ORDER_PLACEMENT
        | Capability.ORDER_HISTORY
    )
    Settings = OpenCartSettings
    finds_unsent_orders = False  # reconciling scans ids from the hint `place_order` records
    cli_help = "OpenCart session API tools (zones)"

    def __init__(self, settings: BackendSettings, context: BackendContext) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, OpenCartSettings)
        self.cfg = settings
        base = check_base_url(settings.base_url, settings.allow_http, "OpenCart").rstrip("/")
        base = base.removesuffix("/index.php")  # `…/index.php` and `…/` name the same store
        self.store = f"OpenCart ({httpx.URL(base).host})"
        self.http = HttpClient(base + "/", store=self.store,
                               timeout=httpx.Timeout(settings.timeout, connect=5.0),
                               verify=settings.verify_tls, transport=context.transport)
        self.api = OpenCartApi(self.http, settings.username, settings.key.get_secret_value(),
                               self.store)
        self.state_path = context.data_dir / f"opencart-{context.profile}.json"
        self._priced: _PricedSession | None = None  # the last quote's session

    def close(self) -> None:
        self.http.close()

    # --- local state (zones cache, order id hints) ------------------------------------------

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_state(self, state: dict[str, Any]) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        # a file of its own per writer: the counter's, the flush's and the pricing's instances
        # of this backend may save at once (the last one wins, none is left half written)
        tmp = self.state_path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(self.state_path)

    def _seen(self, order_id: int) -> None:
        state = self._state()
        if order_id > int(state.get("last_order_id", 0)) or "last_order_id" not in state:
            state["last_order_id"] = order_id
            self._save_state(state)

    def zones(self, country_id: int) -> list[dict[str, str]]:
        state = self._state()
        cache = state.setdefault("zones", {})
        if str(country_id) not in cache:
            body = self.api.storefront("checkout/checkout/country",
                                       {"country_id": str(country_id)})
            zones = body.get("zone", []) if isinstance(body, Mapping) else []
            cache[str(country_id)] = [
                {"zone_id": str(z.get("zone_id")), "code": text(z.get("code")),
                 "name": text(z.get("name"))} for z in zones if isinstance(z, Mapping)]
            self._save_state(state)
        return list(cache[str(country_id)])

    # --- sessions ----------------------------------------------------------------------------

    def _session(self, work: Callable[[OpenCartApi], T]) -> T:
        """Log in afresh and run `work`; on an expired session, log in again and replay once."""
        self.api.login()
        try:
            return work(self.api)
        except SessionExpired:
            self.api.login()
            try:
                return work(self.api)
            except SessionExpired:
                raise AuthError(message=f"{self.store} keeps refusing the API session.",
                                hint="Check the API user's IP list and status.") from None

    def info(self) -> BackendInfo:
        self.api.login()
        return BackendInfo(name="OpenCart 3 session API", version="3",
                           detail=f"logged in as {self.cfg.username} at {self.store}")

    def reachable(self) -> bool | None:
        """Asked without logging in (a login would open an API session every half minute)."""
        return self._reachable_by(self.api.probe)

    # --- pricing -----------------------------------------------------------------------------

    def quote(self, cart: Cart) -> Quote:
        """The store's prices: the cart replayed into a fresh API session. That session,
        built for this very sale, is kept for placing it (`place_order`)."""
        self._priced = None

        def work(api: OpenCartApi) -> Quote:
            replay = Replay(self, api, cart)
            quote = replay.quote()
            if api.token:
                self._priced = _PricedSession(api.token, replayed(cart), replay,
                                              time.monotonic())
            return quote

        return self._session(work)

    def shipping_methods(self, cart: Cart) -> list[ShippingMethod]:
        return list(self.quote(cart).shipping_methods)

    def payment_methods(self, cart: Cart) -> list[PaymentMethod]:
        # Offline estimate only (checkout asks this when the store cannot be reached).
        return [PaymentMethod(code="cash", title="Cash", kind="cash"),
                PaymentMethod(code="card", title="Card", kind="card"),
                PaymentMethod(code="free_checkout", title="Free Checkout", kind="free")]

    # --- orders ------------------------------------------------------------------------------

    def _probe_tail(self) -> int:
        """The newest order id, by exponential then binary search over `order/info`.

        Deleted orders can make it stop short; a lower hint only makes a scan longer.
        """
        def exists(order_id: int) -> bool:
            return self._info(str(order_id)) is not None

        lo, hi = 0, 1
        while hi < 2**31 and exists(hi):
            lo, hi = hi, hi * 2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if exists(mid) else (lo, mid)
        return lo

    def place_order(self, order: Order) -> PlacedOrder:
        state = self._state()
        if "last_order_id" not in state:  # first sale from this data dir: find the tail once
            with contextlib.suppress(PosError):
                state["last_order_id"] = self._probe_tail()
        state.setdefault("pending", {})[order.number] = int(state.get("last_order_id", 0))
        self._save_state(state)
        try:
            order_id = self._place(order)
        except (RuleError, AuthError, InputError):  # refused: certainly not created
            state = self._state()
            state.get("pending", {}).pop(order.number, None)
            self._save_state(state)
            raise
        self._seen(order_id)
        state = self._state()
        state.get("pending", {}).pop(order.number, None)
        self._save_state(state)
        return PlacedOrder(remote_id=str(order_id), status="placed")

    def _place(self, order: Order) -> int:
        """`order/add` in the session the store priced this very sale in a moment ago (the
        payment screen's review: a login and a dozen calls saved), else in a fresh session the
        sale is replayed into. A session is used for one placement at most: after `order/add`
        the store keeps its customer, discounts and sold vouchers, which a second sale on it
        would silently reuse."""
        priced, self._priced = self._priced, None
        if (priced is not None and priced.token == self.api.token
                and time.monotonic() - priced.at < PRICED_SESSION_S
                and priced.cart == replayed(order_cart(order))):
            try:
                return priced.replay.order_add(order)
            except SessionExpired:  # the store dropped it: replay the sale in a new session
                log.info("%s: the priced session expired; replaying %s", self.store,
                         order.number)
        return self._session(lambda api: Replay(self, api, order_cart(order)).place(order))

    def _info(self, order_id: str) -> Mapping[str, Any] | None:
        def read(api: OpenCartApi) -> Any:
            return api.call("order/info", query={"order_id": order_id})
        body = self._session(read) if self.api.token is None else self._retry(read)
        if isinstance(body, Mapping) and isinstance(body.get("order"), Mapping):
            row: Mapping[str, Any] = body["order"]
            return row
        if isinstance(body, Mapping) and any(NOT_FOUND in m for m in messages(body.get("error"))):
            return None
        raise PermanentError(message=f"{self.store}: unexpected answer to order/info.")

    def _retry(self, work: Callable[[OpenCartApi], T]) -> T:
        try:
            return work(self.api)
        except SessionExpired:
            return self._session(work)

    def find_order(self, order: Order) -> PlacedOrder | None:
        """Reconcile (see docs/opencart.md): order/info by id, else a bounded scan of ids."""
        if order.remote_id:
            row = self._info(order.remote_id)
            if row is not None and order.number in text(row.get("comment")):
                return PlacedOrder(remote_id=order.remote_id, status="placed", detail="found")
        pending = self._state().get("pending", {})
        if order.number not in pending:
            raise UnsupportedError(
                message=f"{self.store} cannot be searched for sale {order.number}.",
                hint="Check the store's orders for the comment 'POS sale "
                     f"{order.number}', then retry or mark it placed.")
        start = int(pending[order.number]) + 1
        misses = 0
        for order_id in range(start, start + self.cfg.reconcile_window):
            row = self._info(str(order_id))
            if row is None:
                misses += 1
                if misses >= 5:  # past the newest order: it was never created
                    return None
                continue
            misses = 0
            if order.number in text(row.get("comment")):
                self._seen(order_id)
                return PlacedOrder(remote_id=str(order_id), status="placed", detail="reconciled")
        raise UnsupportedError(
            message=f"Sale {order.number} was not among {self.cfg.reconcile_window} orders "
                    f"after #{start - 1} on {self.store}.",
            hint="Check the store's orders, then retry or mark it placed.")

    def _remote(self, row: Mapping[str, Any]) -> RemoteOrder:
        comment = text(row.get("comment"))
        number = comment.split("POS sale ", 1)[1].split()[0].rstrip(":") \
            if "POS sale " in comment else None
        created: datetime | None = None
        try:
            created = datetime.fromisoformat(str(row.get("date_added")))
        except ValueError:
            created = None
        return RemoteOrder(
            remote_id=str(row.get("order_id")), number=number,
            status=text(row.get("order_status")) or "missing",
            total=to_decimal(str(row.get("total") or "0")),
            currency=str(row.get("currency_code") or ""),
            customer=f"{text(row.get('firstname'))} {text(row.get('lastname'))}".strip(),
            created_at=created, raw=dict(row))

    def get_order(self, remote_id: str) -> RemoteOrder:
        row = self._info(remote_id)
        if row is None:
            raise NotFoundError(message=f"{self.store} has no order #{remote_id}.")
        return self._remote(row)

    def list_orders(self, **filters: str) -> list[RemoteOrder]:
        """The session API cannot list: read back the ids this lane knows, newest first."""
        last = int(self._state().get("last_order_id", 0))
        limit = int(filters.get("limit", "20"))
        out: list[RemoteOrder] = []
        for order_id in range(last, max(0, last - limit), -1):
            row = self._info(str(order_id))
            if row is not None:
                out.append(self._remote(row))
        return out

    def update_order_status(self, order: Order, status: str, reason: str = "") -> None:
        if not order.remote_id:
            raise RuleError(message=f"Sale {order.number} is not on {self.store} yet.",
                            field="order")
        status_id = STATUS_IDS.get(status.lower(), status)
        if not status_id.isdigit():
            raise RuleError(message=f"Unknown OpenCart order status {status!r}.",
                            hint="Use a status id or one of " + ", ".join(STATUS_IDS),
                            field="status")
        remote_id = order.remote_id

        def history(api: OpenCartApi) -> Any:
            return api.call("order/history", [("order_status_id", status_id), ("notify", "0"),
                                              ("override", "0"), ("comment", reason)],
                            query={"order_id": remote_id})
        body = self._session(history)
        if not (isinstance(body, Mapping) and body.get("success")):
            err = "; ".join(messages(body.get("error"))) if isinstance(body, Mapping) else ""
            raise PermanentError(message=f"{self.store}: {err or 'order status not changed'}")

    # --- customers by id (no search in the session API) -------------------------------------

    def search_customers(self, query: str, limit: int = 20) -> list[Customer]:
        """Only an exact numeric customer id can be used (`api/customer` checks it exists)."""
        if not query.strip().isdigit():
            raise self._unsupported("search customers (give a customer id)")
        customer = Customer(id=query.strip(), firstname=self.cfg.guest_firstname,
                            lastname=f"#{query.strip()}", email=self.cfg.guest_email,
                            telephone=self.cfg.guest_telephone)

        def check(api: OpenCartApi) -> Any:
            return api.call("customer", Replay(self, api, None).customer_form(customer))
        body = self._session(check)
        if isinstance(body, Mapping) and body.get("success"):
            return [customer]
        return []

    # --- command line ------------------------------------------------------------------------

    @classmethod
    def build_cli(cls, parser: Any) -> None:
        sub = parser.add_subparsers(dest="oc_command", required=True)
        p = sub.add_parser("zones", help="list a country's zones and their zone_id")
        p.add_argument("country", help="ISO code, e.g. US")
        p = sub.add_parser("order", help="read an order back (order/info)")
        p.add_argument("order_id")
        sub.add_parser("login", help="check the API key and IP (opens a session)")

    def run_cli(self, args: Any) -> int:
        from pos.geo import country

        if args.oc_command == "zones":
            found = country(args.country)
            if found is None:
                raise NotFoundError(message=f"Unknown country {args.country!r}.")
            for zone in self.zones(found.id):
                print(f"{zone['zone_id']:>6} {zone['code']:<6} {zone['name']}")
            return 0
        if args.oc_command == "order":
            remote = self.get_order(args.order_id)
            print(json.dumps({"order_id": remote.remote_id, "number": remote.number,
                              "status": remote.status, "total": str(remote.total),
                              "currency": remote.currency, "customer": remote.customer,
                              "comment": text(remote.raw.get("comment"))}, indent=2))
            return 0
        if args.oc_command == "login":
            print(self.info().detail)
            return 0
        return 2

