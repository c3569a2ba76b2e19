"""Sales through the sync engine while the network misbehaves (FaultyTransport)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.catalog_sync import sync_catalog
from pos.config import load_settings
from pos.models import Order, OrderStatus
from pos.session import PosSession, open_session
from tests.emulators.faults import FaultyTransport
from tests.emulators.pycommerce import API_TOKEN, PyCommerceEmulator, make_emulator

LATER = 10**10  # a `now` after every back-off


@pytest.fixture
def emu() -> PyCommerceEmulator:
    return make_emulator()


@pytest.fixture
def faults(emu: PyCommerceEmulator) -> FaultyTransport:
    return FaultyTransport(emu.handle, sleep=lambda s: None)


@pytest.fixture
def pc(config_file: Path, data_dir: Path, faults: FaultyTransport) -> Iterator[PosSession]:
    config_file.write_text(f'[profiles.pc]\nbackend = "pycommerce"\nbase_url = "https://pc.test"\n'
                           f'tenant = "tech"\ntoken = "{API_TOKEN}"\n', "utf-8")
    session = open_session(data_dir, "pc", load_settings(), transports={"pc": faults})
    sync_catalog(session.backend, session.catalog)
    session.backend.tenant_id()  # type: ignore[attr-defined]
    yield session
    session.close()


def sell(session: PosSession) -> Order:
    co = session.checkout
    co.scan("2*BS-002")
    co.take_payment("cash", "200")
    return co.place()


def notes(emu: PyCommerceEmulator) -> list[str]:
    return [str(o["notes"]) for o in emu.orders.values()]


@pytest.mark.parametrize("fault", ["drop_after_commit", "reset_after_commit"])
def test_answer_lost_after_commit_reconciles(pc: PosSession, emu: PyCommerceEmulator,
                                             faults: FaultyTransport, fault: str) -> None:
    faults.plan("/api/orders", fault)
    order = sell(pc)
    assert order.status == OrderStatus.UNKNOWN
    assert len(emu.orders) == 1  # it did arrive
    report = pc.sync.flush(now=LATER)
    assert report.placed == [order.number]
    placed = pc.ledger.orders.get(order.number)
    assert placed.status == OrderStatus.PLACED
    assert placed.remote_id == next(iter(emu.orders))
    assert notes(emu) == [f"POS sale {order.number}"]  # exactly one order, never doubled
    assert sum(c.startswith("POST") and "/api/orders" in c for c in faults.calls) == 1


def test_timeout_before_sending_resends_once(pc: PosSession, emu: PyCommerceEmulator,
                                             faults: FaultyTransport) -> None:
    faults.plan("/api/orders", "timeout_before")
    order = sell(pc)
    assert order.status == OrderStatus.UNKNOWN and emu.orders == {}
    pc.sync.flush(now=LATER)
    assert pc.ledger.orders.get(order.number).status == OrderStatus.PLACED
    assert notes(emu) == [f"POS sale {order.number}"]


def test_500_on_create_is_unknown_then_placed(pc: PosSession, emu: PyCommerceEmulator,
                                              faults: FaultyTransport) -> None:
    faults.plan("/api/orders", "500")
    order = sell(pc)
    assert order.status == OrderStatus.UNKNOWN
    pc.sync.flush(now=LATER)
    assert pc.ledger.orders.get(order.number).status == OrderStatus.PLACED
    assert len(emu.orders) == 1


@pytest.mark.parametrize("fault", ["502", "503", "connect_error"])
def test_transient_failure_queues_then_places(pc: PosSession, emu: PyCommerceEmulator,
                                              faults: FaultyTransport, fault: str) -> None:
    faults.plan("/api/orders", fault)
    order = sell(pc)
    assert order.status == OrderStatus.QUEUED and emu.orders == {}
    pc.sync.flush(now=LATER)
    assert pc.ledger.orders.get(order.number).status == OrderStatus.PLACED
    assert len(emu.orders) == 1


def test_html_proxy_page_on_create_is_reconciled(pc: PosSession, emu: PyCommerceEmulator,
                                                 faults: FaultyTransport) -> None:
    faults.plan("/api/orders", "html")
    order = sell(pc)
    assert order.status == OrderStatus.UNKNOWN
    assert "HTML page" in pc.ledger.orders.get(order.number).last_error
    pc.sync.flush(now=LATER)
    assert pc.ledger.orders.get(order.number).status == OrderStatus.PLACED
    assert len(emu.orders) == 1


def test_truncated_answer_on_create_reconciles(pc: PosSession, emu: PyCommerceEmulator,
                                               faults: FaultyTransport) -> None:
    faults.plan("/api/orders", "truncated")
    order = sell(pc)
    assert order.status == OrderStatus.UNKNOWN
    pc.sync.flush(now=LATER)
    assert pc.ledger.orders.get(order.number).status == OrderStatus.PLACED
    assert len(emu.orders) == 1


def test_429_queues_with_retry_after(pc: PosSession, emu: PyCommerceEmulator,
                                     faults: FaultyTransport) -> None:
    faults.plan("/api/orders", "429:60")
    before = time.time()
    order = sell(pc)
    assert order.status == OrderStatus.QUEUED and emu.orders == {}
    entry = pc.ledger.outbox.for_order(order.number)[0]
    assert entry.next_attempt_at >= before + 60
    assert pc.sync.flush().placed == []  # not due yet
    pc.sync.flush(now=LATER)
    assert pc.ledger.orders.get(order.number).status == OrderStatus.PLACED


def test_emulator_rate_limit_on_reconcile_waits(pc: PosSession, emu: PyCommerceEmulator,
                                                faults: FaultyTransport) -> None:
    faults.plan("/api/orders", "drop_after_commit")
    order = sell(pc)
    emu.rate_limit = 1  # the reconciling GET gets one 429 (Retry-After 1): waited inline
    pc.sync.flush(now=LATER)
    assert pc.ledger.orders.get(order.number).status == OrderStatus.PLACED
    assert len(emu.orders) == 1


def test_validation_refusal_fails_the_sale(pc: PosSession, emu: PyCommerceEmulator) -> None:
    emu.products["tech"][1]["stock"] = 1  # sold elsewhere since the catalog sync
    order = sell(pc)
    assert order.status == OrderStatus.FAILED
    assert "Not enough stock" in order.last_error and emu.orders == {}


def test_401_relogin_during_sale(config_file: Path, data_dir: Path, emu: PyCommerceEmulator,
                                 faults: FaultyTransport) -> None:
    from tests.emulators.pycommerce import PASSWORD, USERNAME

    config_file.write_text(f'[profiles.pc]\nbackend = "pycommerce"\nbase_url = "https://pc.test"\n'
                           f'tenant = "tech"\nusername = "{USERNAME}"\npassword = "{PASSWORD}"\n',
                           "utf-8")
    session = open_session(data_dir, "pc", load_settings(), transports={"pc": faults})
    try:
        sync_catalog(session.backend, session.catalog)
        assert emu.logins == 1
        emu.expire_tokens()
        order = sell(session)
        assert order.status == OrderStatus.PLACED
        assert emu.logins == 2 and len(emu.orders) == 1
    finally:
        session.close()


def test_reachable_asks_the_health_endpoint(pc: PosSession, faults: FaultyTransport) -> None:
    assert pc.backend.reachable() is True
    faults.plan("/api/health", "connect_error")
    assert pc.backend.reachable() is False
    assert pc.backend.reachable() is True  # back
