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
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr, field_validator

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
from pos.money import ZERO, round_money, to_decimal
from pos.pricing import PricingContext

STORE = "PyCommerce"
log = logging.getLogger(__name__)
PAGE_SIZE = 500
RECONCILE_WINDOW_HOURS = 24  # orders created since (sale time - this) are read when reconciling
FILTER_KEYS = ("category", "min_price", "max_price", "in_stock")
PAYMENT_METHODS = (
    PaymentMethod(code="cash", title="Cash", kind="cash"),
    PaymentMethod(code="card", title="Card (Stripe checkout link)", kind="link"),
    PaymentMethod(code="free_checkout", title="Free Checkout", kind="free"),
)


class PyCommerceSettings(BackendSettings):
    backend: str = "pycommerce"
    base_url: str
    tenant: str = Field(min_length=1)  # the tenant slug, e.g. "tech"
    token: SecretStr | None = None  # an API key / JWT used as is
    username: str = ""
    email: str = ""
    password: SecretStr | None = None
    allow_http: bool = False  # plain http only for local tests
    verify_tls: bool = True
    timeout: float = Field(default=15.0, gt=0)
    currency: str = "USD"
    payment_method: str = "cash"  # PyCommerce payment_method for cash/other tenders
    card_payment_method: str = "credit_card"  # ... for the Stripe link / card tenders
    shipping_method: str = "pickup"  # PyCommerce shipping_method for counter (pickup) sales
    guest_name: str = "Walk-in customer"
    guest_email: str = ""  # sent when the sale has no customer e-mail (store may require one)
    shipping_rates: dict[str, str] = Field(default_factory=dict)  # delivery: code → flat cost
    catalog_filters: dict[str, str] = Field(default_factory=dict)
    max_retry_wait: float = Field(default=10.0, ge=0)  # honour Retry-After up to this, then queue

    @field_validator("catalog_filters")
    @classmethod
    def _filters(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - set(FILTER_KEYS)
        if unknown:
            raise ValueError(f"unknown filter {', '.join(sorted(unknown))} "
                             f"(use {', '.join(FILTER_KEYS)})")
        return {k: str(v) for k, v in value.items()}

    @field_validator("shipping_rates", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for code, cost in value.items():
                if isinstance(cost, bool) or not isinstance(cost, int | float | str):
                    raise ValueError(f"shipping rate {code!r} must be an amount like \"5.00\"")
                try:
                    to_decimal(cost)
                except InputError:
                    raise ValueError(f"shipping rate {code!r}: {cost!r} is not an amount") from None
            return {k: str(v) for k, v in value.items()}
        return value

    def login_body(self) -> dict[str, str] | None:
        if self.password is None or not (self.username or self.email):
            return None
        key, who = ("username", self.username) if self.username else ("email", self.email)
        return {key: who, "password": self.password.get_secret_value()}


# --- money on the wire ------------------------------------------------------------------------


def money_in(value: object, what: str = "price") -> Decimal:
    """A JSON number (float) from the API → Decimal cents, via its shortest repr."""
    if value is None:
        return ZERO
    try:
        return round_money(to_decimal(value, what))
    except InputError:
        raise PermanentError(message=f"{STORE} sent a {what} that is not a number: {value!r}.",
                             hint="The store's data is inconsistent.") from None


class _Raw:
    """A pre-formatted JSON number placed into the output of `json.dumps`."""

    def __init__(self, text: str) -> None:
        self.text = text


def dumps_money(data: Any) -> str:
    """JSON with every `Decimal` written as a plain number of its exact digits (no float)."""
    raws: list[str] = []

    def prepare(value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"not a finite amount: {value}")
            raws.append(format(value, "f"))
            return f"\x00pos-decimal-{len(raws) - 1}\x00"
        if isinstance(value, float):
            raise TypeError("floats never go on the wire: use Decimal")
        if isinstance(value, Mapping):
            return {k: prepare(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [prepare(v) for v in value]
        return value

    text = json.dumps(prepare(data), ensure_ascii=False)
    return re.sub(r'"\\u0000pos-decimal-(\d+)\\u0000"', lambda m: raws[int(m.group(1))], text)


def stripe_items(order: Order) -> list[dict[str, Any]]:
    """Line items whose `price × quantity` adds up exactly to `order.totals.total`.

    One item per cart line at its discounted shelf amount (coupon/reward shares already taken
    off), sold gift vouchers, then shipping and the tax added on top as their own items. Stripe
    has no negative items: when store credit or gift vouchers paid part of the sale, or the
    parts do not add up, a single item "Sale <number>" carries the total.
    """
    total = order.totals.total
    priced = {p.key: p for p in order.priced}
    items: list[dict[str, Any]] = []
    for line in order.lines:
        p = priced.get(line.key)
        amount = (p.total - p.discount) if p else round_money(line.unit_price * line.quantity)
        if amount <= 0:
            continue
        unit = amount / line.quantity
        if round_money(unit) == unit:
            items.append({"id": line.product_id, "name": line.name, "price": round_money(unit),
                          "quantity": line.quantity})
        else:  # a discount share that does not divide by the quantity: one item for the line
            items.append({"id": line.product_id, "name": f"{line.name} ×{line.quantity}",
                          "price": amount, "quantity": 1})
    for sold in order.sold_vouchers:
        items.append({"id": f"voucher-{sold.key}", "name": f"Gift voucher for {sold.to_name}",
                      "price": round_money(sold.amount), "quantity": 1})
    if order.totals.shipping > 0:
        title = order.shipping_method.title if order.shipping_method else "Shipping"
        items.append({"id": "shipping", "name": title, "price": order.totals.shipping,
                      "quantity": 1})
    if order.totals.tax > 0:
        items.append({"id": "tax", "name": "Tax", "price": order.totals.tax, "quantity": 1})
    added = sum((i["price"] * i["quantity"] for i in items), ZERO)
    if added != total or not items:
        return [{"id": order.number, "name": f"Sale {order.number}", "price": round_money(total),
                 "quantity": 1}]
    return items


# --- errors ---------------------------------------------------------------------------------


def error_text(response: httpx.Response) -> str:
    """The message of either error shape, or a description of an HTML/empty/odd body."""
    text = response.text
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body.get("message")))
        if isinstance(err, dict):
            parts = [str(err.get("message") or err.get("code") or "").strip()]
            details = err.get("details")
            if details and str(details) not in parts[0]:
                parts.append(str(details))
            code = err.get("code")
            msg = " — ".join(p for p in parts if p) or "no message"
            return f"{msg} [{code}]" if code and code != msg else msg
        if isinstance(err, str) and err.strip():
            return err.strip()
        if isinstance(err, list) and err:  # FastAPI validation details
            return "; ".join(str(e.get("msg", e)) if isinstance(e, dict) else str(e)
                             for e in err[:3])
    ctype = response.headers.get("Content-Type", "")
    if "html" in ctype or text.lstrip().startswith("<"):
        return "an HTML page instead of JSON (a proxy or the wrong base_url?)"
    if not text.strip():
        return "an empty answer"
    return text.strip()[:200]


def raise_for_status(response: httpx.Response, what: str) -> None:
    """4xx → the `PosError` a cashier understands (3xx/429/5xx are mapped by `HttpClient`)."""
    status = response.status_code
    if status < 400:
        return
    detail = error_text(response)
    where = f"{response.request.method} {safe_url(response.request.url)}"
    if status == 401:
        raise AuthError(message=f"{STORE} refused the credentials while trying to {what}: "
                                f"{detail}",
                        hint="Check token, or username/email and password, in the profile.",
                        status=status)
    if status == 403:
        raise AuthError(title="Not permitted",
                        message=f"{STORE} does not allow this account to {what}: {detail}",
                        hint="Use an account/API key with the right permissions.", status=status)
    if status == 404:
        raise PermanentError(title="Not found",
                             message=f"{STORE} could not {what}: {detail} ({where}).",
                             hint="Check the tenant and the base_url.", status=status)
    if status == 409:
        raise PermanentError(title="Conflict", message=f"{STORE} could not {what}: {detail}",
                             hint="Someone else changed it; reload and try again.", status=status)
    if status == 429:  # normally mapped by HttpClient already
        raise TransientError(message=f"{STORE} is rate limiting requests (429).", status=status)
    raise PermanentError(message=f"{STORE} refused to {what}: {detail}",
                         hint="Correct the sale and try again." if status in (400, 422) else
                         f"HTTP {status} from {where}.", status=status)


# --- the backend ----------------------------------------------------------------------------


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

    # --- command line ------------------------------------------------------------------------

    @classmethod
    def build_cli(cls, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="pc_command", metavar="ACTION", required=True)
        p = sub.add_parser("tenants", help="list the store's tenants (slug, id, name)")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("categories", help="list the tenant's categories")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("orders", help="list the tenant's remote orders")
        p.add_argument("--status", default="")
        p.add_argument("--customer-id", default="")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("order", help="one remote order")
        p.add_argument("remote_id")
        p.add_argument("--json", action="store_true")

    def run_cli(self, args: argparse.Namespace) -> int:
        from pos.money import format_money

        command = args.pc_command
        if command == "tenants":
            tenants = self.tenants()
            if args.json:
                print(json.dumps(tenants, indent=2, ensure_ascii=False))
                return 0
            for t in tenants:
                mark = "*" if t.get("slug") == self.cfg.tenant else " "
                print(f"{mark} {t.get('slug', ''):<14} {t.get('id', ''):<38} {t.get('name', '')}"
                      + ("" if t.get("active", True) else "  (inactive)"))
            return 0
        if command == "categories":
            rows = self.categories()
            if args.json:
                print(json.dumps([{"id": i, "name": n, "parent_id": p} for i, n, p in rows],
                                 indent=2))
                return 0
            for cid, name, parent in rows:
                print(f"{cid:<38} {name:<30} {parent or ''}")
            return 0
        orders = ([self.get_order(args.remote_id)] if command == "order" else
                  self.list_orders(status=args.status, customer_id=args.customer_id))
        if args.json:
            print(json.dumps([{"id": o.remote_id, "number": o.number, "status": o.status,
                               "total": None if o.total is None else str(o.total),
                               "customer": o.customer,
                               "created_at": o.created_at.isoformat() if o.created_at else None}
                              for o in orders], indent=2, ensure_ascii=False))
            return 0
        if not orders:
            print("No remote orders.")
        for o in orders:
            when = o.created_at.strftime("%Y-%m-%d %H:%M") if o.created_at else ""
            total = "" if o.total is None else format_money(o.total, o.currency or "USD")
            print(f"{o.remote_id:<38} {o.number or '':<14} {when:<16} {o.status:<10} "
                  f"{total:>12}  {o.customer}")
        return 0


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

