"""Replay a cart into a fresh OpenCart API session, then read the server's prices back.

Order of calls (reference §10): currency → customer → cart/add per line → voucher/add per sold
voucher → coupon / voucher / reward → shipping address → shipping/methods → shipping/method →
payment address → payment/methods → cart/products (quote) or order/add (place).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pos import geo
from pos.backends.opencart.api import Form, OpenCartApi, SessionExpired, flatten, messages, text
from pos.errors import InputError, PermanentError, RuleError
from pos.models import (
    Address,
    Cart,
    Customer,
    Order,
    PaymentMethod,
    PricedLine,
    Quote,
    ShippingMethod,
    TotalLine,
    Totals,
)
from pos.money import ZERO, parse_money, to_decimal

if TYPE_CHECKING:
    from pos.backends.opencart import OpenCartBackend

KINDS: dict[str, Any] = {"cod": "cash", "bank_transfer": "bank", "free_checkout": "free"}
POS_TENDERS = (PaymentMethod(code="cash", title="Cash", kind="cash"),
               PaymentMethod(code="card", title="Card", kind="card"))


def order_cart(order: Order) -> Cart:
    return order.as_cart(cart_id=order.number, customer=order.customer)


# what `Replay.build` sends to the store (with the customer's contact fields): two carts alike
# in these build the same session
REPLAYED = frozenset({"currency", "lines", "sold_vouchers", "coupon", "vouchers", "reward",
                      "pickup", "shipping_address", "shipping_method", "payment_address"})


def replayed(cart: Cart) -> str:
    c = cart.customer or Customer()  # a sale's guest is a blank customer, a cart's is None
    who = [c.id or "0", c.firstname, c.lastname, c.email, c.telephone]
    return json.dumps([who, cart.model_dump(mode="json", include=set(REPLAYED))],
                      sort_keys=True)


def _error(body: Any) -> list[str]:
    return messages(body.get("error")) if isinstance(body, Mapping) else []


class Replay:
    def __init__(self, backend: OpenCartBackend, api: OpenCartApi, cart: Cart | None) -> None:
        self.backend = backend
        self.cfg = backend.cfg
        self.api = api
        self.cart = cart
        self.warnings: list[str] = []
        self.shipping: list[ShippingMethod] = []
        self.payment: list[PaymentMethod] = []
        self.shipping_code = ""
        self.currency = (cart.currency if cart else None) or self.cfg.currency or "USD"

    # --- steps -------------------------------------------------------------------------------

    def customer_form(self, c: Customer | None) -> Form:
        cfg = self.cfg
        return [("customer_id", (c.id or "0") if c else "0"),
                ("firstname", (c.firstname if c else "") or cfg.guest_firstname),
                ("lastname", (c.lastname if c else "") or cfg.guest_lastname),
                ("email", (c.email if c else "") or cfg.guest_email),
                ("telephone", (c.telephone if c else "") or cfg.guest_telephone)]

    def _refuse(self, body: Any, field: str, default: str) -> None:
        errors = _error(body)
        if errors or not (isinstance(body, Mapping) and body.get("success")):
            raise RuleError(message="; ".join(errors) or default, field=field)

    def address_form(self, address: Address) -> Form:
        country = geo.country(address.country)
        if country is None:
            raise InputError(message=f"Unknown country {address.country!r}.")
        zones = self.backend.zones(country.id)
        zone_id = ""
        if address.zone:
            wanted = address.zone.strip().upper()
            zone_id = next((z["zone_id"] for z in zones
                            if wanted in (z["code"].upper(), z["name"].upper())), "")
            if not zone_id:
                raise RuleError(message=f"{address.zone!r} is not a region of {country.name}.",
                                field="address")
        elif zones:
            zone_id = zones[0]["zone_id"]
        return [("firstname", address.firstname), ("lastname", address.lastname),
                ("company", address.company), ("address_1", address.address_1),
                ("address_2", address.address_2), ("city", address.city),
                ("postcode", address.postcode), ("country_id", str(country.id)),
                ("zone_id", zone_id or "0")]

    def counter_address(self) -> Address:
        c = self.cfg
        return Address(firstname=c.guest_firstname, lastname=c.guest_lastname,
                       address_1=c.counter_address_1, city=c.counter_city,
                       postcode=c.counter_postcode, country=c.counter_country, zone=c.counter_zone)

    def build(self) -> None:
        cart = self.cart
        assert cart is not None
        api = self.api
        if self.currency:
            body = api.call("currency", [("currency", self.currency)])
            self._refuse(body, "currency", f"Currency {self.currency} is not enabled.")
        self._refuse(api.call("customer", self.customer_form(cart.customer)), "customer",
                     "The customer was refused.")
        for line in cart.lines:
            options: dict[str, Any] = {}
            for opt in cart_options(line.options):
                options[opt[0]] = opt[1]
            form = [("product_id", line.product_id), ("quantity", str(line.quantity)),
                    *flatten("option", options)]
            body = api.call("cart/add", form)
            if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
                err = body["error"]
                field = "option" if "option" in err else "product"
                raise RuleError(message=f"{line.name}: " + "; ".join(messages(err)), field=field)
            self._refuse(body, "product", f"{line.name} could not be added.")
        for sold in cart.sold_vouchers:
            form = [("from_name", sold.from_name), ("from_email", sold.from_email or
                                                    self.cfg.guest_email),
                    ("to_name", sold.to_name), ("to_email", sold.to_email or self.cfg.guest_email),
                    ("voucher_theme_id", str(self.cfg.voucher_theme_id)),
                    ("message", sold.message), ("amount", str(sold.amount))]
            self._refuse(api.call("voucher/add", form), "voucher", "The gift voucher was refused.")
        if cart.coupon:
            self._refuse(api.call("coupon", [("coupon", cart.coupon)]), "coupon",
                         "The coupon was refused.")
        if len(cart.vouchers) > 1:
            raise RuleError(message="OpenCart takes one gift voucher per order.", field="voucher")
        for code in cart.vouchers:
            self._refuse(api.call("voucher", [("voucher", code)]), "voucher",
                         "The gift voucher was refused.")
        if cart.reward:
            self._refuse(api.call("reward", [("reward", str(cart.reward))]), "reward",
                         "The reward points were refused.")
        ship_to = cart.shipping_address if not cart.pickup and cart.shipping_address else None
        ship_address = ship_to or self.counter_address()
        if cart.needs_shipping:
            body = api.call("shipping/address", self.address_form(ship_address))
            if body == [] or body == {}:
                raise SessionExpired("shipping/address")  # [] here: the session lost its cart
            if isinstance(body, Mapping) and body.get("error"):
                raise RuleError(message="Shipping address: " + "; ".join(_error(body)),
                                field="address")
            body = api.call("shipping/methods")
            for ext in (body.get("shipping_methods") or {}).values() if isinstance(
                    body, Mapping) and isinstance(body.get("shipping_methods"), Mapping) else []:
                for q in (ext.get("quote") or {}).values():
                    self.shipping.append(ShippingMethod(
                        code=str(q["code"]), title=text(q.get("title")),
                        cost=to_decimal(str(q.get("cost") or "0"))))
            if not self.shipping:
                self.warnings += _error(body) or ["No shipping method is offered."]
            wanted = cart.shipping_method.code if (cart.shipping_method and not cart.pickup) \
                else (self.cfg.pickup_method if cart.pickup or ship_to is None else "")
            if wanted and any(m.code == wanted for m in self.shipping):
                body = api.call("shipping/method", [("shipping_method", wanted)])
                self._refuse(body, "shipping_method", f"Shipping method {wanted} was refused.")
                self.shipping_code = wanted
            elif wanted and self.shipping:
                if cart.pickup:
                    self.warnings.append(f"{wanted} is not offered by the store.")
                else:
                    raise RuleError(message=f"Shipping method {wanted!r} is not offered.",
                                    field="shipping_method")
        pay_address = cart.payment_address or ship_address
        body = api.call("payment/address", self.address_form(pay_address))
        if isinstance(body, Mapping) and body.get("error"):
            raise RuleError(message="Payment address: " + "; ".join(_error(body)),
                            field="address")
        body = api.call("payment/methods")
        methods = body.get("payment_methods") if isinstance(body, Mapping) else None
        if isinstance(methods, Mapping):
            for m in methods.values():
                code = str(m.get("code"))
                self.payment.append(PaymentMethod(code=code, title=text(m.get("title")),
                                                  kind=KINDS.get(code, "other")))

    # --- results -----------------------------------------------------------------------------

    def quote(self) -> Quote:
        self.build()
        body = self.api.call("cart/products")
        if not isinstance(body, Mapping) or "products" not in body:
            raise PermanentError(message=f"{self.backend.store}: unexpected cart/products answer.")
        return self._quote(body)

    def _money(self, value: Any) -> Decimal:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return to_decimal(value)
        return parse_money(text(value), self.currency)

    def _quote(self, body: Mapping[str, Any]) -> Quote:
        cart = self.cart
        assert cart is not None
        products = [p for p in body.get("products") or [] if isinstance(p, Mapping)]
        used: set[int] = set()
        lines: list[PricedLine] = []
        for line in cart.lines:
            wanted = {o.value_id or o.value for o in line.options}
            for i, p in enumerate(products):
                if i in used or str(p.get("product_id")) != line.product_id:
                    continue
                got = {str(o.get("product_option_value_id") or text(o.get("value")))
                       for o in p.get("option") or [] if isinstance(o, Mapping)}
                if wanted and got and wanted != got:
                    continue
                used.add(i)
                qty = int(str(p.get("quantity") or line.quantity))
                total = self._money(p.get("total"))
                if qty != line.quantity and qty:
                    total = self._money(p.get("price")) * line.quantity
                lines.append(PricedLine(key=line.key, unit_price=self._money(p.get("price")),
                                        total=total))
                break
            else:
                same = next((p for p in products if str(p.get("product_id")) == line.product_id),
                            None)
                if same is None:
                    self.warnings.append(f"{line.name} is not in the store's cart.")
                else:  # merged by the store with an identical line
                    unit = self._money(same.get("price"))
                    lines.append(PricedLine(key=line.key, unit_price=unit,
                                            total=unit * line.quantity))
        self.warnings += _error(body)
        totals = self._totals(body.get("totals") or [])
        reward_max = reward_available = 0
        if cart.customer and cart.customer.id:
            rmax = self.api.call("reward/maximum")
            ravail = self.api.call("reward/available")
            reward_max = int(str(rmax.get("maximum") or 0)) if isinstance(rmax, Mapping) else 0
            reward_available = int(str(ravail.get("points") or 0)) \
                if isinstance(ravail, Mapping) else 0
        return Quote(lines=tuple(lines), totals=totals, shipping_methods=tuple(self.shipping),
                     payment_methods=(*POS_TENDERS, *self.payment), reward_max=reward_max,
                     reward_available=reward_available, warnings=tuple(self.warnings),
                     remote=True)

    def _totals(self, rows: list[Any]) -> Totals:
        shipping_titles = {m.title for m in self.shipping}
        out: list[TotalLine] = []
        sums: dict[str, Decimal] = {}
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            title = text(row.get("title"))
            amount = self._money(row.get("text"))
            code = ("sub_total" if title == "Sub-Total" else "total" if title == "Total"
                    else "coupon" if title.startswith("Coupon") else "reward"
                    if title.startswith("Reward Points") else "credit"
                    if title.startswith("Store Credit") else "voucher"
                    if title.startswith("Gift Certificate") else "shipping"
                    if title in shipping_titles or title.startswith("Shipping") else "tax")
            out.append(TotalLine(code=code, title=title, amount=amount))
            sums[code] = sums.get(code, ZERO) + amount
        return Totals(currency=self.currency, subtotal=sums.get("sub_total", ZERO),
                      discount=-(sums.get("coupon", ZERO) + sums.get("reward", ZERO)),
                      shipping=sums.get("shipping", ZERO), tax=sums.get("tax", ZERO),
                      vouchers=-sums.get("voucher", ZERO), store_credit=-sums.get("credit", ZERO),
                      total=sums.get("total", ZERO), lines=tuple(out))

    def place(self, order: Order) -> int:
        self.build()
        return self.order_add(order)

    def order_add(self, order: Order) -> int:
        """`order/add` in this replay's session, built already (`build`, or the `quote`
        of this very sale just before)."""
        offered = {m.code for m in self.payment}
        pos_code = order.payment_method.code if order.payment_method else (
            order.payments[0].method if order.payments else "")
        if pos_code in offered:
            code = pos_code
        elif self.cfg.payment_code and self.cfg.payment_code in offered:
            code = self.cfg.payment_code
        elif "free_checkout" in offered:
            code = "free_checkout"
        else:
            code = "cod" if "cod" in offered else "bank_transfer"
        comment = order.comment if order.number in order.comment else \
            f"POS sale {order.number}" + (f": {order.comment}" if order.comment else "")
        form: Form = [("comment", comment), ("payment_method", code)]
        if self.shipping_code:
            form.append(("shipping_method", self.shipping_code))
        if self.cfg.order_status_id:
            form.append(("order_status_id", str(self.cfg.order_status_id)))
        body = self.api.call("order/add", form, idempotent=False)
        if isinstance(body, Mapping) and body.get("order_id") not in (None, "", 0, "0"):
            return int(str(body["order_id"]))
        errors = _error(body)
        field = "stock" if any("not available" in e for e in errors) else (
            "minimum" if any("Minimum" in e for e in errors) else "order")
        raise RuleError(message="; ".join(errors) or "The store did not create the order.",
                        field=field)


def cart_options(options: Any) -> list[tuple[str, Any]]:
    """Selected options → `option[id]` values (checkboxes: several values → a list)."""
    grouped: dict[str, list[str]] = {}
    for o in options:
        grouped.setdefault(o.option_id, []).append(o.value_id or o.value)
    return [(k, v[0] if len(v) == 1 else v) for k, v in grouped.items()]
