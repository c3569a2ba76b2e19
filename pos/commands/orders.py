"""`pos orders list|show|remote` (and the counter actions print|refund|void, from
`pos.commands.counter`): the local orders, and the orders as the profile's backend has them."""

from __future__ import annotations

import argparse
from typing import Any

from pos.commands import counter, print_json


def add_parser(sub: Any, add_common: Any) -> None:
    orders = sub.add_parser("orders", help="local orders").add_subparsers(
        dest="orders_command", metavar="ACTION", required=True)
    p = orders.add_parser("list", help="list orders, newest first")
    add_common(p)
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--search", default="", help="number, customer, product name or SKU")
    p.add_argument("--status", choices=["queued", "sending", "placed", "unknown", "failed",
                                        "canceled"])
    p.add_argument("--json", action="store_true")
    p = orders.add_parser("remote", help="orders as the profile's backend has them")
    add_common(p)
    p.add_argument("--status", help="only orders in this backend status")
    p.add_argument("--customer-id", help="only this customer's orders (where supported)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p = orders.add_parser("show", help="one order, with its receipt and history")
    add_common(p)
    p.add_argument("number")
    p.add_argument("--json", action="store_true")
    counter.add_order_actions(orders, add_common)


def run(session: Any, args: argparse.Namespace) -> int:
    from pos.money import format_money
    from pos.sale_file import order_json

    if args.orders_command in ("print", "refund", "void"):
        return counter.run(session, args)
    if args.orders_command == "remote":
        return _remote(session, args)
    if args.orders_command == "list":
        orders = session.ledger.orders.list(limit=args.limit, search=args.search,
                                            status=args.status)
        if args.json:
            print_json([order_json(o) for o in orders])
            return 0
        if not orders:
            print("No orders yet.")
        for o in orders:
            print(f"{o.number:<16} {o.created_at.astimezone():%Y-%m-%d %H:%M}  {o.status.value:<8}"
                  f" {format_money(o.totals.total, o.currency):>12}  {o.customer.name}")
        return 0
    order = session.ledger.orders.get(args.number)
    if args.json:
        data = order_json(order)
        data["outbox"] = [e.__dict__ for e in session.ledger.outbox.for_order(order.number)]
        data["events"] = [{"at": a, "kind": k, "detail": d}
                          for a, k, d in session.ledger.orders.events(order.number)]
        print_json(data)
        return 0
    from pos.receipt import render_receipt

    print(render_receipt(order, session.settings.shop,
                         refunds=session.refunds.refunds_of(order.number)), end="")
    print(f"Status: {order.status.value}" + (f", remote id {order.remote_id}"
                                              if order.remote_id else ""))
    if order.last_error:
        print(f"Last error: {order.last_error}")
    for at, kind, detail in session.ledger.orders.events(order.number):
        print(f"  {at[:19]}  {kind:<10} {detail}")
    return 0


def _remote(session: Any, args: argparse.Namespace) -> int:
    filters = {k: str(v) for k, v in (("status", args.status),
                                      ("customer_id", args.customer_id),
                                      ("limit", args.limit)) if v}
    remote = session.backend.list_orders(**filters)[: args.limit]
    if args.json:
        print_json([{"remote_id": o.remote_id, "number": o.number, "status": o.status,
                      "total": None if o.total is None else str(o.total),
                      "currency": o.currency, "customer": o.customer,
                      "created_at": o.created_at.isoformat() if o.created_at else None}
                     for o in remote])
        return 0
    if not remote:
        print(f"{session.profile} has no orders to show.")
    for o in remote:
        print(f"{o.remote_id:<12} {o.number or '-':<14} {o.status:<12} "
              f"{o.total_text('USD'):>12}  {o.customer}")
    return 0
