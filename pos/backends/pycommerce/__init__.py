"""`pycommerce`: a PyCommerce store over its REST API (JSON over HTTPS, JWT bearer auth).

What it does (see docs/pycommerce.md):

* catalog: `GET /api/products?tenant=` (one unpaged answer; no `updated_since`, so every sync is
  a full refresh upserted into the cache) and `GET /api/categories?tenant=`;
* orders: `POST /api/orders` with the tenant's uuid (resolved once from `GET /api/tenants`) and
  the local order number in `notes`; creating is not idempotent, so a lost answer is
  `OutcomeUnknown` and `find_order` looks the number up in `GET /api/orders` (+ details) before
  any retry;
* card payments: a Stripe checkout session (`POST /stripe-demo/create-checkout-session-json`)
  whose line items add up, to the cent, to the sale total;
* pricing stays local (the API has no cart/quote route): the base class prices from the cache.

Money arrives as JSON floats (`149.99`): every amount goes through `Decimal(str(x))` and is
rounded to cents; amounts sent are Decimals written as JSON numbers by `dumps_money`, never
floats.
"""

from __future__ import annotations

import argparse
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from pos.backends.base import (
    Backend,
    BackendContext,
    BackendInfo,
    BackendSettings,
    Capability,
    PaymentLink,
    PlacedOrder,
    RemoteOrder,
)
from pos.backends.http import HttpClient, check_base_url, parse_json, safe_url
from pos.backends.pycommerce import cli
from pos.backends.pycommerce.errors import error_text, raise_for_status
from pos.backends.pycommerce.settings import (
    FILTER_KEYS,
    PAGE_SIZE,
    PAYMENT_METHODS,
    RECONCILE_WINDOW_HOURS,
    STORE,
    PyCommerceSettings,
)
from pos.backends.pycommerce.wire import dumps_money, money_in, stripe_items
from pos.errors import (
    AuthError,
    ConfigError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from pos.models import Address, Cart, Order, PaymentMethod, Product, ShippingMethod
from pos.pricing import PricingContext

__all__ = [
    "PyCommerceBackend",
    "PyCommerceSettings",
    "dumps_money",
    "error_text",
    "money_in",
    "raise_for_status",
    "stripe_items",
]

log = logging.getLogger(__name__)


class PyCommerceBackend(Backend):
    name = "pycommerce"
    capabilities = (Capability.CATALOG | Capability.PAYMENT_LINK | Capability.ORDER_PLACEMENT
                    | Capability.ORDER_HISTORY)
    Settings = PyCommerceSettings
    cli_help: ClassVar[str] = "PyCommerce store: tenants, categories and remote orders."

    def __init__(self, settings: BackendSettings, context: BackendContext,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(settings, context)
        if not isinstance(settings, PyCommerceSettings):
            raise ConfigError(message="The pycommerce backend needs PyCommerceSettings.")
        self.cfg = settings
        base = check_base_url(settings.base_url, settings.allow_http, STORE).rstrip("/")
        if settings.token is None and settings.login_body() is None:
            raise ConfigError(
                message=f"[profiles.{context.profile}] PyCommerce needs a token, or a username "
                        "(or email) and a password.",
                hint='Add token = "..." or username = "..." and password = "..." to the profile.')
        self.http = HttpClient(base, store=STORE, timeout=settings.timeout,
                               verify=settings.verify_tls, transport=context.transport,
                               headers={"Accept": "application/json"})
        self.sleep = sleep
        self._token: str | None = (settings.token.get_secret_value()
                                   if settings.token is not None else None)
        self._tenant_id: str | None = None
        self._prefetched: list[dict[str, Any]] | None = None
        self._categories: list[tuple[str, str, str | None]] | None = None

    def close(self) -> None:
        self.http.close()

    # --- transport ---------------------------------------------------------------------------

    def _login(self) -> str:
        body = self.cfg.login_body()
        if body is None:
            raise AuthError(message=f"{STORE} refused the configured token.",
                            hint="Renew the token, or configure username and password so pos "
                                 "can log in by itself.", status=401)
        response = self.http.request("POST", "/api/auth/login", idempotent=True, json=body)
        if response.status_code in (400, 401, 403):
            raise AuthError(message=f"{STORE} refused the login: {error_text(response)}",
                            hint="Check username/email and password in the profile.",
                            status=response.status_code)
        raise_for_status(response, "log in")
        data = parse_json(response, STORE)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise PermanentError(message=f"{STORE} answered the login without an access_token.",
                                 hint="Check base_url points at the PyCommerce API.")
        self._token = token
        return token

    def _request(self, method: str, path: str, what: str, *, idempotent: bool,
                 auth: bool = True, **kwargs: Any) -> httpx.Response:
        """Send with the bearer token; re-login once on 401; honour a short Retry-After."""
        relogged = False
        waits = 0
        extra = dict(kwargs.pop("headers", None) or {})
        while True:
            headers = dict(extra)
            if auth:
                token = self._token or self._login()
                headers["Authorization"] = f"Bearer {token}"
            try:
                response = self.http.request(method, path, idempotent=idempotent,
                                             headers=headers, **kwargs)
            except TransientError as exc:
                wait = exc.retry_after
                if (exc.status == 429 and idempotent and waits < 2 and wait is not None
                        and wait <= self.cfg.max_retry_wait):
                    waits += 1
                    self.sleep(wait)
                    continue
                raise
            if (response.status_code == 401 and auth and not relogged
                    and self.cfg.login_body() is not None):
                relogged = True
                self._token = None
                continue
            raise_for_status(response, what)
            return response

    def _get(self, path: str, what: str, params: Mapping[str, str] | None = None,
             auth: bool = True) -> Any:
        response = self._request("GET", path, what, idempotent=True, auth=auth,
                                 params=dict(params or {}))
        return parse_json(response, STORE)

    @staticmethod
    def _list(data: Any, key: str, what: str) -> list[dict[str, Any]]:
        items = data.get(key) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise PermanentError(message=f"{STORE} answered {what} without a {key!r} list.",
                                 hint="Check base_url points at the PyCommerce API.")
        return [i for i in items if isinstance(i, dict)]

    # --- lifecycle ---------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        data = self._get("/api/health", "check its health", auth=False)
        version = str(data.get("version", "")) if isinstance(data, dict) else ""
        status = str(data.get("status", "")) if isinstance(data, dict) else ""
        return BackendInfo(name="PyCommerce", version=version,
                           detail=f"tenant {self.cfg.tenant} at {safe_url(self.cfg.base_url)}"
                                  + (f" ({status})" if status and status != "ok" else ""),
                           reachable=status in ("", "ok"))

    def reachable(self) -> bool | None:
        return self._info_reachable()  # one small GET

    def tenants(self) -> list[dict[str, Any]]:
        return self._list(self._get("/api/tenants", "list tenants"), "tenants", "the tenants")

    def tenant_id(self) -> str:
        if self._tenant_id is None:
            tenants = self.tenants()
            match = next((t for t in tenants if t.get("slug") == self.cfg.tenant), None)
            if match is None or not match.get("id"):
                known = ", ".join(str(t.get("slug")) for t in tenants) or "none"
                raise ConfigError(message=f"{STORE} has no tenant {self.cfg.tenant!r}.",
                                  hint=f"Known tenants: {known}. Fix tenant in the profile.")
            self._tenant_id = str(match["id"])
        return self._tenant_id

    # --- catalog -----------------------------------------------------------------------------

    def _products(self, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        unknown = set(filters) - set(FILTER_KEYS)
        if unknown:
            raise InputError(message=f"Unknown catalog filter {', '.join(sorted(unknown))}.",
                             hint=f"Use {', '.join(FILTER_KEYS)}.")
        params = {"tenant": self.cfg.tenant, **{k: v for k, v in filters.items() if v != ""}}
        data = self._get("/api/products", "list its products", params)
        return self._list(data, "products", "the product list")

    def catalog_size_hint(self) -> int | None:
        self._prefetched = self._products(self.cfg.catalog_filters)
        return len(self._prefetched)

    def categories(self) -> list[tuple[str, str, str | None]]:
        """(id, name, parent_id) rows for the catalog cache."""
        if self._categories is None:
            try:
                data = self._get("/api/categories", "list its categories",
                                 {"tenant": self.cfg.tenant})
            except PermanentError as exc:
                if exc.status != 404:
                    raise
                data = {"categories": []}  # one of the documented routes that drift: do without
            self._categories = [
                (str(c["id"]), str(c.get("name") or c["id"]),
                 str(c["parent_id"]) if c.get("parent_id") else None)
                for c in self._list(data, "categories", "the category list") if c.get("id")]
        return self._categories

    def iter_catalog(self, filters: Mapping[str, str] | None = None) -> Iterator[list[Product]]:
        """Full refresh (the API has no `updated_since` and no paging), in pages for the cache."""
        wanted = {**self.cfg.catalog_filters, **(filters or {})}
        if self._prefetched is not None and wanted == self.cfg.catalog_filters:
            rows, self._prefetched = self._prefetched, None
        else:
            rows = self._products(wanted)
        by_name = {name.lower(): cid for cid, name, _ in self.categories()}
        priceless = [r for r in rows if r.get("price") is None]
        if priceless:  # never sell something at 0.00 because the store sent no price
            log.warning("PyCommerce: %d products without a price skipped (e.g. %s)",
                        len(priceless), priceless[0].get("sku") or priceless[0].get("id"))
            rows = [r for r in rows if r.get("price") is not None]
        for start in range(0, len(rows), PAGE_SIZE):
            yield [self._product(r, by_name) for r in rows[start:start + PAGE_SIZE]]

    def _product(self, row: Mapping[str, Any], categories: Mapping[str, str]) -> Product:
        pid = row.get("id")
        if pid in (None, ""):
            raise PermanentError(message=f"{STORE} sent a product without an id.")
        stock = row.get("stock")
        names = [str(c) for c in row.get("categories") or [] if c]
        category = names[-1] if names else ""
        return Product(
            id=str(pid), sku=str(row.get("sku") or ""), name=str(row.get("name") or pid),
            price=money_in(row.get("price"), f"price of product {pid}"),
            stock=int(stock) if isinstance(stock, int | float) else None,
            category=categories.get(category.lower(), category))

    # --- pricing -----------------------------------------------------------------------------

    def payment_methods(self, cart: Cart) -> list[PaymentMethod]:
        return list(PAYMENT_METHODS)

    def shipping_methods(self, cart: Cart) -> list[ShippingMethod]:
        """Delivery methods from the profile's `shipping_rates` (the API has no such route)."""
        if cart.shipping_address is None or not cart.needs_shipping:
            return []
        return [ShippingMethod(code=code, title=code.replace("_", " ").capitalize(),
                               cost=money_in(cost, f"shipping rate {code}"))
                for code, cost in self.cfg.shipping_rates.items()]

    def pricing_context(self, cart: Cart) -> PricingContext:
        if cart.sold_vouchers:
            raise self._unsupported("sell gift vouchers")
        return super().pricing_context(cart)

    # --- payment links -----------------------------------------------------------------------

    def create_payment_link(self, order: Order, method: PaymentMethod) -> PaymentLink:
        items = stripe_items(order)
        body = {"items": items, "order_id": order.remote_id or order.number}
        response = self._request(
            "POST", "/stripe-demo/create-checkout-session-json", "create a card payment link",
            idempotent=True,  # a second session for the same sale is harmless
            content=dumps_money(body).encode(), headers={"Content-Type": "application/json"})
        data = parse_json(response, STORE)
        url = data.get("checkout_url") if isinstance(data, dict) else None
        if not isinstance(url, str) or not url:
            raise PermanentError(message=f"{STORE} created no checkout URL: "
                                         f"{error_text(response)}")
        return PaymentLink(id=str(data.get("session_id") or ""), url=url,
                           amount=order.totals.total,
                           detail="Stripe checkout: confirm on screen once the customer paid.")

    def payment_link_status(self, link: PaymentLink) -> PaymentLink:
        """The API has no session-status route: the link stays pending until the cashier marks
        it paid (or cancels it) on the payment screen."""
        return link

    # --- orders ------------------------------------------------------------------------------

    def _notes(self, order: Order) -> str:
        tag = f"POS sale {order.number}"
        comment = order.comment.strip()
        if not comment or comment == tag:
            return tag
        return comment if order.number in comment else f"{tag} — {comment}"

    @staticmethod
    def _address(address: Address | None) -> dict[str, str] | None:
        if address is None:
            return None
        return {"line1": address.address_1, "line2": address.address_2, "city": address.city,
                "state": address.zone, "postal_code": address.postcode,
                "country": address.country}

    def order_payload(self, order: Order) -> dict[str, Any]:
        kinds = {p.kind for p in order.payments} or (
            {order.payment_method.kind} if order.payment_method else set())
        payment = (self.cfg.card_payment_method if kinds & {"link", "card"}
                   else self.cfg.payment_method)
        customer = order.customer
        shipping = (order.shipping_method.code if order.shipping_method and not order.pickup
                    else self.cfg.shipping_method)
        payload: dict[str, Any] = {
            "tenant_id": self.tenant_id(),
            "customer": {"name": customer.name if customer.firstname or customer.lastname
                         else self.cfg.guest_name,
                         "email": customer.email or self.cfg.guest_email,
                         "phone": customer.telephone},
            "items": [{"product_id": line.product_id, "quantity": line.quantity}
                      for line in order.lines],
            "shipping_method": shipping,
            "payment_method": payment,
            "notes": self._notes(order),
        }
        ship = self._address(order.shipping_address if not order.pickup else None)
        bill = self._address(order.payment_address) or ship
        if ship:
            payload["shipping_address"] = ship
        if bill:
            payload["billing_address"] = bill
        return payload

    def place_order(self, order: Order) -> PlacedOrder:
        if order.sold_vouchers:
            raise self._unsupported("sell gift vouchers")
        payload = self.order_payload(order)  # resolves the tenant first (idempotent GET)
        response = self._request("POST", "/api/orders", "create the order", idempotent=False,
                                 json=payload)
        try:
            data = parse_json(response, STORE)
        except PermanentError:  # a 2xx that is not JSON: did the order get created? ask first
            raise OutcomeUnknown(
                message=f"{STORE} answered the order with {error_text(response)}.",
                hint="pos checks with the store before trying again.",
                status=response.status_code) from None
        remote_id = data.get("id") if isinstance(data, dict) else None
        if not remote_id:
            raise OutcomeUnknown(message=f"{STORE} answered the order without an id.",
                                 hint="pos checks with the store before trying again.")
        return PlacedOrder(remote_id=str(remote_id), status=str(data.get("status") or ""),
                           detail=str(data.get("message") or ""))

    def find_order(self, order: Order) -> PlacedOrder | None:
        """The remote order whose notes carry this sale's number (list, then read candidates).

        The list rows of the contract carry no notes, so the orders of this customer (by e-mail)
        created since a day before the sale (or of unknown date) are read one by one, newest
        first. Any failure propagates: the sale stays `unknown` rather than being sent twice.
        """
        rows = self._list(self._get("/api/orders", "list orders", {"tenant": self.cfg.tenant}),
                          "orders", "the order list")
        since = order.created_at - timedelta(hours=RECONCILE_WINDOW_HOURS)
        email = (order.customer.email or self.cfg.guest_email).strip().lower()
        candidates = []
        for row in rows:
            notes = row.get("notes")
            if isinstance(notes, str):
                if _carries(notes, order.number):
                    return PlacedOrder(remote_id=str(row["id"]), status=str(row.get("status", "")))
                continue
            theirs = str(row.get("customer_email") or "").strip().lower()
            if email and theirs and theirs != email:
                continue  # someone else's order: no need to read it
            created = _parse_time(row.get("created_at"))
            if created is None or created >= since:
                candidates.append((created or datetime.max.replace(tzinfo=since.tzinfo), row))
        candidates.sort(key=lambda c: c[0], reverse=True)
        for _, row in candidates:
            if not row.get("id"):
                continue
            detail = self._get(f"/api/orders/{row['id']}", "read an order")
            if isinstance(detail, dict) and _carries(str(detail.get("notes") or ""), order.number):
                return PlacedOrder(remote_id=str(row["id"]), status=str(detail.get("status", "")))
        return None

    def list_orders(self, **filters: str) -> list[RemoteOrder]:
        params = {"tenant": self.cfg.tenant}
        for key in ("status", "customer_id"):
            if filters.get(key):
                params[key] = filters[key]
        rows = self._list(self._get("/api/orders", "list orders", params), "orders",
                          "the order list")
        limit = int(filters.get("limit", "0") or 0)
        return [self._remote(r) for r in (rows[:limit] if limit else rows)]

    def get_order(self, remote_id: str) -> RemoteOrder:
        try:
            data = self._get(f"/api/orders/{remote_id}", "read the order")
        except PermanentError as exc:
            if exc.status == 404:
                raise NotFoundError(message=f"{STORE} has no order {remote_id}.") from None
            raise
        if not isinstance(data, dict):
            raise PermanentError(message=f"{STORE} answered the order with no object.")
        return self._remote(data)

    def _remote(self, row: Mapping[str, Any]) -> RemoteOrder:
        customer = row.get("customer")
        name = (str(customer.get("name") or "") if isinstance(customer, dict)
                else str(row.get("customer_name") or ""))
        notes = str(row.get("notes") or "")
        match = re.search(r"POS sale (\S+)", notes)
        return RemoteOrder(
            remote_id=str(row.get("id", "")), number=match.group(1) if match else None,
            status=str(row.get("status") or ""),
            total=money_in(row["total"], "order total") if row.get("total") is not None
            else None,
            currency=self.cfg.currency, customer=name,
            created_at=_parse_time(row.get("created_at")), raw=dict(row))

    @classmethod
    def build_cli(cls, parser: argparse.ArgumentParser) -> None:
        cli.build_cli(parser)

    def run_cli(self, args: argparse.Namespace) -> int:
        return cli.run_cli(self, args)


def _carries(notes: str, number: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(number)}(?![\w-])", notes) is not None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed

