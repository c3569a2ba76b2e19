"""The counter's background flush (`PosSession.background_sync`) beside the cashier's own sync:
its own ledger connection and store clients, and the sync lock between the two."""

from __future__ import annotations

import threading
import time

from pos.models import Order, OrderStatus
from pos.session import PosSession
from tests.fakes import FlakyBackend, backlog_of, hold_background_sends


def test_a_sale_paid_while_the_background_flush_sends_is_left_to_it_and_sent_once(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backlog = backlog_of(session, backend, 2)
    sending, release = hold_background_sends(backend)
    flusher = threading.Thread(target=session.background_sync.flush)
    flusher.start()
    try:
        assert sending.wait(5)
        checkout = session.new_checkout(persist=False)
        checkout.add("MUG")
        checkout.take_payment("cash")
        started = time.monotonic()
        paid = checkout.place()  # the store hangs on the backlog: this one is not sent now
        assert time.monotonic() - started < 2 and not release.is_set()
        assert paid.status == OrderStatus.QUEUED
    finally:
        release.set()
        flusher.join(15)
    assert sorted(backend.stored_numbers()) == sorted(backlog)
    session.background_sync.flush()  # the next tick takes it
    assert sorted(backend.stored_numbers()) == sorted([*backlog, paid.number])  # each once
    assert session.ledger.orders.get(paid.number).status == OrderStatus.PLACED


def test_while_a_sale_is_delivered_the_background_flush_does_not_start(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, _ = flaky
    assert session.sync.lock.acquire()  # as during `deliver`
    try:
        report = session.background_sync.flush()
    finally:
        session.sync.lock.release()
    assert report.errors and not report.placed


def test_the_background_flush_shares_no_connection_or_client_with_the_counter(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, _ = flaky
    background = session.background_sync
    assert background.ledger.db.conn is not session.ledger.db.conn
    assert session.background_backend_for(session.profile) is not session.backend
    # the online/offline state is one for both
    background.offline_targets.add(session.profile)
    assert session.profile in session.sync.offline_targets


def sell(session: PosSession) -> Order:
    checkout = session.new_checkout(persist=False)
    checkout.add("MUG")
    checkout.take_payment("cash")
    return checkout.place()


def test_a_store_that_stops_answering_holds_up_one_sale_not_the_next(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    session, backend = flaky
    backend.plan = ["lost"]  # placed there, the answer never came (a timeout after sending)
    first = sell(session)
    assert first.status == OrderStatus.UNKNOWN and backend.calls == 1
    second = sell(session)  # not sent: the store did not answer the last call
    assert second.status == OrderStatus.QUEUED and backend.calls == 1
    session.background_sync.flush(now=time.time() + 3600)  # the store answers again
    assert session.ledger.orders.get(first.number).status == OrderStatus.PLACED  # found there
    assert session.ledger.orders.get(second.number).status == OrderStatus.PLACED
    assert sorted(backend.stored_numbers()) == sorted([first.number, second.number])  # once


def test_a_cashiers_retry_asks_the_store_even_when_it_was_not_answering(
        flaky: tuple[PosSession, FlakyBackend]) -> None:
    from pos.outbox_actions import OutboxActions

    session, backend = flaky
    [number] = backlog_of(session, backend, 1)
    session.sync.offline_targets.add(session.profile)
    [entry] = session.ledger.outbox.for_order(number)
    assert OutboxActions(session.sync).retry(entry.id).status == OrderStatus.PLACED
