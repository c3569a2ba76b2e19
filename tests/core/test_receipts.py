"""Receipts: one template as text, ESC/POS (python-escpos Dummy printer records the bytes) and
HTML; printer kinds, a missing library and an unreachable printer give a clear PrinterError."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from pos.config import PrinterSettings, ShopSettings
from pos.printing import (
    PrinterError,
    PrintJob,
    _escpos,
    escpos_bytes,
    open_printer,
    print_job,
    render_html,
    write_escpos,
)
from pos.receipt import receipt_lines, render_receipt, render_refund
from pos.session import PosSession
from tests.core.counter_helpers import sale_a, sale_d

Dummy = _escpos().Dummy  # through pos.printing: python-escpos's logging setup is undone

SHOP = ShopSettings(name="Corner Shop", address="2 High St", tax_id="GB123456789")


def test_text_receipt_has_tax_id_taxes_change_and_code(session: PosSession) -> None:
    order = sale_a(session)
    text = render_receipt(order, SHOP)
    assert "Tax id GB123456789" in text
    assert "Sales Tax (8.25%)                    $2.35" in text
    assert "VAT (20%) incl.                      $8.00" in text
    assert "Total                               $80.84" in text
    assert "  Change                            $19.16" in text
    assert text.rstrip().endswith("*T1-000001*")
    refund = session.refunds.refund(order.number, {"MUG": 1}, reason="chipped")
    slip = render_refund(refund, SHOP)
    assert "REFUND T1-000001-R1" in slip and "Refund total                       $-10.28" in slip
    assert "Reason: chipped" in slip
    again = render_receipt(session.ledger.orders.get(order.number), SHOP,
                           refunds=session.refunds.refunds_of(order.number))
    assert "Refund T1-000001-R1                $-10.28" in again


def test_a_long_refund_note_is_wrapped_to_the_slip(session: PosSession) -> None:
    order = sale_d(session)
    refund = session.refunds.refund(order.number, reason="all")
    assert "Capped at" in refund.note and "back on gift voucher GIFT10" in refund.note
    slip = render_refund(refund, SHOP).splitlines()
    assert all(len(line) <= 42 for line in slip)
    assert " ".join(slip).count("GIFT10") == 1


def test_escpos_job_on_dummy_printer(session: PosSession) -> None:
    order = sale_a(session)
    job = PrintJob(receipt_lines(order, SHOP), order.number)
    printer = Dummy()
    write_escpos(printer, job)
    out: bytes = printer.output
    assert b"Corner Shop" in out and b"Tax id GB123456789" in out
    assert b"Total                               $80.84\n" in out
    assert b"\x1dkI" in out and b"{BT1-000001" in out  # GS k: hardware CODE128 barcode
    assert b"\x1d(k" in out and b"1P0T1-000001" in out  # GS ( k: native QR code, its data
    assert out.endswith(b"\x1dV\x00")  # GS V 0: full cut, last
    assert escpos_bytes(job) == out


def test_html(session: PosSession) -> None:
    order = sale_a(session)
    page = render_html(PrintJob(receipt_lines(order, SHOP), order.number, "Receipt <1>"))
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert "Receipt &lt;1&gt;" in page and "Wool Scarf (imported, VAT incl.)" in page


def test_file_and_escpos_file_printers(tmp_path: Path) -> None:
    job = PrintJob(["hello", "world"], "T1-000007")
    text_file = tmp_path / "receipts.txt"
    assert print_job(job, PrinterSettings(kind="file", path=str(text_file))) == str(text_file)
    assert text_file.read_text().startswith("hello\nworld\n") and "*T1-000007*" in \
        text_file.read_text()
    raw = tmp_path / "lp0"
    raw.touch()
    print_job(job, PrinterSettings(kind="escpos-file", path=str(raw)))
    assert raw.read_bytes().endswith(b"\x1dV\x00") and b"hello\n" in raw.read_bytes()


def test_unreachable_network_printer() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PrinterError, match=f"127.0.0.1:{port} cannot be reached"):
        print_job(PrintJob(["x"]), PrinterSettings(kind="network", host="127.0.0.1", port=port))


def test_missing_library_and_bad_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from pos.errors import ConfigError

    with pytest.raises(ConfigError, match="needs vendor_id"):
        open_printer(PrinterSettings(kind="usb", vendor_id="zz"))
    with pytest.raises(ConfigError, match="Unknown printer kind"):
        open_printer(PrinterSettings(kind="parallel"))
    monkeypatch.setitem(sys.modules, "escpos.printer", None)
    with pytest.raises(PrinterError, match="python-escpos is not installed"):
        escpos_bytes(PrintJob(["x"]))


def test_session_print_and_reprint(session: PosSession, tmp_path: Path) -> None:
    out = tmp_path / "printer.txt"
    session.settings.printer.kind, session.settings.printer.path = "file", str(out)
    order = sale_a(session)
    assert session.print_receipt(order.number) == str(out)
    assert session.print_receipt(order.number) == str(out)  # reprint
    assert out.read_text().count("*T1-000001*") == 2
    session.print_report(session.reports.x_report().to_dict())
    assert "X REPORT (so far)" in out.read_text()


def test_pdf(session: PosSession, monkeypatch: pytest.MonkeyPatch) -> None:
    from pos.printing import render_pdf

    order = sale_a(session)
    pdf = render_pdf(PrintJob([*receipt_lines(order, SHOP), "96.66€ …"], order.number))
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    monkeypatch.setitem(sys.modules, "fpdf", None)
    with pytest.raises(PrinterError, match="fpdf2 is not installed"):
        render_pdf(PrintJob(["x"]))


def test_escpos_import_leaves_logging_alone() -> None:
    """python-escpos calls logging.basicConfig() on import; its stderr handler must not stay."""
    import importlib
    import logging

    for name in [m for m in sys.modules if m == "escpos" or m.startswith("escpos.")]:
        del sys.modules[name]
    root = logging.getLogger()
    saved = list(root.handlers)
    for handler in saved:  # pytest's capture handlers would make basicConfig a no-op
        root.removeHandler(handler)
    try:
        _escpos()
        assert root.handlers == []
    finally:
        for handler in saved:
            root.addHandler(handler)
    importlib.import_module("escpos.printer")
