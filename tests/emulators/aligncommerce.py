"""An in-process emulator of the Align Commerce API (the hosted service is gone).

Follows /work/shared/reference/aligncommerce.md:

* HTTP Basic (`username:password`) on every call, plus an OAuth2 client-credentials token from
  `POST oauth/access_token` passed as `access_token` (query for GET, form body for POST/PUT).
  Tokens expire after `token_ttl` seconds of the emulator's clock (or `expire_tokens()`).
* `products` (POST create, PUT `products/{id}`, GET `products/{id}`, GET `products`),
  `invoice` (POST create, GET `invoice/{id}`, GET `invoice`), `buyer` (GET `buyer/{id}`, GET
  `buyer`); buyers are created by invoices.
* The envelope `{"status","error","data"|"update","message","total_count"}`; numbers as strings
  (`"20.00000000000000"`); failures with `error: true` and — by default for validation — HTTP 200.
* An invoice's `cart_status` moves from `pending` to its planned outcome (`success`, `cancel`,
  `fail`) after N reads (`plan_invoice` / `default_outcome` / `default_polls`).
* `garbage = "html" | "truncated"` answers every API call with a broken body.

Form bodies use PHP-style nesting: `products[0][product_name]=...`, `buyer_info[email]=...`.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import httpx

USERNAME = "merchant"
PASSWORD = "merchant-pass-123"
CLIENT_ID = "client-abc"
SECRET_KEY = "secret-key-xyz"


ALPHABET = string.ascii_letters + string.digits


def _id(length: int = 20) -> str:
    """A random id like the service's (`Zfp4dWqWrFSHBw2rvPmB`)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _num(value: Decimal) -> str:
    return f"{value:.14f}"


def parse_php_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`a[0][b]=1&c[d]=2` → {"a": {"0": {"b": "1"}}, "c": {"d": "2"}}."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"^[^\[]+|\[([^\]]*)\]", key)
        head = key.split("[", 1)[0]
        keys = [head, *parts[1:]] if "[" in key else [key]
        node = out
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return out


@dataclass
class Invoice:
    invoice_id: str
    cart_id: str
    buyer_id: str
    currency: str
    checkout_type: str
    products: list[dict[str, str]]
    outcome: str = "success"
    polls_left: int = 2
    status: str = "pending"
    total_price: Decimal = Decimal("0")
    total_shipping: Decimal = Decimal("0")
    reads: int = 0


@dataclass
class AlignCommerceEmulator:
    username: str = USERNAME
    password: str = PASSWORD
    client_id: str = CLIENT_ID
    secret_key: str = SECRET_KEY
    token_ttl: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    default_outcome: str = "success"
    default_polls: int = 2
    garbage: str = ""  # "html" | "truncated": break every API answer (not the token call)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    buyers: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)  # token → expiry
    token_requests: int = 0
    requests: list[httpx.Request] = field(default_factory=list)
    planned: dict[int, tuple[str, int]] = field(default_factory=dict)  # invoice seq → plan
    _row: int = 230
    _invoice_seq: int = 0

    # --- test controls ----------------------------------------------------------------------

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def plan_invoice(self, outcome: str, polls: int = 2, index: int | None = None) -> None:
        """The next created invoice (or the `index`-th, 1-based) ends in `outcome` after
        `polls` reads."""
        self.planned[index if index is not None else self._invoice_seq + 1] = (outcome, polls)

    def set_invoice_status(self, invoice_id: str, status: str) -> None:
        self.invoices[invoice_id].status = status

    def add_product(self, name: str, price: str, shipping: str = "0",
                    description: str = "") -> str:
        pid = _id()
        self._row += 1
        self.products[pid] = {
            "row_id": str(self._row), "product_id": pid, "merchant_id": "61",
            "product_name": name, "product_description": description or None,
            "product_price": _num(Decimal(price)), "product_shipping": _num(Decimal(shipping)),
            "product_sku": None, "product_clicks": None, "product_embedcode": None,
            "callback_url": None, "bitcoin_button": None,
            "date_added": "2014-10-07 02:34:28", "date_updated": None}
        return pid

    # --- transport --------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if request.url.host not in ("ac.test", "api.aligncommerce.com", "localhost",
                                    "127.0.0.1"):
            return httpx.Response(502, request=request)
        if not self._basic_ok(request):
            return self._fail(401, "Invalid username or password.", http=401)
        path = request.url.path.strip("/")
        form = self._form(request)
        if path == "oauth/access_token" and request.method == "POST":
            return self._token(form)
        token = (request.url.params.get("access_token") if request.method == "GET"
                 else form.get("access_token"))
        if not token or self.tokens.get(str(token), -1.0) < self.clock():
            return self._fail(401, "The access token provided is invalid or has expired.",
                              http=401)
        response = self._route(request.method, path, form)
        if self.garbage == "html":
            return httpx.Response(200, headers={"Content-Type": "text/html"},
                                  content=b"<html><body>Maintenance</body></html>")
        if self.garbage == "truncated":
            return httpx.Response(200, headers={"Content-Type": "application/json"},
                                  content=response.content[: len(response.content) // 2])
        return response

    def _basic_ok(self, request: httpx.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.username and pw == self.password

    def _form(self, request: httpx.Request) -> dict[str, Any]:
        if request.method == "GET" or not request.content:
            return {}
        return parse_php_form(parse_qsl(request.content.decode(), keep_blank_values=True))

    def _token(self, form: dict[str, Any]) -> httpx.Response:
        self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            return httpx.Response(400, json={"error": "unsupported_grant_type",
                                             "error_description": "grant_type is invalid"})
        if form.get("client_id") != self.client_id or form.get(
                "client_secret") != self.secret_key:
            return httpx.Response(401, json={"error": "invalid_client",
                                             "error_description": "Client credentials are "
                                                                  "invalid"})
        token = secrets.token_hex(20)
        self.tokens[token] = self.clock() + self.token_ttl
        return httpx.Response(200, json={"access_token": token, "token_type": "Bearer",
                                         "expires_in": int(self.token_ttl),
                                         "scope": form.get("scope", "")})

    @staticmethod
    def _ok(data: Any, message: str = "", key: str = "data",
            total: int | None = None) -> httpx.Response:
        body: dict[str, Any] = {"status": 200, "error": False, key: data}
        if message:
            body["message"] = message
        if total is not None:
            body["total_count"] = total
        return httpx.Response(200, json=body)

    @staticmethod
    def _fail(status: int, message: str, http: int = 200) -> httpx.Response:
        return httpx.Response(http, json={"status": status, "error": True, "message": message})

    def _route(self, method: str, path: str, form: dict[str, Any]) -> httpx.Response:
        parts = path.split("/")
        if parts[0] == "products":
            if method == "GET" and len(parts) == 1:
                rows = list(self.products.values())
                return self._ok(rows, total=len(rows))
            if method == "GET":
                row = self.products.get(parts[1])
                if row is None:
                    return self._fail(404, "Product not found.")
                return self._ok([row], total=1)
            if method == "POST" and len(parts) == 1:
                return self._product_create(form)
            if method == "PUT" and len(parts) == 2:
                return self._product_update(parts[1], form)
        if parts[0] == "invoice":
            if method == "POST" and len(parts) == 1:
                return self._invoice_create(form)
            if method == "GET" and len(parts) == 1:
                rows = [self._invoice_view(i) for i in self.invoices.values()]
                return self._ok(rows, total=len(rows))
            if method == "GET":
                invoice = self.invoices.get(parts[1])
                if invoice is None:
                    return self._fail(404, "Invoice not found.")
                self._advance(invoice)
                return self._ok(self._invoice_view(invoice))
        if parts[0] == "buyer" and method == "GET":
            if len(parts) == 1:
                rows = list(self.buyers.values())
                return self._ok(rows, total=len(rows))
            buyer = self.buyers.get(parts[1])
            if buyer is None:
                return self._fail(404, "Buyer not found.")
            return self._ok([buyer], total=1)
        return self._fail(404, f"Unknown resource {method} {path}.", http=404)

    @staticmethod
    def _decimal(value: Any) -> Decimal | None:
        try:
            d = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        return d if d.is_finite() else None

    def _product_fields(self, form: dict[str, Any], partial: bool) -> dict[str, Any] | str:
        out: dict[str, Any] = {}
        name = form.get("product_name")
        if name is not None or not partial:
            if not str(name or "").strip():
                return "The product name field is required."
            out["product_name"] = str(name).strip()
        if "product_description" in form:
            out["product_description"] = form["product_description"]
        for key, label in (("product_price", "price"), ("product_shipping", "shipping")):
            if key in form or (key == "product_price" and not partial):
                value = self._decimal(form.get(key, ""))
                if value is None or value < 0:
                    return f"The product {label} must be a number."
                out[key] = value
        return out

    def _product_create(self, form: dict[str, Any]) -> httpx.Response:
        fields = self._product_fields(form, partial=False)
        if isinstance(fields, str):
            return self._fail(400, fields)
        pid = self.add_product(fields["product_name"], str(fields["product_price"]),
                               str(fields.get("product_shipping", "0")),
                               str(fields.get("product_description") or ""))
        row = self.products[pid]
        return self._ok({
            "product_id": pid, "merchant_id": "61",
            "date_added": {"date": "2014-10-07 02:34:28", "timezone_type": 3,
                           "timezone": "UTC"},
            "product_name": row["product_name"],
            "product_description": row["product_description"],
            "product_price": str(fields["product_price"]),
            "product_shipping": str(fields.get("product_shipping", "0")),
            "id": int(row["row_id"])}, "Product has been successfully added.")

    def _product_update(self, pid: str, form: dict[str, Any]) -> httpx.Response:
        row = self.products.get(pid)
        if row is None:
            return self._fail(404, "Product not found.")
        fields = self._product_fields(form, partial=True)
        if isinstance(fields, str):
            return self._fail(400, fields)
        for key, value in fields.items():
            row[key] = _num(value) if isinstance(value, Decimal) else value
        row["date_updated"] = "2014-10-08 10:00:00"
        update = {k: row[k] for k in ("product_name", "product_description")}
        update.update({k: str(Decimal(row[k]).normalize()) for k in
                       ("product_price", "product_shipping")})
        update.update({"product_sku": None, "product_clicks": None, "callback_url": None,
                       "bitcoin_button": None})
        return self._ok(update, "Product has been successfully updated.", key="update")

    def _invoice_create(self, form: dict[str, Any]) -> httpx.Response:
        currency = str(form.get("currency", "")).strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            return self._fail(400, "The currency field is required.")
        checkout_type = form.get("checkout_type")
        if checkout_type not in ("btc", "bank_transfer"):
            return self._fail(400, "The checkout type must be btc or bank_transfer.")
        raw_products = form.get("products")
        if not isinstance(raw_products, dict) or not raw_products:
            return self._fail(400, "At least one product is required.")
        products: list[dict[str, str]] = []
        total = shipping = Decimal("0")
        quantity = 0
        for _, item in sorted(raw_products.items(), key=lambda kv: int(kv[0])):
            price = self._decimal(item.get("product_price"))
            ship = self._decimal(item.get("product_shipping", "0"))
            try:
                qty = int(str(item.get("quantity", "")))
            except ValueError:
                qty = 0
            if not str(item.get("product_name", "")).strip():
                return self._fail(400, "The product name field is required.")
            if price is None or price < 0 or ship is None or ship < 0 or qty < 1:
                return self._fail(400, "Invalid product price, shipping or quantity.")
            total += price * qty
            shipping += ship
            quantity += qty
            products.append({"product_name": str(item["product_name"]),
                             "product_price": str(item["product_price"]),
                             "quantity": str(qty),
                             "product_shipping": str(item.get("product_shipping", "0"))})
        buyer_info = form.get("buyer_info")
        if not isinstance(buyer_info, dict) or not buyer_info.get("email") or not buyer_info.get(
                "first_name"):
            return self._fail(400, "The buyer first name and email are required.")
        buyer_id = next((b["buyer_id"] for b in self.buyers.values()
                         if b["email"] == buyer_info["email"]
                         and b["first_name"] == buyer_info.get("first_name")
                         and b["last_name"] == buyer_info.get("last_name", "")), None)
        if buyer_id is None:
            buyer_id = str(692 + len(self.buyers))
            self.buyers[buyer_id] = {
                "buyer_id": buyer_id, "first_name": buyer_info.get("first_name", ""),
                "last_name": buyer_info.get("last_name", ""), "email": buyer_info["email"],
                "address_1": buyer_info.get("address_1", ""),
                "address_2": buyer_info.get("address_2", ""),
                "address_number": None, "address_city": buyer_info.get("address_city"),
                "address_state": None, "address_zip": buyer_info.get("address_zip"),
                "address_country": buyer_info.get("address_country"),
                "address_phone": buyer_info.get("address_phone"),
                "date_added": None, "date_updated": None}
        self._invoice_seq += 1
        outcome, polls = self.planned.pop(self._invoice_seq,
                                          (self.default_outcome, self.default_polls))
        invoice = Invoice(invoice_id=_id(),
                          cart_id=_id(), buyer_id=buyer_id,
                          currency=currency, checkout_type=str(checkout_type),
                          products=products, outcome=outcome, polls_left=polls,
                          total_price=total, total_shipping=shipping)
        self.invoices[invoice.invoice_id] = invoice
        return self._ok({
            "checkout_type": checkout_type, "currency": currency, "products": products,
            "buyer_info": buyer_info, "cart_id": invoice.cart_id,
            "invoice_id": invoice.invoice_id,
            "redirect_url": "https://merchant.example/return_url",
            "ipn": "https://merchant.example/ipn",
            # the service answers totals as JSON numbers here (the POS must not use floats)
            "total_price": json.loads(str(total)), "total_shipping": json.loads(str(shipping)),
            "total_quantity": quantity, "buyer_id": buyer_id,
            "invoice_url": f"https://aligncommerce.com/invoice/{invoice.invoice_id}"},
            "Invoice has been successfully created.")

    def _advance(self, invoice: Invoice) -> None:
        invoice.reads += 1
        if invoice.status != "pending":
            return
        if invoice.polls_left <= 0:
            invoice.status = invoice.outcome
        else:
            invoice.polls_left -= 1

    def _invoice_view(self, invoice: Invoice) -> dict[str, Any]:
        buyer = self.buyers[invoice.buyer_id]
        return {
            "invoice_id": invoice.invoice_id, "cart_status": invoice.status,
            "buyerdetails": dict(buyer),
            "productcart": [{
                "product_id": secrets.token_hex(10), "product_name": p["product_name"],
                "product_description": None,
                "product_price": _num(Decimal(p["product_price"])),
                "product_shipping": _num(Decimal(p["product_shipping"])),
                "quantity": p["quantity"]} for p in invoice.products]}


def make_emulator(**kwargs: Any) -> AlignCommerceEmulator:
    """An emulator with two products in its catalog."""
    emulator = AlignCommerceEmulator(**kwargs)
    emulator.add_product("Bitcoin Mug", "12.5", "2", "A mug")
    emulator.add_product("Sticker Pack", "3.10", "0")
    return emulator
