"""Contract tests: the Voucherify client against the contract-enforcing emulator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from pos.backends.base import BackendContext, Capability
from pos.backends.voucherify import (
    VoucherifyBackend,
    VoucherifySettings,
    import_payload,
    order_payload,
)
from pos.errors import AuthError, InputError, PermanentError, TransientError
from pos.models import CartLine, Customer, Order, OrderStatus, Payment, PricedLine, Totals
from tests.emulators.voucherify import (
    ORDER_KEYS,
    VoucherifyEmulator,
    make_emulator,
    validate_order,
)

BASE = "https://api.voucherify.test"


def make_order(number: str = "T1-000001", *, customer: Customer | None = None,
               status: OrderStatus = OrderStatus.PLACED, discount: str = "0") -> Order:
    lines = (
        CartLine(key="a", product_id="42", sku="MUG", name="Mug", quantity=2,
                 unit_price=Decimal("9.50")),
        CartLine(key="b", product_id="43", sku="", name="Tea", quantity=1,
                 unit_price=Decimal("3.99")),
    )
    priced = (PricedLine(key="a", unit_price=Decimal("9.50"), total=Decimal("19.00")),
              PricedLine(key="b", unit_price=Decimal("3.99"), total=Decimal("3.99")))
    d = Decimal(discount)
    return Order(
        number=number, lane="T1", cashier="ann", profile="local", backend="local",
        created_at=datetime(2026, 11, 1, 10, 0, tzinfo=UTC), status=status,
        customer=customer or Customer(), lines=lines, priced=priced,
        payments=(Payment(method="cash", kind="cash", amount=Decimal("24.88")),),
        totals=Totals(subtotal=Decimal("22.99"), discount=d, tax=Decimal("1.89"),
                      total=Decimal("24.88") - d),
        remote_id="7")


def backend(emulator: VoucherifyEmulator, tmp_path: Path,
            transport: httpx.BaseTransport | None = None) -> VoucherifyBackend:
    settings = VoucherifySettings(backend="voucherify", base_url=BASE, app_id="app-id",
                                  app_token=SecretStr("app-token"), poll_interval=0)
    be = VoucherifyBackend(settings, BackendContext(
        data_dir=tmp_path, profile="vf", transport=transport or httpx.MockTransport(
            emulator.handle)))
    be.sleep = lambda s: None
    return be


@pytest.fixture
def emu() -> VoucherifyEmulator:
    return make_emulator()


@pytest.fixture
def vf(emu: VoucherifyEmulator, tmp_path: Path) -> VoucherifyBackend:
    return backend(emu, tmp_path)


def test_capabilities(vf: VoucherifyBackend) -> None:
    assert vf.supports(Capability.ORDER_SINK)
    assert vf.supports(Capability.ORDER_HISTORY)
    assert not vf.supports(Capability.ORDER_PLACEMENT)


def test_payload_is_spec_shaped_integer_cents() -> None:
    body = order_payload(make_order(discount="2.00"))
    validate_order(body)  # raises on any undeclared field or non-integer amount
    assert set(body) <= ORDER_KEYS
    assert body["source_id"] == "T1-000001"
    assert body["status"] == "PAID"
    assert body["amount"] == 2299 == sum(i["amount"] for i in body["items"])
    assert body["discount_amount"] == 200
    mug, tea = body["items"]
    assert mug == {"source_id": "MUG", "related_object": "product", "quantity": 2,
                   "price": 950, "amount": 1900, "product": {"name": "Mug", "price": 950}}
    assert tea["source_id"] == "43"
    assert body["customer"] == {"source_id": "guest-T1-000001"}
    meta = body["metadata"]
    assert meta["lane"] == "T1" and meta["cashier"] == "ann" and meta["payment_method"] == "cash"
    assert meta["checkout_backend"] == "local" and meta["remote_id"] == "7"
    assert meta["local_number"] == "T1-000001" and meta["total"] == 2288 and meta["tax"] == 189


def test_customer_fields_and_canceled_status() -> None:
    cust = Customer(id="12", firstname="Ada", lastname="Lovelace", email="ada@example.com")
    body = order_payload(make_order(customer=cust, status=OrderStatus.CANCELED))
    assert body["status"] == "CANCELED"
    assert body["customer"] == {"source_id": "12", "name": "Ada Lovelace",
                                "email": "ada@example.com"}
    assert "discount_amount" not in body
    imp = import_payload(make_order())
    assert imp["created_at"] == "2026-11-01T10:00:00Z"
    validate_order(imp)


def test_mirror_is_an_upsert(vf: VoucherifyBackend, emu: VoucherifyEmulator) -> None:
    first = vf.mirror_order(make_order())
    again = vf.mirror_order(make_order())
    assert first.remote_id == again.remote_id
    assert len(emu.orders) == 1
    stored = emu.order_by_source("T1-000001")
    assert stored is not None and stored["status"] == "PAID" and stored["amount"] == 2299
    for req in emu.requests:
        assert req.headers["X-App-Id"] == "app-id"
        assert req.headers["X-App-Token"] == "app-token"


def test_update_status_and_find(vf: VoucherifyBackend, emu: VoucherifyEmulator) -> None:
    order = make_order("T1/7 x")  # needs URL-encoding
    vf.mirror_order(order)
    vf.update_order_status(order, "void")
    assert emu.order_by_source("T1/7 x")["status"] == "CANCELED"  # type: ignore[index]
    assert emu.bodies[-1] == {"status": "CANCELED"}
    vf.update_order_status(order, "picked_up")
    assert emu.order_by_source("T1/7 x")["status"] == "FULFILLED"  # type: ignore[index]
    assert "/v1/orders/T1%2F7%20x" in str(emu.requests[-1].url)
    with pytest.raises(InputError):
        vf.update_order_status(order, "lost")
    found = vf.find_order(order)
    assert found is not None and found.status == "FULFILLED"
    assert vf.find_order(make_order("T1-999999")) is None


def test_list_and_get(vf: VoucherifyBackend, emu: VoucherifyEmulator) -> None:
    for n in range(1, 6):
        vf.mirror_order(make_order(f"T1-{n:06d}"))
    page = vf.list_orders(limit="2", page="2", order="-created_at")
    assert len(page) == 2
    assert set(emu.requests[-1].url.params.keys()) == {"limit", "page", "order"}
    with pytest.raises(InputError):
        vf.list_orders(limit="101")
    with pytest.raises(InputError):
        vf.list_orders(order="number")
    with pytest.raises(InputError):
        vf.list_orders(since="2026-01-01")
    one = vf.get_order("T1-000003")
    assert one.number == "T1-000003" and one.status == "PAID" and one.total == Decimal("22.99")
    assert vf.get_order(one.remote_id).number == "T1-000003"


def test_error_body_becomes_message_details_and_request_id(
        emu: VoucherifyEmulator, tmp_path: Path) -> None:
    settings = VoucherifySettings(backend="voucherify", base_url=BASE, app_id="app-id",
                                  app_token=SecretStr("wrong-token"))
    bad = VoucherifyBackend(settings, BackendContext(
        data_dir=tmp_path, transport=httpx.MockTransport(emu.handle)))
    with pytest.raises(AuthError) as info:
        bad.mirror_order(make_order())
    assert info.value.status == 401
    assert info.value.request_id and info.value.request_id in info.value.message
    assert "wrong-token" not in info.value.one_line()


def test_invalid_payload_is_permanent(vf: VoucherifyBackend, emu: VoucherifyEmulator) -> None:
    with pytest.raises(PermanentError) as info:
        vf._request("POST", "/v1/orders", json={"source_id": "x", "amount": 12.5})
    assert info.value.status == 400
    assert "integer" in info.value.message and "invalid_payload" in info.value.message
    assert info.value.request_id
    with pytest.raises(PermanentError, match="not allowed"):
        vf._request("POST", "/v1/orders", json={"source_id": "x", "total": 1})
    with pytest.raises(PermanentError, match="status"):
        vf._request("POST", "/v1/orders", json={"source_id": "x", "status": "paid"})


def test_429_retry_after(vf: VoucherifyBackend, emu: VoucherifyEmulator) -> None:
    emu.throttle(1, retry_after=7)
    with pytest.raises(TransientError) as info:  # the outbox path: raised for the sync engine
        vf.mirror_order(make_order())
    assert info.value.status == 429 and info.value.retry_after == 7
    waits: list[float] = []
    vf.sleep = waits.append
    emu.throttle(2, retry_after=3)
    assert vf.list_orders() == []  # commands wait Retry-After and retry
    assert waits == [3, 3]


def test_import_batches_and_limits(vf: VoucherifyBackend, emu: VoucherifyEmulator) -> None:
    with pytest.raises(InputError):
        vf.import_batch([make_order(f"T1-{n:06d}") for n in range(2001)])
    action = vf.import_batch([make_order(f"T1-{n:06d}") for n in range(1, 4)])
    result = vf.wait_async_action(action)
    assert result["status"] == "DONE" and result["result"]["done_count"] == 3
    assert isinstance(emu.bodies[0], list)
    assert len(emu.orders) == 3
    # the emulator itself refuses an over-long array
    with pytest.raises(PermanentError, match="2000"):
        vf._request("POST", "/v1/orders/import", json=[{"source_id": str(n)}
                                                         for n in range(2001)])


def test_export_downloads_from_download_host(vf: VoucherifyBackend, emu: VoucherifyEmulator,
                                             tmp_path: Path) -> None:
    vf.mirror_order(make_order())
    target = tmp_path / "out" / "orders.csv"
    vf.export_orders(["id", "source_id", "status", "amount", "metadata.lane"], "-created_at",
                     target)
    text = target.read_text()
    assert text.splitlines()[0] == "id,source_id,status,amount,metadata.lane"
    assert "T1-000001,PAID,2299,T1" in text
    download = emu.requests[-1]
    assert download.url.host == "download.voucherify.test"
    assert "X-App-Token" not in download.headers
    with pytest.raises(InputError):
        vf.export_orders(["password"], None, target)


def test_status_change_of_an_unmirrored_order_upserts_it(vf: VoucherifyBackend,
                                                         emu: VoucherifyEmulator) -> None:
    vf.update_order_status(make_order("T1-000077"), "FULFILLED")
    stored = emu.order_by_source("T1-000077")
    assert stored is not None and stored["status"] == "FULFILLED" and stored["amount"] == 2299


def test_export_status_filter(vf: VoucherifyBackend, emu: VoucherifyEmulator,
                              tmp_path: Path) -> None:
    vf.mirror_order(make_order("T1-000001"))
    vf.mirror_order(make_order("T1-000002", status=OrderStatus.CANCELED))
    target = tmp_path / "canceled.csv"
    vf.export_orders([], None, target, statuses=["CANCELED"])
    assert emu.bodies[-1] == {"parameters": {"filters": {
        "junction": "and", "status": {"conditions": {"$in": ["CANCELED"]}}}}}
    rows = target.read_text().splitlines()
    assert rows[0] == "id,source_id,status" and len(rows) == 2 and "T1-000002" in rows[1]
    vf.export_orders([], None, target)
    assert emu.bodies[-1] == {}
    with pytest.raises(InputError):
        vf.export_orders([], None, target, statuses=["paid"])


def test_import_rejects_a_bad_date(vf: VoucherifyBackend) -> None:
    with pytest.raises(InputError):
        vf.import_orders("last tuesday")
    with pytest.raises(InputError):
        vf.import_orders("2026-01-01", batch_size=2001)


def test_more_than_500_lines_are_folded_consistently() -> None:
    lines = tuple(CartLine(key=str(n), product_id=str(n), name=f"P{n}", quantity=1,
                           unit_price=Decimal("1.00")) for n in range(600))
    order = make_order().model_copy(update={"lines": lines, "priced": ()})
    body = order_payload(order)
    validate_order(body)
    assert len(body["items"]) == 500
    assert body["items"][-1]["amount"] == 101 * 100
    assert body["amount"] == 600 * 100 == sum(i["amount"] for i in body["items"])
