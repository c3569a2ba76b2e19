"""`pos report x|z`: end-of-day reports (X: so far; Z: closes the day, once)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pos.business_day import parse_day


def add_parser(sub: Any, add_common: Any) -> None:
    p = sub.add_parser("report", help="end of day: x (so far) or z (close the day)")
    add_common(p)
    p.add_argument("kind", choices=["x", "z"])
    p.add_argument("--date", help="business day YYYY-MM-DD (default: today)")
    p.add_argument("--lane", help="another lane's report (default: this lane)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--print", action="store_true", help="also send it to the receipt printer")
    p.add_argument("--reprint", action="store_true",
                   help="z only: show the stored Z report again (does not close anything)")


def run(session: Any, args: argparse.Namespace) -> int:
    from pos.printing import print_job, report_job
    from pos.receipt import render_report

    day = parse_day(args.date)
    reports = session.reports
    if args.lane:
        from pos.config import LANE_PATTERN
        from pos.errors import InputError

        if not LANE_PATTERN.match(args.lane):
            raise InputError(message=f"{args.lane!r} is not a lane name.")
        reports.lane = args.lane
    if args.reprint:
        if args.kind != "z":
            from pos.errors import InputError

            raise InputError(message="--reprint is for Z reports.")
        data = reports.stored_z(day)
    else:
        report = reports.z_report(day) if args.kind == "z" else reports.x_report(day)
        data = report.to_dict()
    shop, width = session.settings.shop, session.settings.printer.width
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(render_report(data, shop, width), end="")
    if args.print:
        print_job(report_job(data, shop, width), session.settings.printer)
    return 0
