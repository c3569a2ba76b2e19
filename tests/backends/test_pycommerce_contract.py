"""PyCommerce backend against the emulator: one test per route, auth, errors, money."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pos.backends.base import BackendContext, Capability
from pos.backends.pycommerce import (
    PyCommerceBackend,
    PyCommerceSettings,
    dumps_money,
    error_text,
    money_in,
)
from pos.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from pos.models import CartLine, Customer, Order, PaymentMethod, PricedLine, Totals
from tests.backends.pycommerce_fixtures import MakeBackend, emu, make_backend, sleeps
from tests.emulators.pycommerce import (
    API_TOKEN,
    EMAIL,
    PASSWORD,
    PRODUCTS,
    TECH,
    USERNAME,
    PyCommerceEmulator,
)

__all__ = ["emu", "make_backend", "sleeps"]  # fixtures

HEADPHONES, SPEAKER, CABLE = (str(p["id"]) for p in PRODUCTS[:3])


def order(number: str = "T1-000042", **kw: object) -> Order:
    lines = (CartLine(key="a", product_id=HEADPHONES, name="Wireless Headphones", quantity=1,
                      unit_price=Decimal("149.99")),
             CartLine(key="b", product_id=SPEAKER, name="Bluetooth Speaker", quantity=2,
                      unit_price=Decimal("79.99")))
    priced = (PricedLine(key="a", unit_price=Decimal("149.99"), total=Decimal("149.99")),
              PricedLine(key="b", unit_price=Decimal("79.99"), total=Decimal("159.98")))
    data: dict[str, object] = {
        "number": number, "lane": "T1", "created_at": datetime.now(UTC), "lines": lines,
        "priced": priced, "customer": Customer(firstname="Jane", lastname="Smith",
                                               email="jane@example.com", telephone="+1234"),
        "totals": Totals(subtotal=Decimal("309.97"), total=Decimal("309.97"))}
    data.update(kw)
    return Order.model_validate(data)


# --- settings ------------------------------------------------------------------------------


def test_plain_http_refused_without_allow_http(make_backend: MakeBackend) -> None:
    with pytest.raises(ConfigError, match="plain HTTP"):
        make_backend(base_url="http://pc.test")
    assert make_backend(base_url="http://pc.test", allow_http=True).info().version == "1.0.0"


def test_needs_token_or_login(tmp_path: Path) -> None:
    cfg = PyCommerceSettings(backend="pycommerce", base_url="https://pc.test", tenant="tech")
    with pytest.raises(ConfigError, match="token"):
        PyCommerceBackend(cfg, BackendContext(data_dir=tmp_path))


def test_unknown_filter_rejected_in_profile() -> None:
    with pytest.raises(ValueError, match="unknown filter"):
        PyCommerceSettings.model_validate({"backend": "pycommerce", "base_url": "https://x",
                                           "tenant": "t", "catalog_filters": {"colour": "red"}})


def test_capabilities(make_backend: MakeBackend) -> None:
    b = make_backend()
    assert b.capabilities == (Capability.CATALOG | Capability.PAYMENT_LINK
                              | Capability.ORDER_PLACEMENT | Capability.ORDER_HISTORY)


# --- health, auth, tenants -----------------------------------------------------------------


def test_health_without_auth(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    info = make_backend().info()
    assert info.version == "1.0.0" and info.reachable
    assert "Authorization" not in emu.requests[-1].headers


def test_bearer_token_on_every_call(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend()
    b.tenants()
    assert emu.requests[-1].headers["Authorization"] == f"Bearer {API_TOKEN}"
    assert emu.logins == 0


@pytest.mark.parametrize("who", [{"username": USERNAME}, {"email": EMAIL}])
def test_login_with_username_or_email(make_backend: MakeBackend, emu: PyCommerceEmulator,
                                      who: dict[str, str]) -> None:
    b = make_backend(token=None, password=PASSWORD, **who)
    assert [t["slug"] for t in b.tenants()] == ["tech", "outdoor"]
    login = json.loads(emu.requests[0].content)
    assert login == {**who, "password": PASSWORD}
    assert emu.logins == 1
    b.tenants()
    assert emu.logins == 1  # the token is kept


def test_401_relogin_once_and_retry(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend(token="stale-token", username=USERNAME, password=PASSWORD)
    assert b.tenant_id() == TECH
    assert emu.logins == 1
    emu.expire_tokens()
    assert sum(len(page) for page in b.iter_catalog()) == 5
    assert emu.logins == 2


def test_401_without_credentials_is_auth_error(make_backend: MakeBackend) -> None:
    with pytest.raises(AuthError, match="token"):
        make_backend(token="wrong").tenants()


def test_wrong_password_is_auth_error(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend(token=None, username=USERNAME, password="nope")
    with pytest.raises(AuthError, match="Invalid username or password"):
        b.tenants()
    assert emu.logins == 0


def test_relogin_only_once(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend(token=None, username=USERNAME, password=PASSWORD)
    b.tenants()
    # a server that keeps refusing every fresh token: one re-login, then give up
    refuse = httpx.MockTransport(lambda r: emu.handle(r) if r.url.path == "/api/auth/login"
                                 else httpx.Response(401, json={"error": {
                                     "code": "unauthorized", "message": "No valid API key.",
                                     "details": ""}}))
    b2 = make_backend(transport=refuse, token=None, username=USERNAME, password=PASSWORD)
    with pytest.raises(AuthError):
        b2.tenants()
    assert emu.logins == 1 + 2  # b: 1; b2: first login + one re-login


def test_tenant_slug_resolved_once(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend()
    assert b.tenant_id() == TECH
    assert b.tenant_id() == TECH
    assert sum(r.url.path == "/api/tenants" for r in emu.requests) == 1


def test_unknown_tenant_is_config_error(make_backend: MakeBackend) -> None:
    with pytest.raises(ConfigError, match="no tenant 'nope'") as info:
        make_backend(tenant="nope").tenant_id()
    assert "Known tenants: tech, outdoor" in info.value.hint


# --- catalog -------------------------------------------------------------------------------


def test_products_decimal_prices(make_backend: MakeBackend) -> None:
    b = make_backend()
    assert b.catalog_size_hint() == 5
    products = {p.sku: p for page in b.iter_catalog() for p in page}
    assert products["WH-001"].price == Decimal("149.99")
    assert str(products["UC-003"].price) == "0.10"
    assert str(products["SM-005"].price) == "1234.50"
    assert all(isinstance(p.price, Decimal) for p in products.values())
    assert products["HA-004"].stock == 0
    assert products["WH-001"].category == "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"  # Audio


def test_product_filters_sent(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend()
    rows = [p for page in b.iter_catalog({"category": "Audio", "min_price": "80",
                                          "in_stock": "true"}) for p in page]
    assert [p.sku for p in rows] == ["WH-001", "SM-005"]
    q = next(r for r in emu.requests if r.url.path == "/api/products").url.params
    assert q["tenant"] == "tech" and q["category"] == "Audio" and q["min_price"] == "80"


def test_profile_catalog_filters(make_backend: MakeBackend) -> None:
    b = make_backend(catalog_filters={"in_stock": "true", "max_price": "100"})
    assert b.catalog_size_hint() == 2
    assert sorted(p.sku for page in b.iter_catalog() for p in page) == ["BS-002", "UC-003"]


def test_categories(make_backend: MakeBackend) -> None:
    rows = make_backend().categories()
    assert ("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "Audio",
            "a1b2c3d4-e5f6-4a7b-9c8d-9e0f1a2b3c4d") in rows


def test_money_in_never_float() -> None:
    assert money_in(0.1 + 0.2) == Decimal("0.30")
    assert money_in(149.99) == Decimal("149.99")
    assert money_in(2.675) == Decimal("2.68")  # str(2.675) == "2.675": half-up, not 2.67
    with pytest.raises(PermanentError):
        money_in("abc")


# --- orders --------------------------------------------------------------------------------


def test_place_order_payload(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    placed = make_backend().place_order(order())
    assert placed.status == "pending"
    created = emu.orders[placed.remote_id]
    assert created["tenant_id"] == TECH
    assert created["notes"] == "POS sale T1-000042"
    assert created["customer"]["email"] == "jane@example.com"
    assert created["payment_method"] == "cash" and created["shipping_method"] == "pickup"
    post = next(r for r in emu.requests if r.method == "POST")
    body = json.loads(post.content)
    assert body["items"] == [{"product_id": HEADPHONES, "quantity": 1},
                             {"product_id": SPEAKER, "quantity": 2}]


def test_place_order_card_and_comment(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    o = order(comment="Gift wrap", payment_method=PaymentMethod(code="card", title="Card",
                                                                  kind="link"))
    placed = make_backend().place_order(o)
    created = emu.orders[placed.remote_id]
    assert created["notes"] == "POS sale T1-000042 — Gift wrap"
    assert created["payment_method"] == "credit_card"


def test_place_order_validation_error_is_permanent(make_backend: MakeBackend) -> None:
    o = order(lines=(CartLine(key="x", product_id="nope", name="Ghost", quantity=1,
                              unit_price=Decimal(1)),))
    with pytest.raises(PermanentError, match="Product 'nope' does not exist") as info:
        make_backend().place_order(o)
    assert info.value.status == 400 and not info.value.transient


def test_place_order_conflict_409(make_backend: MakeBackend) -> None:
    o = order(lines=(CartLine(key="x", product_id=str(PRODUCTS[4]["id"]), name="Monitor",
                              quantity=9, unit_price=Decimal(1)),))
    with pytest.raises(PermanentError, match="Not enough stock") as info:
        make_backend().place_order(o)
    assert info.value.status == 409 and info.value.title == "Conflict"


def test_find_order_by_number_in_notes(make_backend: MakeBackend) -> None:
    b = make_backend()
    b.place_order(order("T1-000001"))
    placed = b.place_order(order("T1-000002"))
    b.place_order(order("T1-000020"))
    found = b.find_order(order("T1-000002"))
    assert found is not None and found.remote_id == placed.remote_id
    assert b.find_order(order("T1-000003")) is None


def test_list_and_get_orders(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend()
    placed = b.place_order(order())
    listed = b.list_orders()
    assert [o.remote_id for o in listed] == [placed.remote_id]
    assert listed[0].total == Decimal("309.97") and listed[0].customer == "Jane Smith"
    assert b.list_orders(status="completed") == []
    cid = emu.orders[placed.remote_id]["customer"]["id"]
    assert len(b.list_orders(customer_id=cid)) == 1
    assert len(b.list_orders(customer_id="other")) == 0
    got = b.get_order(placed.remote_id)
    assert got.number == "T1-000042" and got.status == "pending"


def test_get_missing_order_404(make_backend: MakeBackend) -> None:
    with pytest.raises(NotFoundError, match="no order zzz"):
        make_backend().get_order("zzz")


def test_404_error_shape_message(make_backend: MakeBackend) -> None:
    b = make_backend()
    with pytest.raises(PermanentError, match="does not exist") as info:
        b._get("/api/orders/zzz", "read the order")
    assert info.value.status == 404


def test_403_forbidden(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    t = httpx.MockTransport(lambda r: httpx.Response(403, json={"error": {
        "code": "forbidden", "message": "The API key doesn't have permissions.", "details": ""}}))
    with pytest.raises(AuthError, match="permissions") as info:
        make_backend(transport=t).tenants()
    assert info.value.title == "Not permitted"


def test_redirect_on_post_is_config_error(make_backend: MakeBackend,
                                          emu: PyCommerceEmulator) -> None:
    emu.redirect_orders = True
    with pytest.raises(ConfigError, match="redirected POST"):
        make_backend().place_order(order())
    assert emu.orders == {}


def test_trailing_slash_quirk_redirects(make_backend: MakeBackend) -> None:
    with pytest.raises(ConfigError, match="redirected GET") as info:
        make_backend()._get("/api/categories/", "list categories", {"tenant": "tech"})
    assert "trailing slash" in info.value.hint


def test_base_url_trailing_slash_is_fine(make_backend: MakeBackend) -> None:
    assert make_backend(base_url="https://pc.test/").tenant_id() == TECH


# --- errors --------------------------------------------------------------------------------


def _answer(status: int, body: bytes, ctype: str = "application/json") -> httpx.MockTransport:
    return httpx.MockTransport(lambda r: httpx.Response(status, content=body,
                                                        headers={"Content-Type": ctype}))


@pytest.mark.parametrize("body, ctype, text", [
    (b'{"error":{"code":"bad","message":"Missing tenant","details":"tenant is required"}}',
     "application/json", "Missing tenant — tenant is required [bad]"),
    (b'{"error":"Detailed error message"}', "application/json", "Detailed error message"),
    (b"<html><body>Bad request</body></html>", "text/html", "an HTML page"),
    (b"", "application/json", "an empty answer"),
    (b'{"detail":[{"msg":"field required"}]}', "application/json", "field required"),
])
def test_error_shapes(body: bytes, ctype: str, text: str) -> None:
    request = httpx.Request("GET", "https://pc.test/api/x")
    response = httpx.Response(400, content=body, headers={"Content-Type": ctype},
                              request=request)
    assert text in error_text(response)


def test_400_html_body_is_permanent(make_backend: MakeBackend) -> None:
    b = make_backend(transport=_answer(400, b"<html>nginx</html>", "text/html"))
    with pytest.raises(PermanentError, match="HTML page"):
        b.tenants()


def test_200_html_body_on_get_is_permanent(make_backend: MakeBackend) -> None:
    b = make_backend(transport=_answer(200, b"<html>login</html>", "text/html"))
    with pytest.raises(PermanentError, match="HTML page"):
        b.tenants()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_get_is_transient(make_backend: MakeBackend, status: int) -> None:
    with pytest.raises(TransientError) as info:
        make_backend(transport=_answer(status, b"")).tenants()
    assert info.value.transient


def test_500_on_order_post_is_unknown(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    b = make_backend()
    b.tenant_id()
    t = httpx.MockTransport(lambda r: httpx.Response(500, json={"error": {
        "code": "internal", "message": "boom", "details": ""}}) if r.method == "POST"
        else emu.handle(r))
    with pytest.raises(OutcomeUnknown):
        make_backend(transport=t).place_order(order())


def test_200_html_on_order_post_is_unknown(make_backend: MakeBackend,
                                           emu: PyCommerceEmulator) -> None:
    t = httpx.MockTransport(lambda r: httpx.Response(
        200, content=b"<html>ok</html>", headers={"Content-Type": "text/html"})
        if r.method == "POST" else emu.handle(r))
    with pytest.raises(OutcomeUnknown, match="HTML"):
        make_backend(transport=t).place_order(order())


def test_429_retry_after_honoured(make_backend: MakeBackend, emu: PyCommerceEmulator,
                                  sleeps: list[float]) -> None:
    emu.rate_limit, emu.retry_after = 1, "2"
    assert make_backend().tenant_id() == TECH
    assert sleeps == [2.0]


def test_429_long_wait_becomes_transient(make_backend: MakeBackend, emu: PyCommerceEmulator,
                                         sleeps: list[float]) -> None:
    emu.rate_limit, emu.retry_after = 1, "120"
    with pytest.raises(TransientError) as info:
        make_backend().tenants()
    assert info.value.retry_after == 120.0 and sleeps == []


def test_429_on_order_post_not_retried_inline(make_backend: MakeBackend,
                                              emu: PyCommerceEmulator,
                                              sleeps: list[float]) -> None:
    b = make_backend()
    b.tenant_id()
    emu.rate_limit = 1
    with pytest.raises(TransientError) as info:
        b.place_order(order())
    assert info.value.status == 429 and info.value.retry_after == 1.0 and sleeps == []
    assert emu.orders == {}


# --- payment links -------------------------------------------------------------------------


def test_payment_link(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    o = order(remote_id="remote-1")
    link = make_backend().create_payment_link(o, PaymentMethod(code="card", title="Card",
                                                               kind="link"))
    assert link.url.startswith("https://checkout.stripe.com/pay/cs_test_")
    assert link.id == emu.sessions[0]["id"] and link.status == "pending"
    assert link.amount == Decimal("309.97")
    raw = emu.sessions[0]["raw"]
    assert '"price": 149.99' in raw and '"price": 79.99' in raw
    assert emu.sessions[0]["order_id"] == "remote-1"
    assert emu.sessions[0]["amount"] == Decimal("309.97")
    assert make_backend().payment_link_status(link).status == "pending"


def test_stripe_error_shape(make_backend: MakeBackend, emu: PyCommerceEmulator) -> None:
    o = order(lines=(), priced=(), totals=Totals(total=Decimal("0")))
    with pytest.raises(PermanentError, match="Invalid price"):
        make_backend().create_payment_link(o, PaymentMethod(code="card", title="Card"))


def test_stripe_401_text_error(make_backend: MakeBackend) -> None:
    with pytest.raises(AuthError, match="Authentication required"):
        make_backend(token="bad").create_payment_link(order(), PaymentMethod(code="c", title="C"))


def test_dumps_money_exact() -> None:
    text = dumps_money({"a": [Decimal("0.10"), Decimal("0.20")], "b": Decimal("1234.50"),
                        "c": "x\x00"})
    assert text == '{"a": [0.10, 0.20], "b": 1234.50, "c": "x\\u0000"}'
    with pytest.raises(TypeError):
        dumps_money({"a": 0.1})


def test_find_order_reads_only_this_customers_recent_orders(make_backend: MakeBackend,
                                                            emu: PyCommerceEmulator) -> None:
    b = make_backend()
    other = Customer(firstname="Bob", lastname="B", email="bob@example.com")
    for n in range(5):
        b.place_order(order(f"T1-00010{n}", customer=other))
    mine = b.place_order(order("T1-000200"))
    emu.requests.clear()
    found = b.find_order(order("T1-000200"))
    assert found is not None and found.remote_id == mine.remote_id
    reads = [r for r in emu.requests if r.url.path.startswith("/api/orders/")]
    assert len(reads) == 1
    assert b.find_order(order("T1-000201")) is None


def test_shipping_rates_setting_validated() -> None:
    with pytest.raises(ValueError, match="not an amount"):
        PyCommerceSettings.model_validate({"backend": "pycommerce", "base_url": "https://x",
                                           "tenant": "t", "shipping_rates": {"express": "cheap"}})


def test_product_without_price_is_not_cached(make_backend: MakeBackend,
                                             emu: PyCommerceEmulator) -> None:
    emu.products["tech"][0]["price"] = None
    skus = [p.sku for page in make_backend().iter_catalog() for p in page]
    assert "WH-001" not in skus and len(skus) == 4


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer forged"},
                                     {"Authorization": API_TOKEN}])
def test_emulator_rejects_missing_or_bad_token(emu: PyCommerceEmulator,
                                               headers: dict[str, str]) -> None:
    response = emu.handle(httpx.Request("GET", "https://pc.test/api/tenants", headers=headers))
    assert response.status_code == 401
    assert json.loads(response.content)["error"]["code"] == "unauthorized"
