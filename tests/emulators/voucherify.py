"""An in-process Voucherify Orders API that ENFORCES the contract the client must follow.

    emulator = make_emulator(app_id="app", app_token="secret")
    transport = httpx.MockTransport(emulator.handle)   # or FaultyTransport(emulator.handle)

Enforced: both auth headers; integer cents (floats, strings and booleans refused); the status
enum; undeclared fields anywhere in a body refused with 400 `invalid_payload`; list parameters
only `limit` (1..100), `page` (1..100), `order` (enum); import = bare array of ≤ 2000 orders;
upsert by `source_id` (one order per source id, whatever the number of POSTs). Async actions
and exports finish after `polls_needed` polls; export files are served from a separate
download host with their own token. `throttle(n, retry_after)` answers the next n API calls
with 429.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx

API_HOST = "api.voucherify.test"
DOWNLOAD_HOST = "download.voucherify.test"

STATUSES = {"CREATED", "PAID", "CANCELED", "FULFILLED"}
ORDER_KEYS = {"id", "source_id", "status", "amount", "initial_amount", "discount_amount",
              "items", "metadata", "created_at", "referrer_id", "customer", "referrer"}
UPDATE_KEYS = ORDER_KEYS - {"id"}
ITEM_KEYS = {"sku_id", "product_id", "related_object", "source_id", "quantity",
             "discount_quantity", "initial_quantity", "amount", "discount_amount",
             "initial_amount", "price", "product", "sku", "metadata"}
ITEM_INTS = {"quantity", "discount_quantity", "initial_quantity", "amount", "discount_amount",
             "initial_amount", "price"}
PRODUCT_KEYS = {"id", "source_id", "override", "name", "metadata", "price"}
SKU_KEYS = {"id", "source_id", "override", "sku", "price", "metadata"}
CUSTOMER_KEYS = {"id", "source_id", "name", "description", "email", "phone", "birthday",
                 "birthdate", "address", "metadata"}
ADDRESS_KEYS = {"city", "state", "line_1", "line_2", "country", "postal_code"}
LIST_ORDERS = {"created_at", "-created_at", "updated_at", "-updated_at"}
EXPORT_FIELDS = {"id", "source_id", "created_at", "updated_at", "status", "amount",
                 "discount_amount", "items_discount_amount", "total_discount_amount",
                 "total_amount", "customer_id", "referrer_id", "metadata"}
EXPORT_ORDERS = {"-created_at", "created_at", "-updated_at", "updated_at", "-status", "status"}
EXPORT_PARAM_KEYS = {"order", "fields", "filters"}
FILTER_KEYS = {"created_at", "updated_at", "status", "source_id", "amount", "total_amount",
               "discount_amount", "total_discount_amount", "items_discount_amount"}


class Invalid(Exception):
    def __init__(self, details: str, status: int = 400, key: str = "invalid_payload",
                 message: str = "Invalid payload") -> None:
        super().__init__(details)
        self.details = details
        self.status = status
        self.key = key
        self.message = message


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _keys(obj: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise Invalid(f"{where} must be an object")
    extra = sorted(set(obj) - allowed)
    if extra:
        raise Invalid(f"{where}: property {extra[0]!r} is not allowed")
    return obj


def _int(obj: dict[str, Any], key: str, where: str, minimum: int = 0) -> None:
    if key in obj:
        if not _is_int(obj[key]):
            raise Invalid(f"{where}.{key} must be an integer (cents), got {obj[key]!r}")
        if obj[key] < minimum:
            raise Invalid(f"{where}.{key} must be >= {minimum}")


def _str(obj: dict[str, Any], key: str, where: str, nullable: bool = False) -> None:
    if key in obj and not isinstance(obj[key], str) and not (nullable and obj[key] is None):
        raise Invalid(f"{where}.{key} must be a string")


def validate_customer(c: Any, where: str) -> None:
    _keys(c, CUSTOMER_KEYS, where)
    for k in ("id", "source_id", "name", "description", "email", "phone", "birthday",
              "birthdate"):
        _str(c, k, where)
    if "address" in c and c["address"] is not None:
        a = _keys(c["address"], ADDRESS_KEYS, f"{where}.address")
        for k in ADDRESS_KEYS:
            _str(a, k, f"{where}.address")
    if "metadata" in c and not isinstance(c["metadata"], dict):
        raise Invalid(f"{where}.metadata must be an object")


def validate_item(item: Any, where: str) -> None:
    _keys(item, ITEM_KEYS, where)
    for k in ITEM_INTS:
        _int(item, k, where)
    for k in ("sku_id", "product_id", "source_id"):
        _str(item, k, where)
    if "related_object" in item and item["related_object"] not in ("product", "sku"):
        raise Invalid(f"{where}.related_object must be product or sku")
    if "product" in item:
        p = _keys(item["product"], PRODUCT_KEYS, f"{where}.product")
        _int(p, "price", f"{where}.product")
        for k in ("id", "source_id", "name"):
            _str(p, k, f"{where}.product")
    if "sku" in item:
        s = _keys(item["sku"], SKU_KEYS, f"{where}.sku")
        _int(s, "price", f"{where}.sku")
    if "metadata" in item and not isinstance(item["metadata"], dict):
        raise Invalid(f"{where}.metadata must be an object")


def validate_order(body: Any, where: str = "body", allowed: set[str] = ORDER_KEYS) -> None:
    _keys(body, allowed, where)
    _str(body, "id", where)
    _str(body, "source_id", where, nullable=True)
    _str(body, "referrer_id", where, nullable=True)
    if "status" in body and body["status"] not in STATUSES:
        raise Invalid(f"{where}.status must be one of {sorted(STATUSES)}, got {body['status']!r}")
    for k in ("amount", "initial_amount", "discount_amount"):
        _int(body, k, where)
    if "created_at" in body:
        try:
            datetime.fromisoformat(str(body["created_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"{where}.created_at must be an ISO 8601 date-time") from None
    if "items" in body:
        if not isinstance(body["items"], list):
            raise Invalid(f"{where}.items must be an array")
        if len(body["items"]) > 500:
            raise Invalid(f"{where}.items holds at most 500 items")
        for i, item in enumerate(body["items"]):
            validate_item(item, f"{where}.items[{i}]")
    if "metadata" in body and not isinstance(body["metadata"], dict):
        raise Invalid(f"{where}.metadata must be an object")
    for k in ("customer", "referrer"):
        if k in body:
            validate_customer(body[k], f"{where}.{k}")


@dataclass
class VoucherifyEmulator:
    app_id: str = "app-id"
    app_token: str = "app-token"
    polls_needed: int = 2
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → order
    by_source: dict[str, str] = field(default_factory=dict)  # source_id → id
    customers: dict[str, str] = field(default_factory=dict)  # source_id → cust id
    async_actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[Any] = field(default_factory=list)  # parsed JSON bodies, in order
    fail_import_source_ids: set[str] = field(default_factory=set)
    fail_next_import_actions: int = 0  # the next n import actions end FAILED, storing nothing
    _throttle: list[float] = field(default_factory=list)
    _refuse: list[tuple[int, str, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- test controls -------------------------------------------------------------------------

    def throttle(self, times: int = 1, retry_after: float = 1) -> None:
        self._throttle.extend([retry_after] * times)

    def refuse_next(self, status: int = 400, key: str = "invalid_payload",
                    details: str = "Refused by the test.") -> None:
        """Answer the next authenticated API call with this error (nothing is stored)."""
        self._refuse.append((status, key, details))

    def order_by_source(self, source_id: str) -> dict[str, Any] | None:
        oid = self.by_source.get(source_id)
        return self.orders.get(oid) if oid else None

    # --- HTTP ----------------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        rid = f"v-{secrets.token_hex(9)}"
        try:
            if request.url.host == DOWNLOAD_HOST:
                return self._download(request)
            if self._throttle:
                wait = self._throttle.pop(0)
                return httpx.Response(
                    429, headers={"Retry-After": f"{wait:g}", "X-RateLimit-Limit": "100",
                                  "X-RateLimit-Remaining": "0"},
                    json={"code": 429, "key": "too_many_requests", "message": "Too many requests",
                          "details": "Rate limit exceeded.", "request_id": rid})
            if request.headers.get("X-App-Id") != self.app_id or \
                    request.headers.get("X-App-Token") != self.app_token:
                raise Invalid("Missing or wrong X-App-Id / X-App-Token.", 401, "unauthorized",
                              "Unauthorized")
            if self._refuse:
                code, key, details = self._refuse.pop(0)
                raise Invalid(details, code, key, "Request refused")
            status, payload = self._route(request)
            return httpx.Response(status, json=payload)
        except Invalid as exc:
            return httpx.Response(exc.status, json={
                "code": exc.status, "key": exc.key, "message": exc.message,
                "details": exc.details, "request_id": rid})

    def _body(self, request: httpx.Request) -> Any:
        if request.headers.get("Content-Type", "").split(";")[0] != "application/json":
            raise Invalid("Content-Type must be application/json")
        try:
            body = json.loads(request.content)
        except ValueError:
            raise Invalid("Body is not JSON.", key="invalid_json") from None
        self.bodies.append(body)
        return body

    def _route(self, request: httpx.Request) -> tuple[int, Any]:
        method = request.method
        path = request.url.raw_path.decode().split("?", 1)[0]
        parts = path.strip("/").split("/")
        if parts[:2] != ["v1", "orders"] and parts[:2] != ["v1", "async-actions"] and \
                parts[:2] != ["v1", "exports"]:
            raise Invalid(f"No route {path}", 404, "not_found", "Resource not found")
        if method != "GET" and request.url.params:
            raise Invalid("Query parameters are not allowed here.")
        if parts == ["v1", "orders"]:
            if method == "POST":
                body = self._body(request)
                validate_order(body)
                return 200, self._upsert(body)
            if method == "GET":
                return 200, self._list(request)
        if parts == ["v1", "orders", "import"] and method == "POST":
            return 200, self._import(self._body(request))
        if parts == ["v1", "orders", "export"] and method == "POST":
            return 200, self._export(self._body(request))
        if len(parts) == 3 and parts[1] == "orders":
            if request.url.params:
                raise Invalid("Query parameters are not allowed here.")
            key = unquote(parts[2])
            order = self.orders.get(key) or self.order_by_source(key)
            if method == "GET":
                if order is None:
                    raise Invalid(f"Cannot find order with id {key}", 404, "not_found",
                                  "Resource not found")
                return 200, order
            if method == "PUT":
                body = self._body(request)
                validate_order(body, allowed=UPDATE_KEYS)
                if order is None:
                    raise Invalid(f"Cannot find order with id {key}", 404, "not_found",
                                  "Resource not found")
                return 200, self._apply(order, body)
        if len(parts) == 3 and parts[1] == "async-actions" and method == "GET":
            return 200, self._poll(self.async_actions, parts[2], "async action")
        if len(parts) == 3 and parts[1] == "exports" and method == "GET":
            return 200, self._poll(self.exports, parts[2], "export")
        raise Invalid(f"No route {method} {path}", 404, "not_found", "Resource not found")

    # --- orders ----------------------------------------------------------------------------

    def _upsert(self, body: dict[str, Any]) -> dict[str, Any]:
        source_id = body.get("source_id")
        oid = body.get("id") or (self.by_source.get(source_id) if source_id else None)
        if oid and oid in self.orders:
            return self._apply(self.orders[oid], body)
        oid = f"ord_{next(self._ids):08d}{secrets.token_hex(4)}"
        stamp = _now()
        order: dict[str, Any] = {"id": oid, "object": "order", "source_id": source_id,
                                 "created_at": body.get("created_at") or stamp,
                                 "updated_at": None, "status": "CREATED", "amount": 0,
                                 "items": [], "metadata": {}, "customer_id": None,
                                 "referrer_id": None}
        self.orders[oid] = order
        if source_id:
            self.by_source[source_id] = oid
        return self._apply(order, body, new=True)

    def _apply(self, order: dict[str, Any], body: dict[str, Any],
               new: bool = False) -> dict[str, Any]:
        for key in ("status", "amount", "initial_amount", "discount_amount", "metadata"):
            if key in body:
                order[key] = body[key]
        if "items" in body:
            order["items"] = [{"object": "order_item", **item,
                               "subtotal_amount": item.get("amount", 0)} for item in body["items"]]
            if "amount" not in body:
                order["amount"] = sum(int(i.get("amount", 0)) for i in body["items"])
        if "customer" in body:
            c = body["customer"]
            cid = c.get("id") or self.customers.setdefault(
                str(c.get("source_id")), f"cust_{secrets.token_hex(8)}")
            order["customer_id"] = cid
            order["customer"] = {"id": cid, "object": "customer"}
        discount = int(order.get("discount_amount") or 0)
        order["total_discount_amount"] = discount
        order["total_amount"] = int(order.get("amount") or 0) - discount
        if not new:
            order["updated_at"] = _now()
        return order

    def _list(self, request: httpx.Request) -> dict[str, Any]:
        params = request.url.params
        extra = set(params.keys()) - {"limit", "page", "order"}
        if extra:
            raise Invalid(f"Query parameter {sorted(extra)[0]!r} is not allowed")

        def bounded(name: str, default: int) -> int:
            raw = params.get(name)
            if raw is None:
                return default
            if not raw.isdigit() or not 1 <= int(raw) <= 100:
                raise Invalid(f"{name} must be an integer from 1 to 100")
            return int(raw)

        limit, page = bounded("limit", 10), bounded("page", 1)
        order = params.get("order", "created_at")
        if order not in LIST_ORDERS:
            raise Invalid(f"order must be one of {sorted(LIST_ORDERS)}")
        rows = sorted(self.orders.values(),
                      key=lambda o: str(o.get(order.lstrip("-")) or o["created_at"]),
                      reverse=order.startswith("-"))
        return {"object": "list", "data_ref": "orders", "total": len(rows),
                "orders": rows[(page - 1) * limit: page * limit]}

    # --- async work ------------------------------------------------------------------------

    def _import(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, list):
            raise Invalid("The import body must be an array of orders")
        if not 1 <= len(body) <= 2000:
            raise Invalid("An import holds 1 to 2000 orders")
        for i, order in enumerate(body):
            validate_order(order, f"[{i}]")
        done: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        aid = f"aa_{secrets.token_hex(9)}"
        if self.fail_next_import_actions:
            self.fail_next_import_actions -= 1
            self.async_actions[aid] = {
                "id": aid, "type": "ORDERS_IMPORT", "status": "ENQUEUED",
                "object": "async_action", "created_at": _now(), "polls": 0,
                "final_status": "FAILED", "final": {"message": "Import failed"}}
            return {"async_action_id": aid}
        for order in body:
            if order.get("source_id") in self.fail_import_source_ids:
                failed.append({"source_id": order.get("source_id"), "reason": "rejected"})
                continue
            saved = self._upsert(order)
            done.append({"source_id": saved["source_id"], "id": saved["id"]})
        self.async_actions[aid] = {
            "id": aid, "type": "ORDERS_IMPORT", "status": "ENQUEUED", "object": "async_action",
            "created_at": _now(), "polls": 0,
            "final": {"message": f"{len(done)} orders imported", "done_count": len(done),
                      "failed_count": len(failed), "failed": failed}}
        return {"async_action_id": aid}

    def _export(self, body: Any) -> dict[str, Any]:
        _keys(body, {"parameters"}, "body")
        params = _keys(body.get("parameters", {}), EXPORT_PARAM_KEYS, "parameters")
        fields = params.get("fields", ["id", "source_id", "status"])
        if not isinstance(fields, list) or not all(
                isinstance(f, str) and (f in EXPORT_FIELDS or f.startswith("metadata."))
                for f in fields):
            raise Invalid("parameters.fields holds unknown fields")
        order = params.get("order", "-created_at")
        if order not in EXPORT_ORDERS:
            raise Invalid("parameters.order is not allowed")
        filters = params.get("filters", {})
        if not isinstance(filters, dict):
            raise Invalid("parameters.filters must be an object")
        for k, v in filters.items():
            if k == "junction":
                if v not in ("and", "or"):
                    raise Invalid("parameters.filters.junction must be and/or")
            elif k in FILTER_KEYS or k.startswith("metadata."):
                _keys(v, {"conditions"}, f"parameters.filters.{k}")
            else:
                raise Invalid(f"parameters.filters: property {k!r} is not allowed")
        wanted = ((filters.get("status") or {}).get("conditions") or {}).get("$in")
        rows = sorted(self.orders.values(), key=lambda o: str(o.get(order.lstrip("-")) or ""),
                      reverse=order.startswith("-"))
        if wanted:
            rows = [o for o in rows if o.get("status") in wanted]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(fields)
        for o in rows:
            row = []
            for f in fields:
                if f.startswith("metadata."):
                    value = (o.get("metadata") or {}).get(f[9:], "")
                elif f == "metadata":
                    value = json.dumps(o.get("metadata") or {})
                else:
                    value = o.get(f)
                row.append("" if value is None else value)
            writer.writerow(row)
        eid = f"exp_{secrets.token_hex(9)}"
        token = secrets.token_urlsafe(16)
        self.exports[eid] = {
            "id": eid, "object": "export", "created_at": _now(), "status": "SCHEDULED",
            "channel": "API", "exported_object": "order", "parameters": params, "result": None,
            "user_id": None, "polls": 0, "csv": out.getvalue(), "token": token,
            "final": {"url": f"https://{DOWNLOAD_HOST}/v1/exports/{eid}?token={token}"}}
        return self._public(self.exports[eid])

    def _poll(self, table: dict[str, dict[str, Any]], key: str, what: str) -> dict[str, Any]:
        item = table.get(unquote(key))
        if item is None:
            raise Invalid(f"Cannot find {what} {key}", 404, "not_found", "Resource not found")
        item["polls"] += 1
        if item["polls"] >= self.polls_needed:
            item["status"] = item.get("final_status", "DONE")
            item["result"] = item["final"]
        else:
            item["status"] = "IN_PROGRESS"
        return self._public(item)

    @staticmethod
    def _public(item: dict[str, Any]) -> dict[str, Any]:
        hidden = ("polls", "final", "final_status", "csv", "token")
        return {k: v for k, v in item.items() if k not in hidden}

    def _download(self, request: httpx.Request) -> httpx.Response:
        eid = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        export = self.exports.get(eid)
        if export is None or export["status"] != "DONE" or \
                request.url.params.get("token") != export["token"]:
            return httpx.Response(403, text="Forbidden")
        if "X-App-Token" in request.headers:
            return httpx.Response(400, text="app credentials must not reach the download host")
        return httpx.Response(200, headers={"Content-Type": "text/csv"}, text=export["csv"])


def make_emulator(app_id: str = "app-id", app_token: str = "app-token",
                  polls_needed: int = 2) -> VoucherifyEmulator:
    return VoucherifyEmulator(app_id=app_id, app_token=app_token, polls_needed=polls_needed)
