"""`pos catalog sync` and `pos aligncommerce product ...` against the emulator."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pos.cli import main
from pos.store import Catalog, catalog_path
from tests.backends._aligncommerce import SECRETS, write_config
from tests.emulators.aligncommerce import AlignCommerceEmulator, make_emulator


@pytest.fixture
def emu(config_file: Path) -> AlignCommerceEmulator:
    write_config(config_file)
    return make_emulator()


def run(emu: AlignCommerceEmulator, *argv: str) -> int:
    return main(["--profile", "ac", *argv], transports={"ac": emu.transport()})


def all_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> str:
    out, err = capsys.readouterr()
    logs = "".join(p.read_text("utf-8", "replace") for p in tmp_path.rglob("*.log"))
    return out + err + logs


def test_catalog_sync(emu: AlignCommerceEmulator, data_dir: Path,
                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(emu, "catalog", "sync") == 0
    catalog = Catalog(catalog_path(data_dir, "ac"))
    try:
        assert catalog.count() == 2
        mug = catalog.search("Mug")[0]
        assert mug.price == Decimal("12.50")
    finally:
        catalog.close()
    assert not any(s in all_output(capsys, tmp_path) for s in SECRETS)


def test_catalog_sync_error_envelope_is_one_line(emu: AlignCommerceEmulator,
                                                 capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    emu.garbage = "html"
    assert run(emu, "catalog", "sync") == 2
    text = all_output(capsys, tmp_path)
    assert "HTML" in text and "Traceback" not in text
    assert not any(s in text for s in SECRETS) and "access_token=" not in text


def test_auth_failure_on_cli_keeps_secrets(config_file: Path, capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    write_config(config_file)
    emu = make_emulator(secret_key="the-real-one")
    assert run(emu, "catalog", "sync") == 2
    text = all_output(capsys, tmp_path)
    assert "Login refused" in text
    assert not any(s in text for s in SECRETS)


def test_product_create_and_update(emu: AlignCommerceEmulator,
                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(emu, "aligncommerce", "product", "create", "--name", " Red  Hat ",
               "--price", "$9.90", "--shipping", "1.5", "--description", "Warm") == 0
    out = capsys.readouterr().out
    pid = next(p for p, row in emu.products.items() if row["product_name"] == "Red Hat")
    assert out.strip() == f"Created product {pid}: Red Hat $9.90"
    assert emu.products[pid]["product_shipping"] == "1.50000000000000"
    assert run(emu, "aligncommerce", "product", "update", pid, "--price", "10") == 0
    assert capsys.readouterr().out.strip() == f"Updated product {pid}: Red Hat $10.00"
    assert emu.products[pid]["product_price"] == "10.00000000000000"
    assert not any(s in all_output(capsys, tmp_path) for s in SECRETS)


@pytest.mark.parametrize(("args", "message"), [
    (["--name", "Hat", "--price", "-1"], "is negative"),
    (["--name", "Hat", "--price", "abc"], "is not an amount"),
    (["--name", "Hat", "--price", "1.234"], "too many decimals"),
    (["--name", "   ", "--price", "1"], "name is empty"),
    (["--name", "Hat", "--price", "1", "--shipping", "-2"], "shipping '-2' is negative"),
])
def test_product_create_validation(emu: AlignCommerceEmulator,
                                   capsys: pytest.CaptureFixture[str], args: list[str],
                                   message: str) -> None:
    assert run(emu, "aligncommerce", "product", "create", *args) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert len(emu.products) == 2  # nothing sent


def test_product_update_unknown_and_empty(emu: AlignCommerceEmulator,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(emu, "aligncommerce", "product", "update", "nope", "--price", "1") == 2
    assert "Product not found" in capsys.readouterr().err
    pid = next(iter(emu.products))
    assert run(emu, "aligncommerce", "product", "update", pid) == 2
    assert "Nothing to update" in capsys.readouterr().err


def test_backend_info_and_config_show(emu: AlignCommerceEmulator,
                                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(emu, "backend", "info") == 0
    out = capsys.readouterr().out
    assert "2 products at https://ac.test/" in out and "payment_link" in out
    assert "order_placement" not in out
    assert main(["config", "show"]) == 0
    assert not any(s in all_output(capsys, tmp_path) for s in SECRETS)
