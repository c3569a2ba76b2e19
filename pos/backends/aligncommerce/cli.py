"""`pos aligncommerce product create|update`: manage the Align Commerce catalog."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import TYPE_CHECKING

from pos.errors import InputError
from pos.money import format_money, parse_money, round_money

if TYPE_CHECKING:
    from pos.backends.aligncommerce import AlignCommerceBackend


def build_cli(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ac_command", required=True)
    product = sub.add_parser("product", help="create or update a product")
    psub = product.add_subparsers(dest="ac_action", required=True)
    create = psub.add_parser("create", help="create a product")
    create.add_argument("--name", required=True, help="product name")
    create.add_argument("--price", required=True, help="price, e.g. 12.50")
    create.add_argument("--shipping", default="0", help="shipping price (default 0)")
    create.add_argument("--description", default="", help="description")
    update = psub.add_parser("update", help="update a product")
    update.add_argument("product_id", help="the product_id to change")
    update.add_argument("--name", help="new name")
    update.add_argument("--price", help="new price, e.g. 12.50")
    update.add_argument("--shipping", help="new shipping price")
    update.add_argument("--description", help="new description")


def run_cli(shop: AlignCommerceBackend, args: argparse.Namespace) -> int:
    if args.ac_command != "product":
        raise shop._unsupported(f"run {args.ac_command}")
    if args.ac_action == "create":
        product = shop.create_product(
            _name(args.name), _amount(shop, args.price, "price"),
            _amount(shop, args.shipping, "shipping"), args.description)
        verb = "Created"
    else:
        product = shop.update_product(
            args.product_id,
            name=None if args.name is None else _name(args.name),
            price=None if args.price is None else _amount(shop, args.price, "price"),
            shipping=None if args.shipping is None else _amount(shop, args.shipping, "shipping"),
            description=args.description)
        verb = "Updated"
    print(f"{verb} product {product.id}: {product.name} "
          f"{format_money(product.price, shop.cfg.currency)}")
    return 0


def _amount(shop: AlignCommerceBackend, text: str, what: str) -> Decimal:
    try:
        value = parse_money(str(text), shop.cfg.currency)
    except InputError:
        raise InputError(message=f"The {what} {text!r} is not an amount.",
                         hint="Type an amount like 12.50.") from None
    if value < 0:
        raise InputError(message=f"The {what} {text!r} is negative.",
                         hint="Type an amount of zero or more.")
    if round_money(value, shop.cfg.currency) != value:
        raise InputError(message=f"The {what} {text!r} has too many decimals.")
    return value


def _name(text: str) -> str:
    name = " ".join(str(text).split())
    if not name:
        raise InputError(message="The product name is empty.", hint="Type a name.")
    if len(name) > 255:
        raise InputError(message="The product name is longer than 255 characters.")
    return name

