"""A headless sale from JSON (`pos checkout SALE.json`), run through the checkout service.

    {"items": [{"code": "COFFEE-1KG", "quantity": 2, "options": {"grind": "espresso"}}],
     "customer": {"id": "1"}  or  {"firstname", "lastname", "email", "telephone"},
     "coupon": "SAVE10", "vouchers": ["GIFT10"], "reward": 100, "store_credit": true,
     "shipping_address": {"firstname", "lastname", "address_1", "city", "postcode",
                          "country": "US", "zone": "CA"},
     "shipping_method": "flat.flat", "payment_method": "cash", "tendered": "50.00",
     "comment": "..."}

Everything but `items` is optional. The cart lives in memory: a sale refused half-way (unknown
code, bad quantity, invalid coupon) writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pos.backends.base import Capability, PaymentLink
from pos.cart_rules import parse_quantity
from pos.checkout import Checkout
from pos.errors import InputError, NotFoundError, RuleError
from pos.models import Address, Customer, Order
from pos.payment_link import finish_link, link_methods, poll_link, start_link_payment


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SaleItem(_Strict):
    code: str = Field(min_length=1)
    quantity: int = 1
    options: dict[str, str] = Field(default_factory=dict)

    @field_validator("quantity", mode="before")
    @classmethod
    def _quantity(cls, value: Any) -> int:
        qty = parse_quantity(value)
        if qty < 1:
            raise ValueError("must be at least 1")
        return qty


class SaleCustomer(_Strict):
    id: str | None = None
    firstname: str = ""
    lastname: str = ""
    email: str = ""
    telephone: str = ""


class SaleRequest(_Strict):
    items: list[SaleItem] = Field(min_length=1)
    customer: SaleCustomer | None = None
    coupon: str | None = None
    vouchers: list[str] = Field(default_factory=list)
    reward: int = 0
    store_credit: bool = False
    shipping_address: Address | None = None
    shipping_method: str | None = None
    payment_method: str | None = None
    tendered: Decimal | None = None
    comment: str = ""

    @field_validator("tendered", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        return str(value) if isinstance(value, float) else value


def parse_sale(text: str, source: str = "sale") -> SaleRequest:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(message=f"{source}: not valid JSON ({exc.msg}, line {exc.lineno}).") from None
    if not isinstance(data, dict):
        raise InputError(message=f"{source}: expected a JSON object with \"items\".")
    try:
        return SaleRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "sale"
        raise InputError(message=f"{source}: {loc}: {first['msg']}.") from None


def run_sale(checkout: Checkout, sale: SaleRequest, *,
             on_link: Callable[[PaymentLink], None] | None = None,
             link_timeout: float = 300.0) -> Order:
    """Build the cart step by step (each step may refuse), take payment, place.

    A payment-link method (card link, bitcoin invoice) creates the link, hands it to `on_link`
    (the CLI prints the URL and a QR code) and waits up to `link_timeout` seconds for the store
    to report it paid; anything else leaves nothing placed and raises."""
    for item in sale.items:
        checkout.add(item.code, item.quantity, item.options)
    if sale.customer is not None:
        checkout.set_customer(_customer(checkout, sale.customer))
    if sale.coupon:
        checkout.apply_coupon(sale.coupon)
    for code in sale.vouchers:
        checkout.add_voucher(code)
    if sale.reward:
        checkout.set_reward(sale.reward)
    if sale.store_credit:
        checkout.use_store_credit(True)
    if sale.shipping_address is not None:
        checkout.set_shipping_address(sale.shipping_address)
        methods = checkout.quote.shipping_methods
        code = sale.shipping_method or (methods[0].code if methods else "")
        if not code:
            raise InputError(message="No shipping method is offered for this address.")
        checkout.set_shipping_method(code)
    if sale.comment:
        checkout.set_comment(sale.comment)
    checkout.review()
    if checkout.remaining() > 0:
        method = sale.payment_method or "cash"
        waits = checkout.backend.supports(Capability.PAYMENT_LINK_STATUS)
        if waits and method in {m.code for m in link_methods(checkout)}:
            return _pay_by_link(checkout, method, on_link, link_timeout)
        # otherwise the operator running the sale file vouches for the payment (card terminal)
        checkout.take_payment(method, sale.tendered)
    return checkout.place()


def _pay_by_link(checkout: Checkout, method: str, on_link: Callable[[PaymentLink], None] | None,
                 timeout: float) -> Order:
    link = start_link_payment(checkout, method)
    if on_link is not None:
        on_link(link)
    final = poll_link(checkout, link, timeout=timeout)
    order = finish_link(checkout, final)
    if order is None:
        state = "still unpaid" if final.status == "pending" else final.status
        raise RuleError(title="Payment not completed",
                        message=f"The payment link {link.id} is {state}: nothing was placed.",
                        hint="Pay by another method, or use the counter to wait longer.",
                        field="payment_method")
    return order


def _customer(checkout: Checkout, wanted: SaleCustomer) -> Customer:
    if wanted.id:
        found = [c for c in checkout.search_customers(wanted.id) if c.id == wanted.id]
        if not found:
            raise NotFoundError(message=f"There is no customer {wanted.id}.")
        return found[0]
    if not (wanted.firstname or wanted.lastname):
        raise InputError(message="customer: give an id, or a first and last name.")
    return Customer(**wanted.model_dump(exclude={"id"}))


def order_json(order: Order) -> dict[str, Any]:
    priced = {p.key: p for p in order.priced}
    return {
        "number": order.number,
        "status": order.status.value,
        "total": str(order.totals.total),
        "currency": order.currency,
        "remote_id": order.remote_id,
        "created_at": order.created_at.isoformat(),
        "customer": order.customer.name,
        "cashier": order.cashier,
        "profile": order.profile,
        "last_error": order.last_error,
        "lines": [
            {"code": ln.sku or ln.product_id, "product_id": ln.product_id, "name": ln.name,
             "options": {o.option_id: o.value_id or o.value for o in ln.options},
             "quantity": ln.quantity, "unit_price": str(ln.unit_price),
             "total": str(priced[ln.key].total) if ln.key in priced else None}
            for ln in order.lines
        ],
        "totals": [{"code": t.code, "title": t.title, "amount": str(t.amount)}
                   for t in order.totals.lines],
        "payments": [{"method": p.method, "amount": str(p.amount),
                      "tendered": None if p.tendered is None else str(p.tendered),
                      "change": str(p.change), "reference": p.reference}
                     for p in order.payments],
    }
