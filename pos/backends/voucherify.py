"""Voucherify as an ORDER SINK: every sale placed at the counter is mirrored to Voucherify's
Orders API (upsert keyed by the local order number as `source_id`), plus back-fill (`import`),
CSV export and read-back (`orders`, `order`) commands.

Contract (Voucherify's OpenAPI): money is integer minor units, `status` is one of
CREATED/PAID/CANCELED/FULFILLED, no undeclared fields are sent, and every request carries both
`X-App-Id` and `X-App-Token`. The token is a `SecretStr` and never appears in a message, a log
line or an output: errors show URLs through `safe_url` and the export download (whose URL
carries its own token) is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from pos.backends.base import (
    Backend,
    BackendInfo,
    BackendSettings,
    Capability,
    PlacedOrder,
    RemoteOrder,
)
from pos.backends.http import HttpClient, check_base_url, parse_json, safe_url
from pos.errors import AuthError, InputError, PermanentError, PosError, TransientError
from pos.models import Order, OrderStatus
from pos.money import cents

log = logging.getLogger("pos.voucherify")

STORE = "Voucherify"
STATUSES = ("CREATED", "PAID", "CANCELED", "FULFILLED")
LIST_ORDERS = ("created_at", "-created_at", "updated_at", "-updated_at")
EXPORT_FIELDS = ("id", "source_id", "created_at", "updated_at", "status", "amount",
                 "discount_amount", "items_discount_amount", "total_discount_amount",
                 "total_amount", "customer_id", "referrer_id", "metadata")
EXPORT_ORDERS = ("-created_at", "created_at", "-updated_at", "updated_at", "-status", "status")
MAX_IMPORT_BATCH = 2000
MAX_ITEMS = 500
MAX_429_RETRIES = 5

# Local words for a status change → Voucherify's enum.
STATUS_WORDS = {
    "created": "CREATED", "paid": "PAID", "placed": "PAID",
    "canceled": "CANCELED", "cancelled": "CANCELED", "void": "CANCELED", "voided": "CANCELED",
    "refund": "CANCELED", "refunded": "CANCELED",
    "fulfilled": "FULFILLED", "picked_up": "FULFILLED", "shipped": "FULFILLED",
    "delivered": "FULFILLED",
}


class VoucherifySettings(BackendSettings):
    backend: Literal["voucherify"] = "voucherify"
    base_url: str = "https://api.voucherify.io"
    app_id: str
    app_token: SecretStr
    timeout: float = 15.0
    verify_tls: bool = True
    allow_http: bool = False  # plain http:// base_url (local tests only)
    poll_interval: float = 1.0  # first wait between async-action/export polls (then ×1.5)
    poll_max_interval: float = 15.0
    poll_timeout: float = 1800.0  # give up waiting for one import batch/export after this


# --- payload building ----------------------------------------------------------------------


def voucherify_status(order: Order) -> str:
    return "CANCELED" if order.status == OrderStatus.CANCELED else "PAID"


def _customer(order: Order) -> dict[str, Any]:
    c = order.customer
    source_id = c.id if c.id else f"guest-{order.number}"
    out: dict[str, Any] = {"source_id": source_id}
    name = f"{c.firstname} {c.lastname}".strip()
    for key, value in (("name", name), ("email", c.email), ("phone", c.telephone)):
        if value:
            out[key] = value
    return out


def _payment_method(order: Order) -> str:
    methods = [p.method for p in order.payments if p.status == "paid"] or (
        [order.payment_method.code] if order.payment_method else [])
    return "+".join(dict.fromkeys(methods))


def order_payload(order: Order) -> dict[str, Any]:
    """The OrdersCreate body for a local sale.

    `amount` is the sum of the items' amounts (the spec's definition): the lines, sold gift
    vouchers and shipping, before discounts; `discount_amount` is the order-level discount
    (coupon + reward points). Tax and what was paid by gift vouchers/store credit ride in
    `metadata` (integer cents) so the local total can be rebuilt.
    """
    cur = order.currency
    priced = {p.key: p for p in order.priced}
    items: list[dict[str, Any]] = []
    for line in order.lines:
        price = cents(line.unit_price, cur)
        p = priced.get(line.key)
        amount = cents(p.total, cur) if p is not None else price * line.quantity
        item: dict[str, Any] = {
            "source_id": line.sku or line.product_id,
            "related_object": "product",
            "quantity": line.quantity,
            "price": price,
            "amount": amount,
            "product": {"name": line.name[:200], "price": price},
        }
        items.append(item)
    for voucher in order.sold_vouchers:
        amount = cents(voucher.amount, cur)
        items.append({"source_id": "gift-voucher", "related_object": "product", "quantity": 1,
                      "price": amount, "amount": amount,
                      "product": {"name": "Gift voucher", "price": amount}})
    shipping = cents(order.totals.shipping, cur)
    if shipping:
        items.append({"source_id": "shipping", "related_object": "product", "quantity": 1,
                      "price": shipping, "amount": shipping,
                      "product": {"name": order.shipping_method.title if order.shipping_method
                                  else "Shipping", "price": shipping}})
    if len(items) > MAX_ITEMS:  # the API takes 500 items: fold the tail into one summary item
        rest = items[MAX_ITEMS - 1:]
        folded = sum(int(i["amount"]) for i in rest)
        items = [*items[:MAX_ITEMS - 1], {
            "source_id": "more-items", "related_object": "product", "quantity": 1,
            "price": folded, "amount": folded,
            "product": {"name": f"{len(rest)} more items", "price": folded}}]
    amount = sum(int(i["amount"]) for i in items)
    metadata: dict[str, Any] = {
        "local_number": order.number,
        "lane": order.lane,
        "cashier": order.cashier,
        "payment_method": _payment_method(order),
        "checkout_backend": order.backend,
        "remote_id": order.remote_id or "",
        "currency": cur,
        "tax": cents(order.totals.tax, cur),
        "total": cents(order.totals.total, cur),
    }
    if order.totals.vouchers:
        metadata["gift_vouchers"] = cents(order.totals.vouchers, cur)
    if order.totals.store_credit:
        metadata["store_credit"] = cents(order.totals.store_credit, cur)
    if order.coupon:
        metadata["coupon"] = order.coupon
    body: dict[str, Any] = {
        "source_id": order.number,
        "status": voucherify_status(order),
        "amount": amount,
    }
    discount = cents(order.totals.discount, cur)
    if discount:
        body["discount_amount"] = discount
    if items:
        body["items"] = items
    body["customer"] = _customer(order)
    body["metadata"] = {k: v for k, v in metadata.items() if v != ""}
    return body


def import_payload(order: Order) -> dict[str, Any]:
    """An import item: the create body plus the sale's own `created_at`."""
    body = order_payload(order)
    created = order.created_at
    body["created_at"] = created.isoformat().replace("+00:00", "Z") if created.tzinfo else (
        created.isoformat() + "Z")
    return body


def _remote_order(data: dict[str, Any]) -> RemoteOrder:
    created = data.get("created_at")
    try:
        created_at = datetime.fromisoformat(str(created).replace("Z", "+00:00")) if created \
            else None
    except ValueError:
        created_at = None
    total = data.get("total_amount", data.get("amount"))
    meta = data.get("metadata") or {}
    return RemoteOrder(
        remote_id=str(data.get("id", "")),
        number=data.get("source_id"),
        status=str(data.get("status", "")),
        total=Decimal(int(total)) / 100 if isinstance(total, int) else None,
        currency=str(meta.get("currency", "")) if isinstance(meta, dict) else "",
        customer=str(data.get("customer_id") or ""),
        created_at=created_at,
        raw=data,
    )


# --- the backend ---------------------------------------------------------------------------


class VoucherifyBackend(Backend):
    name = "voucherify"
    capabilities = Capability.ORDER_SINK | Capability.ORDER_HISTORY
    Settings: ClassVar[type[BackendSettings]] = VoucherifySettings
    cli_help = "Voucherify orders: import (back-fill), export to CSV, list and show"

    def __init__(self, settings: BackendSettings, context: Any) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, VoucherifySettings)
        self.cfg = settings
        base = check_base_url(settings.base_url, settings.allow_http, STORE).rstrip("/")
        self.http = HttpClient(
            base, store=STORE, timeout=settings.timeout, verify=settings.verify_tls,
            transport=context.transport,
            headers={"X-App-Id": settings.app_id,
                     "X-App-Token": settings.app_token.get_secret_value(),
                     "Accept": "application/json"})
        self.sleep: Callable[[float], None] = time.sleep

    def close(self) -> None:
        self.http.close()

    # --- requests ----------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, idempotent: bool = True,
                 retry_429: bool = False, **kwargs: Any) -> Any:
        """Send, map errors, return the JSON body. `retry_429`: wait out Retry-After inline."""
        attempt = 0
        while True:
            try:
                response = self.http.request(method, path, idempotent=idempotent, **kwargs)
            except TransientError as exc:
                if retry_429 and exc.status == 429 and attempt < MAX_429_RETRIES:
                    attempt += 1
                    wait = exc.retry_after if exc.retry_after is not None else 2.0 ** attempt
                    log.info("Voucherify rate limit: waiting %.1fs", wait)
                    self.sleep(wait)
                    continue
                raise
            if response.status_code >= 400:
                raise self._error(response)
            return parse_json(response, STORE)

    def _error(self, response: httpx.Response) -> PosError:
        status = response.status_code
        body: Any = None
        with contextlib.suppress(ValueError):
            body = response.json()
        if not isinstance(body, dict):
            body = {}
        message = str(body.get("message") or f"HTTP {status}")
        details = str(body.get("details") or "")
        key = str(body.get("key") or "")
        request_id = str(body.get("request_id") or response.headers.get("x-request-id") or "") \
            or None
        path = httpx.URL(safe_url(response.request.url)).path
        text = f"{STORE} refused {response.request.method} {path}: {message}"
        if details:
            text += f" — {details}"
        if key:
            text += f" [{key}]"
        if request_id:
            text += f" (request id {request_id})"
        if status in (401, 403):
            return AuthError(message=text, hint="Check app_id and app_token in the profile.",
                             status=status, request_id=request_id)
        return PermanentError(message=text, hint="Fix the data or the profile; retrying the "
                              "same request will not help.", status=status,
                              request_id=request_id)

    # --- lifecycle ---------------------------------------------------------------------------

    def info(self) -> BackendInfo:
        try:
            data = self._request("GET", "/v1/orders", params={"limit": 1})
        except TransientError as exc:
            return BackendInfo(name="Voucherify", detail=exc.one_line(), reachable=False)
        return BackendInfo(name="Voucherify", version="v1",
                           detail=f"{data.get('total', '?')} orders at {self.cfg.base_url}")

    # --- sink --------------------------------------------------------------------------------

    def mirror_order(self, order: Order) -> PlacedOrder:
        """Upsert the sale (source_id = local number): a repeat after a lost answer is harmless."""
        data = self._request("POST", "/v1/orders", json=order_payload(order))
        return PlacedOrder(remote_id=str(data.get("id", "")), status=str(data.get("status", "")))

    def update_order_status(self, order: Order, status: str, reason: str = "") -> None:
        value = status.upper() if status.upper() in STATUSES else STATUS_WORDS.get(
            status.lower().replace(" ", "_"))
        if value is None:
            raise InputError(message=f"Voucherify has no order status for {status!r}.",
                             hint=f"Use one of {', '.join(STATUSES)}.")
        try:
            self._request("PUT", f"/v1/orders/{quote(order.number, safe='')}",
                          json={"status": value})
        except PermanentError as exc:
            if exc.status != 404:
                raise
            # Never mirrored (the sink was added later, or its mirror failed): upsert it whole.
            body = order_payload(order)
            body["status"] = value
            self._request("POST", "/v1/orders", json=body)

    def find_order(self, order: Order) -> PlacedOrder | None:
        try:
            data = self._request("GET", f"/v1/orders/{quote(order.number, safe='')}")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return PlacedOrder(remote_id=str(data.get("id", "")), status=str(data.get("status", "")))

    # --- history -----------------------------------------------------------------------------

    def list_orders(self, **filters: str) -> list[RemoteOrder]:
        params: dict[str, Any] = {}
        if "limit" in filters:
            limit = int(filters["limit"])
            if not 1 <= limit <= 100:
                raise InputError(message=f"limit {limit} is out of range (1 to 100).")
            params["limit"] = limit
        if "page" in filters:
            page = int(filters["page"])
            if not 1 <= page <= 100:
                raise InputError(message=f"page {page} is out of range (1 to 100).")
            params["page"] = page
        if filters.get("order"):
            if filters["order"] not in LIST_ORDERS:
                raise InputError(message=f"order {filters['order']!r} is not one of "
                                 f"{', '.join(LIST_ORDERS)}.")
            params["order"] = filters["order"]
        unknown = set(filters) - {"limit", "page", "order"}
        if unknown:
            raise InputError(message=f"Voucherify cannot filter orders by {', '.join(unknown)}.")
        data = self._request("GET", "/v1/orders", params=params, retry_429=True)
        return [_remote_order(o) for o in data.get("orders", [])]

    def get_order(self, remote_id: str) -> RemoteOrder:
        data = self._request("GET", f"/v1/orders/{quote(remote_id, safe='')}", retry_429=True)
        return _remote_order(data)

    # --- async work --------------------------------------------------------------------------

    def _poll(self, path: str, done: Sequence[str], what: str) -> dict[str, Any]:
        """GET `path` with growing waits until its status is one of `done`."""
        wait = self.cfg.poll_interval
        deadline = time.monotonic() + self.cfg.poll_timeout
        while True:
            data: dict[str, Any] = self._request("GET", path, retry_429=True)
            if data.get("status") in done:
                return data
            if time.monotonic() > deadline:
                raise TransientError(message=f"{what} is still {data.get('status')} after "
                                     f"{self.cfg.poll_timeout:.0f}s.",
                                     hint="Run the command again later: it resumes.")
            self.sleep(wait)
            wait = min(self.cfg.poll_max_interval, max(wait * 1.5, 0.0))

    def import_batch(self, orders: Sequence[Order]) -> str:
        if not 0 < len(orders) <= MAX_IMPORT_BATCH:
            raise InputError(message=f"An import batch holds 1 to {MAX_IMPORT_BATCH} orders.")
        data = self._request("POST", "/v1/orders/import", retry_429=True,
                             json=[import_payload(o) for o in orders])
        return str(data["async_action_id"])

    def wait_async_action(self, action_id: str) -> dict[str, Any]:
        return self._poll(f"/v1/async-actions/{quote(action_id, safe='')}", ("DONE", "FAILED"),
                          f"Import {action_id}")

    def export_orders(self, fields: Sequence[str], order: str | None, target: Path,
                      statuses: Sequence[str] = ()) -> int:
        """Schedule an export, wait for it, download the CSV to `target`; return its bytes."""
        parameters: dict[str, Any] = {}
        if statuses:
            bad = [s for s in statuses if s not in STATUSES]
            if bad:
                raise InputError(message=f"{bad[0]!r} is not an order status.",
                                 hint=f"Use {', '.join(STATUSES)}.")
            parameters["filters"] = {"junction": "and",
                                     "status": {"conditions": {"$in": list(statuses)}}}
        for f in fields:
            if f not in EXPORT_FIELDS and not (f.startswith("metadata.") and len(f) > 9):
                raise InputError(message=f"{f!r} is not an exportable order field.",
                                 hint=f"Use {', '.join(EXPORT_FIELDS)} or metadata.<key>.")
        if fields:
            parameters["fields"] = list(fields)
        if order:
            if order not in EXPORT_ORDERS:
                raise InputError(message=f"order {order!r} is not one of "
                                 f"{', '.join(EXPORT_ORDERS)}.")
            parameters["order"] = order
        body = {"parameters": parameters} if parameters else {}
        export = self._request("POST", "/v1/orders/export", retry_429=True, json=body)
        export_id = str(export["id"])
        final = self._poll(f"/v1/exports/{quote(export_id, safe='')}", ("DONE", "ERROR"),
                           f"Export {export_id}")
        if final.get("status") != "DONE":
            raise PermanentError(message=f"Voucherify could not build export {export_id}.",
                                 hint="Try again, or with fewer fields.")
        url = str((final.get("result") or {}).get("url") or "")
        if not url:
            raise PermanentError(message=f"Export {export_id} is done but has no file URL.")
        # The download host is another host and the URL carries its own token: no app headers,
        # and the URL is never shown (safe_url drops the query).
        with httpx.Client(transport=self.context.transport, timeout=self.cfg.timeout,
                          verify=self.cfg.verify_tls, follow_redirects=False) as client:
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                raise TransientError(message=f"The export file could not be downloaded "
                                     f"({type(exc).__name__}).") from None
        if response.status_code != 200:
            raise PermanentError(message=f"The export download from {safe_url(url)} answered "
                                 f"HTTP {response.status_code}.", status=response.status_code)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)
        return len(response.content)

    # --- command line ------------------------------------------------------------------------

    @classmethod
    def build_cli(cls, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="vf_command", metavar="ACTION", required=True)
        p = sub.add_parser("import", help="back-fill local orders (resumable)")
        p.add_argument("--from", dest="since", required=True, metavar="DATE",
                       help="first day to import (YYYY-MM-DD or ISO date-time)")
        p.add_argument("--batch-size", type=int, default=MAX_IMPORT_BATCH,
                       help=f"orders per import call (1 to {MAX_IMPORT_BATCH})")
        p.add_argument("--restart", action="store_true",
                       help="forget the progress of an earlier run and import everything again")
        p = sub.add_parser("export", help="export Voucherify's orders to a CSV file")
        p.add_argument("--fields", nargs="+", default=[],
                       help="fields (comma or space separated), e.g. id,source_id,status,amount")
        p.add_argument("--order", choices=EXPORT_ORDERS, default=None,
                       help="sort, e.g. --order=-created_at (write = before a leading dash)")
        p.add_argument("--status", nargs="+", choices=STATUSES, default=[],
                       help="only orders with these statuses")
        p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.csv")
        p = sub.add_parser("orders", help="list orders held by Voucherify")
        p.add_argument("--limit", type=int, default=10)
        p.add_argument("--page", type=int, default=None)
        p.add_argument("--order", choices=LIST_ORDERS, default=None,
                       help="sort, e.g. --order=-created_at")
        p.add_argument("--json", action="store_true")
        p = sub.add_parser("order", help="one order, by Voucherify id or local number")
        p.add_argument("id")
        p.add_argument("--json", action="store_true")

    def run_cli(self, args: argparse.Namespace) -> int:
        command = args.vf_command
        if command == "import":
            return self._cli_import(args)
        if command == "export":
            fields = [f.strip() for chunk in args.fields for f in chunk.split(",") if f.strip()]
            size = self.export_orders(fields, args.order, args.output, args.status)
            print(f"Exported Voucherify orders to {args.output} ({size} bytes).")
            return 0
        if command == "orders":
            filters = {"limit": str(args.limit)}
            if args.page is not None:
                filters["page"] = str(args.page)
            if args.order:
                filters["order"] = args.order
            orders = self.list_orders(**filters)
            if args.json:
                print(json.dumps([dict(o.raw) for o in orders], indent=2, default=str))
            else:
                for o in orders:
                    total = f"{o.total:.2f}" if o.total is not None else ""
                    print(f"{o.remote_id:<28} {o.number or '':<14} {o.status:<10} {total:>10}")
                print(f"{len(orders)} order(s)")
            return 0
        if command == "order":
            order = self.get_order(args.id)
            if args.json:
                print(json.dumps(dict(order.raw), indent=2, default=str))
            else:
                raw = order.raw
                print(f"{order.remote_id}  {order.number or ''}  {order.status}")
                print(f"amount {raw.get('amount')}  discount {raw.get('discount_amount', 0)}  "
                      f"total {raw.get('total_amount', raw.get('amount'))} (cents)")
                for item in raw.get("items") or []:
                    name = (item.get("product") or {}).get("name", "")
                    print(f"  {item.get('quantity', '')} × {item.get('source_id', '')} {name} "
                          f"{item.get('amount', '')}")
            return 0
        raise InputError(message=f"Unknown voucherify command {command!r}.")

    # --- import ------------------------------------------------------------------------------

    def _state_path(self) -> Path:
        return self.context.data_dir / f"voucherify-import-{self.context.profile}.json"

    def _load_state(self) -> dict[str, Any]:
        path = self._state_path()
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_state(self, state: dict[str, Any]) -> None:
        path = self._state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
        tmp.replace(path)

    def local_orders(self, since: str) -> list[Order]:
        from pos.store import Ledger

        ledger = Ledger(self.context.data_dir)
        try:
            orders = ledger.orders.list(since=since, limit=10**9)
        finally:
            ledger.close()
        orders.sort(key=lambda o: (o.created_at.isoformat(), o.number))
        return orders

    def import_orders(self, since: str, batch_size: int = MAX_IMPORT_BATCH,
                      restart: bool = False,
                      report: Callable[[str], None] = print) -> dict[str, int]:
        """Import local orders created since `since` in batches; resumable via a state file."""
        try:
            datetime.fromisoformat(since)
        except ValueError:
            raise InputError(message=f"--from {since!r} is not a date.",
                             hint="Write it like 2026-01-31.") from None
        if not 1 <= batch_size <= MAX_IMPORT_BATCH:
            raise InputError(message=f"--batch-size must be 1 to {MAX_IMPORT_BATCH}.")
        orders = self.local_orders(since)
        state = self._load_state()
        runs = state.setdefault("runs", {})
        run = {} if restart else runs.get(since, {})
        runs[since] = run
        batches_state: dict[str, Any] = run.setdefault("batches", {})
        batches = [orders[i:i + batch_size] for i in range(0, len(orders), batch_size)]
        totals = {"orders": len(orders), "batches": len(batches), "imported": 0, "failed": 0,
                  "skipped_batches": 0}
        sent = 0
        for index, batch in enumerate(batches, start=1):
            key = f"{batch[0].number}..{batch[-1].number}#{len(batch)}"
            entry = batches_state.get(key, {})
            if entry.get("status") == "DONE":
                totals["skipped_batches"] += 1
                totals["imported"] += int(entry.get("done", 0))
                totals["failed"] += int(entry.get("failed", 0))
                sent += len(batch)
                report(f"batch {index}/{len(batches)} {key}: already imported, skipped")
                continue
            action_id = entry.get("async_action_id")
            if not action_id:
                action_id = self.import_batch(batch)
                batches_state[key] = {"async_action_id": action_id, "status": "SUBMITTED"}
                self._save_state(state)
            action = self.wait_async_action(str(action_id))
            done, failed, failures = _import_counts(action, len(batch))
            status = str(action.get("status"))
            batches_state[key] = {"async_action_id": action_id, "status": status,
                                  "done": done, "failed": failed}
            if status != "DONE":
                batches_state[key].pop("async_action_id")  # resubmit on the next run
            self._save_state(state)
            totals["imported"] += done
            totals["failed"] += failed
            sent += len(batch)
            line = (f"batch {index}/{len(batches)} {key}: {status} — {done} imported, "
                    f"{failed} failed")
            report(line)
            for failure in failures[:10]:
                report(f"  failed: {failure}")
            report(f"progress: {sent}/{len(orders)} orders ({100 * sent // max(1, len(orders))}%)")
        return totals

    def _cli_import(self, args: argparse.Namespace) -> int:
        since = str(args.since)
        totals = self.import_orders(since, args.batch_size, args.restart)
        print(f"Imported {totals['imported']} of {totals['orders']} order(s) since {since} in "
              f"{totals['batches']} batch(es) ({totals['skipped_batches']} already done); "
              f"{totals['failed']} failed.")
        return 4 if totals["failed"] else 0


def _import_counts(action: dict[str, Any], size: int) -> tuple[int, int, list[str]]:
    """(done, failed, failure descriptions) from an async action's `result`."""
    result = action.get("result") or {}
    if not isinstance(result, dict):
        result = {}
    failures_raw = result.get("failed") or []
    failures: list[str] = []
    if isinstance(failures_raw, list):
        for f in failures_raw:
            if isinstance(f, dict):
                why = f.get("reason") or f.get("message") or f
                failures.append(f"{f.get('source_id', '?')}: {why}")
            else:
                failures.append(str(f))
    failed = int(result.get("failed_count", len(failures)))
    if "done_count" in result:
        done = int(result["done_count"])
    elif isinstance(result.get("done"), list):
        done = len(result["done"])
    else:
        done = size - failed if action.get("status") == "DONE" else 0
    if action.get("status") != "DONE" and done + failed < size:
        failed = size - done  # the whole action failed: what it did not confirm counts as failed
        failures.append(str(result.get("message") or "the import action FAILED"))
    return done, failed, failures
