"""`pos pycommerce ...`: tenants, categories and remote orders on the command line."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pos.backends.pycommerce import PyCommerceBackend


def build_cli(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="pc_command", metavar="ACTION", required=True)
    p = sub.add_parser("tenants", help="list the store's tenants (slug, id, name)")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("categories", help="list the tenant's categories")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("orders", help="list the tenant's remote orders")
    p.add_argument("--status", default="")
    p.add_argument("--customer-id", default="")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser("order", help="one remote order")
    p.add_argument("remote_id")
    p.add_argument("--json", action="store_true")


def run_cli(shop: PyCommerceBackend, args: argparse.Namespace) -> int:
    from pos.money import format_money

    command = args.pc_command
    if command == "tenants":
        tenants = shop.tenants()
        if args.json:
            print(json.dumps(tenants, indent=2, ensure_ascii=False))
            return 0
        for t in tenants:
            mark = "*" if t.get("slug") == shop.cfg.tenant else " "
            print(f"{mark} {t.get('slug', ''):<14} {t.get('id', ''):<38} {t.get('name', '')}"
                  + ("" if t.get("active", True) else "  (inactive)"))
        return 0
    if command == "categories":
        rows = shop.categories()
        if args.json:
            print(json.dumps([{"id": i, "name": n, "parent_id": p} for i, n, p in rows],
                             indent=2))
            return 0
        for cid, name, parent in rows:
            print(f"{cid:<38} {name:<30} {parent or ''}")
        return 0
    orders = ([shop.get_order(args.remote_id)] if command == "order" else
              shop.list_orders(status=args.status, customer_id=args.customer_id))
    if args.json:
        print(json.dumps([{"id": o.remote_id, "number": o.number, "status": o.status,
                           "total": None if o.total is None else str(o.total),
                           "customer": o.customer,
                           "created_at": o.created_at.isoformat() if o.created_at else None}
                          for o in orders], indent=2, ensure_ascii=False))
        return 0
    if not orders:
        print("No remote orders.")
    for o in orders:
        when = o.created_at.strftime("%Y-%m-%d %H:%M") if o.created_at else ""
        total = "" if o.total is None else format_money(o.total, o.currency or "USD")
        print(f"{o.remote_id:<38} {o.number or '':<14} {when:<16} {o.status:<10} "
              f"{total:>12}  {o.customer}")
    return 0
