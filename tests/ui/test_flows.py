"""Customer, discounts, shipping, parking, options, payment links, split tender, offline."""

from __future__ import annotations

import asyncio
import threading
import time
from decimal import Decimal

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList

from pos.backends.local import LocalBackend
from pos.errors import TransientError
from pos.models import Customer, Order, OrderStatus
from pos.session import PosSession
from screens.app import PosApp
from screens.payment import PaymentScreen
from screens.receipt import ReceiptScreen
from screens.widgets import StatusBar
from tests.fakes import backlog_of, hold_background_sends, install_flaky
from tests.ui.conftest import error_titles, scan, settle, type_and_enter, type_text, wait_until


async def pay_exact_cash(pilot: object, app: PosApp) -> None:
    await pilot.press("f12")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, PaymentScreen)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, ReceiptScreen), (
        [n.message for n in app._notifications], app.checkout.cart.payments,
        app.checkout.quote.totals.total, app.checkout.remaining())


async def test_customer_coupon_voucher_reward(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "HEADPHONES")
        await scan(pilot, "MUG")
        await pilot.press("f2")
        await type_text(pilot, "Jane")
        await pilot.pause(0.2)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.checkout.cart.customer is not None
        assert app.checkout.cart.customer.id == "1"
        await pilot.press("f3")
        await type_and_enter(pilot, "SAVE10")
        await pilot.press("tab")
        await type_and_enter(pilot, "GIFT10")
        await pilot.press("tab")
        await type_and_enter(pilot, "600")
        assert error_titles(app) == []
        assert "SAVE10" in str(app.screen.query_one("#discounts-state").render())
        await pay_exact_cash(pilot, app)
    order = session.ledger.orders.list()[0]
    assert order.status == OrderStatus.PLACED
    assert (order.customer.id, order.coupon, order.vouchers, order.reward) == (
        "1", "SAVE10", ("GIFT10",), 600)
    # points + coupon + voucher cover everything: the sale settles as a free checkout
    assert order.totals.total == 0
    assert Decimal("0") < order.totals.vouchers <= Decimal("10.00")
    assert order.totals.discount > 0
    assert [p.kind for p in order.payments] == ["free"]


async def test_wrong_coupon_is_refused(app: PosApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("f3")
        await type_and_enter(pilot, "BOGUS")
        assert error_titles(app)
        assert app.checkout.cart.coupon is None


async def test_shipping_to_an_address(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("f12")  # delivery is the default? no: pickup; choose it with F4
        await settle(pilot)
        await pilot.press("escape")
        await pilot.press("f4")
        await settle(pilot)
        for text in ("Ann", "Lee", "1 Main St", "Springfield", "12345"):
            await type_text(pilot, text)
            await pilot.press("tab")
        await pilot.press("shift+tab")
        await pilot.press("enter")
        await settle(pilot)
        methods = app.screen.query_one("#ship-methods", OptionList)
        assert methods.option_count >= 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
    order = session.ledger.orders.list()[0]
    assert not order.pickup
    assert order.shipping_address is not None
    assert order.shipping_address.city == "Springfield"
    assert order.shipping_method is not None
    assert order.totals.shipping == order.shipping_method.cost


async def test_park_and_recall(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("f6")
        await pilot.press("f9")
        await settle(pilot)
        assert app.checkout.cart.empty
        assert len(session.ledger.carts.parked("T1")) == 1
        table = app.screen.query_one("#parked", DataTable)
        assert table.row_count == 1
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.cart_screen
        assert [ln.sku for ln in app.checkout.cart.lines] == ["MUG"]
        assert app.cart_screen.query_one("#lines", DataTable).row_count == 1
        assert session.ledger.carts.parked("T1") == []
        await pay_exact_cash(pilot, app)
    assert len(session.ledger.orders.list()) == 1


async def test_required_options_and_quantity_keys(app: PosApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "TSHIRT")
        await pilot.press("down", "enter")
        await settle(pilot)
        line = app.checkout.cart.lines[0]
        assert line.options_label == "Size: M"
        await pilot.press("plus")
        await settle(pilot)
        assert app.checkout.cart.lines[0].quantity == 2
        cells = app.cart_screen.query_one("#lines", DataTable).get_row(line.key)
        assert cells[2] == "2"
        await pilot.press("minus")
        await settle(pilot)
        assert app.checkout.cart.lines[0].quantity == 1
        await pilot.press("f10", "y")
        await settle(pilot)
        assert app.checkout.cart.empty
        assert app.cart_screen.query_one("#lines", DataTable).row_count == 0


async def test_the_line_just_scanned_is_selected(app: PosApp) -> None:
    """+ after a scan adds one more of what was scanned, not of the first line."""
    async with app.run_test(size=(120, 40)) as pilot:
        for code in ("MUG", "HEADPHONES", "NAPKINS"):
            await scan(pilot, code)
        await pilot.press("plus")
        await settle(pilot)
        assert [line.quantity for line in app.checkout.cart.lines] == [1, 1, 2]
        await scan(pilot, "MUG")  # one more of a line already there: that line
        await pilot.press("plus")
        await settle(pilot)
        assert [line.quantity for line in app.checkout.cart.lines] == [3, 1, 2]


async def test_search_as_you_type_and_scan_from_table(app: PosApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await type_text(pilot, "headph")
        await pilot.pause(0.3)
        await settle(pilot)
        hits = app.cart_screen.query_one("#hits", OptionList)
        assert hits.option_count >= 1
        await pilot.press("down", "up", "enter")
        await settle(pilot)
        assert [ln.sku for ln in app.checkout.cart.lines] == ["HEADPHONES"]
        app.cart_screen.query_one("#lines", DataTable).focus()
        await pilot.pause()
        await scan(pilot, "MUG")
        assert [ln.sku for ln in app.checkout.cart.lines] == ["HEADPHONES", "MUG"]
        assert app.cart_screen.scan_input.has_focus


async def test_enter_on_a_name_with_one_hit_adds_it(app: PosApp) -> None:
    """No need to go down into the list when the search shows one product."""
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "headph")
        assert [ln.sku for ln in app.checkout.cart.lines] == ["HEADPHONES"]
        await scan(pilot, "pen")  # several: the cashier is told to choose
        assert "Not found" in error_titles(app)
        assert [ln.sku for ln in app.checkout.cart.lines] == ["HEADPHONES"]


async def test_payment_link_and_split_tender(app: PosApp, session: PosSession) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("f12")
        await settle(pilot)
        await type_and_enter(pilot, "5")
        assert isinstance(app.screen, PaymentScreen)
        assert app.checkout.paid() == Decimal("5.00")
        app.screen.query_one("#methods", OptionList).focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert "pay.example.com" in str(app.screen.query_one("#link").render())
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, ReceiptScreen)
    order = session.ledger.orders.list()[0]
    assert [p.method for p in order.payments] == ["cash", "card"]
    assert order.payments[1].reference.startswith("demo_")


class DownBackend(LocalBackend):
    def place_order(self, order: Order) -> object:  # type: ignore[override]
        raise TransientError(message="Connection refused.")


async def test_backend_down_queues_the_sale(session: PosSession) -> None:
    real = session.backend
    session._backends[session.profile] = DownBackend(real.settings, real.context)
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pay_exact_cash(pilot, app)
        assert "queued" in str(app.screen.query_one("#receipt-head").render())
        assert "outbox 1" in str(app.screen.query_one(StatusBar).render())
    orders = session.ledger.orders.list()
    assert [o.status for o in orders] == [OrderStatus.QUEUED]
    assert session.ledger.outbox.pending_count() == 1


async def test_keys_can_be_remapped(session: PosSession) -> None:
    session.settings.keys["pay"] = "ctrl+g"
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, PaymentScreen)


async def test_background_sync_sends_the_queued_sale(session: PosSession,
                                                     monkeypatch: object) -> None:
    import time

    flaky = install_flaky(session)
    flaky.plan = ["down"]
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pay_exact_cash(pilot, app)
        bar = app.screen.query_one(StatusBar)
        assert "outbox 1" in str(bar.render())
        later = time.time() + 3600  # past any back-off
        monkeypatch.setattr("pos.store.outbox.time.time", lambda: later)  # type: ignore[attr-defined]
        app.sync_now()
        await settle(pilot)
        assert "outbox 0" in str(bar.render())
        assert "online" in str(bar.render())
    assert [o.status for o in session.ledger.orders.list()] == [OrderStatus.PLACED]


async def test_status_bar_follows_the_store_with_nothing_to_send(
        app: PosApp, session: PosSession, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [False]
    # asked by the background flush's own client
    monkeypatch.setattr(session.background_backend_for(session.profile), "reachable",
                        lambda: answers[0])
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.screen.query_one(StatusBar)
        assert "online" in str(bar.render())
        app.sync_now()  # nothing in the outbox: the store is asked
        await settle(pilot)
        assert "offline" in str(bar.render())
        answers[0] = True
        app.sync_now()  # asked again only after PROBE_EVERY_S
        await settle(pilot)
        assert "offline" in str(bar.render())
        app._probed_at -= app.PROBE_EVERY_S
        app.sync_now()
        await settle(pilot)
        assert "online" in str(bar.render())


async def test_enter_picks_the_customer_typed_not_the_list_shown_before(
        app: PosApp, session: PosSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store slow to search (0.3 s): "lima" and Enter at once picks Ana Lima, not the first
    customer of the list still showing an earlier search (seen in tmux: Wei Chen)."""
    search = app.checkout.search_customers

    def slow_search(text: str) -> list[Customer]:
        time.sleep(0.3 if text else 0)
        return search(text)

    monkeypatch.setattr(app.checkout, "search_customers", slow_search)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await settle(pilot)  # the full list is up
        for key in ("l", "i", "m", "a", "enter"):
            await pilot.press(key)
        await settle(pilot)
        customer = app.checkout.cart.customer
        assert customer is not None and customer.name == "Ana Lima"
        await pilot.press("f2")
        await settle(pilot)
        for key in ("z", "z", "z", "enter"):
            await pilot.press(key)
        await settle(pilot)
        assert "No customer matches 'zzz'." in [n.message for n in app._notifications]
        assert app.checkout.cart.customer is not None  # unchanged


async def test_create_customer_then_guest(app: PosApp) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        app.screen.query_one("#new-first").focus()
        await type_text(pilot, "Ada")
        await pilot.press("tab")
        await type_text(pilot, "Lovelace")
        await pilot.press("f9")
        await settle(pilot)
        assert error_titles(app)  # the store wants an e-mail address
        assert app.checkout.cart.customer is None
        app.screen.query_one("#new-email", Input).value = "ada@example.com"
        await pilot.press("f9")
        await settle(pilot)
        customer = app.checkout.cart.customer
        assert customer is not None, [n.message for n in app._notifications]
        assert (customer.name, customer.guest) == ("Ada Lovelace", False)
        assert app.screen is app.cart_screen
        assert "Ada Lovelace" in str(app.cart_screen.query_one("#cart-customer").render())
        await pilot.press("f2", "f10")
        await settle(pilot)
        assert app.checkout.cart.customer is None


async def test_keys_typed_right_after_tab_go_to_the_next_field(app: PosApp) -> None:
    """Tab and the keys after it arrive together (a scanner with a Tab suffix, a fast typist,
    tmux): the keys land in the field Tab moved to, not in the one it left."""
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await settle(pilot)
        assert app.focused is not None and app.focused.id == "coupon"
        for key in ("tab", "G", "I", "F", "T", "1", "0"):
            app.post_message(events.Key(key, "\t" if key == "tab" else key))
        await settle(pilot)
        values = {i.id: i.value for i in app.screen.query(Input)}
        assert (values["coupon"], values["voucher"]) == ("", "GIFT10")


async def flush_until_sending(pilot: Pilot[int], app: PosApp, sending: threading.Event) -> None:
    """Start the counter's background flush and wait until its first send has started."""
    await settle(pilot)
    app.sync_now()
    while not sending.is_set():
        await asyncio.sleep(0.01)


async def test_scanning_goes_on_while_the_store_hangs_on_a_backlog(
        app: PosApp, session: PosSession) -> None:
    """The network comes back with three sales queued and the store hangs on the first one:
    a scan and a whole sale go through while that send hangs (the background flush shares
    nothing with the cashier); the sale paid meanwhile waits in the outbox and every sale
    reaches the store exactly once."""
    flaky = install_flaky(session)
    numbers = backlog_of(session, flaky, 3)
    sending, release = hold_background_sends(flaky)
    async with app.run_test(size=(120, 40)) as pilot:
        await flush_until_sending(pilot, app, sending)
        app.cart_screen.scan_input.value = "HEADPHONES"
        started = time.monotonic()
        await pilot.press("enter")
        while not app.checkout.cart.lines and time.monotonic() - started < 3:
            await asyncio.sleep(0.01)
        assert app.checkout.cart.lines, "the scan waited for the store"
        await pilot.press("f12")  # paid while the flush still hangs: left queued for it
        await wait_until(pilot, lambda: isinstance(app.screen, PaymentScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen))
        assert "queued" in str(app.screen.query_one("#receipt-head").render())
        assert not release.is_set() and flaky.stored_numbers() == []
        release.set()
        await settle(pilot)  # the flush ends
        paid_meanwhile = next(o.number for o in session.ledger.orders.list()
                              if o.number not in numbers)
        app.sync_now()  # the next tick takes the sale paid meanwhile
        await settle(pilot)
    assert sorted(flaky.stored_numbers()) == sorted([*numbers, paid_meanwhile])  # each once


async def test_quitting_waits_for_the_answer_to_the_sale_being_sent(
        app: PosApp, session: PosSession) -> None:
    """Ctrl+Q while the background flush waits for the store: the counter says why it does
    not close yet, sends nothing more, and closes once the answer is in (the sale placed,
    not left for a person to check)."""
    flaky = install_flaky(session)
    first, second = backlog_of(session, flaky, 2)
    sending, release = hold_background_sends(flaky)
    async with app.run_test(size=(120, 40)) as pilot:
        await flush_until_sending(pilot, app, sending)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app._exit and "Quitting" in [n.title for n in app._notifications]
        release.set()
        for _ in range(500):
            if app._exit:
                break
            await asyncio.sleep(0.01)
        assert app._exit
    assert flaky.stored_numbers() == [first]  # answered, then nothing more was sent
    assert session.ledger.orders.get(first).status == OrderStatus.PLACED
    assert session.ledger.orders.get(second).status == OrderStatus.QUEUED


async def test_quitting_does_not_wait_for_a_probe_of_a_hanging_store(
        app: PosApp, session: PosSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing to send, and the half-minute "does the store answer?" call hangs: Ctrl+Q
    closes the counter at once (the probe changes nothing; waiting for it held the exit for
    the whole timeout)."""
    probing, release = threading.Event(), threading.Event()

    def hangs() -> bool:
        probing.set()
        release.wait(20)
        return True

    monkeypatch.setattr(session.background_backend_for(session.profile), "reachable", hangs)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.sync_now()
            while not probing.is_set():
                await asyncio.sleep(0.01)
            started = time.monotonic()
            await pilot.press("ctrl+q")
            while not app._exit and time.monotonic() - started < 5:
                await asyncio.sleep(0.01)
            assert app._exit and "Quitting" not in [n.title for n in app._notifications]
        assert time.monotonic() - started < 3  # the worker let go of the probe too
    finally:
        release.set()


async def test_quitting_during_the_cashiers_call_to_the_store_says_so(app: PosApp) -> None:
    """Ctrl+Q while the cashier's own work waits on the store (a review the store is slow to
    answer): the counter says it closes once the store has answered, and does — the process
    would have waited for that call anyway, with a blank terminal."""
    answered = threading.Event()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.run_io(lambda: answered.wait(10))
        await pilot.press("ctrl+q")
        await pilot.pause()
        quitting = [n.message for n in app._notifications if n.title == "Quitting"]
        assert not app._exit and quitting and "cut off mid-send" not in quitting[0]
        answered.set()
        started = time.monotonic()
        while not app._exit and time.monotonic() - started < 5:
            await asyncio.sleep(0.01)
        assert app._exit


async def test_price_override_with_a_reason_on_the_receipt(app: PosApp, session: PosSession) -> None:
    """Ctrl+T on the selected line: the new unit price, then the reason (required), which the
    receipt prints under the line."""
    async with app.run_test(size=(120, 40)) as pilot:
        await scan(pilot, "MUG")
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("ctrl+u")  # the prompt holds the current price
        await type_and_enter(pilot, "5.00")
        await pilot.press("enter")  # no reason: refused, the price stays
        await settle(pilot)
        assert app.checkout.cart.lines[0].unit_price == Decimal("9.50")
        assert "Invalid input" in error_titles(app)
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("ctrl+u")
        await type_and_enter(pilot, "5.00")
        await type_and_enter(pilot, "damaged box")
        line = app.checkout.cart.lines[0]
        assert (line.unit_price, line.price_override_reason) == (Decimal("5.00"), "damaged box")
        await pay_exact_cash(pilot, app)
        screen = app.screen
        assert isinstance(screen, ReceiptScreen)
        order = session.ledger.orders.get(screen.number)
        assert order.totals.subtotal == Decimal("5.00")
    from pos.receipt import render_receipt

    assert "  price changed: damaged box" in render_receipt(order)
