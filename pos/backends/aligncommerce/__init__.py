"""`aligncommerce`: the Align Commerce API — catalog, buyers and bitcoin/bank-transfer invoices.

Contract: /work/shared/reference/aligncommerce.md (see docs/aligncommerce.md for the design).

* Auth: HTTP Basic on every call plus an OAuth2 client-credentials token (`oauth/access_token`),
  cached until `expires_in` and fetched again once when the service refuses it.
* Every answer is an envelope `{"status","error","data"|"update","message","total_count"}`;
  `error: true` is a failure even with HTTP 200. Numbers arrive as strings and are parsed as
  `Decimal`, quantised to the profile's currency.
* Orders: Align Commerce has no order API besides invoices. A sale paid by invoice is a local
  order whose `Payment.reference` is the invoice id (the invoice *is* the remote record); a cash
  sale has nothing remote. So this backend does not claim `ORDER_PLACEMENT`: `Checkout.place`
  marks the order placed locally. `ORDER_HISTORY` lists/reads invoices.
* Payment: an invoice is paid only when `GET invoice/{id}` says `cart_status = success`; an IPN
  (unsigned) is never trusted without re-reading the invoice.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from pos.backends.aligncommerce import cli
from pos.backends.aligncommerce.settings import (
    CATALOG_PAGE,
    CHECKOUT_TYPES,
    LINK_STATUS,
    SCOPE,
    STORE,
    AlignCommerceSettings,
)
from pos.backends.aligncommerce.wire import (
    _item,
    _php_form,
    _product_fields,
    _rows,
    _segment,
    _tax_included,
)
from pos.backends.base import (
    Backend,
    BackendContext,
    BackendInfo,
    BackendSettings,
    Capability,
    PaymentLink,
    RemoteOrder,
)
from pos.backends.http import HttpClient, auth_error, check_base_url, parse_json, safe_url
from pos.errors import (
    InputError,
    NotFoundError,
    PermanentError,
    RuleError,
)
from pos.models import Cart, Customer, Order, PaymentMethod, Product
from pos.money import ZERO, format_money, round_money, to_decimal

__all__ = ["AlignCommerceBackend", "AlignCommerceSettings", "_php_form"]


class AlignCommerceBackend(Backend):
    name = "aligncommerce"
    capabilities = (Capability.CATALOG | Capability.CUSTOMERS | Capability.PAYMENT_LINK
                    | Capability.PAYMENT_LINK_STATUS
                    | Capability.PAYMENT_METHODS | Capability.ORDER_HISTORY)
    Settings = AlignCommerceSettings
    cli_help: ClassVar[str] = "Manage the Align Commerce catalog."

    def __init__(self, settings: BackendSettings, context: BackendContext,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, AlignCommerceSettings)
        self.cfg = settings
        base = check_base_url(settings.base_url, settings.allow_http, STORE)
        if not base.endswith("/"):
            base += "/"
        self.http = HttpClient(base, store=STORE, timeout=settings.timeout,
                               verify=settings.verify_tls, transport=context.transport)
        self.auth = httpx.BasicAuth(settings.username, settings.password.get_secret_value())
        self.clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._catalog_total: int | None = None

    def close(self) -> None:
        self.http.close()

    # --- transport ---------------------------------------------------------------------------

    def _fetch_token(self) -> str:
        response = self.http.request(
            "POST", "oauth/access_token", idempotent=True, auth=self.auth,
            data={"grant_type": "client_credentials", "client_id": self.cfg.client_id,
                  "client_secret": self.cfg.secret_key.get_secret_value(), "scope": SCOPE})
        body = self._json(response)
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            body = body["data"]  # tolerate an enveloped token answer
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code in (400, 401, 403) or not token:
            detail = ""
            if isinstance(body, dict):
                detail = str(body.get("error_description") or body.get("message")
                             or body.get("error") or "")
            raise auth_error(STORE, detail or "no access token in the answer.",
                             response.status_code)
        try:
            ttl = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            ttl = 3600.0
        self._token = str(token)
        # renew a little early so a token does not expire between check and use
        self._token_expires = self.clock() + max(0.0, ttl - min(30.0, ttl / 10))
        return self._token

    def _access_token(self) -> tuple[str, bool]:
        """(token, fresh): a cached token is reused until it expires."""
        if self._token and self.clock() < self._token_expires:
            return self._token, False
        return self._fetch_token(), True

    def _json(self, response: httpx.Response) -> Any:
        return parse_json(response, STORE)

    def call(self, method: str, path: str, params: Mapping[str, Any] | None = None,
             *, idempotent: bool | None = None, key: str = "data") -> tuple[Any, dict[str, Any]]:
        """Call the API; returns (payload under `key`, whole envelope). Raises `PosError`s."""
        idempotent = method == "GET" if idempotent is None else idempotent
        for attempt in (1, 2):
            token, fresh = self._access_token()
            fields = {**(params or {}), "access_token": token}
            if method == "GET":
                response = self.http.request(method, path, idempotent=idempotent,
                                             auth=self.auth, params=fields)
            else:
                response = self.http.request(method, path, idempotent=idempotent,
                                             auth=self.auth, data=_php_form(fields))
            if response.status_code in (401, 403):
                message = self._message(response)
                if attempt == 1 and not fresh and "password" not in message.lower():
                    self._token = None  # expired or revoked: fetch a new one, once
                    continue
                raise auth_error(STORE, message or f"HTTP {response.status_code}.",
                                 response.status_code)
            return self._envelope(response, method, path, key)
        raise AssertionError("unreachable")  # pragma: no cover

    def _message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        return str(body.get("message") or "") if isinstance(body, dict) else ""

    def _envelope(self, response: httpx.Response, method: str, path: str,
                  key: str) -> tuple[Any, dict[str, Any]]:
        body = self._json(response)
        where = f"{method} {safe_url(response.request.url)}"
        if not isinstance(body, dict) or "error" not in body:
            raise PermanentError(message=f"{STORE} answered an unexpected body to {where}.",
                                 hint="Check base_url.", status=response.status_code)
        if body.get("error") not in (False, "false", 0, None):
            message = str(body.get("message") or "the request was refused")
            status = body.get("status")
            code = status if isinstance(status, int) else response.status_code
            if code == 404 or response.status_code == 404:
                raise NotFoundError(message=f"{STORE}: {message}")
            raise PermanentError(message=f"{STORE} refused {method} {path}: {message}",
                                 status=code)
        if response.status_code >= 400:
            raise PermanentError(message=f"{STORE} answered HTTP {response.status_code} to "
                                         f"{where}.", status=response.status_code)
        return body.get(key), body

    def _money(self, value: Any, what: str) -> Decimal:
        if value is None or value == "":
            return ZERO
        try:
            return round_money(to_decimal(value, what), self.cfg.currency)
        except InputError:
            raise PermanentError(
                message=f"{STORE} sent {what} {value!r}, which is not a number.") from None

    # --- lifecycle ---------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        rows, env = self.call("GET", "products")
        count = env.get("total_count", len(rows) if isinstance(rows, list) else 0)
        return BackendInfo(name=STORE, detail=f"{count} products at "
                                              f"{safe_url(self.cfg.base_url)}")

    # --- catalog -----------------------------------------------------------------------------

    def product(self, row: Mapping[str, Any]) -> Product:
        pid = str(row.get("product_id") or "").strip()
        if not pid:
            raise PermanentError(message=f"{STORE} sent a product without product_id.")
        shipping = self._money(row.get("product_shipping"), "product_shipping")
        return Product(id=pid, sku=str(row.get("product_sku") or ""),
                       name=str(row.get("product_name") or pid),
                       price=self._money(row.get("product_price"), "product_price"),
                       shipping=shipping > 0)

    def iter_catalog(self, filters: Mapping[str, str] | None = None) -> Iterator[list[Product]]:
        data, _ = self.call("GET", "products")
        rows = _rows(data)
        self._catalog_total = len(rows)
        for start in range(0, len(rows), CATALOG_PAGE):
            yield [self.product(r) for r in rows[start:start + CATALOG_PAGE]]

    def catalog_size_hint(self) -> int | None:
        return self._catalog_total

    def get_product(self, product_id: str) -> Product:
        rows, _ = self.call("GET", f"products/{_segment(product_id)}")
        rows = _rows(rows)
        if not rows:
            raise NotFoundError(message=f"{STORE}: no product {product_id!r}.")
        return self.product(rows[0])

    def create_product(self, name: str, price: Decimal, shipping: Decimal = ZERO,
                       description: str = "") -> Product:
        data, _ = self.call("POST", "products", _product_fields(name, price, shipping,
                                                                description))
        if not isinstance(data, dict):
            raise PermanentError(message=f"{STORE} did not return the created product.")
        return self.product(data)

    def update_product(self, product_id: str, *, name: str | None = None,
                       price: Decimal | None = None, shipping: Decimal | None = None,
                       description: str | None = None) -> Product:
        fields = _product_fields(name, price, shipping, description)
        if not fields:
            raise InputError(message="Nothing to update.", hint="Give --name, --price, "
                                                               "--shipping or --description.")
        data, _ = self.call("PUT", f"products/{_segment(product_id)}", fields,
                            idempotent=True, key="update")
        if not isinstance(data, dict):
            raise PermanentError(message=f"{STORE} did not return the updated product.")
        return self.product({**data, "product_id": product_id})

    # --- customers ---------------------------------------------------------------------------

    @staticmethod
    def customer(row: Mapping[str, Any]) -> Customer:
        return Customer(id=str(row.get("buyer_id") or "") or None,
                        firstname=str(row.get("first_name") or ""),
                        lastname=str(row.get("last_name") or ""),
                        email=str(row.get("email") or ""),
                        telephone=str(row.get("address_phone") or ""))

    def search_customers(self, query: str, limit: int = 20) -> list[Customer]:
        """Buyers whose name or e-mail contains `query` (filtered here: the API cannot)."""
        text = query.strip().lower()
        found: dict[str, Customer] = {}
        if text.isdigit():
            try:
                rows, _ = self.call("GET", f"buyer/{text}")
                for row in _rows(rows):
                    c = self.customer(row)
                    found[c.id or ""] = c
            except NotFoundError:
                pass
        rows, _ = self.call("GET", "buyer")
        for row in _rows(rows):
            c = self.customer(row)
            hay = f"{c.firstname} {c.lastname} {c.email}".lower()
            if c.id and c.id not in found and (not text or text in hay):
                found[c.id] = c
        return list(found.values())[:limit]

    # --- payment -----------------------------------------------------------------------------

    def payment_methods(self, cart: Cart) -> list[PaymentMethod]:
        return [PaymentMethod(code="cash", title="Cash", kind="cash"),
                PaymentMethod(code="bitcoin", title="Bitcoin (QR invoice)", kind="link"),
                PaymentMethod(code="bank_transfer", title="Bank transfer (QR invoice)",
                              kind="link"),
                PaymentMethod(code="free_checkout", title="Free Checkout", kind="free")]

    def invoice_products(self, order: Order, amount: Decimal) -> list[dict[str, str]]:
        """`products[]` whose total is exactly `amount` (discounts and tax folded into lines).

        Each line is sent at its net price (after its discount share, plus tax added on top).
        When that does not divide evenly by the quantity, the line goes as one item
        "N × name" so no cent is lost. Shipping and sold gift vouchers are lines of their own.
        A residual difference (a total the lines cannot explain) sends one "POS sale" line.
        """
        cur = order.currency or self.cfg.currency
        out: list[dict[str, str]] = []
        priced = {p.key: p for p in order.priced}
        for line in order.lines:
            p = priced.get(line.key)
            net = (p.total - p.discount + (p.tax if not _tax_included(order) else ZERO)
                   if p is not None else round_money(line.unit_price * line.quantity, cur))
            unit = net / line.quantity
            name = line.name + (f" ({line.options_label})" if line.options else "")
            if round_money(unit, cur) == unit and net >= 0:
                out.append(_item(name, unit, line.quantity, cur))
            else:
                out.append(_item(f"{line.quantity} × {name}", net, 1, cur))
        for voucher in order.sold_vouchers:
            out.append(_item(f"Gift voucher for {voucher.to_name}", voucher.amount, 1, cur))
        if order.totals.shipping:
            title = order.shipping_method.title if order.shipping_method else "Shipping"
            out.append(_item(title, order.totals.shipping, 1, cur))
        total = sum((Decimal(i["product_price"]) * int(i["quantity"]) for i in out), ZERO)
        if total != amount or any(Decimal(i["product_price"]) < 0 for i in out) or not out:
            out = [_item(f"POS sale {order.number}", amount, 1, cur)]
        return out

    def buyer_info(self, order: Order) -> dict[str, str]:
        c = order.customer
        addr = order.payment_address or order.shipping_address
        info = {"first_name": c.firstname or (addr.firstname if addr else "")
                or self.cfg.guest_first_name,
                "last_name": c.lastname or (addr.lastname if addr else "")
                or self.cfg.guest_last_name,
                "email": c.email or self.cfg.guest_email,
                "address_1": addr.address_1 if addr else "",
                "address_2": addr.address_2 if addr else ""}
        if addr:
            info.update(address_city=addr.city, address_zip=addr.postcode,
                        address_country=addr.country)
        if c.telephone:
            info["address_phone"] = c.telephone
        return info

    def create_payment_link(self, order: Order, method: PaymentMethod) -> PaymentLink:
        checkout_type = CHECKOUT_TYPES.get(method.code)
        if checkout_type is None:
            raise RuleError(message=f"{method.title} is not paid by an Align Commerce invoice.",
                            field="payment_method")
        amount = order.totals.total
        if amount <= 0:
            raise RuleError(message="Nothing to pay by invoice.", field="payment_method")
        currency = (order.currency or self.cfg.currency).upper()
        data, _ = self.call("POST", "invoice", {
            "currency": currency, "checkout_type": checkout_type,
            "products": self.invoice_products(order, amount),
            "buyer_info": self.buyer_info(order)}, idempotent=False)
        if not isinstance(data, dict) or not data.get("invoice_id") or not data.get(
                "invoice_url"):
            raise PermanentError(message=f"{STORE} created no invoice (no invoice_id/url).")
        billed = self._money(data.get("total_price"), "total_price") + self._money(
            data.get("total_shipping"), "total_shipping")
        if "total_price" in data and billed != amount:
            raise PermanentError(
                message=f"{STORE} invoice {data['invoice_id']} totals "
                        f"{format_money(billed, currency)}, not "
                        f"{format_money(amount, currency)}.",
                hint="Do not let the customer pay it; take the payment another way.")
        return PaymentLink(id=str(data["invoice_id"]), url=str(data["invoice_url"]),
                           status="pending", amount=amount,
                           detail=f"{method.title} invoice {data['invoice_id']}")

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        data, _ = self.call("GET", f"invoice/{_segment(invoice_id)}")
        if isinstance(data, list):
            data = data[0] if data else None
        if not isinstance(data, dict):
            raise NotFoundError(message=f"{STORE}: no invoice {invoice_id!r}.")
        return data

    def payment_link_status(self, link: PaymentLink) -> PaymentLink:
        """Re-read the invoice (the only source of truth; an IPN is never trusted alone)."""
        data = self.invoice(link.id)
        raw = str(data.get("cart_status") or "").strip().lower()
        status = LINK_STATUS.get(raw)
        if status is None:
            raise PermanentError(message=f"{STORE} invoice {link.id} has an unknown status "
                                         f"{raw!r}.")
        return PaymentLink(id=link.id, url=link.url or str(data.get("invoice_url") or ""),
                           status=status, amount=link.amount,
                           detail=f"invoice {link.id}: {raw}")

    def ipn_status(self, fields: Mapping[str, str]) -> PaymentLink:
        """What an IPN (unsigned form: `status`, `order_id`, `invoice_id`) really means: only
        its `invoice_id` is used, to re-read the invoice; its `status` is never believed."""
        invoice_id = str(fields.get("invoice_id") or "").strip()
        if not invoice_id:
            raise InputError(message="The IPN carries no invoice_id.")
        return self.payment_link_status(PaymentLink(id=_segment(invoice_id), url=""))

    # --- order history (invoices) ------------------------------------------------------------

    def _remote(self, row: Mapping[str, Any]) -> RemoteOrder:
        total = ZERO
        for item in row.get("productcart") or []:
            info = item.get("product_cart_info") or item
            qty = int(str(item.get("quantity") or info.get("quantity") or 1))
            total += self._money(info.get("product_price"), "product_price") * qty
            total += self._money(info.get("product_shipping"), "product_shipping")
        buyer = row.get("buyerdetails") or {}
        name = f"{buyer.get('first_name') or ''} {buyer.get('last_name') or ''}".strip()
        return RemoteOrder(remote_id=str(row.get("invoice_id") or row.get("invoiceid") or ""),
                           number=None, status=str(row.get("cart_status") or ""),
                           total=total, currency=self.cfg.currency, customer=name,
                           raw=dict(row))

    def list_orders(self, **filters: str) -> list[RemoteOrder]:
        rows, _ = self.call("GET", "invoice")
        orders = [self._remote(r) for r in _rows(rows)]
        status = filters.get("status")
        return [o for o in orders if not status or o.status == status]

    def get_order(self, remote_id: str) -> RemoteOrder:
        return self._remote(self.invoice(remote_id))

    # --- command line ------------------------------------------------------------------------

    @classmethod
    def build_cli(cls, parser: argparse.ArgumentParser) -> None:
        cli.build_cli(parser)

    def run_cli(self, args: argparse.Namespace) -> int:
        return cli.run_cli(self, args)
