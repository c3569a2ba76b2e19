"""Full sales through the CLI against the OpenCart emulator, with injected faults."""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pos.cli import main
from pos.config import load_settings
from pos.errors import PermanentError
from pos.models import OrderStatus
from pos.session import PosSession, open_session
from tests.backends.oc_helpers import CATALOG, KEY
from tests.emulators.faults import FaultyTransport
from tests.emulators.opencart import OpenCartEmulator, make_emulator


def sell(tmp_path: Path, faults: FaultyTransport, capsys: pytest.CaptureFixture[str],
         sale: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "sale.json"
    path.write_text(json.dumps(sale), encoding="utf-8")
    capsys.readouterr()
    rc = main(["--profile", "shop", "checkout", str(path), "--json"],
              transports={"shop": faults})
    out = capsys.readouterr().out
    return rc, json.loads(out)


def flush(data_dir: Path, faults: FaultyTransport) -> Any:
    session = open_session(data_dir, "shop", load_settings(), transports={"shop": faults})
    try:
        report = session.sync.flush(now=time.time() + 100_000)
        entries = session.ledger.outbox.open_entries()
        return report, entries
    finally:
        session.close()


def test_counter_sale_placed(shop, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    rc, order = sell(tmp_path, faults, capsys, {
        "items": [{"code": "IPHONE", "quantity": 2},
                  {"code": "CANON", "options": {"226": "16"}}],
        "payment_method": "cash", "tendered": "300"})
    assert rc == 0, order
    assert order["status"] == "placed" and order["remote_id"] == "1"
    assert order["total"] == "282.00"
    assert len(emu.orders) == 1
    assert order["number"] in emu.orders[1]["comment"]


def test_delivery_sale_with_coupon_and_customer(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    rc, order = sell(tmp_path, faults, capsys, {
        "items": [{"code": "HTC"}], "customer": {"id": "1"}, "coupon": "1111",
        "reward": 100,
        "shipping_address": {"firstname": "Jane", "lastname": "Doe", "address_1": "1 Main St",
                             "city": "New York", "country": "US", "zone": "NY"},
        "shipping_method": "flat.flat", "payment_method": "cash"})
    assert rc == 0, order
    assert order["status"] == "placed"
    # 100.00 - 50.00 points + 5.00 shipping - 10.00 coupon
    assert order["total"] == "45.00"
    assert emu.orders[1]["shipping_code"] == "flat.flat"
    assert emu.customers[1]["points"] == 900


def test_invalid_coupon_refused_nothing_written(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    path = tmp_path / "sale.json"
    path.write_text(json.dumps({"items": [{"code": "IPHONE"}], "coupon": "BAD"}))
    rc = main(["--profile", "shop", "checkout", str(path), "--json"],
              transports={"shop": faults})
    assert rc != 0
    assert not emu.orders


def test_timeout_after_commit_then_reconcile_once(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("api/order/add", "drop_after_commit")
    _rc, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "unknown"
    assert len(emu.orders) == 1  # committed, answer lost
    report, entries = flush(data_dir, faults)
    assert order["number"] in report.placed
    assert not entries
    assert len(emu.orders) == 1  # exactly one order: never placed twice


def test_reset_after_commit_reconciles(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("api/order/add", "reset_after_commit")
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "unknown"
    report, _ = flush(data_dir, faults)
    assert order["number"] in report.placed and len(emu.orders) == 1


def test_500_at_order_add_not_committed_is_resent(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("api/order/add", "500")
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "unknown"
    assert not emu.orders
    report, _ = flush(data_dir, faults)
    assert order["number"] in report.placed and len(emu.orders) == 1


def test_html_answer_to_order_add_is_unknown_then_resent(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("api/order/add", "html")  # a proxy's page: the store never saw the call
    _rc, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "unknown"
    assert "HTML" in order["last_error"]
    report, _ = flush(data_dir, faults)
    assert order["number"] in report.placed and len(emu.orders) == 1


def test_html_answer_to_quote_is_clear_error(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _emu, faults = shop
    faults.plan("api/cart/products", "html")
    path = tmp_path / "sale.json"
    path.write_text(json.dumps({"items": [{"code": "IPHONE"}]}))
    rc = main(["--profile", "shop", "checkout", str(path)], transports={"shop": faults})
    err = capsys.readouterr().err
    assert rc != 0
    assert "HTML" in err and "api_token" not in err


def test_truncated_order_answer_reconciles(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("api/order/add", "truncated")
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "unknown"
    report, _ = flush(data_dir, faults)
    assert order["number"] in report.placed
    assert len(emu.orders) == 1  # committed once, found again, never placed twice


def test_429_at_order_add_queued_then_placed(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("api/order/add", "429:30")
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "queued" and not emu.orders
    report, _ = flush(data_dir, faults)
    assert order["number"] in report.placed and len(emu.orders) == 1


def test_leaked_text_before_json_tolerated(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _emu, faults = shop
    faults.plan("api/cart/products", "wrong_content_type", times=20)
    rc, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert rc == 0 and order["status"] == "placed"


def test_quote_timeout_prices_locally(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("api/cart/products", "timeout_before", times=20)
    rc, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    # the store did not answer the quote: the sale is not sent into the same timeout, it is
    # queued and the next flush places it
    assert rc == 0 and order["status"] == "queued"
    assert order["total"] == "101.00"
    faults.planned.clear()
    report, _ = flush(data_dir, faults)
    assert order["number"] in report.placed and len(emu.orders) == 1


def test_a_store_that_timed_out_is_not_asked_again_until_it_answers(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    """The store hangs (read timeouts): the first review waits for it and prices locally;
    the next reviews and the sale do not call it at all (a hanging store would hold each of
    them for the whole timeout). Once the background flush reaches it, it prices again."""
    emu, faults = shop
    checkout = shop_session.new_checkout(persist=False)
    checkout.add("IPHONE")
    faults.plan("", "timeout_before", times=1000)
    first = checkout.review()
    assert not first.remote and "estimated locally" in " ".join(first.warnings)
    calls = len(faults.calls)
    checkout.add("HTC")
    assert not checkout.review().remote
    checkout.take_payment("cash")
    order = checkout.place()
    assert order.status == OrderStatus.QUEUED and len(faults.calls) == calls  # not asked
    faults.planned.clear()  # the store answers again: the next flush sends the sale
    report = shop_session.background_sync.flush(now=time.time() + 100_000)
    assert order.number in report.placed and len(emu.orders) == 1
    checkout.add("IPHONE")
    assert checkout.review().remote  # priced by the store again


def test_scanning_a_plain_cart_does_not_wait_on_the_store(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    """A quote costs a login and a dozen calls: scans, quantities and removals on a cart with
    nothing only the store can price are estimated locally at once (a removal shows the smaller
    total at once too: it kept the store's quote of the bigger cart); the store prices the
    sale at review. With a coupon in the cart a scan is estimated too, and the cart is
    awaiting the store: the counter asks it in the background on the pricing backend's own
    session (`store_quote`), and shows its figures if the cart has not changed since."""
    _emu, faults = shop
    checkout = shop_session.new_checkout(persist=False)
    checkout.add("IPHONE")
    checkout.add("HTC")
    checkout.set_quantity(checkout.cart.lines[0].key, 2)
    assert faults.calls == [] and not checkout.quote.remote
    assert checkout.quote.totals.total == Decimal("302.00")
    checkout.remove(checkout.cart.lines[1].key)
    assert checkout.quote.totals.total == Decimal("202.00") and faults.calls == []
    review = checkout.review()
    assert review.remote and review.totals.total == Decimal("202.00") and faults.calls
    checkout.apply_coupon("1111")
    assert checkout.quote.totals.total == Decimal("192.00")  # coupon 1111: 10.00 off
    calls = len(faults.calls)
    checkout.add("HTC")
    cart = checkout.awaiting_store
    assert len(faults.calls) == calls and not checkout.quote.remote and cart is checkout.cart
    quote = checkout.store_quote(cart, shop_session.pricing_backend)
    assert quote is not None and len(faults.calls) > calls
    assert checkout.apply_store_quote(cart, quote) and checkout.awaiting_store is None
    assert checkout.quote.remote and checkout.quote.totals.total == Decimal("292.00")
    # the cashier scanned again while the store priced: its answer is for an older cart
    checkout.add("HTC")
    stale = checkout.store_quote(cart, shop_session.pricing_backend)
    assert not checkout.apply_store_quote(cart, stale)
    assert not checkout.quote.remote and checkout.awaiting_store is checkout.cart


def test_background_quote_refused_or_unanswered_keeps_the_estimate(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    """The store refusing the cart in the background (here an HTML page where the coupon's
    answer should be) or not answering leaves the local estimate with the reason in its
    warnings; a store that did not answer is offline for the counter until the flush or the
    probe reaches it again: no more background quotes meanwhile."""
    _emu, faults = shop
    checkout = shop_session.new_checkout(persist=False)
    checkout.add("IPHONE")
    checkout.apply_coupon("1111")
    checkout.add("HTC")
    cart = checkout.awaiting_store
    assert cart is not None
    faults.plan("api/coupon", "html")
    with pytest.raises(PermanentError) as refused:
        checkout.store_quote(cart, shop_session.pricing_backend)
    assert checkout.apply_store_quote(cart, None, refused.value)
    assert not checkout.quote.remote and checkout.quote.totals.total == Decimal("201.00")
    assert "The store refuses the sale as it stands" in " ".join(checkout.quote.warnings)
    checkout.add("HTC")
    cart = checkout.awaiting_store
    assert cart is not None
    faults.plan("", "timeout_before", times=100)
    assert checkout.store_quote(cart, shop_session.pricing_backend) is None
    assert checkout.apply_store_quote(cart, None)
    assert "offline" in " ".join(checkout.quote.warnings)
    calls = len(faults.calls)
    checkout.add("IPHONE")
    assert checkout.awaiting_store is None and len(faults.calls) == calls  # not asked


def test_offline_sale_queued_then_replayed(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("", "connect_error", times=200)
    rc, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}],
                                                "payment_method": "cash"})
    assert rc == 0
    assert order["status"] == "queued"
    assert order["total"] == "101.00"  # estimated locally from the catalog
    faults.planned.clear()
    report, entries = flush(data_dir, faults)
    assert order["number"] in report.placed and not entries
    assert len(emu.orders) == 1


def test_offline_replay_refused_out_of_stock(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    faults.plan("", "connect_error", times=200)
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "GALAXY"}]})
    assert order["status"] == "queued"
    faults.planned.clear()
    report, entries = flush(data_dir, faults)
    assert order["number"] in report.failed
    assert any("not available" in e.last_error for e in entries)
    assert not emu.orders


def test_expired_session_mid_sale(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    handler = faults.handler
    state = {"n": 0}

    def expiring(request):  # type: ignore[no-untyped-def]
        if "api/payment/address" in str(request.url):
            state["n"] += 1
            if state["n"] == 3:
                emu.expire_tokens()
        return handler(request)

    faults.handler = expiring
    rc, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert rc == 0 and order["status"] == "placed"
    assert len(emu.orders) == 1


def test_no_secret_in_output_or_logs(shop, tmp_path, data_dir, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    caplog.set_level(logging.DEBUG)
    faults.plan("api/order/add", "drop_after_commit")
    faults.plan("api/cart/products", "html")
    path = tmp_path / "sale.json"
    path.write_text(json.dumps({"items": [{"code": "IPHONE"}]}))
    main(["--profile", "shop", "checkout", str(path), "--json"], transports={"shop": faults})
    main(["--profile", "shop", "checkout", str(path)], transports={"shop": faults})
    out = capsys.readouterr()
    tokens = list(emu.sessions)
    assert tokens
    texts = [out.out, out.err, caplog.text]
    for p in (tmp_path / "state").rglob("*"):
        if p.is_file():
            texts.append(p.read_text(errors="replace"))
    for p in data_dir.rglob("*.json"):
        texts.append(p.read_text())
    blob = "\n".join(texts)
    assert KEY not in blob
    for token in tokens:
        assert token not in blob


def test_first_sale_on_a_store_with_history_reconciles(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    for oid in range(1, 301):  # the web shop's orders before this lane's first sale
        emu.orders[oid] = {"order_id": str(oid), "comment": "web order", "total": "1.0000"}
    emu.next_order_id = 301
    faults.plan("api/order/add", "drop_after_commit")
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "unknown"
    report, _ = flush(data_dir, faults)
    assert order["number"] in report.placed
    assert len(emu.orders) == 301  # found as #301, never placed twice


def test_busy_store_reconcile_leaves_unknown(shop, tmp_path, data_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    _, first = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert first["remote_id"] == "1"
    for oid in range(2, 62):  # the web shop took 60 orders since this lane's last sale
        emu.orders[oid] = {"order_id": str(oid), "comment": "web order", "total": "1.0000"}
    emu.next_order_id = 62
    faults.plan("api/order/add", "drop_after_commit")
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert order["status"] == "unknown"
    report, entries = flush(data_dir, faults)
    assert order["number"] in report.unknown
    assert [e.state for e in entries] == ["unknown"]
    assert len(emu.orders) == 62  # never placed twice


def test_second_sale_does_not_inherit_coupon(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    _, first = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}], "coupon": "2222"})
    _, second = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert first["total"] == "90.90" and second["total"] == "101.00"
    assert emu.orders[1]["total"] == "90.9000" and emu.orders[2]["total"] == "101.0000"


def test_fully_paid_by_gift_voucher_uses_free_checkout(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    emu, faults = shop
    rc, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}],
                                                "vouchers": ["GIFT200"]})
    assert rc == 0 and order["status"] == "placed", order
    assert order["total"] == "0.00"
    assert emu.orders[1]["payment_code"] == "free_checkout"
    assert emu.vouchers["GIFT200"] == 99  # booked by the store at order/add


def test_real_http_on_loopback(tmp_path, config_file, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.emulators.serve import serve_in_thread

    emu = make_emulator()
    server, url = serve_in_thread(emu.handle)
    try:
        config_file.write_text(
            f'[profiles.shop]\nbackend = "opencart"\nbase_url = "{url}"\nkey = "{KEY}"\n'
            'allow_http = true\n', encoding="utf-8")
        csv = tmp_path / "catalog.csv"
        csv.write_text(CATALOG, encoding="utf-8")
        assert main(["--profile", "shop", "catalog", "import", str(csv)]) == 0
        path = tmp_path / "sale.json"
        path.write_text(json.dumps({"items": [{"code": "CANON", "options": {"226": "15"}}]}))
        capsys.readouterr()
        assert main(["--profile", "shop", "checkout", str(path), "--json"]) == 0
        order = json.loads(capsys.readouterr().out)
        assert order["status"] == "placed" and order["total"] == "80.00"
        assert len(emu.orders) == 1
    finally:
        server.shutdown()


def test_cli_order_and_login(shop, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    _emu, faults = shop
    _, order = sell(tmp_path, faults, capsys, {"items": [{"code": "IPHONE"}]})
    assert main(["--profile", "shop", "opencart", "order", "1"],
                transports={"shop": faults}) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["number"] == order["number"] and shown["total"] == "101.0000"
    assert main(["--profile", "shop", "opencart", "login"], transports={"shop": faults}) == 0
    out = capsys.readouterr().out
    assert "logged in as Default" in out and KEY not in out


def test_reachable_asks_without_logging_in(
        shop: tuple[OpenCartEmulator, FaultyTransport], shop_session: PosSession) -> None:
    emu, faults = shop
    logins = emu.calls.count("api/login")
    assert shop_session.backend.reachable() is True  # the permission error is an answer
    assert emu.calls[-1] == "api/cart/products"
    assert emu.calls.count("api/login") == logins and not emu.sessions  # no shop_session opened
    faults.plan("api/cart/products", "connect_error")
    assert shop_session.backend.reachable() is False
    assert shop_session.backend.reachable() is True  # back
