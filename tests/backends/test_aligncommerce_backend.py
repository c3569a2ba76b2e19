"""Contract tests: every Align Commerce call against the emulator."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from pos.backends.aligncommerce import AlignCommerceBackend, _php_form
from pos.backends.base import Capability, PaymentLink
from pos.errors import (
    AuthError,
    ConfigError,
    InputError,
    NotFoundError,
    OutcomeUnknown,
    PermanentError,
    RuleError,
    TransientError,
)
from pos.models import CartLine, Customer, Order, PaymentMethod, PricedLine, Totals
from tests.backends._aligncommerce import SECRETS, make_backend
from tests.emulators.aligncommerce import (
    CLIENT_ID,
    PASSWORD,
    SECRET_KEY,
    USERNAME,
    AlignCommerceEmulator,
    make_emulator,
)
from tests.emulators.faults import FaultyTransport
from tests.fakes import Clock

BTC = PaymentMethod(code="bitcoin", title="Bitcoin (QR invoice)", kind="link")
BANK = PaymentMethod(code="bank_transfer", title="Bank transfer (QR invoice)", kind="link")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> AlignCommerceEmulator:
    return make_emulator(clock=clock)


@pytest.fixture
def backend(emu: AlignCommerceEmulator, tmp_path: Path) -> AlignCommerceBackend:
    return make_backend(emu, tmp_path)


def order(lines: list[tuple[str, Decimal, int, Decimal, Decimal]], *, total: Decimal,
          shipping: Decimal = Decimal("0"), tax: Decimal = Decimal("0"),
          customer: Customer | None = None) -> Order:
    """lines: (name, unit, qty, discount, tax)."""
    cart_lines = tuple(CartLine(key=f"k{i}", product_id=f"p{i}", name=name, quantity=qty,
                                unit_price=unit) for i, (name, unit, qty, _, _) in
                       enumerate(lines))
    priced = tuple(PricedLine(key=f"k{i}", unit_price=unit, total=unit * qty, discount=disc,
                              tax=t) for i, (_, unit, qty, disc, t) in enumerate(lines))
    return Order(number="T1-0001", lane="T1", created_at=datetime.now(UTC), lines=cart_lines,
                 priced=priced, customer=customer or Customer(),
                 totals=Totals(total=total, shipping=shipping, tax=tax))


def form_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode()))


# --- auth ------------------------------------------------------------------------------------


def test_capabilities_do_not_claim_order_placement(backend: AlignCommerceBackend) -> None:
    assert backend.supports(Capability.CATALOG | Capability.CUSTOMERS | Capability.PAYMENT_LINK
                            | Capability.PAYMENT_METHODS | Capability.ORDER_HISTORY)
    assert not backend.supports(Capability.ORDER_PLACEMENT)


def test_token_request_and_basic_auth_on_every_call(backend: AlignCommerceBackend,
                                                    emu: AlignCommerceEmulator) -> None:
    list(backend.iter_catalog())
    backend.get_product(next(iter(emu.products)))
    token_call, *calls = emu.requests
    assert token_call.url.path == "/oauth/access_token"
    form = form_of(token_call)
    assert form == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                    "client_secret": SECRET_KEY, "scope": "products,buyer,invoice"}
    expected = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert all(r.headers["Authorization"] == expected for r in emu.requests)
    assert emu.token_requests == 1  # cached
    assert all(r.method == "GET" and r.url.params.get("access_token") for r in calls)


def test_token_goes_in_the_form_for_post_and_put(backend: AlignCommerceBackend,
                                                 emu: AlignCommerceEmulator) -> None:
    product = backend.create_product("Hat", Decimal("9.99"))
    backend.update_product(product.id, price=Decimal("10.50"))
    post, put = emu.requests[-2:]
    assert (post.method, put.method) == ("POST", "PUT")
    for r in (post, put):
        assert "access_token" not in r.url.params
        assert form_of(r)["access_token"] in emu.tokens


def test_token_refreshed_when_expired(backend: AlignCommerceBackend, emu: AlignCommerceEmulator,
                                      clock: Clock) -> None:
    list(backend.iter_catalog())
    clock.now += 7200  # past expires_in: renewed before use
    list(backend.iter_catalog())
    assert emu.token_requests == 2


def test_token_refreshed_once_when_refused(backend: AlignCommerceBackend,
                                           emu: AlignCommerceEmulator) -> None:
    list(backend.iter_catalog())
    emu.expire_tokens()  # revoked early: the service says 401
    assert len(next(backend.iter_catalog())) == 2
    assert emu.token_requests == 2


def test_token_refused_twice_is_an_auth_error(backend: AlignCommerceBackend,
                                              emu: AlignCommerceEmulator) -> None:
    list(backend.iter_catalog())
    emu.token_ttl = -1  # every new token is already expired
    emu.expire_tokens()
    with pytest.raises(AuthError) as info:
        list(backend.iter_catalog())
    assert "expired" in info.value.message
    assert emu.token_requests == 2  # refreshed once, no loop


def test_wrong_secret_key(emu: AlignCommerceEmulator, tmp_path: Path) -> None:
    backend = make_backend(emu, tmp_path, secret_key="wrong-secret-999")
    with pytest.raises(AuthError) as info:
        backend.info()
    text = info.value.one_line()
    assert "invalid" in text.lower()
    assert "wrong-secret-999" not in text and SECRET_KEY not in text


def test_wrong_password(emu: AlignCommerceEmulator, tmp_path: Path) -> None:
    backend = make_backend(emu, tmp_path, password="nope-nope-nope")
    with pytest.raises(AuthError) as info:
        list(backend.iter_catalog())
    assert "nope-nope-nope" not in info.value.one_line()


def test_plain_http_refused(emu: AlignCommerceEmulator, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        make_backend(emu, tmp_path, base_url="http://ac.test/")
    make_backend(emu, tmp_path, base_url="http://ac.test/", allow_http=True)


# --- envelope and bodies ---------------------------------------------------------------------


def test_error_envelope_with_http_200(backend: AlignCommerceBackend) -> None:
    with pytest.raises(PermanentError) as info:
        backend.create_product("", Decimal("1"))
    assert "The product name field is required." in info.value.message


def test_not_found_envelope(backend: AlignCommerceBackend) -> None:
    with pytest.raises(NotFoundError):
        backend.get_product("missing")
    with pytest.raises(NotFoundError):
        backend.payment_link_status(PaymentLink(id="nope", url=""))


@pytest.mark.parametrize("garbage", ["html", "truncated"])
def test_garbage_bodies(backend: AlignCommerceBackend, emu: AlignCommerceEmulator,
                        garbage: str) -> None:
    emu.garbage = garbage
    with pytest.raises(PermanentError) as info:
        list(backend.iter_catalog())
    text = info.value.one_line()
    assert ("HTML" in text) if garbage == "html" else ("not JSON" in text)
    assert "access_token" not in text


def test_unexpected_json_shape(backend: AlignCommerceBackend, emu: AlignCommerceEmulator,
                               tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("access_token"):
            return emu.handle(request)
        return httpx.Response(200, json=["not", "an", "envelope"])

    other = make_backend(emu, tmp_path)
    other.http.client._transport = httpx.MockTransport(handler)
    with pytest.raises(PermanentError, match="unexpected body"):
        list(other.iter_catalog())


def test_read_timeout_get_is_transient_post_is_unknown(emu: AlignCommerceEmulator,
                                                       tmp_path: Path) -> None:
    backend = make_backend(emu, tmp_path)
    faults = FaultyTransport(emu.handle)
    backend.http.client._transport = faults
    faults.plan("/products", "timeout_before")
    with pytest.raises(TransientError):
        list(backend.iter_catalog())
    faults.plan("/invoice", "drop_after_commit")
    with pytest.raises(OutcomeUnknown):
        backend.create_payment_link(order([("Mug", Decimal("12.50"), 1, Decimal(0),
                                            Decimal(0))], total=Decimal("12.50")), BTC)


def test_non_numeric_price_is_a_clear_error(backend: AlignCommerceBackend,
                                            emu: AlignCommerceEmulator) -> None:
    pid = next(iter(emu.products))
    emu.products[pid]["product_price"] = "twenty"
    with pytest.raises(PermanentError, match="product_price 'twenty'"):
        list(backend.iter_catalog())


# --- products --------------------------------------------------------------------------------


def test_catalog_numbers_are_decimals_quantised(backend: AlignCommerceBackend) -> None:
    pages = list(backend.iter_catalog())
    products = {p.name: p for p in pages[0]}
    assert products["Bitcoin Mug"].price == Decimal("12.50")
    assert str(products["Bitcoin Mug"].price) == "12.50"
    assert products["Sticker Pack"].price == Decimal("3.10")
    assert products["Bitcoin Mug"].shipping and not products["Sticker Pack"].shipping
    assert backend.catalog_size_hint() == 2


def test_catalog_in_yen_has_no_decimals(emu: AlignCommerceEmulator, tmp_path: Path) -> None:
    backend = make_backend(emu, tmp_path, currency="JPY")
    prices = sorted(p.price for p in next(backend.iter_catalog()))
    assert [str(p) for p in prices] == ["3", "13"]


def test_product_create_get_update(backend: AlignCommerceBackend,
                                   emu: AlignCommerceEmulator) -> None:
    created = backend.create_product("Hat", Decimal("9.99"), Decimal("1.00"), "Warm")
    assert emu.products[created.id]["product_price"] == "9.99000000000000"
    assert created.price == Decimal("9.99")
    updated = backend.update_product(created.id, name="Red hat", price=Decimal("10.5"))
    assert (updated.id, updated.name, updated.price) == (created.id, "Red hat",
                                                         Decimal("10.50"))
    fetched = backend.get_product(created.id)
    assert (fetched.name, fetched.price) == ("Red hat", Decimal("10.50"))


def test_update_unknown_product(backend: AlignCommerceBackend) -> None:
    with pytest.raises(NotFoundError):
        backend.update_product("nope", price=Decimal("1"))


# --- invoices --------------------------------------------------------------------------------


def test_create_invoice_btc(backend: AlignCommerceBackend, emu: AlignCommerceEmulator) -> None:
    customer = Customer(id="7", firstname="Ada", lastname="Lovelace", email="ada@example.com")
    o = order([("Mug", Decimal("12.50"), 2, Decimal(0), Decimal(0)),
               ("Sticker", Decimal("3.10"), 1, Decimal(0), Decimal(0))],
              total=Decimal("28.10"), customer=customer)
    link = backend.create_payment_link(o, BTC)
    form = form_of(emu.requests[-1])
    assert form["currency"] == "USD" and form["checkout_type"] == "btc"
    assert form["products[0][product_name]"] == "Mug"
    assert form["products[0][product_price]"] == "12.50"
    assert form["products[0][quantity]"] == "2"
    assert form["products[0][product_shipping]"] == "0"
    assert form["buyer_info[email]"] == "ada@example.com"
    assert form["buyer_info[first_name]"] == "Ada"
    invoice = emu.invoices[link.id]
    assert invoice.total_price + invoice.total_shipping == Decimal("28.10")
    assert link.url == f"https://aligncommerce.com/invoice/{link.id}"
    assert link.status == "pending" and link.amount == Decimal("28.10")


def test_create_invoice_bank_transfer_guest(backend: AlignCommerceBackend,
                                            emu: AlignCommerceEmulator) -> None:
    link = backend.create_payment_link(order([("Mug", Decimal("12.50"), 1, Decimal(0),
                                                Decimal(0))], total=Decimal("12.50")), BANK)
    assert emu.invoices[link.id].checkout_type == "bank_transfer"
    form = form_of(emu.requests[-1])
    assert form["buyer_info[first_name]"] == "Walk-in"
    assert form["buyer_info[email]"] == "pos-guest@example.invalid"


def test_cash_is_not_an_invoice(backend: AlignCommerceBackend) -> None:
    with pytest.raises(RuleError):
        backend.create_payment_link(order([("Mug", Decimal("1"), 1, Decimal(0), Decimal(0))],
                                          total=Decimal("1")),
                                    PaymentMethod(code="cash", title="Cash", kind="cash"))


def test_invoice_total_with_discount_and_tax(backend: AlignCommerceBackend,
                                             emu: AlignCommerceEmulator) -> None:
    # 3 × 3.33 = 9.99, discount 1.00 → 8.99 (not divisible by 3) + tax 0.72 = 9.71
    # 2 × 5.00 = 10.00, discount 2.00 → 8.00 + tax 0.64 = 8.64 → 4.32 each
    o = order([("Pen", Decimal("3.33"), 3, Decimal("1.00"), Decimal("0.72")),
               ("Pad", Decimal("5.00"), 2, Decimal("2.00"), Decimal("0.64"))],
              total=Decimal("23.35"), shipping=Decimal("5.00"), tax=Decimal("1.36"))
    items = backend.invoice_products(o, Decimal("23.35"))
    assert items == [
        {"product_name": "3 × Pen", "product_price": "9.71", "quantity": "1",
         "product_shipping": "0"},
        {"product_name": "Pad", "product_price": "4.32", "quantity": "2",
         "product_shipping": "0"},
        {"product_name": "Shipping", "product_price": "5.00", "quantity": "1",
         "product_shipping": "0"}]
    link = backend.create_payment_link(o, BTC)
    invoice = emu.invoices[link.id]
    assert invoice.total_price == Decimal("23.35")


def test_invoice_total_falls_back_to_one_line(backend: AlignCommerceBackend) -> None:
    o = order([("Pen", Decimal("3.33"), 3, Decimal(0), Decimal(0))], total=Decimal("7.00"))
    assert backend.invoice_products(o, Decimal("7.00")) == [
        {"product_name": "POS sale T1-0001", "product_price": "7.00", "quantity": "1",
         "product_shipping": "0"}]


def test_invoice_float_drift_never_happens(backend: AlignCommerceBackend,
                                           emu: AlignCommerceEmulator) -> None:
    o = order([("A", Decimal("0.10"), 1, Decimal(0), Decimal(0)),
               ("B", Decimal("0.20"), 1, Decimal(0), Decimal(0))], total=Decimal("0.30"))
    link = backend.create_payment_link(o, BTC)  # the service answers total_price 0.3 (float)
    assert link.amount == Decimal("0.30")


@pytest.mark.parametrize(("outcome", "status"), [("success", "paid"), ("cancel", "canceled"),
                                                 ("fail", "failed")])
def test_invoice_status_moves_after_polls(backend: AlignCommerceBackend,
                                          emu: AlignCommerceEmulator, outcome: str,
                                          status: str) -> None:
    emu.plan_invoice(outcome, polls=2)
    link = backend.create_payment_link(order([("Mug", Decimal("12.50"), 1, Decimal(0),
                                                Decimal(0))], total=Decimal("12.50")), BTC)
    seen = [backend.payment_link_status(link).status for _ in range(4)]
    assert seen == ["pending", "pending", status, status]
    assert backend.payment_link_status(link).url == link.url


def test_unknown_invoice_status(backend: AlignCommerceBackend,
                                emu: AlignCommerceEmulator) -> None:
    link = backend.create_payment_link(order([("Mug", Decimal("1"), 1, Decimal(0),
                                                Decimal(0))], total=Decimal("1")), BTC)
    emu.set_invoice_status(link.id, "weird")
    with pytest.raises(PermanentError, match="unknown status"):
        backend.payment_link_status(link)


def test_list_and_get_invoices(backend: AlignCommerceBackend) -> None:
    o = order([("Mug", Decimal("12.50"), 2, Decimal(0), Decimal(0))], total=Decimal("25.00"),
              customer=Customer(firstname="Ada", lastname="L", email="ada@example.com"))
    link = backend.create_payment_link(o, BTC)
    orders = backend.list_orders()
    assert [(r.remote_id, r.status, r.total, r.customer) for r in orders] == [
        (link.id, "pending", Decimal("25.00"), "Ada L")]
    assert backend.get_order(link.id).total == Decimal("25.00")
    assert backend.list_orders(status="success") == []


# --- buyers ----------------------------------------------------------------------------------


def test_search_buyers(backend: AlignCommerceBackend) -> None:
    for first, email in (("Ada", "ada@example.com"), ("Bob", "bob@example.org")):
        backend.create_payment_link(order([("Mug", Decimal("1"), 1, Decimal(0), Decimal(0))],
                                          total=Decimal("1"), customer=Customer(
                                              firstname=first, lastname="X", email=email)),
                                    BTC)
    hits = backend.search_customers("ADA")
    assert [(c.firstname, c.email) for c in hits] == [("Ada", "ada@example.com")]
    assert [c.firstname for c in backend.search_customers("example.org")] == ["Bob"]
    assert {c.firstname for c in backend.search_customers("")} == {"Ada", "Bob"}
    by_id = backend.search_customers(hits[0].id or "")
    assert by_id[0].email == "ada@example.com"
    assert backend.search_customers("99999") == []


def test_info(backend: AlignCommerceBackend) -> None:
    info = backend.info()
    assert "2 products" in info.detail


def test_php_form() -> None:
    assert _php_form({"a": [{"b": 1}], "c": {"d": None}}) == {"a[0][b]": "1", "c[d]": ""}


def test_secrets_not_in_settings_repr(backend: AlignCommerceBackend) -> None:
    text = repr(backend.settings) + str(backend.settings)
    assert not any(s in text for s in SECRETS)


line_strategy = st.tuples(
    st.decimals(min_value=0, max_value=500, places=2),  # unit price
    st.integers(min_value=1, max_value=25),  # quantity
    st.decimals(min_value=0, max_value=1, places=2),  # discount share (fraction of line)
    st.decimals(min_value=0, max_value=Decimal("0.25"), places=2),  # tax rate
)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(line_strategy, min_size=1, max_size=6),
       shipping=st.decimals(min_value=0, max_value=20, places=2))
def test_invoice_lines_always_add_up(lines: list[tuple[Decimal, int, Decimal, Decimal]],
                                     shipping: Decimal, tmp_path_factory: pytest.TempPathFactory
                                     ) -> None:
    backend = make_backend(make_emulator(), tmp_path_factory.mktemp("ac"))
    rows = []
    for i, (unit, qty, share, rate) in enumerate(lines):
        line_total = unit * qty
        discount = (line_total * share).quantize(Decimal("0.01"))
        tax = ((line_total - discount) * rate).quantize(Decimal("0.01"))
        rows.append((f"P{i}", unit, qty, discount, tax))
    total = sum((u * q - d + t for _, u, q, d, t in rows), Decimal(0)) + shipping
    tax_total = sum((t for *_, t in rows), Decimal(0))
    o = order(rows, total=total, shipping=shipping, tax=tax_total)
    items = backend.invoice_products(o, total)
    assert sum(Decimal(i["product_price"]) * int(i["quantity"]) for i in items) == total
    assert all(Decimal(i["product_price"]) >= 0 for i in items)
    assert all(Decimal(i["product_price"]).as_tuple().exponent == -2 for i in items)


def test_ipn_is_never_trusted(backend: AlignCommerceBackend, emu: AlignCommerceEmulator) -> None:
    emu.plan_invoice("success", polls=5)
    link = backend.create_payment_link(order([("Mug", Decimal("1"), 1, Decimal(0), Decimal(0))],
                                             total=Decimal("1")), BTC)
    forged = {"status": "success", "order_id": "1", "invoice_id": link.id}
    assert backend.ipn_status(forged).status == "pending"  # the invoice says otherwise
    emu.set_invoice_status(link.id, "success")
    assert backend.ipn_status(forged).status == "paid"
    with pytest.raises(InputError):
        backend.ipn_status({"status": "success"})
    with pytest.raises(InputError):
        backend.ipn_status({"invoice_id": "../products"})


def test_over_real_loopback_http(tmp_path: Path) -> None:
    """The same calls through a real socket (the emulator served on 127.0.0.1)."""
    from pos.backends.aligncommerce import AlignCommerceSettings
    from pos.backends.base import BackendContext
    from tests.emulators.serve import serve_in_thread

    emu = make_emulator()
    server, url = serve_in_thread(emu.handle)
    try:
        settings = AlignCommerceSettings(
            backend="aligncommerce", base_url=url + "/", allow_http=True, username=USERNAME,
            password=SecretStr(PASSWORD), client_id=CLIENT_ID,
            secret_key=SecretStr(SECRET_KEY), timeout=5)
        backend = AlignCommerceBackend(settings, BackendContext(data_dir=tmp_path))
        try:
            assert len(next(backend.iter_catalog())) == 2
            emu.plan_invoice("success", polls=0)
            link = backend.create_payment_link(
                order([("Mug", Decimal("12.50"), 2, Decimal(0), Decimal(0))],
                      total=Decimal("25.00"),
                      customer=Customer(firstname="Ada", email="ada@example.com")), BTC)
            assert emu.invoices[link.id].total_price == Decimal("25.00")
            assert backend.payment_link_status(link).status == "paid"
        finally:
            backend.close()
    finally:
        server.shutdown()
        server.server_close()
