"""`pos orders print|refund|void`: receipts (and reprints) and refunds from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pos.errors import InputError
from pos.models import REFUND_METHODS

if TYPE_CHECKING:
    from pos.printing import PrintJob


def add_order_actions(orders: Any, add_common: Any) -> None:
    p = orders.add_parser("print", help="print or reprint a receipt (or a refund slip)")
    add_common(p)
    p.add_argument("number", help="order number, or refund number (<order>-R<n>)")
    p.add_argument("--format", choices=["text", "html", "pdf", "escpos"],
                   help="write this format (to -o FILE or standard output) instead of sending "
                        "the receipt to the configured printer")
    p.add_argument("-o", "--output", type=Path, help="write to FILE")
    p = orders.add_parser("refund", help="refund a placed order, wholly or some lines")
    add_common(p)
    p.add_argument("number")
    p.add_argument("--line", action="append", default=[], metavar="CODE:QTY",
                   help="refund QTY of the line with this SKU/barcode/product id (repeatable; "
                        "none: the whole order)")
    p.add_argument("--reason", required=True)
    p.add_argument("--method", default="cash", choices=REFUND_METHODS)
    p.add_argument("--json", action="store_true")
    p.add_argument("--print", action="store_true", help="also print the refund slip")
    p = orders.add_parser("void", help="refund a whole order the way it was paid")
    add_common(p)
    p.add_argument("number")
    p.add_argument("--reason", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--print", action="store_true", help="also print the refund slip")


def parse_lines(specs: list[str]) -> dict[str, int]:
    """`["MUG:2", "BANANA:1"]` → {"MUG": 2, "BANANA": 1} (repeated codes add up)."""
    out: dict[str, int] = {}
    for spec in specs:
        code, sep, qty = spec.rpartition(":")
        if not sep or not code.strip():
            raise InputError(message=f"--line {spec!r}: expected CODE:QTY.", hint="e.g. MUG:1")
        try:
            number = int(qty)
        except ValueError:
            raise InputError(message=f"--line {spec!r}: {qty!r} is not a whole number.") from None
        if number < 1:
            raise InputError(message=f"--line {spec!r}: the quantity must be at least 1.")
        out[code.strip()] = out.get(code.strip(), 0) + number
    return out


def job_for(session: Any, number: str) -> PrintJob:
    return session.receipt_job(number)  # type: ignore[no-any-return]


def _write(data: str | bytes, output: Path | None) -> None:
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        return
    try:
        if isinstance(data, bytes):
            output.write_bytes(data)
        else:
            output.write_text(data, encoding="utf-8")
    except OSError as exc:
        raise InputError(message=f"Cannot write {output}: {exc.strerror}") from None
    print(f"Wrote {output}.", file=sys.stderr)


def run_print(session: Any, job: PrintJob, fmt: str | None, output: Path | None) -> int:
    from pos.printing import escpos_bytes, print_job, render_html, render_pdf

    settings = session.settings.printer
    if fmt is None and output is None:
        where = print_job(job, settings)
        if where != "standard output":
            print(f"Printed {job.title} on {where}.")
        return 0
    fmt = fmt or "text"
    if fmt == "html":
        _write(render_html(job), output)
    elif fmt == "pdf":
        _write(render_pdf(job), output)
    elif fmt == "escpos":
        _write(escpos_bytes(job), output)
    else:
        _write(job.text(settings.width), output)
    return 0


def run(session: Any, args: argparse.Namespace) -> int:
    if args.orders_command == "print":
        return run_print(session, job_for(session, args.number), args.format, args.output)
    if args.orders_command == "void":
        refund = session.refunds.void(args.number, reason=args.reason)
    else:
        refund = session.refunds.refund(args.number, parse_lines(args.line) or None,
                                        reason=args.reason, method=args.method)
    if args.json:
        from pos.refunds import refund_json

        print(json.dumps(refund_json(refund), indent=2))
    else:
        job = job_for(session, refund.number)
        sys.stdout.write(job.text(session.settings.printer.width))
    if args.print:
        from pos.printing import print_job

        print_job(job_for(session, refund.number), session.settings.printer)
    return 0
