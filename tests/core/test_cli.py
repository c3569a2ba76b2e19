"""Every `pos` command, in-process, including bad input (non-zero exit, one-line reason,
nothing half-written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pos.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write_sale(tmp_path: Path, sale: object, name: str = "sale.json") -> str:
    path = tmp_path / name
    path.write_text(sale if isinstance(sale, str) else json.dumps(sale))
    return str(path)


def test_checkout_json_full_sale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sale = {
        "items": [{"code": "MUG", "quantity": 2},
                  {"code": "COFFEE-1KG", "quantity": 1, "options": {"grind": "espresso"}}],
        "customer": {"id": "1"}, "coupon": "SAVE10", "vouchers": ["GIFT10"], "reward": 100,
        "shipping_address": {"firstname": "Jane", "lastname": "Doe", "address_1": "1 Main St",
                             "city": "Fresno", "postcode": "93650", "country": "US",
                             "zone": "CA"},
        "shipping_method": "flat.flat", "payment_method": "cash", "tendered": "50.00",
        "comment": "leave at the door",
    }
    code, out, err = run(capsys, "checkout", write_sale(tmp_path, sale), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["number"] == "T1-000001" and data["status"] == "placed"
    assert data["currency"] == "USD" and data["remote_id"] == "1"
    titles = [t["title"] for t in data["totals"]]
    assert titles[0] == "Sub-Total" and titles[-1] == "Total"
    assert "Coupon (SAVE10)" in titles and "Gift Voucher (GIFT10)" in titles
    assert "Reward Points (100)" in titles and "Flat Shipping Rate" in titles
    assert data["lines"][1]["options"] == {"grind": "espresso"}
    total = sum((float(t["amount"]) for t in data["totals"][:-1]), 0.0)
    assert abs(total - float(data["total"])) < 0.001

    code, out, _ = run(capsys, "orders", "list", "--json")
    assert code == 0 and [o["number"] for o in json.loads(out)] == ["T1-000001"]
    code, out, _ = run(capsys, "orders", "show", "T1-000001")
    assert code == 0 and "Order T1-000001" in out and "Status: placed" in out
    code, out, _ = run(capsys, "orders", "show", "T1-000001", "--json")
    assert json.loads(out)["outbox"][0]["state"] == "done"


def test_checkout_from_stdin_with_receipt(monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO('{"items":[{"code":"BANANA","quantity":2}],'
                                                 '"tendered":"10"}'))
    code, out, _ = run(capsys, "checkout", "-")
    assert code == 0
    assert "Change" in out and "$6.02" in out and "T1-000001: placed" in out


@pytest.mark.parametrize(("sale", "reason"), [
    ("{not json", "not valid JSON"),
    ('["items"]', "expected a JSON object"),
    ({"items": []}, "items"),
    ({"items": [{"code": "NOPE"}]}, "No product with barcode, SKU or id 'NOPE'"),
    ({"items": [{"code": "MUG", "quantity": "lots"}]}, "not a whole number"),
    ({"items": [{"code": "MUG", "quantity": 0}]}, "at least 1"),
    ({"items": [{"code": "MUG"}], "coupon": "BOGUS"}, "Coupon is either invalid"),
    ({"items": [{"code": "CAMERA-VINTAGE"}]}, "out of stock"),
    ({"items": [{"code": "NAPKINS"}]}, "Minimum order amount for Paper Napkins is 3"),
    ({"items": [{"code": "MUG"}], "tendered": "5"}, "$5.28 still to pay"),
    ({"items": [{"code": "MUG"}], "tendered": "abc"}, "tendered"),
    ({"items": [{"code": "MUG"}], "surprise": 1}, "surprise"),
    ({"items": [{"code": "MUG"}], "payment_method": "bitcoin"}, "not available"),
])
def test_checkout_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], sale: object,
                            reason: str) -> None:
    code, out, err = run(capsys, "checkout", write_sale(tmp_path, sale))
    assert code == 2
    assert reason in err and err.count("\n") == 1 and "Traceback" not in err
    code, out, _ = run(capsys, "orders", "list", "--json")
    assert json.loads(out) == []  # nothing half-written
    code, out, _ = run(capsys, "catalog", "search", "MUG", "--json")
    assert json.loads(out)[0]["stock"] == 100  # no stock booked


def test_checkout_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "checkout", "/nonexistent/sale.json")
    assert code == 2 and "Cannot read" in err


def test_orders_show_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "orders", "show", "T1-999999")
    assert code == 2 and "There is no order T1-999999" in err


def test_catalog_search(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "catalog", "search", "coffee", "--json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["code"] == "COFFEE-1KG"
    assert set(hits[0]) >= {"code", "name", "price", "stock"}
    code, out, _ = run(capsys, "catalog", "search", "organic", "--limit", "3", "--json")
    assert len(json.loads(out)) == 3
    code, out, _ = run(capsys, "catalog", "search", "2000000000039")  # a barcode
    assert "Ceramic Mug" in out
    code, out, _ = run(capsys, "catalog", "search", "zzzzzz")
    assert "No product matches" in out


def test_catalog_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "products.csv"
    csv.write_text("id,sku,barcode,name,price,stock,category,tax_class,minimum\n"
                   "9001,TEA-1,4006381333931,Green Tea Tin,$4.50,10,beverages,food,\n"
                   "9002,TEA-2,,Black Tea,\"$1,004.00\",,beverages,,2\n")
    code, out, err = run(capsys, "catalog", "import", str(csv))
    assert code == 0, err
    assert "Imported 2 products" in out
    code, out, _ = run(capsys, "catalog", "search", "4006381333931", "--json")
    assert json.loads(out)[0]["name"] == "Green Tea Tin"
    code, out, _ = run(capsys, "catalog", "search", "black tea", "--json")
    hit = json.loads(out)[0]
    assert hit["price"] == "1004.00" and hit["stock"] is None


@pytest.mark.parametrize(("content", "reason"), [
    ("id,name\n1,x\n", "lacks sku, barcode, price, stock, category"),
    ("id,sku,barcode,name,price,stock,category\n1,A,,Thing,abc,1,x\n", "line 2"),
    ("id,sku,barcode,name,price,stock,category\n1,A,,Thing,1.00,1,x\n2,B,,,1.00,1,x\n",
     "line 3: name is empty"),
    ("id,sku,barcode,name,price,stock,category\n1,A,,Thing,1.00\n", "5 fields, expected 7"),
    ("", "is empty"),
])
def test_catalog_import_bad_files_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                content: str, reason: str) -> None:
    run(capsys, "catalog", "search", "x")  # seed the demo catalog first
    csv = tmp_path / "bad.csv"
    csv.write_text(content)
    code, _, err = run(capsys, "catalog", "import", str(csv))
    assert code == 2 and reason in err
    code, out, _ = run(capsys, "catalog", "search", "Thing", "--json")
    assert json.loads(out) == []


def test_config_path_and_show_masks_secrets(config_file: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "config", "path")
    assert out.strip() == str(config_file)
    config_file.write_text('lane = "L7"\ncashier = "ann"\n[profiles.shop]\nbackend = "opencart"\n'
                           'base_url = "https://shop.example.com"\nkey = "s3cr3t-key-value"\n')
    code, out, _ = run(capsys, "config", "show")
    assert code == 0 and "s3cr3t" not in out and "********" in out
    code, out, _ = run(capsys, "config", "show", "--json")
    data = json.loads(out)
    assert data["profiles"]["shop"]["key"] == "********"
    assert data["lane"] == "T1"  # POS_LANE from the environment wins over the file


@pytest.mark.parametrize("environment", ["POS_LANE set", "no POS_ variable"])
def test_broken_config_gives_line_and_reason(config_file: Path, environment: str,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    if environment == "no POS_ variable":  # the file read without pydantic-settings
        monkeypatch.delenv("POS_LANE")
    config_file.write_text('lane = "L1"\ncashier = \n')
    code, _, err = run(capsys, "config", "show")
    assert code == 3 and "line 2" in err
    config_file.write_text('cashier = "x"\nsinks = "not-a-list"\n')
    code, _, err = run(capsys, "orders", "list")
    assert code == 3 and "line 2" in err and "sinks" in err
    config_file.write_text('[profiles.x]\nbase_url = "https://a"\n')
    code, out, err = run(capsys, "doctor")
    assert code == 5 and "needs backend" in out + err


def test_a_wrong_variable_is_named_not_the_files_line(config_file: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    config_file.write_text('lane = "L1"\ncashier = "ann"\n')
    monkeypatch.setenv("POS_LANE", "two words")
    code, _, err = run(capsys, "config", "show")
    assert code == 3 and "environment: POS_LANE: lane: a lane is" in err and "line" not in err
    monkeypatch.setenv("POS_LANE", "L2")
    config_file.write_text('lane = "two words"\ncashier = "ann"\n')
    code, _, err = run(capsys, "config", "show")  # the variable wins: the file's lane unused
    assert code == 0
    monkeypatch.setenv("POS_CASHIER", "bob")
    config_file.write_text('lane = "two words"\n')
    monkeypatch.delenv("POS_LANE")
    code, _, err = run(capsys, "config", "show")
    assert code == 3 and "line 1: lane" in err


_LOAD = ("import sys; from pos.config import load_settings; s = load_settings(); "
         "print(s.lane, s.cashier, s.profiles['shop']['backend'], s.source != '', "
         "'pydantic_settings' in sys.modules)")


def test_environment_is_read_by_pydantic_settings_only_when_it_sets_something(
        config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A till set up by its file starts without importing pydantic-settings; a `POS_<NAME>`
    variable (any case) overrides the file through it; both read the file the same."""
    config_file.write_text('lane = "L7"\ncashier = "ann"\n[profiles.shop]\nbackend = "local"\n')
    monkeypatch.delenv("POS_LANE")

    def load(**env: str) -> list[str]:
        return subprocess.run([sys.executable, "-c", _LOAD], env={**os.environ, **env},
                              capture_output=True, text=True, check=True).stdout.split()

    assert load() == ["L7", "ann", "local", "True", "False"]
    assert load(POS_DATA_DIR="/tmp/elsewhere") == ["L7", "ann", "local", "True", "False"]
    assert load(POS_LANE="L9") == ["L9", "ann", "local", "True", "True"]
    assert load(pos_cashier="bob") == ["L7", "bob", "local", "True", "True"]
    from pos.config import load_settings

    assert load_settings(lane="L3").lane == "L3"  # arguments win over the file...
    monkeypatch.setenv("POS_LANE", "L9")
    assert load_settings(lane="L3").lane == "L3"  # ... and over the environment
    with_env = load_settings().model_dump()
    monkeypatch.delenv("POS_LANE")
    assert with_env == {**load_settings().model_dump(), "lane": "L9"}


def test_a_variable_that_is_not_json_is_a_config_error(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POS_KEYS", "sk_live_not-json")
    code, out, err = run(capsys, "orders", "list")
    assert code == 3 and "POS_KEYS is not valid JSON" in err
    assert "sk_live" not in out + err  # the value may be a secret: never echoed


def test_unknown_profile(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--profile", "nope", "orders", "list")
    assert code == 3 and "no profile named 'nope'" in err


def test_doctor_healthy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "doctor")
    assert code == 0 and "healthy." in out and "Embedded demo store" in out


def test_doctor_says_how_http_goes_out_without_a_proxy_password(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, "doctor")  # no proxy: `isolated_env`
    assert code == 0 and "ok    http: direct, http.client" in out
    monkeypatch.setenv("HTTPS_PROXY", "http://till:s3cret@proxy.shop.lan:3128")
    code, out, _ = run(capsys, "doctor")
    assert code == 0 and "ok    http: through the proxy in https_proxy" in out
    assert "s3cret" not in out


def test_doctor_unwritable_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, _ = run(capsys, "--data-dir", str(blocker / "sub"), "doctor")
    assert code == 5 and "FAIL  data dir" in out


def test_sync_and_backend_info(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sync", "--json")
    assert code == 0 and json.loads(out)["pending"] == 0
    code, out, _ = run(capsys, "backend", "info", "--json")
    assert "order_placement" in json.loads(out)["capabilities"]


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--help"], ["checkout", "--help"], ["orders", "list", "--help"],
                 ["catalog", "import", "--help"], ["config", "--help"], ["doctor", "--help"],
                 ["sync", "--help"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 0
        assert "usage: pos" in capsys.readouterr().out


def test_config_set_writes_0600_and_masks(config_file: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "config", "set", "profiles.shop.backend", "opencart")
    assert code == 0
    code, out, _ = run(capsys, "config", "set", "profiles.shop.key", "top-secret-123")
    assert code == 0 and "top-secret-123" not in out and "********" in out
    assert config_file.stat().st_mode & 0o777 == 0o600
    assert 'key = "top-secret-123"' in config_file.read_text()
    code, _, err = run(capsys, "config", "set", "lane", "bad lane!")
    assert code == 3 and "lane" in err
    assert "bad lane" not in config_file.read_text()  # refused values never land on disk


def test_orders_remote_lists_the_backends_orders(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "checkout", write_sale(tmp_path, {"items": [{"code": "MUG"}]}))
    code, out, _ = run(capsys, "orders", "remote", "--json")
    remote = json.loads(out)
    assert code == 0 and remote[0]["number"] == "T1-000001" and remote[0]["remote_id"] == "1"
    code, out, _ = run(capsys, "orders", "remote")
    assert "T1-000001" in out


@pytest.mark.parametrize("argv", [
    [], ["tui"], ["--data-dir", "d"], ["--profile", "p", "--data-dir", "d"],
    ["--data-dir", "a", "tui", "--data-dir", "b", "--profile", "q"],
    ["--data-dir", "a", "--data-dir", "b"], ["--data-dir", "tui"], ["--data-dir", ""],
])
def test_counter_args_match_the_full_parser(argv: list[str]) -> None:
    """`pos` with only the counter's options skips building every sub-command's parser."""
    from pos.cli import _counter_args, build_parser

    quick = _counter_args(argv)
    assert quick is not None and vars(quick) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [
    ["--data-dir"], ["--data-dir=d"], ["--data", "d"], ["--data-dir", "-d"], ["tui", "tui"],
    ["tui", "x"], ["-h"], ["--version"], ["orders", "list"], ["--", "tui"],
])
def test_counter_args_leave_everything_else_to_the_parser(argv: list[str]) -> None:
    from pos.cli import _counter_args

    assert _counter_args(argv) is None
