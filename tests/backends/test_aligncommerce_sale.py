"""A sale paid by an Align Commerce invoice, from scan to placed order (and the unhappy paths)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from pos.catalog_sync import sync_catalog
from pos.cli import main
from pos.errors import RuleError
from pos.models import OrderStatus
from pos.payment_link import (
    cancel_link,
    finish_link,
    link_methods,
    poll_link,
    resume_link,
    start_link_payment,
)
from pos.session import PosSession
from tests.backends._aligncommerce import make_session, write_config
from tests.emulators.aligncommerce import AlignCommerceEmulator, make_emulator


@pytest.fixture
def emu() -> AlignCommerceEmulator:
    return make_emulator()


@pytest.fixture
def session(emu: AlignCommerceEmulator, data_dir: Path,
            config_file: Path) -> Iterator[PosSession]:
    write_config(config_file)
    s = make_session(emu, data_dir)
    sync_catalog(s.backend, s.catalog)
    yield s
    s.close()


def mug_id(emu: AlignCommerceEmulator) -> str:
    return next(pid for pid, p in emu.products.items() if p["product_name"] == "Bitcoin Mug")


class Sleeper:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_link_methods(session: PosSession, emu: AlignCommerceEmulator) -> None:
    session.checkout.scan(mug_id(emu))
    assert [m.code for m in link_methods(session.checkout)] == ["bitcoin", "bank_transfer"]


def test_bitcoin_sale_paid(session: PosSession, emu: AlignCommerceEmulator,
                           capsys: pytest.CaptureFixture[str]) -> None:
    checkout = session.checkout
    checkout.scan(f"2*{mug_id(emu)}")
    assert checkout.due() == Decimal("25.00")
    emu.plan_invoice("success", polls=3)
    link = start_link_payment(checkout, "bitcoin")
    number = checkout.cart.number
    assert number  # reserved before the invoice was created
    pending = checkout.pending_payment()
    assert pending is not None and pending.reference == link.id and pending.url == link.url
    assert session.ledger.carts.load_active(session.lane) == checkout.cart  # durable
    sleeper = Sleeper()
    final = poll_link(checkout, link, sleep=sleeper)
    assert final.status == "paid"
    assert sleeper.slept == [2.0, 3.0, 4.5]  # back-off
    order = finish_link(checkout, final)
    assert order is not None and order.number == number
    assert order.status == OrderStatus.PLACED
    assert [(p.method, p.status, p.reference, p.amount) for p in order.payments] == [
        ("bitcoin", "paid", link.id, Decimal("25.00"))]
    assert checkout.cart.empty and checkout.pending_payment() is None
    assert emu.invoices[link.id].total_price == Decimal("25.00")
    capsys.readouterr()
    assert main(["--profile", "ac", "orders", "show", number],
                transports={"ac": emu.transport()}) == 0
    assert link.id in capsys.readouterr().out


def test_bank_transfer_sale_paid(session: PosSession, emu: AlignCommerceEmulator) -> None:
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    emu.plan_invoice("success", polls=0)
    link = start_link_payment(checkout, "bank_transfer")
    assert emu.invoices[link.id].checkout_type == "bank_transfer"
    order = finish_link(checkout, poll_link(checkout, link, sleep=Sleeper()))
    assert order is not None and order.payments[0].method == "bank_transfer"


@pytest.mark.parametrize("outcome", ["cancel", "fail"])
def test_bitcoin_sale_not_paid_stays_open(session: PosSession, emu: AlignCommerceEmulator,
                                          outcome: str) -> None:
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    emu.plan_invoice(outcome, polls=1)
    link = start_link_payment(checkout, "bitcoin")
    final = poll_link(checkout, link, sleep=Sleeper())
    assert final.status == {"cancel": "canceled", "fail": "failed"}[outcome]
    assert finish_link(checkout, final) is None
    assert session.ledger.orders.list() == []  # nothing placed
    assert not checkout.cart.empty and checkout.cart.payments == ()
    assert checkout.remaining() == Decimal("12.50")
    # the sale can now be paid another way
    checkout.take_payment("cash", "20")
    order = checkout.place()
    assert order.status == OrderStatus.PLACED and order.change == Decimal("7.50")


def test_restart_while_waiting_resumes(emu: AlignCommerceEmulator, data_dir: Path,
                                       config_file: Path) -> None:
    write_config(config_file)
    first = make_session(emu, data_dir)
    sync_catalog(first.backend, first.catalog)
    first.checkout.scan(mug_id(emu))
    emu.plan_invoice("success", polls=5)
    link = start_link_payment(first.checkout, "bitcoin")
    # the wait is interrupted (timeout here; a crash or a closed terminal alike)
    ticks = iter(range(100))
    final = poll_link(first.checkout, link, sleep=Sleeper(), timeout=3,
                      clock=lambda: float(next(ticks)))
    assert final.status == "pending"
    number = first.checkout.cart.number
    first.close()

    second = make_session(emu, data_dir)  # a new process: a new session and checkout
    try:
        resumed = resume_link(second.checkout)
        assert resumed is not None
        assert (resumed.id, resumed.url) == (link.id, link.url)
        # pressing the method again resumes too, without a second invoice
        assert start_link_payment(second.checkout, "bitcoin").id == link.id
        assert len(emu.invoices) == 1
        with pytest.raises(RuleError):
            second.checkout.take_payment("cash")  # an invoice is still waiting
        order = finish_link(second.checkout, poll_link(second.checkout, resumed,
                                                       sleep=Sleeper()))
        assert order is not None and order.number == number
        assert order.status == OrderStatus.PLACED
        assert order.payments[0].reference == link.id
    finally:
        second.close()


def test_cancel_waiting_rereads_the_invoice(session: PosSession,
                                            emu: AlignCommerceEmulator) -> None:
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    emu.plan_invoice("success", polls=10)
    link = start_link_payment(checkout, "bitcoin")
    assert cancel_link(checkout) is None  # still pending: dropped, the sale stays open
    assert checkout.pending_payment() is None and not checkout.cart.empty
    # a second attempt; the customer pays just as the cashier gives up
    link2 = start_link_payment(checkout, "bitcoin")
    assert link2.id != link.id
    emu.set_invoice_status(link2.id, "success")
    order = cancel_link(checkout)
    assert order is not None and order.status == OrderStatus.PLACED


def test_transient_errors_keep_waiting(session: PosSession, emu: AlignCommerceEmulator) -> None:
    from tests.emulators.faults import FaultyTransport

    faults = FaultyTransport(emu.handle)
    session.backend.http.client._transport = faults  # type: ignore[attr-defined]
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    emu.plan_invoice("success", polls=0)
    link = start_link_payment(checkout, "bitcoin")
    faults.plan("/invoice/", "connect_error", times=2)
    final = poll_link(checkout, link, sleep=Sleeper())
    assert final.status == "paid"


def test_stop_waiting_from_the_screen(session: PosSession, emu: AlignCommerceEmulator) -> None:
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    emu.plan_invoice("success", polls=10)
    link = start_link_payment(checkout, "bitcoin")
    seen: list[str] = []

    def on_status(current: object) -> bool:
        seen.append(getattr(current, "status", ""))
        return len(seen) >= 2  # Escape pressed

    assert poll_link(checkout, link, sleep=Sleeper(), on_status=on_status).status == "pending"
    assert seen == ["pending", "pending"] and checkout.pending_payment() is not None


def test_cash_sale_is_placed_locally(session: PosSession, emu: AlignCommerceEmulator) -> None:
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    checkout.take_payment("cash")
    order = checkout.place()
    assert order.status == OrderStatus.PLACED and order.remote_id is None
    assert emu.invoices == {}


def test_start_refuses_non_link_method(session: PosSession, emu: AlignCommerceEmulator) -> None:
    session.checkout.scan(mug_id(emu))
    with pytest.raises(RuleError):
        start_link_payment(session.checkout, "cash")


def test_cart_cannot_change_while_an_invoice_waits(session: PosSession,
                                                   emu: AlignCommerceEmulator) -> None:
    checkout = session.checkout
    line = checkout.scan(mug_id(emu))
    link = start_link_payment(checkout, "bitcoin")
    with pytest.raises(RuleError, match="still waiting"):
        checkout.scan(mug_id(emu))
    with pytest.raises(RuleError):
        checkout.set_quantity(line.key, 3)
    assert checkout.pending_payment() is not None
    assert checkout.pending_payment().reference == link.id  # type: ignore[union-attr]


def test_crash_after_paid_before_place(emu: AlignCommerceEmulator, data_dir: Path,
                                       config_file: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(config_file)
    first = make_session(emu, data_dir)
    sync_catalog(first.backend, first.catalog)
    first.checkout.scan(mug_id(emu))
    emu.plan_invoice("success", polls=0)
    link = start_link_payment(first.checkout, "bitcoin")
    final = poll_link(first.checkout, link, sleep=Sleeper())

    def crash() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(first.checkout, "place", crash)
    with pytest.raises(KeyboardInterrupt):
        finish_link(first.checkout, final)
    first.close()

    second = make_session(emu, data_dir)
    try:
        checkout = second.checkout
        assert resume_link(checkout) is None  # nothing left to wait for
        assert checkout.remaining() == 0
        order = checkout.place()
        assert order.status == OrderStatus.PLACED
        assert [(p.status, p.reference) for p in order.payments] == [("paid", link.id)]
    finally:
        second.close()


def test_qr_text() -> None:
    from pos.payment_link import qr_text

    text = qr_text("https://aligncommerce.com/invoice/abc")
    rows = text.strip("\n").splitlines()
    assert len(rows) > 10 and len({len(r) for r in rows}) == 1
    assert set(text) <= {"█", "▀", "▄", " ", "\n"}


def test_scan_an_id_that_looks_like_a_quantity(session: PosSession,
                                               emu: AlignCommerceEmulator) -> None:
    pid = emu.add_product("Odd id", "1.00")
    emu.products["3xK9odd"] = {**emu.products.pop(pid), "product_id": "3xK9odd"}
    sync_catalog(session.backend, session.catalog)
    line = session.checkout.scan("3xK9odd")
    assert (line.name, line.quantity) == ("Odd id", 1)
    line = session.checkout.scan(f"2*{mug_id(emu)}")
    assert (line.name, line.quantity) == ("Bitcoin Mug", 2)


def test_void_needs_the_link_cancelled_first(session: PosSession,
                                             emu: AlignCommerceEmulator) -> None:
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    emu.plan_invoice("success", polls=10)
    start_link_payment(checkout, "bitcoin")
    with pytest.raises(RuleError, match="still waiting"):
        checkout.void()
    assert cancel_link(checkout) is None
    checkout.void()
    assert checkout.cart.empty


def test_cancel_when_the_store_is_unreachable(session: PosSession,
                                              emu: AlignCommerceEmulator) -> None:
    from pos.errors import TransientError
    from tests.emulators.faults import FaultyTransport

    faults = FaultyTransport(emu.handle)
    session.backend.http.client._transport = faults  # type: ignore[attr-defined]
    checkout = session.checkout
    checkout.scan(mug_id(emu))
    start_link_payment(checkout, "bitcoin")
    faults.plan("/invoice/", "connect_error", times=2)
    with pytest.raises(TransientError):
        cancel_link(checkout)
    assert checkout.pending_payment() is not None
    assert cancel_link(checkout, force=True) is None
    assert checkout.pending_payment() is None and not checkout.cart.empty
