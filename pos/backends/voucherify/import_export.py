"""Back-fill (`import`, resumable through a state file in the data dir) and CSV export of orders."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from pos.backends.http import safe_url
from pos.backends.voucherify.settings import (
    EXPORT_FIELDS,
    EXPORT_ORDERS,
    MAX_IMPORT_BATCH,
    STATUSES,
)
from pos.errors import InputError, PermanentError, TransientError
from pos.models import Order

if TYPE_CHECKING:
    from pos.backends.voucherify import VoucherifyBackend


def export_orders(sink: VoucherifyBackend, fields: Sequence[str], order: str | None, target: Path,
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
    export = sink._request("POST", "/v1/orders/export", retry_429=True, json=body)
    export_id = str(export["id"])
    final = sink._poll(f"/v1/exports/{quote(export_id, safe='')}", ("DONE", "ERROR"),
                       f"Export {export_id}")
    if final.get("status") != "DONE":
        raise PermanentError(message=f"Voucherify could not build export {export_id}.",
                             hint="Try again, or with fewer fields.")
    url = str((final.get("result") or {}).get("url") or "")
    if not url:
        raise PermanentError(message=f"Export {export_id} is done but has no file URL.")
    # The download host is another host and the URL carries its own token: no app headers,
    # and the URL is never shown (safe_url drops the query).
    with httpx.Client(transport=sink.context.transport, timeout=sink.cfg.timeout,
                      verify=sink.cfg.verify_tls, follow_redirects=False) as client:
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


def state_path(sink: VoucherifyBackend) -> Path:
    return sink.context.data_dir / f"voucherify-import-{sink.context.profile}.json"


def load_state(sink: VoucherifyBackend) -> dict[str, Any]:
    path = state_path(sink)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(sink: VoucherifyBackend, state: dict[str, Any]) -> None:
    path = state_path(sink)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
    tmp.replace(path)


def local_orders(sink: VoucherifyBackend, since: str) -> list[Order]:
    from pos.store import Ledger

    ledger = Ledger(sink.context.data_dir)
    try:
        orders = ledger.orders.list(since=since, limit=10**9)
    finally:
        ledger.close()
    orders.sort(key=lambda o: (o.created_at.isoformat(), o.number))
    return orders


def import_orders(sink: VoucherifyBackend, since: str, batch_size: int = MAX_IMPORT_BATCH,
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
    orders = sink.local_orders(since)
    state = load_state(sink)
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
            action_id = sink.import_batch(batch)
            batches_state[key] = {"async_action_id": action_id, "status": "SUBMITTED"}
            save_state(sink, state)
        action = sink.wait_async_action(str(action_id))
        done, failed, failures = _import_counts(action, len(batch))
        status = str(action.get("status"))
        batches_state[key] = {"async_action_id": action_id, "status": status,
                              "done": done, "failed": failed}
        if status != "DONE":
            batches_state[key].pop("async_action_id")  # resubmit on the next run
        save_state(sink, state)
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
