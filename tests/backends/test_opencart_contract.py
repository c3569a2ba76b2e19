"""Contract tests: the backend against the emulator, route by route and error shape by shape."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pos.backends.opencart import OpenCartBackend
from pos.backends.opencart.api import flatten, messages
from pos.errors import AuthError, ConfigError, PermanentError, RuleError
from pos.models import SelectedOption, SoldVoucher
from tests.backends.oc_helpers import JANE, JOHN, UK, US, backend, cart, emulator, line
from tests.emulators.opencart import OpenCartEmulator, php_form


@pytest.fixture
def emu() -> OpenCartEmulator:
    return emulator()


@pytest.fixture
def oc(emu: OpenCartEmulator, data_dir: Path) -> OpenCartBackend:
    return backend(emu, data_dir)


RED = (SelectedOption(option_id="226", name="Select", value_id="15", value="Red"),)


def test_flatten_php_brackets() -> None:
    form = flatten("product", [{"product_id": 40, "option": {"226": 16}}])
    assert form == [("product[][product_id]", "40"), ("product[][option][226]", "16")]
    assert flatten("option", {"223": ["8", "9"]}) == [("option[223][]", "8"),
                                                      ("option[223][]", "9")]
    assert php_form(b"option%5B226%5D=15&a=%3Cb%3E") == {"option": {"226": "15"},
                                                       "a": "&lt;b&gt;"}


def test_messages_flatten_both_shapes_and_unescape() -> None:
    assert messages("Apple Cinema 30&quot;") == ['Apple Cinema 30"']
    assert messages({"option": {"226": "Date &amp; Time required!"}}) == ["Date & Time required!"]
    assert messages({"minimum": ["a", "b"]}) == ["a", "b"]


def test_plain_http_refused(emu: OpenCartEmulator, data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="plain HTTP"):
        backend(emu, data_dir, base_url="http://shop.test")
    backend(emu, data_dir, base_url="http://shop.test", allow_http=True)


def test_login_wrong_key_disabled_and_ip(emu: OpenCartEmulator, data_dir: Path) -> None:
    bad = backend(emu, data_dir, key="nope")
    with pytest.raises(AuthError, match="wrong key, unknown or disabled user"):
        bad.info()
    disabled = backend(emu, data_dir, username="Disabled", key="off-key")
    with pytest.raises(AuthError, match="disabled"):
        disabled.info()
    noip = backend(emu, data_dir, username="NoIp", key="noip-key")
    with pytest.raises(AuthError, match=r"IP 127\.0\.0\.1 is not allowed"):
        noip.info()


def test_info_and_token_in_query_only(emu: OpenCartEmulator, oc: OpenCartBackend) -> None:
    seen: list[httpx.Request] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return emu.handle(request)

    oc2 = backend(emu, oc.context.data_dir, transport=httpx.MockTransport(spy))
    oc2.quote(cart(line("40")))
    assert oc2.info().name.startswith("OpenCart")
    calls = [r for r in seen if "api_token" in str(r.url)]
    assert calls, "token travels in the query"
    for r in seen:
        assert b"api_token" not in r.content
        assert "cookie" not in r.headers
        if r.method == "POST" and r.content:
            assert r.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_quote_counter_sale_us_prices(oc: OpenCartBackend) -> None:
    q = oc.quote(cart(line("40", 2), line("30", 1, options=RED)))
    assert q.remote
    assert q.line("k40") is not None and q.line("k40").total == Decimal("202.00")  # type: ignore[union-attr]
    assert q.line("k30").unit_price == Decimal("80.00")  # type: ignore[union-attr]
    assert q.totals.total == Decimal("282.00")  # pickup at the counter (US): no UK tax
    codes = {m.code for m in q.payment_methods}
    assert {"cash", "cod", "bank_transfer"} <= codes
    assert "pickup.pickup" in {m.code for m in q.shipping_methods}


def test_quote_uk_address_tax_lines_and_shipping(oc: OpenCartBackend) -> None:
    from pos.models import ShippingMethod

    flat = ShippingMethod(code="flat.flat", title="Flat Shipping Rate", cost=Decimal("5"))
    q = oc.quote(cart(line("40"), shipping_address=UK, pickup=False, shipping_method=flat))
    assert q.line("k40").unit_price == Decimal("123.20")  # type: ignore[union-attr]
    assert q.totals.tax == Decimal("22.20")
    assert q.totals.shipping == Decimal("5.00")
    assert q.totals.total == Decimal("128.20")
    assert [t.code for t in q.totals.lines] == ["sub_total", "shipping", "tax", "tax", "total"]


def test_quote_in_euros(emu: OpenCartEmulator, data_dir: Path) -> None:
    oc = backend(emu, data_dir)
    q = oc.quote(cart(line("40"), currency="EUR"))
    assert q.totals.total == Decimal("79.24")  # 101.00 × 0.7846, parsed from "79.24€"


def test_missing_option_is_rule_error(oc: OpenCartBackend) -> None:
    with pytest.raises(RuleError, match="Select required!") as exc:
        oc.quote(cart(line("30")))
    assert exc.value.field == "option"


def test_unknown_product(oc: OpenCartBackend) -> None:
    with pytest.raises(RuleError, match="can not be bought") as exc:
        oc.quote(cart(line("999")))
    assert exc.value.field == "product"


def test_stock_and_minimum_are_warnings(oc: OpenCartBackend) -> None:
    q = oc.quote(cart(line("49")))
    assert any("not available" in w for w in q.warnings)


def test_coupons(oc: OpenCartBackend) -> None:
    q = oc.quote(cart(line("40"), coupon="2222"))
    assert q.totals.discount == Decimal("10.10")
    q = oc.quote(cart(line("40"), coupon="1111"))
    assert q.totals.total == Decimal("91.00")
    with pytest.raises(RuleError, match="Coupon is either invalid") as exc:
        oc.quote(cart(line("40"), coupon="NOPE"))
    assert exc.value.field == "coupon"


def test_vouchers(oc: OpenCartBackend) -> None:
    q = oc.quote(cart(line("40"), vouchers=("gift50",)))
    assert q.totals.vouchers == Decimal("50.00")
    assert q.totals.total == Decimal("51.00")
    with pytest.raises(RuleError, match="Gift Voucher is either invalid") as exc:
        oc.quote(cart(line("40"), vouchers=("NOPE",)))
    assert exc.value.field == "voucher"


def test_sell_voucher(oc: OpenCartBackend) -> None:
    sold = SoldVoucher(key="v1", from_name="Shop", to_name="Kim", amount=Decimal("25"))
    q = oc.quote(cart(line("40"), sold_vouchers=(sold,)))
    assert q.totals.subtotal == Decimal("126.00")
    bad = SoldVoucher(key="v1", from_name="Shop", to_name="Kim", amount=Decimal("5000"))
    with pytest.raises(RuleError, match="Amount must be between") as exc:
        oc.quote(cart(line("40"), sold_vouchers=(bad,)))
    assert exc.value.field == "voucher"


def test_rewards(oc: OpenCartBackend) -> None:
    q = oc.quote(cart(line("28"), customer=JANE, reward=150))
    assert q.reward_max == 200 and q.reward_available == 1000
    assert q.totals.discount == Decimal("75.00")
    with pytest.raises(RuleError, match="maximum number of points") as exc:
        oc.quote(cart(line("28"), customer=JANE, reward=5000))
    assert exc.value.field == "reward"


def test_store_credit_applied_by_server(oc: OpenCartBackend) -> None:
    q = oc.quote(cart(line("40"), customer=JOHN))
    assert q.totals.store_credit == Decimal("25.00")
    assert q.totals.total == Decimal("76.00")


def test_shipping_methods_for_address(oc: OpenCartBackend) -> None:
    methods = oc.shipping_methods(cart(line("40"), shipping_address=US, pickup=False))
    assert [m.code for m in methods] == ["flat.flat", "pickup.pickup"]
    assert methods[0].cost == Decimal("5.00")


def test_no_shipping_to_germany(oc: OpenCartBackend) -> None:
    from pos.models import Address

    de = Address(firstname="A", lastname="B", address_1="Strasse 1", city="Berlin",
                 postcode="10115", country="DE", zone="BER")
    q = oc.quote(cart(line("40"), shipping_address=de, pickup=False))
    assert not q.shipping_methods
    assert any("No Shipping options" in w for w in q.warnings)


def test_unknown_zone(oc: OpenCartBackend) -> None:

    bad = US.model_copy(update={"zone": "ZZ"})
    with pytest.raises(RuleError, match="not a region"):
        oc.quote(cart(line("40"), shipping_address=bad, pickup=False))


def test_zone_cache_is_local(emu: OpenCartEmulator, oc: OpenCartBackend) -> None:
    oc.quote(cart(line("40")))
    oc.quote(cart(line("40")))
    assert emu.calls.count("checkout/checkout/country") == 1
    assert oc.state_path.exists()


def test_expired_session_relogin_and_replay(emu: OpenCartEmulator, data_dir: Path) -> None:
    expired = {"done": False}

    def expire_once(request: httpx.Request) -> httpx.Response:
        if "api/cart/add" in str(request.url) and not expired["done"]:
            expired["done"] = True
            emu.expire_tokens()
        return emu.handle(request)

    oc = backend(emu, data_dir, transport=httpx.MockTransport(expire_once))
    q = oc.quote(cart(line("40")))
    assert q.totals.total == Decimal("101.00")
    assert emu.calls.count("api/login") == 2


def test_always_expired_is_auth_error(emu: OpenCartEmulator, data_dir: Path) -> None:
    def expire(request: httpx.Request) -> httpx.Response:
        if "api/customer" in str(request.url):
            emu.expire_tokens()
        return emu.handle(request)

    oc = backend(emu, data_dir, transport=httpx.MockTransport(expire))
    with pytest.raises(AuthError, match="keeps refusing"):
        oc.quote(cart(line("40")))


def test_leaked_php_warning_is_skipped(emu: OpenCartEmulator) -> None:
    # `currency` without its field leaks a PHP warning before the JSON
    login = emu.handle(httpx.Request("POST", "https://shop.test/index.php?route=api/login",
                                     data={"key": "test-key"}))
    token = login.json()["api_token"]
    r = emu.handle(httpx.Request("POST", f"https://shop.test/index.php?route=api/currency"
                                 f"&api_token={token}", data={}))
    assert r.text.startswith("<br />")
    from pos.backends.http import parse_json

    assert parse_json(r, "x", lenient=True) == {"error": "Warning: Currency code is invalid!"}


def test_emulator_quirks(emu: OpenCartEmulator) -> None:
    url = "https://shop.test/index.php?route=api/"
    # a JSON body is ignored: login answers []
    assert emu.handle(httpx.Request("POST", url + "login", json={"key": "test-key"})).json() == []
    token = emu.handle(httpx.Request("POST", url + "login", data={"key": "test-key"})).json()[
        "api_token"]
    # the token in the body is ignored → permission error, object or string shape
    r = emu.handle(httpx.Request("POST", url + "cart/add", data={"api_token": token}))
    assert r.json() == {"error": {"warning": "Warning: You do not have permission to access the "
                                             "API!"}}
    r = emu.handle(httpx.Request("POST", url + "coupon", data={"api_token": token}))
    assert r.json() == {"error": "Warning: You do not have permission to access the API!"}
    assert emu.handle(httpx.Request("POST", url + "nope")).status_code == 404
    r = emu.handle(httpx.Request("POST", url + f"cart/add&api_token={token}",
                                 data={"product_id": "30", "option": "abc"}))
    assert "Fatal error" in r.text


def test_html_404_is_clear_error(emu: OpenCartEmulator, data_dir: Path) -> None:
    def not_found(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, headers={"Content-Type": "text/html"}, text="<html>x</html>",
                              request=request)

    oc = backend(emu, data_dir, transport=httpx.MockTransport(not_found))
    with pytest.raises(PermanentError, match="no API route api/login"):
        oc.info()


def test_place_get_status_and_find(emu: OpenCartEmulator, oc: OpenCartBackend) -> None:
    from datetime import UTC, datetime

    from pos.models import Order, Payment

    order = Order(number="T1-000007", lane="T1", created_at=datetime.now(UTC),
                  lines=(line("40"),), payments=(Payment(method="cash", amount=Decimal("101")),))
    placed = oc.place_order(order)
    assert placed.remote_id == "1"
    row = emu.orders[1]
    assert "POS sale T1-000007" in row["comment"]
    assert row["payment_code"] == "cod"  # cash is not an OpenCart method: cod is offered
    assert row["shipping_code"] == "pickup.pickup"
    remote = oc.get_order("1")
    assert remote.number == "T1-000007" and remote.total == Decimal("101.0000")
    assert oc.find_order(order.model_copy(update={"remote_id": "1"})) is not None
    oc.update_order_status(order.model_copy(update={"remote_id": "1"}), "complete")
    assert emu.orders[1]["order_status_id"] == "5"
    assert [o.remote_id for o in oc.list_orders()] == ["1"]


def test_place_out_of_stock_refused(emu: OpenCartEmulator, oc: OpenCartBackend) -> None:
    from datetime import UTC, datetime

    from pos.models import Order

    order = Order(number="T1-000008", lane="T1", created_at=datetime.now(UTC),
                  lines=(line("49"),))
    with pytest.raises(RuleError, match="not available") as exc:
        oc.place_order(order)
    assert exc.value.field == "stock"
    assert not emu.orders


def test_customer_by_id_only(oc: OpenCartBackend) -> None:
    from pos.backends.base import UnsupportedError

    assert [c.id for c in oc.search_customers("1")] == ["1"]
    assert oc.search_customers("99") == []
    with pytest.raises(UnsupportedError):
        oc.search_customers("jane")


@pytest.mark.parametrize("base", ["https://shop.test/yourstore", "https://shop.test/yourstore/",
                                  "https://shop.test/yourstore/index.php"])
def test_base_url_with_a_path(emu: OpenCartEmulator, data_dir: Path, base: str) -> None:
    urls: list[str] = []

    def spy(request: httpx.Request) -> httpx.Response:
        urls.append(str(request.url))
        return emu.handle(request)

    oc = backend(emu, data_dir, base_url=base, transport=httpx.MockTransport(spy))
    oc.info()
    assert urls[0] == "https://shop.test/yourstore/index.php?route=api/login"


def test_cli_zones(emu: OpenCartEmulator, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pos.cli import main

    config_file.write_text('[profiles.shop]\nbackend = "opencart"\n'
                           'base_url = "https://shop.test"\nkey = "test-key"\n')
    rc = main(["--profile", "shop", "opencart", "zones", "US"],
              transports={"shop": httpx.MockTransport(emu.handle)})
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "3655" in out and "NY" in out


def test_order_history_unknown_order(oc: OpenCartBackend) -> None:
    from datetime import UTC, datetime

    from pos.errors import NotFoundError
    from pos.models import Order

    order = Order(number="T1-9", lane="T1", created_at=datetime.now(UTC), remote_id="77")
    with pytest.raises(PermanentError, match="could not be found"):
        oc.update_order_status(order, "complete")
    with pytest.raises(NotFoundError):
        oc.get_order("77")
    # no remote id and no placement hint: the sale stays unknown for the cashier
    from pos.backends.base import UnsupportedError

    with pytest.raises(UnsupportedError):
        oc.find_order(order.model_copy(update={"remote_id": None}))


def test_emulator_session_survives_order_add(emu: OpenCartEmulator) -> None:
    url = "https://shop.test/index.php?route=api/"
    token = emu.handle(httpx.Request("POST", url + "login", data={"key": "test-key"})).json()[
        "api_token"]

    def call(route: str, **data: str) -> dict:  # type: ignore[type-arg]
        r = emu.handle(httpx.Request("POST", f"{url}{route}&api_token={token}", data=data))
        return r.json()  # type: ignore[no-any-return]

    call("customer", customer_id="0", firstname="A", lastname="B", email="a@b.c",
         telephone="123")
    call("cart/add", product_id="40", quantity="1")
    call("coupon", coupon="2222")
    addr = {"firstname": "A", "lastname": "B", "address_1": "1 Main", "city": "NYC",
            "country_id": "223", "zone_id": "3655"}
    call("shipping/address", **addr)
    call("shipping/methods")
    call("payment/address", **addr)
    call("payment/methods")
    first = call("order/add", shipping_method="flat.flat", payment_method="cod")
    assert first["order_id"] == 1
    # not idempotent: again at once → the stock message (cart empty)
    assert "not available" in call("order/add", payment_method="cod")["error"]
    # the coupon is still in the session for the next sale on this token
    call("cart/add", product_id="40", quantity="1")
    titles = [t["title"] for t in call("cart/products")["totals"]]
    assert "Coupon (2222)" in titles


def test_sell_voucher_only_order(emu: OpenCartEmulator, oc: OpenCartBackend) -> None:
    from datetime import UTC, datetime

    from pos.models import Order

    sold = SoldVoucher(key="v1", from_name="Shop", to_name="Kim", amount=Decimal("25"))
    q = oc.quote(cart(sold_vouchers=(sold,)))
    assert q.totals.total == Decimal("25.00")
    assert "api/shipping/address" not in emu.calls  # a voucher needs no shipping
    order = Order(number="T1-000010", lane="T1", created_at=datetime.now(UTC),
                  sold_vouchers=(sold,))
    assert oc.place_order(order).remote_id == "1"
    assert emu.orders[1]["payment_code"] == "bank_transfer"  # cod needs a shippable cart


def test_php_fatal_error_page_is_clear(emu: OpenCartEmulator, data_dir: Path) -> None:
    def fatal(request: httpx.Request) -> httpx.Response:
        if "api/cart/add" in str(request.url):
            return httpx.Response(200, headers={"Content-Type": "text/html; charset=UTF-8"},
                                  text="<b>Fatal error</b>: Uncaught TypeError: x in /var/www")
        return emu.handle(request)

    oc = backend(emu, data_dir, transport=httpx.MockTransport(fatal))
    with pytest.raises(PermanentError, match=r"crashed on api/cart/add \(PHP fatal error\)"):
        oc.quote(cart(line("40")))


def test_refused_placement_forgets_its_hint(oc: OpenCartBackend) -> None:
    from datetime import UTC, datetime

    from pos.models import Order

    order = Order(number="T1-000011", lane="T1", created_at=datetime.now(UTC),
                  lines=(line("49"),))
    with pytest.raises(RuleError):
        oc.place_order(order)
    assert order.number not in oc._state().get("pending", {})


@pytest.mark.parametrize("route", ["api/shipping/address", "api/payment/methods",
                                   "api/cart/products"])
def test_session_data_expiry_before_a_step_replays(emu: OpenCartEmulator, data_dir: Path, route: str) -> None:
    done = {"once": False}

    def gc(request: httpx.Request) -> httpx.Response:
        if route in str(request.url) and not done["once"]:
            done["once"] = True
            emu.expire_session_data()  # token still known, session empty: [] or permission
        return emu.handle(request)

    oc = backend(emu, data_dir, transport=httpx.MockTransport(gc))
    q = oc.quote(cart(line("40")))
    assert q.totals.total == Decimal("101.00")
    assert emu.calls.count("api/login") == 2


def test_ip_removed_after_login(emu: OpenCartEmulator, data_dir: Path) -> None:
    def move(request: httpx.Request) -> httpx.Response:
        if "api/customer" in str(request.url):
            emu.client_ip = "10.0.0.9"  # every call re-checks the IP: permission error
        return emu.handle(request)

    oc = backend(emu, data_dir, transport=httpx.MockTransport(move))
    with pytest.raises(AuthError, match=r"IP 10\.0\.0\.9 is not allowed"):
        oc.quote(cart(line("40")))


def test_emulator_cart_edit_remove_clear_methods(emu: OpenCartEmulator) -> None:
    url = "https://shop.test/index.php?route=api/"
    token = emu.handle(httpx.Request("POST", url + "login", data={"key": "test-key"})).json()[
        "api_token"]

    def call(route: str, **data: str) -> httpx.Response:
        return emu.handle(httpx.Request("POST", f"{url}{route}&api_token={token}", data=data))

    call("cart/add", product_id="40", quantity="1")
    call("cart/add", product_id="40", quantity="2")  # added to the same line
    products = call("cart/products").json()["products"]
    assert [p["quantity"] for p in products] == ["3"]
    assert products[0]["price"] == "$123.20"  # UK tax before any address
    key = products[0]["cart_id"]
    addr = {"firstname": "A", "lastname": "B", "address_1": "1 Main", "city": "NYC",
            "country_id": "223", "zone_id": "3655"}
    call("shipping/address", **addr)
    call("shipping/methods")
    assert call("shipping/method", shipping_method="flat.flat").json()["success"]
    assert call("cart/edit", key=key, quantity="1").json()["success"]
    assert "No Shipping options" in call("shipping/method",
                                         shipping_method="flat.flat").json()["error"]
    assert call("cart/edit").text.startswith("<br />")  # leaked PHP warnings
    assert call("cart/remove").json() == []
    assert call("cart/remove", key=key).json()["success"]
    assert call("cart/products").json()["products"] == []
