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
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from pos.backends.base import (
    Backend,
    BackendInfo,
    BackendSettings,
    Capability,
    PlacedOrder,
    RemoteOrder,
)
from pos.backends.http import HttpClient, check_base_url, parse_object, safe_url
from pos.backends.voucherify import cli, import_export
from pos.backends.voucherify.mapping import _remote_order, import_payload, order_payload, voucherify_status
from pos.backends.voucherify.settings import (
    EXPORT_FIELDS,
    EXPORT_ORDERS,
    LIST_ORDERS,
    MAX_429_RETRIES,
    MAX_IMPORT_BATCH,
    MAX_ITEMS,
    STATUS_WORDS,
    STATUSES,
    STORE,
    VoucherifySettings,
)
from pos.errors import AuthError, InputError, PermanentError, PosError, TransientError
from pos.models import Order

__all__ = [
    "EXPORT_FIELDS",
    "EXPORT_ORDERS",
    "LIST_ORDERS",
    "MAX_429_RETRIES",
    "MAX_IMPORT_BATCH",
    "MAX_ITEMS",
    "STATUSES",
    "STATUS_WORDS",
    "STORE",
    "VoucherifyBackend",
    "VoucherifySettings",
    "import_payload",
    "order_payload",
    "voucherify_status",
]

log = logging.getLogger("pos.voucherify")


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
            return parse_object(response, STORE)

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

    def reachable(self) -> bool | None:
        return self._info_reachable()  # one small GET

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
        orders = data.get("orders", [])
        if not isinstance(orders, list):
            raise PermanentError(message=f"{STORE} answered an order list without a list of "
                                         "orders.", hint="Run `pos doctor` for this profile.")
        return [_remote_order(o) for o in orders if isinstance(o, dict)]

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
        return import_export.export_orders(self, fields, order, target, statuses)

    # --- import ------------------------------------------------------------------------------

    def local_orders(self, since: str) -> list[Order]:
        return import_export.local_orders(self, since)

    def import_orders(self, since: str, batch_size: int = MAX_IMPORT_BATCH,
                      restart: bool = False,
                      report: Callable[[str], None] = print) -> dict[str, int]:
        """Import local orders created since `since` in batches; resumable via a state file."""
        return import_export.import_orders(self, since, batch_size, restart, report)

    # --- command line ------------------------------------------------------------------------

    @classmethod
    def build_cli(cls, parser: argparse.ArgumentParser) -> None:
        cli.build_cli(parser)

    def run_cli(self, args: argparse.Namespace) -> int:
        return cli.run_cli(self, args)
