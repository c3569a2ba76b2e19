"""`pos cashier add|list|check`: named cashiers with a PIN (only a salted hash is stored)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from pos.errors import InputError


def add_parser(sub: Any, add_common: Any) -> None:
    cashier = sub.add_parser("cashier", help="cashiers and their PINs").add_subparsers(
        dest="cashier_command", metavar="ACTION", required=True)
    p = cashier.add_parser("add", help="add a cashier (PIN asked twice, or from stdin)")
    add_common(p)
    p.add_argument("name")
    p.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    p = cashier.add_parser("list", help="the cashiers")
    add_common(p)
    p.add_argument("--json", action="store_true")
    p = cashier.add_parser("check", help="check a cashier's PIN (as opening the till does)")
    add_common(p)
    p.add_argument("name")
    p.add_argument("--pin-stdin", action="store_true")


def read_pin(from_stdin: bool, confirm: bool) -> str:
    if from_stdin:
        pin = sys.stdin.readline().strip()
        if not pin:
            raise InputError(message="No PIN on standard input.")
        return pin
    try:
        pin = getpass.getpass("PIN: ")
        if confirm and getpass.getpass("PIN again: ") != pin:
            raise InputError(message="The two PINs differ.")
    except EOFError:
        raise InputError(message="No PIN given.", hint="Use --pin-stdin to pipe it in.") from None
    return pin


def run(session: Any, args: argparse.Namespace) -> int:
    cashiers = session.cashiers
    if args.cashier_command == "list":
        people = cashiers.list()
        if args.json:
            print(json.dumps([c.__dict__ for c in people], indent=2))
        elif not people:
            print("No cashiers yet: `pos cashier add NAME`.")
        for c in people if not args.json else []:
            print(f"{c.name:<24} since {c.created_at[:10]}")
        return 0
    if args.cashier_command == "add":
        added = cashiers.add(args.name, read_pin(args.pin_stdin, confirm=True))
        print(f"Cashier {added.name} added.")
        return 0
    opened = session.open_till(args.name, read_pin(args.pin_stdin, confirm=False))
    print(f"PIN accepted: {opened.name} can open the till.")
    return 0
