"""The checkout service: the steps of a sale as plain methods over the local cart.

The cart is the source of truth: every step builds a new `Cart`, prices it (the backend's rules
decide; a refused coupon or an out-of-stock product raises and leaves the cart as it was), and
saves it durably before returning. Placing the sale reserves its number, writes the order and
its outbox entries in one transaction, and only then hands it to the sync engine; an unreachable
backend leaves the sale `queued`, never lost and never doubled.

The TUI and `pos checkout` both drive this class; neither talks to a backend directly.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from pos.backends.base import Backend, Capability
from pos.cart_rules import check_stock, parse_quantity, parse_scan, select_options
from pos.checkout_pricing import CheckoutPricing
from pos.errors import InputError, NotFoundError, PosError, RuleError
from pos.faults import crash_point
from pos.models import (
    Address,
    Cart,
    CartLine,
    Customer,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    Product,
    Quote,
    ShippingMethod,
    SoldVoucher,
)
from pos.money import ZERO, format_money, round_money, to_decimal
from pos.store import Catalog, Ledger
from pos.sync import SyncEngine
from pos.tender import offered_method, pending_link, settle, tender


def _not_found(code: str) -> NotFoundError:
    return NotFoundError(message=f"No product with barcode, SKU or id {code!r}.",
                         hint="Check the code, or type part of the name to search.")


class Checkout(CheckoutPricing):
    def __init__(self, ledger: Ledger, catalog: Catalog, backend: Backend, sync: SyncEngine, *,
                 lane: str, cashier: str = "", profile: str = "local",
                 sinks: tuple[str, ...] = (), currency: str = "USD",
                 persist: bool = True) -> None:
        self.ledger = ledger
        self.catalog = catalog
        self.backend = backend
        self.sync = sync
        self.lane = lane
        self.cashier = cashier
        self.profile = profile
        self.sinks = sinks
        self.currency = currency
        self.persist = persist  # False: a headless sale whose cart lives only in memory
        # the cart shown with a local estimate until the store prices it (`store_quote`)
        self.awaiting_store: Cart | None = None
        self._store_quoted: tuple[Quote, float] | None = None  # the store's last quote, when
        loaded = ledger.carts.load_active(lane) if persist else None
        self._show_estimated(loaded or self._new_cart())

    # --- the cart ----------------------------------------------------------------------------

    def _new_cart(self) -> Cart:
        return Cart(id=uuid.uuid4().hex, created_at=datetime.now(UTC), currency=self.currency)

    def _show_estimated(self, cart: Cart) -> Cart:
        """Make `cart` (new, resumed, recalled) the sale, priced locally for now."""
        self.cart, self.quote, self.awaiting_store = cart, self._estimate(cart), None
        self._await_store(cart)
        return cart

    def _commit(self, cart: Cart, *, validate: bool = True, quote: Quote | None = None) -> Cart:
        """Price the new cart (raising if the store refuses) and save it durably.

        `validate=False`: a change that prices nothing (payments, number, comment): the store's
        prices stand. `quote`: the cart priced already (`_commit_lines`' local estimate)."""
        if quote is None:
            quote = self._price(cart) if validate else (
                self.quote if self.quote.remote and cart.id == self.cart.id
                else self._estimate(cart))
        if self.persist:
            self.ledger.carts.save_active(cart, self.lane)
        self.cart, self.quote = cart, quote
        self.awaiting_store = None
        return cart

    def _commit_lines(self, cart: Cart, *, refusable: bool = True) -> Cart:
        """Commit a change of lines (a scan, a quantity, a removal).

        Where the store prices the sale (OpenCart: a login and a dozen calls a quote, more with
        every line) the cart is estimated locally at once, so a scan never waits on the
        network; the store prices it at review (F11/F12), before anything is paid, and says
        where its prices differ. A cart holding something only the store can price
        (`_store_priced`: a customer, coupon, gift voucher, reward points, store credit or a
        shipping method) is `awaiting_store`: the counter asks the store in the background
        (`store_quote`, `apply_store_quote`) so its discounts come back on the screen once the
        cashier pauses. `refusable=False` (a removal): the local rules refusing the smaller
        cart do not stop it."""
        if self.backend.supports(Capability.REMOTE_PRICING) or not refusable:
            committed = self._commit(cart, quote=self._estimate(cart))
            self._await_store(committed)
            return committed
        return self._commit(cart)

    def reload(self) -> Cart:
        """Re-read the active cart from disk (after a restart or another window's change)."""
        return self._show_estimated(self.ledger.carts.load_active(self.lane) or self._new_cart())

    # --- lines -------------------------------------------------------------------------------

    def find(self, code: str) -> Product:
        product = self.catalog.lookup(code)
        if product is None:
            raise _not_found(code)
        return product

    def find_typed(self, text: str) -> Product:
        """What the cashier entered in the cart input: a barcode, SKU or id; else a part of a
        name that one product only has (the one hit the search shows under the input). A code
        that is not found is never taken for the product it starts (a barcode missing a digit)."""
        product = self.catalog.lookup(text)
        if product is not None:
            return product
        words = text.lower().split()
        named = [p for p in self.catalog.search(text, 3)
                 if words and all(w in p.name.lower() for w in words)]
        if len(named) == 1:
            return named[0]
        if named:
            raise NotFoundError(message=f"{text!r} is not a code, and several products are "
                                        "named like it.",
                                hint="Choose one in the list with ↓ and Enter, or type more.")
        raise _not_found(text)

    def search(self, text: str, limit: int = 50) -> list[Product]:
        return self.catalog.search(text, limit)

    def scan(self, text: str) -> CartLine:
        """What the cart input does on Enter: `CODE` or `3*CODE`.

        A text that is itself a known code wins over the quantity syntax (a backend's random
        product id such as `3xK9...` is not "3 × K9...")."""
        whole = text.strip()
        product = self.catalog.lookup(whole) if whole else None
        if product is not None:
            return self.add_product(product, 1)
        quantity, code = parse_scan(text)
        if not code:
            raise InputError(message="Nothing to add.", hint="Scan or type a code.")
        return self.add_product(self.find_typed(code), quantity)

    def add(self, code: str, quantity: int = 1,
            options: Mapping[str, str] | None = None) -> CartLine:
        return self.add_product(self.find(code), quantity, options)

    def add_product(self, product: Product, quantity: int = 1,
                    options: Mapping[str, str] | None = None) -> CartLine:
        quantity = parse_quantity(quantity)
        if quantity < 1:
            raise InputError(message="The quantity must be at least 1.")
        selected = select_options(product, options or {})
        unit = product.price + sum((o.price for o in selected), ZERO)
        existing = next((ln for ln in self.cart.lines if ln.product_id == product.id
                         and ln.options == selected), None)
        if existing is not None:
            line = existing.model_copy(update={"quantity": existing.quantity + quantity})
            lines = tuple(line if ln.key == existing.key else ln for ln in self.cart.lines)
        else:
            line = CartLine(
                key=uuid.uuid4().hex[:12], product_id=product.id, sku=product.sku,
                barcode=product.barcode, name=product.name, quantity=quantity, unit_price=unit,
                options=selected, tax_class=product.tax_class, shipping=product.shipping,
                points=product.points, reward=product.reward)
            lines = (*self.cart.lines, line)
        check_stock(product, lines)
        self._commit_lines(self._invalidate_methods(self.cart.model_copy(update={"lines": lines})))
        return line

    def set_quantity(self, key: str, quantity: object) -> None:
        qty = parse_quantity(quantity)
        line = self._line(key)
        if qty == 0:
            self.remove(key)
            return
        lines = tuple(ln.model_copy(update={"quantity": qty}) if ln.key == key else ln
                      for ln in self.cart.lines)
        product = self.catalog.get(line.product_id)
        if product is not None:
            check_stock(product, lines)
        self._commit_lines(self._invalidate_methods(self.cart.model_copy(update={"lines": lines})))

    def override_price(self, key: str, unit_price: object, reason: str) -> None:
        """Change a line's unit price (damaged item, price match): a reason is required. Not
        where the store prices the sale itself (it would price the line its own way)."""
        if self.backend.supports(Capability.REMOTE_PRICING):
            raise RuleError(title="Price set by the store",
                            message=f"The {self.backend.name} store prices every sale itself: a "
                                    "line's price cannot be changed at the counter.",
                            hint="Apply a coupon, or change the price on the store.",
                            field="price")
        if not reason.strip():
            raise InputError(message="A price override needs a reason.",
                             hint="e.g. 'damaged box' or 'price match'.")
        price = round_money(to_decimal(unit_price, "price"), self.currency)
        if price < 0:
            raise InputError(message="A price cannot be negative.")
        self._line(key)
        lines = tuple(ln.model_copy(update={"unit_price": price,
                                            "price_override_reason": reason.strip()})
                      if ln.key == key else ln for ln in self.cart.lines)
        self._commit(self._invalidate_methods(self.cart.model_copy(update={"lines": lines})))

    def remove(self, key: str) -> None:
        self._line(key)
        lines = tuple(ln for ln in self.cart.lines if ln.key != key)
        cart = self.cart.model_copy(update={"lines": lines, "reward": 0})
        self._commit_lines(self._invalidate_methods(cart), refusable=False)

    def _line(self, key: str) -> CartLine:
        line = self.cart.line(key)
        if line is None:
            raise NotFoundError(message="That line is no longer in the cart.")
        return line

    def _invalidate_methods(self, cart: Cart) -> Cart:
        """A changed cart may change what shipping costs and which payments are allowed.

        A refused sale taken back to fix keeps its payments: that money was taken; if the fix
        lowers the total, `problems` says so until the payments are settled again."""
        if not cart.payments or cart.reopened:
            return cart
        self._no_pending()  # the customer may be paying the old total right now
        return cart.model_copy(update={"payments": ()})

    def void(self) -> None:
        """Throw the cart away (after the cashier confirmed) and start a fresh one."""
        self._no_pending()  # the customer could still pay it: cancel the link first
        if self.persist:
            self.ledger.carts.delete(self.cart.id)
        self._commit(self._new_cart(), validate=False)

    # --- customer ----------------------------------------------------------------------------

    def search_customers(self, query: str) -> list[Customer]:
        return self.backend.search_customers(query)

    def set_customer(self, customer: Customer | None) -> None:
        cart = self.cart.model_copy(update={
            "customer": customer, "reward": 0 if customer is None else self.cart.reward,
            "use_store_credit": self.cart.use_store_credit and customer is not None})
        self._commit(cart)

    def create_customer(self, customer: Customer) -> Customer:
        created = self.backend.create_customer(customer)
        self.set_customer(created)
        return created

    # --- discounts ---------------------------------------------------------------------------

    def apply_coupon(self, code: str) -> None:
        code = code.strip()
        if not code:
            raise InputError(message="Type a coupon code.")
        self._commit(self.cart.model_copy(update={"coupon": code}))

    def remove_coupon(self) -> None:
        self._commit(self.cart.model_copy(update={"coupon": None}))

    def add_voucher(self, code: str) -> None:
        code = code.strip()
        if not code:
            raise InputError(message="Type a gift voucher code.")
        if code.upper() in (v.upper() for v in self.cart.vouchers):
            raise RuleError(message=f"{code} is already applied.", field="voucher")
        self._commit(self.cart.model_copy(update={"vouchers": (*self.cart.vouchers, code)}))

    def remove_voucher(self, code: str) -> None:
        vouchers = tuple(v for v in self.cart.vouchers if v.upper() != code.upper())
        self._commit(self.cart.model_copy(update={"vouchers": vouchers}))

    def sell_voucher(self, to_name: str, amount: object, *, from_name: str = "",
                     to_email: str = "", message: str = "") -> SoldVoucher:
        value = round_money(to_decimal(amount, "voucher amount"), self.currency)
        if not to_name.strip():
            raise InputError(message="Whom is the gift voucher for?", hint="Type a name.")
        sold = SoldVoucher(key=uuid.uuid4().hex[:12], from_name=from_name or self.cashier or "Shop",
                           to_name=to_name.strip(), to_email=to_email, message=message,
                           amount=value)
        self._no_pending()
        self._commit(self.cart.model_copy(update={
            "sold_vouchers": (*self.cart.sold_vouchers, sold), "payments": ()}))
        return sold

    def remove_sold_voucher(self, key: str) -> None:
        self._commit(self.cart.model_copy(update={
            "sold_vouchers": tuple(v for v in self.cart.sold_vouchers if v.key != key)}))

    def set_reward(self, points: object) -> None:
        self._commit(self.cart.model_copy(update={"reward": parse_quantity(points)}))

    def use_store_credit(self, use: bool = True) -> None:
        self._commit(self.cart.model_copy(update={"use_store_credit": use}))

    # --- shipping and payment address --------------------------------------------------------

    def set_pickup(self) -> None:
        self._commit(self.cart.model_copy(update={"pickup": True, "shipping_method": None}))

    def set_shipping_address(self, address: Address) -> list[ShippingMethod]:
        cart = self.cart.model_copy(update={"pickup": False, "shipping_address": address,
                                            "shipping_method": None})
        self._commit(cart)
        return list(self.quote.shipping_methods)

    def shipping_methods(self) -> list[ShippingMethod]:
        return list(self.backend.shipping_methods(self.cart))

    def set_shipping_method(self, code: str) -> None:
        methods = {m.code: m for m in self.quote.shipping_methods}
        if not methods:
            methods = {m.code: m for m in self.shipping_methods()}
        if code not in methods:
            offered = ", ".join(methods) or "none for this address"
            raise RuleError(message=f"Shipping method {code!r} is not offered.",
                            hint=f"Offered: {offered}.", field="shipping_method")
        self._commit(self.cart.model_copy(update={"shipping_method": methods[code],
                                                  "pickup": False}))

    def set_payment_address(self, address: Address) -> None:
        self._commit(self.cart.model_copy(update={"payment_address": address}))

    def set_comment(self, comment: str) -> None:
        self._commit(self.cart.model_copy(update={"comment": comment}), validate=False)

    # --- payment -----------------------------------------------------------------------------

    def payment_methods(self) -> list[PaymentMethod]:
        return list(self.quote.payment_methods)

    def due(self) -> Decimal:
        return self.quote.totals.total

    def paid(self) -> Decimal:
        return sum((p.amount for p in self.cart.payments if p.status == "paid"), ZERO)

    def remaining(self) -> Decimal:
        return max(ZERO, self.due() - self.paid())

    def _method(self, code: str) -> PaymentMethod:
        return offered_method(self.quote.payment_methods, code)

    def take_payment(self, code: str, tendered: object = None, *, amount: object = None,
                     reference: str = "") -> Payment:
        """Record a tender. Cash: `tendered` (None = exact cash) → change. Others: the amount."""
        method = self._method(code)
        self._no_pending()
        payment = tender(method, self.remaining(), tendered=tendered, amount=amount,
                         split_tender=self.backend.supports(Capability.SPLIT_TENDER),
                         currency=self.currency, reference=reference)
        self._commit(self.cart.model_copy(update={
            "payments": (*self.cart.payments, payment), "payment_method": method}),
            validate=False)
        return payment

    # --- pending payments (payment links, invoices) -------------------------------------------

    def _no_pending(self) -> None:
        pending = self.pending_payment()
        if pending is not None:
            raise RuleError(message=f"A {pending.title or pending.method} payment "
                                    f"({pending.reference}) is still waiting.",
                            hint="Wait for it, or cancel it first.", field="payment_method")

    def pending_payment(self) -> Payment | None:
        """The payment link the customer has not paid yet (after a restart too)."""
        return next((p for p in self.cart.payments if p.status == "pending"), None)

    def draft_order(self) -> Order:
        """The sale as an order under its reserved number, not recorded (for a payment link)."""
        return self._order(self.reserve_number())

    def add_pending_payment(self, code: str, reference: str, *, url: str = "",
                            amount: object = None) -> Payment:
        """Store a payment link/invoice in the cart *before* waiting for it, so a restart
        finds it and resumes the wait. At most one payment is pending at a time."""
        method = self._method(code)
        self._no_pending()
        payment = pending_link(method, self.remaining(), amount=amount, currency=self.currency,
                               reference=reference, url=url)
        self._commit(self.cart.model_copy(update={
            "payments": (*self.cart.payments, payment), "payment_method": method}),
            validate=False)
        return payment

    def settle_payment(self, reference: str, paid: bool) -> Payment | None:
        """The pending payment `reference` was paid (kept, status paid) or not (removed)."""
        payments, settled = settle(self.cart.payments, reference, paid)
        if settled is None:
            return None
        self._commit(self.cart.model_copy(update={"payments": payments}), validate=False)
        return settled if paid else None

    def cancel_payments(self) -> None:
        self._commit(self.cart.model_copy(update={"payments": ()}), validate=False)

    def reserve_number(self) -> str:
        """The sale's number, reserved durably before anything leaves the machine."""
        if self.cart.number:
            return self.cart.number
        number = self.ledger.orders.reserve_number(self.lane)
        crash_point("after_reserve")
        self._commit(self.cart.model_copy(update={"number": number}), validate=False)
        return number

    # --- review and place --------------------------------------------------------------------

    def problems(self) -> list[str]:
        """What still stands between this cart and a placed order (empty: ready)."""
        out: list[str] = []
        cart = self.cart
        if cart.empty:
            out.append("The cart is empty.")
        per_product: dict[str, int] = {}
        for line in cart.lines:
            per_product[line.product_id] = per_product.get(line.product_id, 0) + line.quantity
        for pid, qty in per_product.items():
            product = self.catalog.get(pid)
            if product is not None and qty < product.minimum:
                out.append(f"Minimum order amount for {product.name} is {product.minimum}!")
        if not cart.pickup and cart.needs_shipping:
            if cart.shipping_address is None:
                out.append("Delivery needs a shipping address.")
            elif cart.shipping_method is None:
                out.append("Choose a shipping method.")
        if self.remaining() > 0:
            out.append(f"{format_money(self.remaining(), self.currency)} still to pay.")
        elif self.paid() > self.due():
            out.append(f"{format_money(self.paid() - self.due(), self.currency)} was paid more "
                       "than the total: cancel the payments (F10 on Payment) and take them "
                       "again.")
        return out

    def place(self) -> Order:
        """Record the sale durably, then hand it to the backend. Returns the order as it stands.

        Priced again first, unless the store priced this very cart in the last minute (the
        payment screen's review): on OpenCart each quote replays the whole sale, and placing
        it replays it once more."""
        if not self._quote_is_fresh():
            self.review()
        problems = self.problems()
        if problems:
            raise RuleError(title="Cannot place the sale yet", message=" ".join(problems),
                            field="place")
        if self.due() <= 0 and not self.cart.payments:
            free = next((m for m in self.quote.payment_methods if m.kind == "free"), None)
            if free is not None:
                self.take_payment(free.code)
        number = self.reserve_number()
        order = self._order(number)
        deliveries: list[tuple[str, str]] = []
        if self.backend.supports(Capability.ORDER_PLACEMENT):
            deliveries.append((self.profile, "place"))
        else:
            order = order.model_copy(update={"status": OrderStatus.PLACED})
        deliveries += [(sink, "mirror") for sink in self.sinks if sink != self.profile]
        self.ledger.orders.record_sale(order, deliveries, self.cart.id,
                                       replace_failed=self.cart.reopened)
        crash_point("after_record")
        self._show_estimated(self._new_cart())
        try:
            return self.sync.deliver(number)
        except PosError:
            return self.ledger.orders.get(number)

    def _order(self, number: str) -> Order:
        cart, quote = self.cart, self.quote
        return Order(
            number=number, lane=self.lane, cashier=self.cashier, profile=self.profile,
            backend=self.backend.name,
            created_at=cart.created_at if cart.reopened else datetime.now(UTC),
            currency=cart.currency,
            customer=cart.customer or Customer(), lines=cart.lines, priced=quote.lines,
            sold_vouchers=cart.sold_vouchers, coupon=cart.coupon, vouchers=cart.vouchers,
            reward=cart.reward, use_store_credit=cart.use_store_credit, pickup=cart.pickup,
            shipping_address=cart.shipping_address, shipping_method=cart.shipping_method,
            payment_address=cart.payment_address or cart.shipping_address,
            payment_method=cart.payment_method, payments=cart.payments, totals=quote.totals,
            comment=cart.comment or f"POS sale {number}",
        )

    def reopen(self, number: str) -> Cart:
        """Take a sale the store refused (status failed) back into the cart to fix it (edit and
        retry). The current cart is parked first. The sale keeps its number, time and payments;
        placing it again replaces the refused order and sends it once more."""
        order = self.ledger.orders.get(number)
        if order.status != OrderStatus.FAILED:
            raise RuleError(message=f"Sale {number} is {order.status.value}: only a sale the "
                                    "store refused (failed) can be edited and sent again.",
                            field="reopen")
        if self.cart.reopened and self.cart.number == number:
            return self.cart
        if not self.cart.empty:
            self.park()
        guest = not (order.customer.id or order.customer.name)
        cart = order.as_cart(cart_id=uuid.uuid4().hex,
                             customer=None if guest else order.customer).model_copy(
            update={"reopened": True, "label": f"Refused sale {order.number}"})
        self._commit(cart, validate=False)  # (a new cart id: priced by the local estimate)
        self.ledger.orders.note(number, "reopened", "taken back into the cart to fix")
        return cart

    # --- parking -----------------------------------------------------------------------------

    def park(self, label: str = "") -> Cart:
        if self.cart.empty:
            raise RuleError(message="There is nothing to park.", field="park")
        parked = self.cart.model_copy(update={"label": label or self._default_label()})
        self.ledger.carts.park(parked, self.lane)
        self._commit(self._new_cart(), validate=False)
        return parked

    def _default_label(self) -> str:
        who = self.cart.customer.name if self.cart.customer else "Guest"
        return f"{who}, {self.cart.item_count} items, {datetime.now().strftime('%H:%M')}"

    def parked(self) -> list[Cart]:
        return self.ledger.carts.parked(self.lane)

    def recall(self, cart_id: str) -> Cart:
        if not self.cart.empty:
            self.park()
        return self._show_estimated(self.ledger.carts.recall(cart_id, self.lane))
