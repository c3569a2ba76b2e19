"""`pos ...` end to end against the PyCommerce emulator: catalog sync, checkout, commands."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pos.cli import main
from pos.config import load_settings
from pos.models import PaymentMethod
from pos.session import open_session
from pos.store import Catalog, catalog_path
from tests.emulators.pycommerce import (
    API_TOKEN,
    PASSWORD,
    USERNAME,
    PyCommerceEmulator,
    make_emulator,
)

PROFILE = f"""
[profiles.pc]
backend = "pycommerce"
base_url = "https://pc.test"
tenant = "tech"
token = "{API_TOKEN}"

[profiles.pclogin]
backend = "pycommerce"
base_url = "https://pc.test"
tenant = "tech"
username = "{USERNAME}"
password = "{PASSWORD}"
"""


@pytest.fixture
def emu(config_file: Path) -> PyCommerceEmulator:
    config_file.write_text(PROFILE, "utf-8")
    return make_emulator()


def run(emu: PyCommerceEmulator, *argv: str) -> int:
    t = httpx.MockTransport(emu.handle)
    return main(list(argv), transports={"pc": t, "pclogin": t})


def test_catalog_sync(emu: PyCommerceEmulator, data_dir: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "--profile", "pc", "catalog", "sync") == 0
    assert "Synced 5 products from pc." in capsys.readouterr().out
    catalog = Catalog(catalog_path(data_dir, "pc"))
    try:
        product = catalog.lookup("WH-001")
        assert product is not None and product.price == Decimal("149.99")
        assert product.stock == 25
        assert ("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "Audio",
                "a1b2c3d4-e5f6-4a7b-9c8d-9e0f1a2b3c4d") in catalog.categories()
    finally:
        catalog.close()
    # a second sync is a full refresh: upserts, no duplicates, new prices taken
    emu.products["tech"][0]["price"] = 139.99
    assert run(emu, "--profile", "pc", "catalog", "sync") == 0
    catalog = Catalog(catalog_path(data_dir, "pc"))
    try:
        assert catalog.count() == 5
        product = catalog.lookup("WH-001")
        assert product is not None and product.price == Decimal("139.99")
    finally:
        catalog.close()


def _sale(tmp_path: Path, **extra: object) -> str:
    path = tmp_path / "sale.json"
    path.write_text(json.dumps({"items": [{"code": "WH-001"}, {"code": "BS-002", "quantity": 2}],
                                "customer": {"firstname": "Jane", "lastname": "Smith",
                                             "email": "jane@example.com"}, **extra}))
    return str(path)


def test_checkout_cash(emu: PyCommerceEmulator, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "--profile", "pc", "catalog", "sync") == 0
    capsys.readouterr()
    sale = _sale(tmp_path, payment_method="cash", tendered="400")
    assert run(emu, "--profile", "pc", "checkout", sale, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "placed" and out["total"] == "309.97"
    created = emu.orders[out["remote_id"]]
    assert created["notes"] == f"POS sale {out['number']}"
    assert created["payment_method"] == "cash"
    assert created["customer"]["name"] == "Jane Smith"
    assert Decimal(str(created["total"])) == Decimal("309.97")


def test_checkout_card_link(emu: PyCommerceEmulator, tmp_path: Path, data_dir: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "--profile", "pc", "catalog", "sync") == 0
    capsys.readouterr()
    assert run(emu, "--profile", "pc", "checkout", _sale(tmp_path, payment_method="card"),
               "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "placed"
    assert emu.orders[out["remote_id"]]["payment_method"] == "credit_card"
    session = open_session(data_dir, "pc", load_settings(),
                           transports={"pc": httpx.MockTransport(emu.handle)})
    try:
        order = session.ledger.orders.get(out["number"])
        link = session.backend.create_payment_link(order, PaymentMethod(
            code="card", title="Card", kind="link"))
    finally:
        session.close()
    assert link.url.startswith("https://checkout.stripe.com/")
    stripe = emu.sessions[-1]
    assert stripe["order_id"] == out["remote_id"]
    assert stripe["amount"] == Decimal(out["total"])


def test_login_profile_sale(emu: PyCommerceEmulator, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "--profile", "pclogin", "catalog", "sync") == 0
    assert emu.logins == 1
    assert run(emu, "--profile", "pclogin", "checkout", _sale(tmp_path), "--json") == 0
    assert len(emu.orders) == 1


def test_tenants_command(emu: PyCommerceEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "pycommerce", "--profile", "pc", "tenants") == 0
    out = capsys.readouterr().out
    assert "* tech" in out and "outdoor" in out and "ea6c4bc0-d5aa" in out
    assert run(emu, "pycommerce", "--profile", "pc", "tenants", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["slug"] == "tech"


def test_categories_command(emu: PyCommerceEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "pycommerce", "--profile", "pc", "categories") == 0
    assert "Audio" in capsys.readouterr().out


def test_orders_commands(emu: PyCommerceEmulator, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "pycommerce", "--profile", "pc", "orders") == 0
    assert "No remote orders." in capsys.readouterr().out
    run(emu, "--profile", "pc", "catalog", "sync")
    run(emu, "--profile", "pc", "checkout", _sale(tmp_path), "--json")
    number = json.loads(capsys.readouterr().out.split("\n", 1)[1])["number"]
    assert run(emu, "pycommerce", "--profile", "pc", "orders", "--status", "pending") == 0
    out = capsys.readouterr().out
    assert "$309.97" in out and "Jane Smith" in out
    remote_id = next(iter(emu.orders))
    assert run(emu, "pycommerce", "--profile", "pc", "order", remote_id, "--json") == 0
    got = json.loads(capsys.readouterr().out)
    assert got[0]["number"] == number and got[0]["total"] == "309.97"
    assert run(emu, "pycommerce", "--profile", "pc", "order", "nope") == 2
    assert "no order nope" in capsys.readouterr().err


def test_backend_info(emu: PyCommerceEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "--profile", "pc", "backend", "info", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == "1.0.0"
    assert data["capabilities"] == ["catalog", "payment_link", "order_placement",
                                    "order_history"]


def test_http_refused_in_profile(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file.write_text('[profiles.pc]\nbackend = "pycommerce"\nbase_url = "http://pc.test"\n'
                           'tenant = "tech"\ntoken = "x"\n')
    assert main(["--profile", "pc", "backend", "info"]) == 3
    assert "plain HTTP" in capsys.readouterr().err


def test_no_secret_in_output(emu: PyCommerceEmulator, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    run(emu, "--profile", "pc", "catalog", "sync")
    run(emu, "--profile", "pclogin", "backend", "info")
    run(emu, "pycommerce", "--profile", "pclogin", "tenants")
    run(emu, "--profile", "pclogin", "checkout", _sale(tmp_path))
    run(emu, "config", "show")
    emu.expire_tokens()
    assert run(emu, "pycommerce", "--profile", "pc", "tenants") == 2  # refused token
    issued = [t for t in emu.requests if t.url.path == "/api/auth/login"]
    assert issued
    captured = capsys.readouterr()
    text = captured.out + captured.err
    logs = "".join(p.read_text() for p in (tmp_path / "state").rglob("*.log"))
    for secret in (API_TOKEN, PASSWORD, "eyJhbGciOiJIUzI1NiJ9."):
        assert secret not in text
        assert secret not in logs


def test_delivery_sale_with_profile_rates(config_file: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    config_file.write_text(PROFILE + '\n[profiles.pc.shipping_rates]\nexpress = "9.90"\n'
                           'standard = 4.5\n', "utf-8")
    emu = make_emulator()
    assert run(emu, "--profile", "pc", "catalog", "sync") == 0
    capsys.readouterr()
    address = {"firstname": "Jane", "lastname": "Smith", "address_1": "456 Park Ave",
               "city": "Metropolis", "postcode": "10002", "country": "US", "zone": "NY"}
    sale = _sale(tmp_path, shipping_address=address, shipping_method="express")
    assert run(emu, "--profile", "pc", "checkout", sale, "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == "319.87" and out["status"] == "placed"
    created = emu.orders[out["remote_id"]]
    assert created["shipping_method"] == "express"
    assert created["shipping_address"] == {"line1": "456 Park Ave", "line2": "",
                                           "city": "Metropolis", "state": "NY",
                                           "postal_code": "10002", "country": "US"}
    assert created["billing_address"] == created["shipping_address"]


def test_gift_voucher_sale_refused_before_recording(emu: PyCommerceEmulator, tmp_path: Path,
                                                    data_dir: Path) -> None:
    assert run(emu, "--profile", "pc", "catalog", "sync") == 0
    session = open_session(data_dir, "pc", load_settings(),
                           transports={"pc": httpx.MockTransport(emu.handle)})
    try:
        co = session.checkout
        co.scan("WH-001")
        from pos.backends.base import UnsupportedError

        with pytest.raises(UnsupportedError, match="gift vouchers"):
            co.sell_voucher("Bob", "20")
    finally:
        session.close()
    assert emu.orders == {}


def test_real_http_on_loopback(config_file: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from tests.emulators.serve import serve_in_thread

    emu = make_emulator()
    server, url = serve_in_thread(emu.handle)
    try:
        config_file.write_text(f'[profiles.lo]\nbackend = "pycommerce"\nbase_url = "{url}"\n'
                               f'allow_http = true\ntenant = "tech"\nusername = "{USERNAME}"\n'
                               f'password = "{PASSWORD}"\n', "utf-8")
        assert main(["--profile", "lo", "catalog", "sync"]) == 0
        assert main(["--profile", "lo", "checkout", _sale(tmp_path), "--json"]) == 0
        out = capsys.readouterr().out
        assert json.loads(out[out.index("{"):])["status"] == "placed"
        assert len(emu.orders) == 1
    finally:
        server.shutdown()
        server.server_close()
