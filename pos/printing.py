"""Send receipt lines somewhere: a text file, an ESC/POS printer (python-escpos) or HTML.

The lines come from `pos.receipt` (one template); this module only decides how a medium shows
them and the number's barcode/QR code. python-escpos is an optional extra (`pip install
'pos[printer]'`), imported only when an ESC/POS job is built, so the counter runs without it.

Printer kinds (`[printer]` in the config file, see `PrinterSettings`):
* `file`        — plain text appended to `path` (empty path: standard output)
* `escpos-file` — ESC/POS bytes written to `path` (e.g. `/dev/usb/lp0`)
* `usb`         — `vendor_id`/`product_id` in hex
* `network`     — `host` and `port` (9100)
* `serial`      — device in `path`

PDF (`render_pdf`) uses fpdf2, another optional extra (`pip install 'pos[pdf]'`): a page as
wide as an 80 mm till roll, the lines in Courier, the number as a QR code.
"""

from __future__ import annotations

import html
import io
import logging
import sys
from collections.abc import Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pos.config import PrinterSettings, ShopSettings
from pos.errors import ConfigError, NotFoundError, PosError
from pos.receipt import code_hint, receipt_lines, refund_lines, report_lines
from pos.refunds import RefundService
from pos.store import Ledger

PRINTER_KINDS = ("file", "escpos-file", "usb", "network", "serial")


class PrinterError(PosError):
    """No printer library, or the printer cannot be reached."""

    title = "Printer problem"


@dataclass(frozen=True)
class PrintJob:
    """What to print: the lines, and the number to draw as a barcode and QR code ("": none)."""

    lines: Sequence[str]
    code: str = ""
    title: str = "Receipt"

    def text(self, width: int = 42) -> str:
        tail = [code_hint(self.code, width)] if self.code else []
        return "\n".join([*self.lines, *tail]) + "\n"


def receipt_job(ledger: Ledger, refunds: RefundService, number: str,
                shop: ShopSettings | None = None, width: int = 42) -> PrintJob:
    """The job for a receipt (with the order's refunds) or, for `<order>-R<n>`, a refund slip."""
    try:
        order = ledger.orders.get(number)
    except NotFoundError:
        try:
            refund = refunds.get(number)
        except NotFoundError:
            raise NotFoundError(message=f"There is no order or refund {number}.",
                                hint="`pos orders list` shows the numbers.") from None
        return PrintJob(refund_lines(refund, shop, width), refund.number, f"Refund {number}")
    return PrintJob(receipt_lines(order, shop, width, refunds.refunds_of(order.number)),
                    order.number, f"Receipt {number}")


def report_job(report: Mapping[str, Any], shop: ShopSettings | None = None,
               width: int = 42) -> PrintJob:
    """The job for an X/Z report (`DayReport.to_dict()` or a stored Z report)."""
    return PrintJob(report_lines(report, shop, width), title=f"{str(report['kind']).upper()} report")


# --- HTML ------------------------------------------------------------------------------------


def render_html(job: PrintJob) -> str:
    """A self-contained HTML page: the receipt in a monospaced block, the number as a QR code."""
    body = html.escape("\n".join(job.lines))
    qr = ""
    if job.code:
        import segno

        svg = segno.make(job.code, error="m").svg_inline(scale=3)
        qr = (f'<div class="code">{svg}<div>{html.escape(job.code)}</div></div>')
    return (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(job.title)}</title>"
        "<style>body{font-family:monospace;margin:2em}pre{font-size:14px}"
        ".code{text-align:left;margin-top:1em}</style></head>\n"
        f"<body><pre>{body}</pre>{qr}</body></html>\n"
    )


# --- PDF -------------------------------------------------------------------------------------

_PDF_REPLACE = {"…": "...", "€": "EUR", "₿": "BTC", "¥": "JPY", "–": "-", "—": "-", "→": "->"}


def render_pdf(job: PrintJob) -> bytes:
    """An 80 mm wide PDF of the receipt (fpdf2's core Courier font: Latin-1 text)."""
    try:
        from fpdf import FPDF
    except ImportError:
        raise PrinterError(message="fpdf2 is not installed, so no PDF.",
                           hint="pip install 'pos[pdf]', or use --format html.") from None
    import warnings

    import segno

    line_h, qr_mm = 3.6, 30.0
    height = 10 + line_h * len(job.lines) + (qr_mm + 8 if job.code else 0)
    pdf = FPDF(unit="mm", format=(80, max(height, 40)))
    pdf.set_margins(4, 4, 4)
    pdf.set_auto_page_break(False)
    pdf.set_title(job.title)
    pdf.add_page()
    pdf.set_font("Courier", size=7.5)
    for line in job.lines:
        for bad, good in _PDF_REPLACE.items():
            line = line.replace(bad, good)
        pdf.cell(0, line_h, line.encode("latin-1", "replace").decode("latin-1"),
                 new_x="LMARGIN", new_y="NEXT")
    if job.code:
        svg = io.BytesIO()
        segno.make(job.code, error="m").save(svg, kind="svg", scale=3)
        svg.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # segno's SVG has width/height, no viewBox
            pdf.image(svg, x=(80 - qr_mm) / 2, w=qr_mm)
        pdf.cell(0, line_h, job.code, align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- ESC/POS ---------------------------------------------------------------------------------


def _escpos() -> Any:
    """`escpos.printer`, imported on first use.

    python-escpos calls `logging.basicConfig()` when imported, which would print every log line
    of this program on stderr (over the counter's screen): the handler it adds is taken away.
    """
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        import escpos.printer
    except ImportError:
        raise PrinterError(message="python-escpos is not installed.",
                           hint="pip install 'pos[printer]' (or python-escpos).") from None
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
    return escpos.printer


def write_escpos(printer: Any, job: PrintJob) -> None:
    """The job as ESC/POS commands on a python-escpos printer: lines, barcode, QR, cut.

    The barcode (CODE128) and the QR code use the printer's own commands (no images), and
    python-escpos's chatter on standard output is kept off ours.
    """
    with redirect_stdout(io.StringIO()):
        printer.set(align="left")
        for line in job.lines:
            printer.text(line + "\n")
        if job.code:
            printer.set(align="center")
            printer.barcode("{B" + job.code, "CODE128", function_type="B", pos="BELOW")
            printer.qr(job.code, native=True, size=4)
            printer.set(align="left")
        printer.cut()


def escpos_bytes(job: PrintJob) -> bytes:
    """The ESC/POS job as bytes (for `-o FILE`, and tests), through escpos's Dummy printer."""
    dummy = _escpos().Dummy()
    write_escpos(dummy, job)
    output: bytes = dummy.output
    return output


def open_printer(settings: PrinterSettings) -> Any:
    """A python-escpos printer for the settings; `PrinterError` when it cannot be opened."""
    printers = _escpos()
    kind = settings.kind
    try:
        if kind == "escpos-file":
            if not settings.path:
                raise ConfigError(message="[printer] kind = \"escpos-file\" needs a path.")
            return printers.File(devfile=settings.path)
        if kind == "network":
            if not settings.host:
                raise ConfigError(message="[printer] kind = \"network\" needs a host.")
            return printers.Network(host=settings.host, port=settings.port, timeout=10)
        if kind == "serial":
            if not settings.path:
                raise ConfigError(message="[printer] kind = \"serial\" needs a path (device).")
            return printers.Serial(devfile=settings.path)
        if kind == "usb":
            try:
                vendor, product = int(settings.vendor_id, 16), int(settings.product_id, 16)
            except ValueError:
                raise ConfigError(message="[printer] kind = \"usb\" needs vendor_id and "
                                          "product_id in hex, e.g. \"04b8\".") from None
            return printers.Usb(vendor, product)
    except PosError:
        raise
    except Exception as exc:  # python-escpos raises many kinds (OSError, USBNotFoundError ...)
        raise _unreachable(settings, exc) from None
    raise ConfigError(message=f"Unknown printer kind {kind!r}.",
                      hint="One of: " + ", ".join(PRINTER_KINDS) + ".")


def _unreachable(settings: PrinterSettings, exc: BaseException) -> PrinterError:
    where = {"network": f"{settings.host}:{settings.port}",
             "usb": f"USB {settings.vendor_id}:{settings.product_id}"}.get(settings.kind,
                                                                          settings.path)
    return PrinterError(message=f"The {settings.kind} printer at {where} cannot be reached "
                                f"({type(exc).__name__}: {exc}).",
                        hint="Check it is on, connected and has paper; or print to a file.")


def print_job(job: PrintJob, settings: PrinterSettings) -> str:
    """Print on the configured printer. Returns where it went (for a status line)."""
    if settings.kind == "file":
        text = job.text(settings.width)
        if not settings.path:
            sys.stdout.write(text)
            return "standard output"
        try:
            with Path(settings.path).expanduser().open("a", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise _unreachable(settings, exc) from None
        return settings.path
    printer = open_printer(settings)
    try:
        write_escpos(printer, job)
        close = getattr(printer, "close", None)
        if callable(close):
            close()
    except PosError:
        raise
    except Exception as exc:
        raise _unreachable(settings, exc) from None
    return settings.kind
