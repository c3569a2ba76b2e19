"""`pos outbox list|retry|resolve|cancel`: what still has to reach a backend."""

from __future__ import annotations

import argparse
import json
from typing import Any

from pos.outbox_actions import OutboxActions


def add_parser(sub: Any, add_common: Any) -> None:
    outbox = sub.add_parser("outbox", help="sales waiting to reach a backend").add_subparsers(
        dest="outbox_command", metavar="ACTION", required=True)
    p = outbox.add_parser("list", help="open entries (queued, sending, unknown, failed)")
    add_common(p)
    p.add_argument("--json", action="store_true")
    p = outbox.add_parser("retry", help="send an entry again now (unknown ones are checked first)")
    add_common(p)
    p.add_argument("id", type=int)
    p = outbox.add_parser("resolve", help="you checked the store: placed there, or not placed")
    add_common(p)
    p.add_argument("id", type=int)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--placed", metavar="REMOTE_ID", help="the store has it under this id")
    group.add_argument("--not-placed", action="store_true", help="the store does not have it")
    p = outbox.add_parser("cancel", help="stop sending an entry (cancels the sale)")
    add_common(p)
    p.add_argument("id", type=int)
    p.add_argument("--reason", required=True)


def run(session: Any, args: argparse.Namespace) -> int:
    actions = OutboxActions(session.sync)
    if args.outbox_command == "list":
        entries = session.ledger.outbox.open_entries()
        if args.json:
            print(json.dumps([e.__dict__ for e in entries], indent=2))
            return 0
        if not entries:
            print("The outbox is empty: every sale has reached its store.")
        for e in entries:
            print(f"{e.id:>5}  {e.number:<14} {e.kind:<6} → {e.target:<12} {e.state:<8} "
                  f"tries {e.attempts:<3} {e.last_error}")
        return 0
    if args.outbox_command == "retry":
        order = actions.retry(args.id)
    elif args.outbox_command == "resolve":
        order = actions.resolve(args.id, args.placed if not args.not_placed else None)
    else:
        order = actions.cancel(args.id, args.reason)
    print(order.outcome)
    return 0
