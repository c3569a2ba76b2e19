"""`pos voucherify ...`: import (back-fill), export to CSV, list and show orders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from pos.backends.voucherify.settings import (
    EXPORT_ORDERS,
    LIST_ORDERS,
    MAX_IMPORT_BATCH,
    STATUSES,
)
from pos.errors import InputError

if TYPE_CHECKING:
    from pos.backends.voucherify import VoucherifyBackend


def build_cli(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="vf_command", metavar="ACTION", required=True)
    p = sub.add_parser("import", help="back-fill local orders (resumable)")
    p.add_argument("--from", dest="since", required=True, metavar="DATE",
                   help="first day to import (YYYY-MM-DD or ISO date-time)")
    p.add_argument("--batch-size", type=int, default=MAX_IMPORT_BATCH,
                   help=f"orders per import call (1 to {MAX_IMPORT_BATCH})")
    p.add_argument("--restart", action="store_true",
                   help="forget the progress of an earlier run and import everything again")
    p = sub.add_parser("export", help="export Voucherify's orders to a CSV file")
    p.add_argument("--fields", nargs="+", default=[],
                   help="fields (comma or space separated), e.g. id,source_id,status,amount")
    p.add_argument("--order", choices=EXPORT_ORDERS, default=None,
                   help="sort, e.g. --order=-created_at (write = before a leading dash)")
    p.add_argument("--status", nargs="+", choices=STATUSES, default=[],
                   help="only orders with these statuses")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.csv")
    p = sub.add_parser("orders", help="list orders held by Voucherify")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--page", type=int, default=None)
    p.add_argument("--order", choices=LIST_ORDERS, default=None,
                   help="sort, e.g. --order=-created_at")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("order", help="one order, by Voucherify id or local number")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")


def run_cli(sink: VoucherifyBackend, args: argparse.Namespace) -> int:
    command = args.vf_command
    if command == "import":
        return _cli_import(sink, args)
    if command == "export":
        fields = [f.strip() for chunk in args.fields for f in chunk.split(",") if f.strip()]
        size = sink.export_orders(fields, args.order, args.output, args.status)
        print(f"Exported Voucherify orders to {args.output} ({size} bytes).")
        return 0
    if command == "orders":
        filters = {"limit": str(args.limit)}
        if args.page is not None:
            filters["page"] = str(args.page)
        if args.order:
            filters["order"] = args.order
        orders = sink.list_orders(**filters)
        if args.json:
            print(json.dumps([dict(o.raw) for o in orders], indent=2, default=str))
        else:
            for o in orders:
                total = f"{o.total:.2f}" if o.total is not None else ""
                print(f"{o.remote_id:<28} {o.number or '':<14} {o.status:<10} {total:>10}")
            print(f"{len(orders)} order(s)")
        return 0
    if command == "order":
        order = sink.get_order(args.id)
        if args.json:
            print(json.dumps(dict(order.raw), indent=2, default=str))
        else:
            raw = order.raw
            print(f"{order.remote_id}  {order.number or ''}  {order.status}")
            print(f"amount {raw.get('amount')}  discount {raw.get('discount_amount', 0)}  "
                  f"total {raw.get('total_amount', raw.get('amount'))} (cents)")
            for item in raw.get("items") or []:
                name = (item.get("product") or {}).get("name", "")
                print(f"  {item.get('quantity', '')} × {item.get('source_id', '')} {name} "
                      f"{item.get('amount', '')}")
        return 0
    raise InputError(message=f"Unknown voucherify command {command!r}.")


def _cli_import(sink: VoucherifyBackend, args: argparse.Namespace) -> int:
    since = str(args.since)
    totals = sink.import_orders(since, args.batch_size, args.restart)
    print(f"Imported {totals['imported']} of {totals['orders']} order(s) since {since} in "
          f"{totals['batches']} batch(es) ({totals['skipped_batches']} already done); "
          f"{totals['failed']} failed.")
    return 4 if totals["failed"] else 0
