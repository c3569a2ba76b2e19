"""`pos cash open|in|out|count|status`: the lane's cash drawer."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from pos.money import format_money

if TYPE_CHECKING:
    from pos.cash import CashSummary


def add_parser(sub: Any, add_common: Any) -> None:
    cash = sub.add_parser("cash", help="the cash drawer: float, cash in/out, count").add_subparsers(
        dest="cash_command", metavar="ACTION", required=True)
    p = cash.add_parser("open", help="open the drawer with its float (once a day)")
    add_common(p)
    p.add_argument("amount")
    for name, text in (("in", "put cash into the drawer"), ("out", "take cash out of it")):
        p = cash.add_parser(name, help=text)
        add_common(p)
        p.add_argument("amount")
        p.add_argument("--reason", required=True)
    p = cash.add_parser("count", help="record the counted cash; shows expected vs counted")
    add_common(p)
    p.add_argument("amount")
    p.add_argument("--json", action="store_true")
    p = cash.add_parser("status", help="today's drawer: expected cash and movements")
    add_common(p)
    p.add_argument("--json", action="store_true")


def print_summary(summary: CashSummary) -> None:
    rows = [("Opening float", summary.opening_float), ("Cash sales", summary.cash_sales),
            ("Cash refunds", -summary.cash_refunds), ("Cash in", summary.cash_in),
            ("Cash out", -summary.cash_out), ("Expected", summary.expected),
            ("Counted", summary.counted), ("Difference", summary.difference)]
    print(f"Lane {summary.lane}, {summary.business_day}")
    for label, value in rows:
        print(f"  {label:<14} {'-' if value is None else format_money(value):>12}")


def run(session: Any, args: argparse.Namespace) -> int:
    drawer = session.cash
    command = args.cash_command
    if command in ("count", "status"):
        summary = drawer.count(args.amount) if command == "count" else drawer.summary()
        if args.json:
            print(json.dumps(summary.to_dict(), indent=2))
        else:
            print_summary(summary)
        return 0
    if command == "open":
        move = drawer.open(args.amount)
    elif command == "in":
        move = drawer.cash_in(args.amount, args.reason)
    else:
        move = drawer.cash_out(args.amount, args.reason)
    label = {"float": "Drawer opened with", "in": "Cash in", "out": "Cash out"}[move.kind]
    print(f"{label} {format_money(move.amount)}" + (f" ({move.reason})" if command != "open"
                                                    else "") + f"; expected now "
          f"{format_money(drawer.summary().expected)}.")
    return 0
