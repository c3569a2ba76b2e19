"""OpenCart: the review's quote and its API session carry over to placing the sale.

Each quote replays the whole sale into a fresh API session (a login and a dozen calls), and so
did each placement. Placing right after the store priced the very same cart (the payment
screen's review) now uses that quote (`Checkout._quote_is_fresh`) and that session
(`OpenCartBackend._place`): one `order/add`. Anything else — an older quote, a changed cart, a
dropped session, another backend instance — replays the sale as before.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from pos.models import OrderStatus
from pos.session import PosSession
from tests.backends.oc_helpers import JANE, logins, routes_since
from tests.emulators.faults import FaultyTransport
from tests.emulators.opencart import OpenCartEmulator


def test_placing_right_after_the_review_uses_its_quote_and_session(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Review, pay, place: the placement is one `order/add` in the review's shop_session. A quote
    over a minute old, or a cart changed after the review, is priced again in a fresh session
    first, and the sale placed in that one."""
    emu, faults = shop
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the quotes' ages
    checkout = shop_session.new_checkout(persist=False)
    checkout.add("IPHONE")
    checkout.review()
    checkout.take_payment("cash")
    start = len(faults.calls)
    assert checkout.place().status == OrderStatus.PLACED
    # the first sale from a data dir looks for the store's newest order id once (order/info)
    assert routes_since(faults, start)[-1:] == ["order/add"] and logins(faults) == 1
    checkout.add("HTC")
    checkout.review()
    checkout.take_payment("cash")
    now[0] += 61  # the customer took their time
    start = len(faults.calls)
    assert checkout.place().status == OrderStatus.PLACED
    assert routes_since(faults, start).count("login") == 1  # priced afresh, placed there
    checkout.add("IPHONE")
    checkout.review()
    checkout.add("HTC")  # changed after the review: an estimate, priced again at placing
    checkout.take_payment("cash")
    start = len(faults.calls)
    order = checkout.place()
    assert order.status == OrderStatus.PLACED and routes_since(faults, start).count("login") == 1
    assert order.totals.total == Decimal("201.00")
    assert [emu.orders[i]["total"] for i in (1, 2, 3)] == ["101.0000", "100.0000", "201.0000"]


def test_the_review_session_carries_the_customer_and_coupon_into_the_order(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    """What the store booked is what it priced: the customer and the coupon of the review's
    session are on the order; the next sale, a guest's without a coupon, is replayed into a
    session of its own and inherits neither (the store keeps them in a used session)."""
    emu, faults = shop
    checkout = shop_session.new_checkout(persist=False)
    checkout.set_customer(JANE)
    checkout.add("IPHONE")
    checkout.apply_coupon("1111")
    assert checkout.review().totals.total == Decimal("91.00")
    checkout.take_payment("cash")
    start = len(faults.calls)
    order = checkout.place()
    assert order.status == OrderStatus.PLACED and "login" not in routes_since(faults, start)
    assert emu.orders[1]["customer_id"] == "1" and emu.orders[1]["total"] == "91.0000"
    checkout.add("HTC")
    checkout.review()
    checkout.take_payment("cash")
    assert checkout.place().status == OrderStatus.PLACED
    assert emu.orders[2]["customer_id"] == "0" and emu.orders[2]["total"] == "100.0000"


def test_a_dropped_review_session_is_replaced_and_the_sale_placed_once(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    """The store dropped the review's session (its permission error at `order/add`: nothing
    was created): the sale is replayed into a fresh session and placed there, once."""
    emu, faults = shop
    checkout = shop_session.new_checkout(persist=False)
    checkout.add("HTC")
    checkout.take_payment("cash")
    assert checkout.place().status == OrderStatus.PLACED  # (finds the store's newest order)
    checkout.add("IPHONE")
    checkout.review()
    checkout.take_payment("cash")
    emu.expire_tokens()
    start = len(faults.calls)
    assert checkout.place().status == OrderStatus.PLACED
    routes = routes_since(faults, start)
    assert routes[0] == "order/add" and routes.count("order/add") == 2 and "login" in routes
    assert len(emu.orders) == 2 and emu.orders[2]["total"] == "101.0000"


def test_only_the_sale_the_session_was_built_for_is_placed_in_it(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    """A sale from the outbox that is not the one just priced (another cart's contents), and
    a sale sent by the background flush (a backend instance of its own, which never priced
    anything), are each replayed into a fresh shop_session."""
    emu, faults = shop
    checkout = shop_session.new_checkout(persist=False)
    checkout.add("HTC")
    checkout.take_payment("cash")
    shop_session.sync.offline_targets.add("shop")  # the store seemed away: the sale is queued
    queued = checkout.place()
    assert queued.status == OrderStatus.QUEUED
    shop_session.sync.offline_targets.discard("shop")
    checkout.add("IPHONE")
    checkout.review()  # prices the iPhone: the session holds the iPhone, not the HTC
    start = len(faults.calls)
    report = shop_session.sync.flush(now=time.time() + 100_000)
    assert queued.number in report.placed and "login" in routes_since(faults, start)
    assert emu.orders[1]["total"] == "100.0000"
    checkout.take_payment("cash")
    shop_session.sync.offline_targets.add("shop")
    second = checkout.place()  # priced a moment ago: queued with the store's quote
    shop_session.sync.offline_targets.discard("shop")
    start = len(faults.calls)
    report = shop_session.background_sync.flush(now=time.time() + 100_000)
    assert second.number in report.placed and "login" in routes_since(faults, start)
    assert emu.orders[2]["total"] == "101.0000" and len(emu.orders) == 2


def test_a_lost_answer_to_the_order_add_in_the_review_session_is_never_placed_twice(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    """`order/add` in the review's session reaches the store, its answer is lost: the sale is
    `unknown` (not queued to be sent again), and the next flush finds it on the store
    (`order/info`) instead of placing it a second time."""
    emu, faults = shop
    checkout = shop_session.new_checkout(persist=False)
    checkout.add("IPHONE")
    checkout.review()
    checkout.take_payment("cash")
    faults.plan("api/order/add", "drop_after_commit")
    start = len(faults.calls)
    order = checkout.place()
    assert order.status == OrderStatus.UNKNOWN and "login" not in routes_since(faults, start)
    assert len(emu.orders) == 1
    report = shop_session.sync.flush(now=time.time() + 100_000)
    assert order.number in report.placed and len(emu.orders) == 1
    assert shop_session.ledger.orders.get(order.number).remote_id == "1"
