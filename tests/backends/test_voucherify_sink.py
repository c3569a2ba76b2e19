"""Voucherify as an order sink of the demo store, and the `pos voucherify ...` commands."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pos.cli import main
from pos.config import load_settings
from pos.models import CartLine, Order, OrderStatus, Payment, PricedLine, Totals
from pos.session import PosSession, open_session
from pos.store import Ledger
from pos.store.db import transaction
from tests.emulators.faults import FaultyTransport
from tests.emulators.voucherify import VoucherifyEmulator, make_emulator

TOKEN = "vf-secret-token-4242"
CONFIG = f"""
lane = "T1"
cashier = "ann"
default_profile = "local"
sinks = ["vf"]

[profiles.vf]
backend = "voucherify"
base_url = "https://api.voucherify.test"
app_id = "app-id"
app_token = "{TOKEN}"
poll_interval = 0
"""


@pytest.fixture
def emu(config_file: Path) -> VoucherifyEmulator:
    config_file.write_text(CONFIG)
    return make_emulator(app_token=TOKEN)


@pytest.fixture
def faults(emu: VoucherifyEmulator) -> FaultyTransport:
    return FaultyTransport(emu.handle, sleep=lambda s: None)


@pytest.fixture
def sink_session(data_dir: Path, faults: FaultyTransport) -> Iterator[PosSession]:
    s = open_session(data_dir, "local", load_settings(), transports={"vf": faults})
    yield s
    s.close()


def sell(session: PosSession) -> Order:
    co = session.checkout
    co.scan("2*MUG")
    co.take_payment("cash", "50")
    return co.place()


def mirror_entry(session: PosSession, number: str) -> tuple[str, str, str | None]:
    (entry,) = [e for e in session.ledger.outbox.for_order(number) if e.kind == "mirror"]
    return entry.state, entry.last_error, entry.remote_id


def test_sale_is_mirrored_once(sink_session: PosSession, emu: VoucherifyEmulator) -> None:
    order = sell(sink_session)
    assert order.status == OrderStatus.PLACED
    state, _, remote_id = mirror_entry(sink_session, order.number)
    assert state == "done"
    assert len(emu.orders) == 1
    stored = emu.order_by_source(order.number)
    assert stored is not None and stored["id"] == remote_id
    assert stored["status"] == "PAID"
    assert stored["metadata"]["checkout_backend"] == "local"
    assert stored["metadata"]["total"] == 2057  # 20.57 in cents
    assert stored["amount"] == 1900
    sink_session.sync.flush(now=time.time() + 10_000)
    assert len([r for r in emu.requests if r.method == "POST"]) == 1


def test_lost_answer_still_one_order(sink_session: PosSession, emu: VoucherifyEmulator,
                                     faults: FaultyTransport) -> None:
    faults.plan("/v1/orders", "drop_after_commit")
    order = sell(sink_session)
    state, error, _ = mirror_entry(sink_session, order.number)
    assert state == "queued" and error  # the answer was lost: retried later
    assert len(emu.orders) == 1  # ... although Voucherify did commit it
    report = sink_session.sync.flush(now=time.time() + 10_000)
    assert order.number in report.mirrored
    assert mirror_entry(sink_session, order.number)[0] == "done"
    assert len(emu.orders) == 1
    assert len([r for r in emu.requests if r.method == "POST"]) == 2


def test_429_is_retried_after_retry_after(sink_session: PosSession,
                                          emu: VoucherifyEmulator) -> None:
    emu.throttle(1, retry_after=120)
    before = time.time()
    order = sell(sink_session)
    (entry,) = [e for e in sink_session.ledger.outbox.for_order(order.number)
                if e.kind == "mirror"]
    assert entry.state == "queued" and entry.next_attempt_at >= before + 120
    sink_session.sync.flush(now=time.time() + 10_000)
    assert mirror_entry(sink_session, order.number)[0] == "done"
    assert len(emu.orders) == 1


def test_refusal_fails_the_entry_with_message_and_request_id(
        sink_session: PosSession, emu: VoucherifyEmulator) -> None:
    emu.refuse_next(400, "invalid_payload", "items[0].price must be an integer")
    order = sell(sink_session)
    assert order.status == OrderStatus.PLACED  # the sale itself stands
    state, error, _ = mirror_entry(sink_session, order.number)
    assert state == "failed"
    assert "Request refused" in error and "items[0].price must be an integer" in error
    assert "request id v-" in error
    assert len(emu.orders) == 0
    assert TOKEN not in error


# --- commands ------------------------------------------------------------------------------


def synthetic_order(n: int, start: datetime) -> Order:
    line = CartLine(key="a", product_id="42", sku="MUG", name="Mug", quantity=1,
                    unit_price=Decimal("9.50"))
    return Order(number=f"T1-{n:06d}", lane="T1", created_at=start + timedelta(seconds=n),
                 status=OrderStatus.PLACED, lines=(line,),
                 priced=(PricedLine(key="a", unit_price=Decimal("9.50"),
                                    total=Decimal("9.50")),),
                 payments=(Payment(method="cash", kind="cash", amount=Decimal("9.50")),),
                 totals=Totals(subtotal=Decimal("9.50"), total=Decimal("9.50")))


def seed_orders(data_dir: Path, count: int) -> None:
    ledger = Ledger(data_dir)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    old = synthetic_order(0, datetime(2025, 1, 1, tzinfo=UTC))  # before --from: not imported
    with transaction(ledger.db, ledger.path) as conn:
        ledger.orders._insert_order(conn, old.model_copy(update={"number": "T1-OLD"}))
        for n in range(1, count + 1):
            ledger.orders._insert_order(conn, synthetic_order(n, start))
    ledger.close()


class FailNth(httpx.BaseTransport):
    """ConnectError on the nth request whose URL contains `pattern` (the network went away)."""

    def __init__(self, inner: httpx.BaseTransport, pattern: str, nth: int) -> None:
        self.inner, self.pattern, self.nth, self.seen = inner, pattern, nth, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.pattern in str(request.url):
            self.seen += 1
            if self.seen == self.nth:
                raise httpx.ConnectError("network down", request=request)
        return self.inner.handle_request(request)


def test_import_5000_in_3_batches_resumable(
        data_dir: Path, emu: VoucherifyEmulator, faults: FaultyTransport,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_orders(data_dir, 5000)
    flaky = FailNth(faults, "/v1/orders/import", 2)
    code = main(["voucherify", "import", "--from", "2026-01-01"], transports={"vf": flaky})
    out = capsys.readouterr()
    assert code != 0 and "cannot be reached" in out.err
    assert "batch 1/3" in out.out and "DONE — 2000 imported, 0 failed" in out.out
    assert len(emu.orders) == 2000

    code = main(["voucherify", "import", "--from", "2026-01-01"], transports={"vf": faults})
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "batch 1/3 T1-000001..T1-002000#2000: already imported, skipped" in out.out
    assert "batch 2/3" in out.out and "batch 3/3" in out.out
    assert "progress: 5000/5000 orders (100%)" in out.out
    assert "Imported 5000 of 5000 order(s)" in out.out
    imports = [b for b in emu.bodies if isinstance(b, list)]
    assert [len(b) for b in imports] == [2000, 2000, 1000]
    assert len(emu.orders) == 5000
    assert emu.order_by_source("T1-OLD") is None
    first = emu.order_by_source("T1-000001")
    assert first is not None and first["created_at"] == "2026-03-01T00:00:01Z"

    code = main(["voucherify", "import", "--from", "2026-01-01"], transports={"vf": faults})
    assert code == 0
    assert len([b for b in emu.bodies if isinstance(b, list)]) == 3  # nothing re-sent
    assert (data_dir / "voucherify-import-vf.json").exists()


def test_import_reports_failed_orders(data_dir: Path, emu: VoucherifyEmulator,
                                      faults: FaultyTransport,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    seed_orders(data_dir, 3)
    emu.fail_import_source_ids.add("T1-000002")
    code = main(["voucherify", "import", "--from", "2026-01-01", "--batch-size", "2"],
                transports={"vf": faults})
    out = capsys.readouterr().out
    assert code == 4
    assert "batch 1/2" in out and "1 imported, 1 failed" in out
    assert "failed: T1-000002: rejected" in out


def test_export_list_and_show(data_dir: Path, emu: VoucherifyEmulator, faults: FaultyTransport,
                              sink_session: PosSession, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    order = sell(sink_session)
    capsys.readouterr()
    target = tmp_path / "orders.csv"
    code = main(["voucherify", "export", "--fields", "id,source_id", "status", "amount",
                 "-o", str(target)], transports={"vf": faults})
    out = capsys.readouterr()
    assert code == 0, out.err
    lines = target.read_text().splitlines()
    assert lines[0] == "id,source_id,status,amount"
    assert lines[1].endswith(f",{order.number},PAID,1900")
    assert "token=" not in out.out + out.err

    assert main(["voucherify", "orders", "--limit", "5", "--order=-created_at"],
                transports={"vf": faults}) == 0
    listing = capsys.readouterr().out
    assert order.number in listing and "1 order(s)" in listing
    assert main(["voucherify", "order", order.number], transports={"vf": faults}) == 0
    shown = capsys.readouterr().out
    assert order.number in shown and "PAID" in shown and "MUG" in shown
    assert main(["voucherify", "orders", "--limit", "500"], transports={"vf": faults}) == 2


def test_token_never_shown(data_dir: Path, emu: VoucherifyEmulator, faults: FaultyTransport,
                           sink_session: PosSession, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str],
                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    emu.refuse_next(422, "invalid_payload", "bad")
    sell(sink_session)
    sell(sink_session)
    main(["voucherify", "orders"], transports={"vf": faults})
    main(["voucherify", "order", "nope"], transports={"vf": faults})
    main(["voucherify", "export", "-o", str(tmp_path / "x.csv")], transports={"vf": faults})
    main(["config", "show"])
    main(["backend", "info", "--profile", "vf"], transports={"vf": faults})
    emu.app_token = "rotated"  # now every call is refused with 401
    main(["voucherify", "orders"], transports={"vf": faults})
    out = capsys.readouterr()
    errors = " ".join(e.last_error for e in sink_session.ledger.outbox.open_entries())
    logs = caplog.text
    log_dir = Path(str(data_dir)).parent / "state"
    files = " ".join(p.read_text(errors="ignore") for p in log_dir.rglob("*") if p.is_file())
    for text in (out.out, out.err, errors, logs, files):
        assert TOKEN not in text
    assert "Login refused" in out.err


def test_failed_import_action_is_resubmitted_next_run(
        data_dir: Path, emu: VoucherifyEmulator, faults: FaultyTransport,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_orders(data_dir, 3)
    emu.fail_next_import_actions = 1
    args = ["voucherify", "import", "--from", "2026-01-01", "--batch-size", "2"]
    assert main(args, transports={"vf": faults}) == 4
    out = capsys.readouterr().out
    assert "batch 1/2 T1-000001..T1-000002#2: FAILED — 0 imported, 2 failed" in out
    assert "batch 2/2" in out and "1 imported, 0 failed" in out
    assert main(args, transports={"vf": faults}) == 0
    out = capsys.readouterr().out
    assert "batch 1/2" in out and "DONE — 2 imported" in out
    assert "batch 2/2 T1-000003..T1-000003#1: already imported, skipped" in out
    assert len(emu.orders) == 3


def test_customer_and_coupon_sale_mirrors_consistent_cents(
        sink_session: PosSession, emu: VoucherifyEmulator) -> None:
    from pos.backends.local.demo_data import CUSTOMERS

    co = sink_session.checkout
    co.scan("2*MUG")
    co.set_customer(CUSTOMERS[0])
    co.apply_coupon("SAVE10")
    co.take_payment("cash", "50")
    order = co.place()
    stored = emu.order_by_source(order.number)
    assert stored is not None
    body = next(b for b in emu.bodies if isinstance(b, dict) and b.get("source_id") == order.number)
    assert body["amount"] == sum(i["amount"] for i in body["items"]) == 1900
    assert body["discount_amount"] == 190
    assert body["customer"]["source_id"] == "1"
    assert body["customer"]["email"] == "jane@example.com"
    assert body["customer"]["name"] == "Jane Doe"
    assert body["metadata"]["coupon"] == "SAVE10"
    assert body["metadata"]["total"] == int(order.totals.total * 100)
    assert stored["total_amount"] == 1710


def test_reachable_is_one_small_get(sink_session: PosSession, faults: FaultyTransport) -> None:
    store = sink_session.backend_for("vf")
    assert store.reachable() is True
    faults.plan("/v1/orders", "connect_error")
    assert store.reachable() is False
    assert sink_session.backend.reachable() is None  # the demo store: nothing to ask
