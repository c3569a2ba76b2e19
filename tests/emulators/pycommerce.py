"""An in-process PyCommerce REST API emulator implementing the documented contract.

    emu = make_emulator()
    transport = httpx.MockTransport(emu.handle)     # or FaultyTransport(emu.handle)

Routes: GET /api/health (no auth), POST /api/auth/login, GET /api/tenants, GET /api/products
(tenant, category, min_price, max_price, in_stock), GET /api/categories (tenant, parent_id),
POST/GET /api/orders (tenant, status, customer_id), GET /api/orders/{id},
POST /stripe-demo/create-checkout-session-json.

Quirks of the real thing, reproduced: prices are floats (149.99), errors come in two shapes
(`{"error": {"code","message","details"}}`, and `{"error": "text"}` on the Stripe route), a
trailing slash on some paths answers 307 to the other spelling, and a switchable rate limit
answers 429 with Retry-After. The order list rows carry no notes (as documented).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

TECH = "ea6c4bc0-d5aa-4f5c-b769-c51c812a5037"
OUTDOOR = "f8a7b6c5-e4d3-4c2b-a1b0-9f8e7d6c5b4a"
API_TOKEN = "pc-api-key-0123456789"
USERNAME, EMAIL, PASSWORD = "cashier", "cashier@tech.test", "s3cret-pass"

CATEGORIES: list[dict[str, str | None]] = [
    {"id": "a1b2c3d4-e5f6-4a7b-9c8d-9e0f1a2b3c4d", "name": "Electronics",
     "description": "Electronic devices and gadgets", "slug": "electronics", "parent_id": None},
    {"id": "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "name": "Audio",
     "description": "Audio devices and accessories", "slug": "audio",
     "parent_id": "a1b2c3d4-e5f6-4a7b-9c8d-9e0f1a2b3c4d"},
    {"id": "c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f", "name": "Cables",
     "description": "Cables and adapters", "slug": "cables",
     "parent_id": "a1b2c3d4-e5f6-4a7b-9c8d-9e0f1a2b3c4d"},
]

PRODUCTS = [
    {"id": "b5c6d7e8-f9a0-4b1c-8d2e-3f4a5b6c7d8e", "name": "Wireless Headphones",
     "description": "Premium wireless headphones with noise cancellation", "price": 149.99,
     "sku": "WH-001", "stock": 25, "categories": ["Electronics", "Audio"]},
    {"id": "c6d7e8f9-a0b1-4c2d-8e3f-4a5b6c7d8e9f", "name": "Bluetooth Speaker",
     "description": "Waterproof portable Bluetooth speaker", "price": 79.99,
     "sku": "BS-002", "stock": 42, "categories": ["Electronics", "Audio"]},
    {"id": "d7e8f9a0-b1c2-4d3e-8f4a-5b6c7d8e9f00", "name": "USB-C Cable", "description": "1 m",
     "price": 0.1, "sku": "UC-003", "stock": 500, "categories": ["Electronics", "Cables"]},
    {"id": "e8f9a0b1-c2d3-4e4f-9a5b-6c7d8e9f0a11", "name": "HDMI Adapter", "description": "",
     "price": 0.2, "sku": "HA-004", "stock": 0, "categories": ["Electronics", "Cables"]},
    {"id": "f9a0b1c2-d3e4-4f5a-9b6c-7d8e9f0a1b22", "name": "Studio Monitor", "description": "",
     "price": 1234.5, "sku": "SM-005", "stock": 3, "categories": ["Audio"]},
]

OUTDOOR_PRODUCTS = [
    {"id": "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c33", "name": "Tent", "description": "",
     "price": 299.0, "sku": "TN-001", "stock": 5, "categories": ["Camping"]},
]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _error(status: int, code: str, message: str, details: str = "") -> httpx.Response:
    return _json(status, {"error": {"code": code, "message": message, "details": details}})


@dataclass
class PyCommerceEmulator:
    tenants: list[dict[str, Any]] = field(default_factory=lambda: [
        {"id": TECH, "name": "Tech Gadgets", "slug": "tech", "domain": "tech.pycommerce.org",
         "active": True},
        {"id": OUTDOOR, "name": "Outdoor Adventures", "slug": "outdoor",
         "domain": "outdoor.pycommerce.org", "active": True}])
    products: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {
        "tech": [dict(p) for p in PRODUCTS], "outdoor": [dict(p) for p in OUTDOOR_PRODUCTS]})
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=lambda: {API_TOKEN})
    logins: int = 0
    rate_limit: int = 0  # answer 429 to the next N authenticated calls
    retry_after: str = "1"
    redirect_orders: bool = False  # POST /api/orders → 307 /api/orders/ (a misrouted deployment)
    requests: list[httpx.Request] = field(default_factory=list)

    # --- controls for tests ------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far (and the API key) is refused from now on."""
        self.valid_tokens.clear()

    # --- dispatch ----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        path = request.url.path
        method = request.method
        if path in ("/api/orders/", "/api/categories/", "/api/products/"):
            return httpx.Response(307, headers={"Location": str(request.url.copy_with(
                path=path.rstrip("/")))})
        if path == "/api/health" and method == "GET":
            return _json(200, {"status": "ok", "version": "1.0.0",
                               "message": "PyCommerce API is running"})
        if path == "/api/auth/login" and method == "POST":
            return self._login(request)
        stripe = path.startswith("/stripe-demo/")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid_tokens:
            if stripe:
                return _json(401, {"error": "Authentication required"})
            return _error(401, "unauthorized", "No valid API key provided.",
                          "Missing or invalid bearer token.")
        if self.rate_limit > 0:
            self.rate_limit -= 1
            return _json(429, {"error": {"code": "rate_limited",
                                         "message": "Too many requests.", "details": ""}},
                         headers={"Retry-After": self.retry_after})
        if path == "/stripe-demo/create-checkout-session-json" and method == "POST":
            return self._stripe(request)
        if method == "GET" and path == "/api/tenants":
            return _json(200, {"tenants": self.tenants, "count": len(self.tenants)})
        if method == "GET" and path == "/api/products":
            return self._products(request)
        if method == "GET" and path == "/api/categories":
            return self._categories(request)
        if path == "/api/orders" and method == "POST":
            if self.redirect_orders:
                return httpx.Response(307, headers={"Location": str(request.url.copy_with(
                    path="/api/orders/"))})
            return self._create_order(request)
        if path == "/api/orders" and method == "GET":
            return self._list_orders(request)
        if path.startswith("/api/orders/") and method == "GET":
            order = self.orders.get(path.rsplit("/", 1)[1])
            if order is None:
                return _error(404, "resource_not_found", "The requested resource was not found.",
                              f"Order with ID '{path.rsplit('/', 1)[1]}' does not exist.")
            return _json(200, order)
        return _error(404, "resource_not_found", "The requested resource was not found.",
                      f"No route {method} {path}.")

    # --- routes ------------------------------------------------------------------------------

    def _login(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"{}")
        except ValueError:
            return _error(400, "invalid_request", "Body must be JSON.")
        who = body.get("username") or body.get("email")
        if not who or "password" not in body:
            return _error(400, "invalid_request", "username or email, and password, required.")
        if who not in (USERNAME, EMAIL) or body["password"] != PASSWORD:
            return _error(401, "invalid_credentials", "Invalid username or password.")
        self.logins += 1
        token = "eyJhbGciOiJIUzI1NiJ9." + secrets.token_urlsafe(16)
        self.valid_tokens.add(token)
        return _json(200, {"access_token": token, "token_type": "bearer"})

    def _tenant(self, request: httpx.Request) -> str | httpx.Response:
        slug = request.url.params.get("tenant")
        if not slug:
            return _error(400, "missing_parameter", "The tenant parameter is required.")
        if slug not in self.products:
            return _error(404, "resource_not_found", "The requested resource was not found.",
                          f"Tenant '{slug}' does not exist.")
        return str(slug)

    def _products(self, request: httpx.Request) -> httpx.Response:
        slug = self._tenant(request)
        if isinstance(slug, httpx.Response):
            return slug
        q = request.url.params
        rows = self.products[slug]
        try:
            lo = float(q["min_price"]) if q.get("min_price") else None
            hi = float(q["max_price"]) if q.get("max_price") else None
        except ValueError:
            return _error(400, "invalid_parameter", "min_price/max_price must be numbers.")
        if q.get("category"):
            rows = [p for p in rows if q["category"] in p["categories"]]
        if lo is not None:
            rows = [p for p in rows if p["price"] >= lo]
        if hi is not None:
            rows = [p for p in rows if p["price"] <= hi]
        in_stock = q.get("in_stock")
        if in_stock is not None and in_stock.lower() in ("true", "1"):
            rows = [p for p in rows if p["stock"] > 0]
        return _json(200, {"products": rows, "tenant": slug, "count": len(rows),
                           "filters": {"category": q.get("category"), "min_price": lo,
                                       "max_price": hi, "in_stock": in_stock}})

    def _categories(self, request: httpx.Request) -> httpx.Response:
        slug = self._tenant(request)
        if isinstance(slug, httpx.Response):
            return slug
        rows: list[dict[str, str | None]] = CATEGORIES if slug == "tech" else []
        parent = request.url.params.get("parent_id")
        if parent:
            rows = [c for c in rows if c["parent_id"] == parent]
        return _json(200, {"categories": rows, "tenant": slug, "count": len(rows)})

    def _create_order(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"")
        except ValueError:
            return _error(400, "invalid_request", "Body must be JSON.")
        tenant = next((t for t in self.tenants if t["id"] == body.get("tenant_id")), None)
        if tenant is None:
            return _error(400, "invalid_tenant", "Unknown tenant_id.", str(body.get("tenant_id")))
        customer = body.get("customer") or {}
        if not customer.get("name"):
            return _error(400, "validation_error", "customer.name is required.")
        items = body.get("items") or []
        if not items:
            return _error(400, "validation_error", "An order needs at least one item.")
        catalog = {p["id"]: p for p in self.products[tenant["slug"]]}
        lines = []
        subtotal = Decimal("0")
        for item in items:
            product = catalog.get(item.get("product_id"))
            qty = item.get("quantity")
            if product is None:
                return _error(400, "validation_error", "Unknown product.",
                              f"Product '{item.get('product_id')}' does not exist.")
            if not isinstance(qty, int) or qty < 1:
                return _error(400, "validation_error", "quantity must be a positive integer.")
            if qty > product["stock"]:
                return _error(409, "insufficient_stock", f"Not enough stock for {product['name']}.",
                              f"{product['stock']} left.")
            price = Decimal(str(product["price"]))
            subtotal += price * qty
            lines.append({"id": str(uuid.uuid4()), "product_id": product["id"],
                          "name": product["name"], "quantity": qty,
                          "unit_price": product["price"], "total_price": float(price * qty)})
        for item in items:
            catalog[item["product_id"]]["stock"] -= item["quantity"]
        order_id = str(uuid.uuid4())
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.orders[order_id] = {
            "id": order_id,
            "customer": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, customer.get("email") or
                                              customer["name"])), **customer},
            "status": "pending", "total": float(subtotal), "subtotal": float(subtotal),
            "tax": 0.0, "shipping_cost": 0.0, "created_at": now, "updated_at": now,
            "shipping_address": body.get("shipping_address"),
            "billing_address": body.get("billing_address"),
            "shipping_method": body.get("shipping_method"),
            "payment_method": body.get("payment_method"), "payment_status": "pending",
            "notes": body.get("notes") or "", "items": lines, "tenant_id": tenant["id"],
        }
        return _json(201, {"id": order_id, "status": "pending",
                           "message": "Order created successfully"})

    def _list_orders(self, request: httpx.Request) -> httpx.Response:
        slug = self._tenant(request)
        if isinstance(slug, httpx.Response):
            return slug
        tenant_id = next(t["id"] for t in self.tenants if t["slug"] == slug)
        q = request.url.params
        rows = [o for o in self.orders.values() if o["tenant_id"] == tenant_id]
        if q.get("status"):
            rows = [o for o in rows if o["status"] == q["status"]]
        if q.get("customer_id"):
            rows = [o for o in rows if o["customer"]["id"] == q["customer_id"]]
        listed = [{"id": o["id"], "customer_name": o["customer"]["name"],
                   "customer_email": o["customer"].get("email", ""), "status": o["status"],
                   "total": o["total"], "created_at": o["created_at"],
                   "items_count": len(o["items"]), "shipping_method": o["shipping_method"]}
                  for o in rows]
        return _json(200, {"orders": listed, "tenant": slug, "count": len(listed),
                           "filters": {"status": q.get("status"),
                                       "customer_id": q.get("customer_id")}})

    def _stripe(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"", parse_float=Decimal)
        except ValueError:
            return _json(400, {"error": "Invalid JSON body"})
        items = body.get("items")
        if not items or not body.get("order_id"):
            return _json(400, {"error": "items and order_id are required"})
        for item in items:
            if not isinstance(item.get("price"), Decimal | int) or item["price"] <= 0:
                return _json(400, {"error": f"Invalid price for item {item.get('id')}"})
        session_id = "cs_test_" + secrets.token_hex(12)
        amount = sum(Decimal(i["price"]) * i["quantity"] for i in items)
        self.sessions.append({"id": session_id, "order_id": body["order_id"], "items": items,
                              "amount": amount, "raw": request.content.decode()})
        return _json(200, {"checkout_url": f"https://checkout.stripe.com/pay/{session_id}",
                           "session_id": session_id})


def make_emulator() -> PyCommerceEmulator:
    return PyCommerceEmulator()
