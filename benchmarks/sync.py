"""Outbox flush throughput: the real SyncEngine and outbox, over real HTTP on 127.0.0.1.

The store is `benchmarks.emulator`, in its own process (so this process's CPU time is the
client's alone). The backend below is a minimal one for this benchmark: it POSTs the order's JSON
through `pos.backends.http.HttpClient` (the persistent httpx client every backend uses) and looks
orders up by number for reconciliation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import httpx

from benchmarks.common import Run, emit, note
from benchmarks.store import sample_order
from pos.backends.base import Backend, BackendContext, BackendInfo, BackendSettings, Capability, PlacedOrder
from pos.backends.http import HttpClient, parse_json
from pos.errors import PermanentError
from pos.models import Order
from pos.store import Ledger
from pos.sync import SyncEngine


@dataclass(kw_only=True)
class BenchSettings(BackendSettings):
    base_url: str


class BenchHttpBackend(Backend):
    """Places orders on `benchmarks.emulator` (POST /orders, GET /orders?number=)."""

    name = "bench-http"
    capabilities: ClassVar[Capability] = Capability.ORDER_PLACEMENT
    Settings = BenchSettings

    def __init__(self, settings: BackendSettings, context: BackendContext) -> None:
        super().__init__(settings, context)
        assert isinstance(settings, BenchSettings)
        self.http = HttpClient(settings.base_url, store="bench store",
                               headers={"Content-Type": "application/json"})

    def info(self) -> BackendInfo:
        return BackendInfo(name=self.name)

    def close(self) -> None:
        self.http.close()

    def place_order(self, order: Order) -> PlacedOrder:
        response = self.http.request("POST", "/orders", idempotent=False,
                                     content=order.model_dump_json())
        data = parse_json(response, "bench store")
        if response.status_code != 201:
            raise PermanentError(message=f"bench store refused {order.number}: {data}")
        return PlacedOrder(remote_id=str(data["id"]))

    def find_order(self, order: Order) -> PlacedOrder | None:
        response = self.http.request("GET", "/orders", idempotent=True,
                                     params={"number": order.number})
        found = parse_json(response, "bench store")["orders"]
        return PlacedOrder(remote_id=str(found[0]["id"])) if found else None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _start_emulator() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.emulator"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def _reference(base_url: str, bodies: list[str]) -> tuple[float, float]:
    """A bare httpx POST loop (persistent client): orders/s and CPU ms per order."""
    with httpx.Client(base_url=base_url, headers={"Content-Type": "application/json"}) as client:
        client.get("/stats")
        wall, cpu = time.perf_counter(), _cpu()
        for body in bodies:
            response = client.post("/orders", content=body)
            assert response.status_code == 201
            response.json()
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    return len(bodies) / wall, cpu * 1000 / len(bodies)


def _app_logging(path: Path) -> logging.Handler:
    """Log as the `pos` command does (`pos.logfile.install`): one INFO line per attempt."""
    from pos.logfile import install

    return install(path)


def bench_sync(run: Run) -> None:
    n = 1_000 if run.quick else 10_000
    emulator, base_url = _start_emulator()
    handler = _app_logging(run.workdir / "pos.log")
    try:
        ref_rate, ref_cpu = _reference(
            base_url, [sample_order(f"R1-{i:06d}", "R1").model_dump_json() for i in range(n)])
        data_dir = run.workdir / "sync"
        ledger = Ledger(data_dir)
        for i in range(n):
            ledger.orders.record_sale(sample_order(f"S1-{i:06d}", "S1"), [("bench", "place")],
                                      None)
        backend = BenchHttpBackend(BenchSettings(backend="bench-http", base_url=base_url),
                                   BackendContext(data_dir=data_dir, profile="bench"))
        engine = SyncEngine(ledger, lambda profile: backend)
        backend.http.request("GET", "/stats", idempotent=True)  # connect, like a warm till
        wall, cpu = time.perf_counter(), _cpu()
        placed = 0
        while True:
            report = engine.flush()
            placed += len(report.placed)
            if report.errors:
                raise RuntimeError(f"sync errors: {report.errors[:3]}")
            if not report.placed:
                break
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        # zero loss, zero duplicates: every sale placed locally and exactly once on the store
        statuses = dict(ledger.db.execute(
            "SELECT status, count(*) FROM orders GROUP BY status").fetchall())
        open_entries = ledger.outbox.pending_count()
        stats = httpx.get(base_url + "/stats").json()
        local = sorted(f"S1-{i:06d}" for i in range(n)) + sorted(f"R1-{i:06d}" for i in range(n))
        expected_sha = hashlib.sha256("\n".join(sorted(local)).encode()).hexdigest()
        backend.close()
        ledger.close()
    finally:
        logging.getLogger("pos").removeHandler(handler)
        handler.close()
        emulator.terminate()
        emulator.wait()
    verified = (placed == n and statuses == {"placed": n} and open_entries == 0
                and stats["posts"] == 2 * n and stats["distinct"] == 2 * n
                and not stats["duplicates"] and stats["numbers_sha"] == expected_sha)
    if not verified:
        note(f"sync verification failed: placed={placed} statuses={statuses} "
             f"open={open_entries} store={json.dumps(stats)[:300]}")
    emit("sync_orders_per_s", n / wall, "orders/s", target=1000.0, reference=ref_rate,
         higher_is_better=True, orders=n, verified=verified)
    emit("sync_cpu_ms_per_order", cpu * 1000 / n, "ms", target=0.5, reference=ref_cpu,
         orders=n, verified=verified)
    if not verified:
        raise SystemExit("sync benchmark: lost or duplicated orders")
