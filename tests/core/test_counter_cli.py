"""`pos orders print|refund`, `pos cash`, `pos report`, `pos cashier`: in-process, with bad input
(exit 2 and a one-line reason, nothing written)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pos.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def sell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """SCARF-VAT ×2 (48.00, 8.00 VAT inside) + MUG ×3 (28.50 + 2.35) + BANANA 1.99 = 80.84."""
    sale = {"items": [{"code": "SCARF-VAT", "quantity": 2}, {"code": "MUG", "quantity": 3},
                      {"code": "BANANA", "quantity": 1}], "tendered": "100"}
    path = tmp_path / "sale.json"
    path.write_text(json.dumps(sale))
    code, out, err = run(capsys, "checkout", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["total"] == "80.84"
    return str(json.loads(out)["number"])


def test_refund_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    number = sell(tmp_path, capsys)
    code, out, _ = run(capsys, "orders", "refund", number, "--line", "MUG:1", "--reason",
                       "chipped")
    assert code == 0 and "REFUND T1-000001-R1" in out and "$-10.28" in out  # 30.85 / 3
    code, out, _ = run(capsys, "orders", "refund", number, "--line", "MUG:2", "--line",
                       "BANANA:1", "--reason", "r", "--method", "card", "--json")
    data = json.loads(out)
    # MUG 30.85 − 10.28 = 20.57, BANANA 1.99
    assert code == 0 and data["amount"] == "22.56" and data["method"] == "card"
    code, out, _ = run(capsys, "orders", "show", number)
    assert "Refund T1-000001-R2" in out and "Status: placed" in out
    code, out, _ = run(capsys, "orders", "refund", number, "--reason", "rest", "--json")
    assert json.loads(out)["amount"] == "48.00" and json.loads(out)["full"] is True
    code, out, _ = run(capsys, "orders", "show", number)
    assert "Status: canceled" in out


@pytest.mark.parametrize(("args", "reason"), [
    (["--line", "MUG:4"], "MUG: cannot refund 4; 3 sold, 3 left to refund."),
    (["--line", "NOPE:1"], "has no line 'NOPE'"),
    (["--line", "MUG"], "expected CODE:QTY"),
    (["--line", "MUG:x"], "'x' is not a whole number"),
    (["--line", "MUG:0"], "at least 1"),
    (["--reason", " "], "Say why"),
])
def test_refund_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          args: list[str], reason: str) -> None:
    number = sell(tmp_path, capsys)
    full = ["orders", "refund", number, *args]
    if "--reason" not in args:
        full += ["--reason", "x"]
    code, out, err = run(capsys, *full)
    assert code == 2 and reason in err and err.count("\n") == 1 and out == ""
    code, out, _ = run(capsys, "orders", "show", number, "--json")
    assert json.loads(out)["status"] == "placed"


def test_refund_unknown_and_not_placed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "orders", "refund", "T1-000404", "--reason", "x")
    assert code == 2 and "There is no order T1-000404" in err
    number = sell(tmp_path, capsys)
    run(capsys, "orders", "refund", number, "--reason", "all")
    code, _, err = run(capsys, "orders", "refund", number, "--reason", "again")
    assert code == 2 and "already canceled or fully refunded" in err
    with pytest.raises(SystemExit):  # argparse: --reason is required
        main(["orders", "refund", number])


def test_print_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    number = sell(tmp_path, capsys)
    code, out, _ = run(capsys, "orders", "print", number)  # default printer: text to stdout
    assert code == 0 and "Total                               $80.84" in out
    assert "*T1-000001*" in out
    target = tmp_path / "r.bin"
    code, _, err = run(capsys, "orders", "print", number, "--format", "escpos", "-o", str(target))
    assert code == 0 and target.read_bytes().endswith(b"\x1dV\x00") and "Wrote" in err
    code, out, _ = run(capsys, "orders", "print", number, "--format", "html")
    assert code == 0 and "<svg" in out
    code, _, _ = run(capsys, "orders", "print", number, "--format", "pdf", "-o",
                     str(tmp_path / "r.pdf"))
    assert code == 0 and (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    run(capsys, "orders", "refund", number, "--line", "BANANA:1", "--reason", "x")
    code, out, _ = run(capsys, "orders", "print", f"{number}-R1", "--format", "text")
    assert code == 0 and "REFUND T1-000001-R1" in out
    code, _, err = run(capsys, "orders", "print", "T1-999999")
    assert code == 2 and "no order or refund T1-999999" in err
    code, _, err = run(capsys, "orders", "print", number, "-o", str(tmp_path / "no" / "x.txt"))
    assert code == 2 and "Cannot write" in err


def test_print_to_configured_printer(tmp_path: Path, config_file: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    number = sell(tmp_path, capsys)
    config_file.write_text(f'[printer]\nkind = "escpos-file"\npath = "{tmp_path / "lp0"}"\n')
    (tmp_path / "lp0").touch()
    code, out, _ = run(capsys, "orders", "print", number)
    assert code == 0 and "Printed Receipt T1-000001 on escpos-file" in out
    assert b"$80.84" in (tmp_path / "lp0").read_bytes()
    config_file.write_text('[printer]\nkind = "network"\nhost = "127.0.0.1"\nport = 1\n')
    code, _, err = run(capsys, "orders", "print", number)
    assert code == 2 and "cannot be reached" in err


def test_cash_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "cash", "open", "100")[0] == 0
    number = sell(tmp_path, capsys)
    run(capsys, "orders", "refund", number, "--line", "MUG:1", "--reason", "chipped")
    code, out, _ = run(capsys, "cash", "in", "20", "--reason", "coins")
    assert code == 0 and "Cash in $20.00 (coins)" in out
    code, out, _ = run(capsys, "cash", "out", "5.50", "--reason", "milk")
    # expected 100 + 80.84 − 10.28 + 20 − 5.50 = 185.06
    assert code == 0 and "expected now $185.06" in out
    code, out, _ = run(capsys, "cash", "count", "185", "--json")
    assert json.loads(out)["difference"] == "-0.06"
    code, out, _ = run(capsys, "cash", "status")
    assert code == 0 and "$185.06" in out
    code, out, _ = run(capsys, "report", "x", "--json")
    data = json.loads(out)
    assert code == 0 and (data["gross"], data["refunds"], data["net"]) == ("80.84", "10.28",
                                                                             "70.56")
    assert data["by_payment"] == {"cash": "80.84"} and data["count"] == "1"
    assert data["tax"] == "10.35" and data["discounts"] == "0.00"
    code, out, _ = run(capsys, "report", "x")
    assert code == 0 and "X REPORT" in out and "Net                                 $70.56" in out
    code, out, _ = run(capsys, "report", "z")
    assert code == 0 and "Z REPORT" in out
    code, _, err = run(capsys, "report", "z")
    assert code == 2 and "already run" in err
    code, out, _ = run(capsys, "report", "z", "--reprint", "--json")
    assert code == 0 and json.loads(out)["net"] == "70.56"
    code, _, err = run(capsys, "cash", "in", "1", "--reason", "late")
    assert code == 2 and "closed" in err


@pytest.mark.parametrize(("args", "reason"), [
    (["cash", "open", "abc"], "not an amount"),
    (["cash", "open", "-5"], "cannot be negative"),
    (["cash", "out", "0", "--reason", "x"], "more than zero"),
    (["cash", "in", "5", "--reason", ""], "Say why"),
    (["cash", "count", "1e999999"], "not an amount"),
    (["cash", "count", "99999999999"], "too large"),
    (["report", "x", "--date", "yesterday"], "is not a date"),
    (["report", "x", "--reprint"], "--reprint is for Z reports"),
    (["report", "z", "--reprint", "--date", "2020-01-01"], "No Z report"),
])
def test_cash_report_bad_input(capsys: pytest.CaptureFixture[str], args: list[str],
                               reason: str) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2 and reason in err


def test_cash_open_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "cash", "open", "10")[0] == 0
    code, _, err = run(capsys, "cash", "open", "10")
    assert code == 2 and "already open" in err


def test_cashier_commands(monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    code, out, _ = run(capsys, "cashier", "add", "Ann", "--pin-stdin")
    assert code == 0 and "Cashier Ann added." in out
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "1357")
    code, out, _ = run(capsys, "cashier", "add", "Bob")
    assert code == 0
    code, out, _ = run(capsys, "cashier", "list", "--json")
    assert [c["name"] for c in json.loads(out)] == ["Ann", "Bob"]
    code, out, _ = run(capsys, "cashier", "list")
    assert "Ann" in out and "2468" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("2468\n"))
    code, out, _ = run(capsys, "cashier", "check", "ann", "--pin-stdin")
    assert code == 0 and "PIN accepted: Ann" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("0000\n"))
    code, _, err = run(capsys, "cashier", "check", "ann", "--pin-stdin")
    assert code == 2 and "Wrong PIN for Ann (2 tries left)" in err


@pytest.mark.parametrize(("args", "stdin", "reason"), [
    (["cashier", "add", "Ann", "--pin-stdin"], "12\n", "4 to 12 digits"),
    (["cashier", "add", "Ann", "--pin-stdin"], "", "No PIN"),
    (["cashier", "add", "!bad", "--pin-stdin"], "1234\n", "not a cashier name"),
    (["cashier", "check", "Nobody", "--pin-stdin"], "1234\n", "no cashier named 'Nobody'"),
])
def test_cashier_bad_input(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                           args: list[str], stdin: str, reason: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code, _, err = run(capsys, *args)
    assert code == 2 and reason in err


def test_cashier_pins_differ(monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["1234", "4321"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = run(capsys, "cashier", "add", "Ann")
    assert code == 2 and "differ" in err


def test_report_other_lane(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sell(tmp_path, capsys)
    code, out, _ = run(capsys, "report", "x", "--lane", "L9", "--json")
    assert code == 0 and json.loads(out)["count"] == "0" and json.loads(out)["lane"] == "L9"
    code, _, err = run(capsys, "report", "x", "--lane", "bad lane!")
    assert code == 2 and "not a lane name" in err


def test_refund_and_report_print_on_the_file_printer(tmp_path: Path, config_file: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    slips = tmp_path / "slips.txt"
    config_file.write_text(f'[printer]\nkind = "file"\npath = "{slips}"\nwidth = 32\n')
    number = sell(tmp_path, capsys)
    code, _, _ = run(capsys, "orders", "refund", number, "--line", "BANANA:1", "--reason",
                     "bruised", "--print")
    assert code == 0 and "REFUND T1-000001-R1" in slips.read_text()
    assert max(len(line) for line in slips.read_text().splitlines()) <= 32
    code, _, _ = run(capsys, "report", "z", "--print")
    assert code == 0 and "Z REPORT (day closed)" in slips.read_text()


def test_void(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    number = sell(tmp_path, capsys)
    run(capsys, "orders", "refund", number, "--line", "MUG:1", "--reason", "chipped")
    code, out, _ = run(capsys, "orders", "void", number, "--reason", "wrong order", "--json")
    data = json.loads(out)
    # what was left: 80.84 − 10.28 = 70.56, back in cash as the sale was paid
    assert code == 0 and data["amount"] == "70.56" and data["method"] == "cash" and data["full"]
    code, _, err = run(capsys, "orders", "void", number, "--reason", "again")
    assert code == 2 and "already canceled or fully refunded" in err
