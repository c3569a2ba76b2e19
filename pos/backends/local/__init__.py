"""`local`: the embedded demo store, so `pos` sells on a fresh machine with no server.

It lives in the local profile's catalog file (`catalog-local.db`): the catalog is its product
master, and its own tables hold customers, coupons, gift vouchers and placed orders. It enforces
the rules a real store does — stock, minimum quantities, required options, coupon conditions,
voucher balances, reward points and store credit, shipping zones — and books stock, points,
credit and voucher balances in the same transaction that records the order, keyed by the local
order number (so placing a sale twice is a harmless no-op).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from pos.backends.base import (
    Backend,
    BackendContext,
    BackendInfo,
    BackendSettings,
    Capability,
    PaymentLink,
    PlacedOrder,
    RemoteOrder,
)
from pos.errors import NotFoundError, RuleError
from pos.models import (
    Cart,
    Customer,
    Order,
    PaymentMethod,
    Product,
    ShippingMethod,
    TaxClass,
)
from pos.money import ZERO, format_money, round_money
from pos.pricing import CouponRule, PricingContext, price_cart, reward_maximum
from pos.store.catalog import Catalog
from pos.store.db import transaction

if TYPE_CHECKING:
    from pos.refunds import Refund

SCHEMA = """
CREATE TABLE IF NOT EXISTS demo_customers (
    id TEXT PRIMARY KEY, firstname TEXT, lastname TEXT, email TEXT, telephone TEXT,
    reward_points INTEGER NOT NULL DEFAULT 0, store_credit TEXT NOT NULL DEFAULT '0');
CREATE TABLE IF NOT EXISTS demo_coupons (
    code TEXT PRIMARY KEY COLLATE NOCASE, data TEXT NOT NULL, uses INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS demo_vouchers (
    code TEXT PRIMARY KEY COLLATE NOCASE, balance TEXT NOT NULL, origin TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS demo_orders (
    id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL,
    status TEXT NOT NULL, total TEXT NOT NULL, customer TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS demo_refunds (
    number TEXT PRIMARY KEY, order_number TEXT NOT NULL, created_at TEXT NOT NULL,
    amount TEXT NOT NULL, data TEXT NOT NULL);
"""

SHIPPING_ZONES = {"US", "GB", "CA"}  # flat rate delivers here
PICKUP_ZONE = ("US", "CA")  # collect-in-store only for addresses in California
FLAT = ShippingMethod(code="flat.flat", title="Flat Shipping Rate", cost=Decimal("5.00"))
PICKUP = ShippingMethod(code="pickup.pickup", title="Pick up from store", cost=ZERO)
PAYMENT_METHODS = (
    PaymentMethod(code="cash", title="Cash", kind="cash"),
    PaymentMethod(code="card", title="Card (payment link)", kind="link"),
    PaymentMethod(code="bank_transfer", title="Bank Transfer", kind="bank"),
    PaymentMethod(code="free_checkout", title="Free Checkout", kind="free"),
)
COUPON_ERROR = "Coupon is either invalid, expired or reached its usage limit!"
VOUCHER_ERROR = "Gift voucher is either invalid or the balance has been used up!"


@dataclass(kw_only=True)
class LocalSettings(BackendSettings):
    currency: str = "USD"


class LocalBackend(Backend):
    name = "local"
    capabilities = (
        Capability.CATALOG | Capability.CUSTOMERS | Capability.CREATE_CUSTOMERS
        | Capability.COUPONS | Capability.VOUCHERS | Capability.SELL_VOUCHERS
        | Capability.REWARDS | Capability.STORE_CREDIT | Capability.SHIPPING
        | Capability.PAYMENT_METHODS | Capability.PAYMENT_LINK | Capability.SPLIT_TENDER
        | Capability.ORDER_PLACEMENT | Capability.ORDER_HISTORY | Capability.REFUNDS
    )
    Settings = LocalSettings

    def __init__(self, settings: BackendSettings, context: BackendContext) -> None:
        super().__init__(settings, context)
        self.catalog = Catalog(context.data_dir / f"catalog-{context.profile}.db")
        self.db = self.catalog.db
        self.db.conn.executescript(SCHEMA)
        if self.catalog.meta("demo_seeded") is None:
            self._seed()

    def _seed(self) -> None:
        from pos.backends.local import demo_data  # only on first use of a data dir

        self.catalog.upsert(demo_data.products())
        self.catalog.set_tax_classes(demo_data.TAX_CLASSES)
        self.catalog.set_categories((cid, name, None) for cid, name in demo_data.CATEGORIES.items())
        with transaction(self.db, self.catalog.path) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO demo_customers VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(c.id, c.firstname, c.lastname, c.email, c.telephone, c.reward_points,
                  str(c.store_credit)) for c in demo_data.CUSTOMERS])
            conn.executemany(
                "INSERT OR IGNORE INTO demo_coupons (code, data) VALUES (?, ?)",
                [(c.code, json.dumps({**c.__dict__, "value": str(c.value),
                                      "minimum_total": str(c.minimum_total)}))
                 for c in demo_data.COUPONS])
            conn.executemany("INSERT OR IGNORE INTO demo_vouchers (code, balance) VALUES (?, ?)",
                             [(code, str(b)) for code, b in demo_data.VOUCHERS])
        self.catalog.set_meta("demo_seeded", datetime.now(UTC).isoformat())

    def close(self) -> None:
        self.catalog.close()

    def info(self) -> BackendInfo:
        return BackendInfo(name="Embedded demo store", version="1",
                           detail=f"{self.catalog.count()} products in {self.catalog.path}")

    # --- catalog -----------------------------------------------------------------------------

    def iter_catalog(self, filters: Mapping[str, str] | None = None) -> Iterator[list[Product]]:
        from pos.backends.local import demo_data

        yield demo_data.products()  # the cache *is* this store's catalog; re-seed on sync

    def catalog_size_hint(self) -> int | None:
        return self.catalog.count()

    def tax_classes(self) -> list[TaxClass]:
        return list(self.catalog.tax_classes().values())

    # --- customers ---------------------------------------------------------------------------

    def _customer(self, customer_id: str) -> Customer | None:
        row = self.db.execute("SELECT * FROM demo_customers WHERE id = ?", [customer_id]).fetchone()
        return _row_customer(row) if row else None

    def search_customers(self, query: str, limit: int = 20) -> list[Customer]:
        like = f"%{query.strip()}%"
        rows = self.db.execute(
            "SELECT * FROM demo_customers WHERE id = ? OR firstname || ' ' || lastname LIKE ? "
            "OR email LIKE ? OR telephone LIKE ? ORDER BY lastname, firstname LIMIT ?",
            [query.strip(), like, like, like, limit]).fetchall()
        return [_row_customer(r) for r in rows]

    def create_customer(self, customer: Customer) -> Customer:
        for field, value in (("first name", customer.firstname), ("last name", customer.lastname)):
            if not 1 <= len(value.strip()) <= 32:
                raise RuleError(message=f"The {field} must be 1 to 32 characters.",
                                field="customer")
        if "@" not in customer.email:
            raise RuleError(message="The e-mail address does not look valid.", field="customer")
        with transaction(self.db, self.catalog.path) as conn:
            new_id = conn.execute(
                "SELECT coalesce(max(CAST(id AS INTEGER)), 0) + 1 FROM demo_customers"
            ).fetchone()[0]
            conn.execute("INSERT INTO demo_customers VALUES (?, ?, ?, ?, ?, 0, '0')",
                         [str(new_id), customer.firstname.strip(), customer.lastname.strip(),
                          customer.email.strip(), customer.telephone.strip()])
        return customer.model_copy(update={"id": str(new_id), "reward_points": 0,
                                           "store_credit": ZERO})

    # --- pricing -----------------------------------------------------------------------------

    def shipping_methods(self, cart: Cart) -> list[ShippingMethod]:
        address = cart.shipping_address
        if address is None or not cart.needs_shipping:
            return []
        methods = []
        if address.country in SHIPPING_ZONES:
            methods.append(FLAT)
        if (address.country, address.zone) == PICKUP_ZONE:
            methods.append(PICKUP)
        return methods

    def payment_methods(self, cart: Cart) -> list[PaymentMethod]:
        return list(PAYMENT_METHODS)

    def pricing_context(self, cart: Cart) -> PricingContext:
        customer = self._customer(cart.customer.id) if cart.customer and cart.customer.id else None
        coupon = self._coupon(cart, customer) if cart.coupon else None
        balances = [self._voucher_balance(code) for code in cart.vouchers]
        self._check_reward(cart, customer)
        if cart.use_store_credit and (customer is None or customer.store_credit <= 0):
            raise RuleError(message="This customer has no store credit.", field="store_credit")
        for sold in cart.sold_vouchers:
            if not Decimal("1") <= sold.amount <= Decimal("1000"):
                raise RuleError(message="Amount must be between $1.00 and $1,000.00!",
                                field="voucher")
        shipping = self.shipping_methods(cart)
        if (cart.shipping_method is not None and not cart.pickup
                and cart.shipping_method.code not in {m.code for m in shipping}):
            raise RuleError(message=f"{cart.shipping_method.title} is not available for this "
                                    "address.", field="shipping_method")
        return PricingContext(
            tax_classes=self.catalog.tax_classes(), coupon=coupon,
            voucher_balances=[(c, b) for c, b in zip(cart.vouchers, balances, strict=True)],
            reward_available=customer.reward_points if customer else 0,
            store_credit=customer.store_credit if customer else ZERO,
            shipping_methods=shipping, payment_methods=PAYMENT_METHODS,
            warnings=self._warnings(cart),
        )

    def _coupon(self, cart: Cart, customer: Customer | None) -> CouponRule:
        row = self.db.execute("SELECT data, uses FROM demo_coupons WHERE code = ?",
                              [cart.coupon]).fetchone()
        if row is None:
            raise RuleError(message=f"{cart.coupon}: {COUPON_ERROR}", field="coupon")
        data, uses = json.loads(row[0]), row[1]
        if date.fromisoformat(data["date_end"]) < date.today():
            raise RuleError(message=f"{cart.coupon}: this coupon expired on {data['date_end']}.",
                            field="coupon")
        if data["uses_total"] and uses >= data["uses_total"]:
            raise RuleError(message=f"{cart.coupon}: this coupon has been used up.",
                            field="coupon")
        if data["logged_only"] and customer is None:
            raise RuleError(message=f"{cart.coupon}: this coupon is for registered customers.",
                            hint="Choose the customer first (F2).", field="coupon")
        minimum = Decimal(data["minimum_total"])
        subtotal = sum((round_money(ln.unit_price * ln.quantity) for ln in cart.lines), ZERO)
        if subtotal < minimum:
            raise RuleError(
                message=f"{cart.coupon}: needs a subtotal of at least "
                        f"{format_money(minimum, cart.currency)}.", field="coupon")
        return CouponRule(code=data["code"], name=data["name"], kind=data["kind"],
                          value=Decimal(data["value"]), free_shipping=data["free_shipping"],
                          minimum_total=minimum, logged_only=data["logged_only"])

    def _voucher_balance(self, code: str) -> Decimal:
        row = self.db.execute("SELECT code, balance FROM demo_vouchers WHERE code = ?",
                              [code]).fetchone()
        if row is None or Decimal(row[1]) <= 0:
            raise RuleError(message=f"{code}: {VOUCHER_ERROR}", field="voucher")
        return Decimal(row[1])

    def _check_reward(self, cart: Cart, customer: Customer | None) -> None:
        if not cart.reward:
            return
        if cart.reward < 0:
            raise RuleError(message="Please enter the amount of reward points to use!",
                            field="reward")
        if customer is None:
            raise RuleError(message="Reward points need a registered customer.",
                            hint="Choose the customer first (F2).", field="reward")
        if cart.reward > customer.reward_points:
            raise RuleError(message=f"You don't have {cart.reward} reward points!",
                            field="reward")
        maximum = reward_maximum(cart)
        if cart.reward > maximum:
            raise RuleError(message=f"The maximum number of points that can be applied is "
                                    f"{maximum}!", field="reward")

    def _warnings(self, cart: Cart) -> list[str]:
        out = []
        for problem in self.stock_problems(cart):
            out.append(problem.message)
        return out

    def stock_problems(self, cart: Cart) -> list[RuleError]:
        """Lines over stock or below minimum (summed over lines of the same product)."""
        problems: list[RuleError] = []
        per_product: dict[str, int] = {}
        for line in cart.lines:
            per_product[line.product_id] = per_product.get(line.product_id, 0) + line.quantity
        for pid, qty in per_product.items():
            product = self.catalog.get(pid)
            if product is None:
                problems.append(RuleError(message=f"Product {pid} is no longer sold.",
                                          field="stock"))
                continue
            if product.stock is not None and qty > product.stock:
                problems.append(RuleError(
                    message=f"{product.name}: only {max(product.stock, 0)} in stock.",
                    field="stock"))
            if qty < product.minimum:
                problems.append(RuleError(
                    message=f"Minimum order amount for {product.name} is {product.minimum}!",
                    field="minimum"))
        return problems

    # --- payment links -----------------------------------------------------------------------

    def create_payment_link(self, order: Order, method: PaymentMethod) -> PaymentLink:
        token = secrets.token_hex(8)
        return PaymentLink(id=f"demo_{token}", url=f"https://pay.example.com/demo/{order.number}"
                           f"?t={token}", amount=order.totals.total,
                           detail="Demo store: confirm on screen once the customer has paid.")

    def payment_link_status(self, link: PaymentLink) -> PaymentLink:
        return link  # the demo has no payer: the cashier confirms

    # --- orders ------------------------------------------------------------------------------

    def place_order(self, order: Order) -> PlacedOrder:
        existing = self.find_order(order)
        if existing is not None:
            return existing
        cart = _order_cart(order)
        problems = self.stock_problems(cart)
        if problems:
            raise problems[0]
        price_cart(cart, self.pricing_context(cart))  # re-check every rule before booking
        with transaction(self.db, self.catalog.path) as conn:
            if conn.execute("SELECT 1 FROM demo_orders WHERE number = ?",
                            [order.number]).fetchone():
                row = conn.execute("SELECT id FROM demo_orders WHERE number = ?",
                                   [order.number]).fetchone()
                return PlacedOrder(remote_id=str(row[0]), status="complete")
            self._book(conn, order)
            order_id = conn.execute(
                "INSERT INTO demo_orders (number, created_at, status, total, customer, data) "
                "VALUES (?, ?, 'complete', ?, ?, ?) RETURNING id",
                [order.number, order.created_at.isoformat(), str(order.totals.total),
                 order.customer.name, order.model_dump_json()]).fetchone()[0]
        return PlacedOrder(remote_id=str(order_id), status="complete")

    def _book(self, conn: sqlite3.Connection, order: Order) -> None:
        """Stock, coupon uses, voucher balances, points and credit, in the order's transaction."""
        for line in order.lines:
            self.catalog.adjust_stock(conn, line.product_id, -line.quantity)
        if order.coupon:
            conn.execute("UPDATE demo_coupons SET uses = uses + 1 WHERE code = ?", [order.coupon])
        for code, used in _vouchers_used(order):
            _add_to_voucher(conn, code, -used)
        if order.totals.store_credit and order.customer.id:
            _add_to_credit(conn, order.customer.id, -order.totals.store_credit)
        if order.customer.id:
            earned = sum(line.reward * line.quantity for line in order.lines)
            conn.execute("UPDATE demo_customers SET reward_points = reward_points - ? + ? "
                         "WHERE id = ?", [order.reward, earned, order.customer.id])
        for sold in order.sold_vouchers:
            code = sold.code or f"GV{order.number.replace('-', '')}{sold.key[-4:]}".upper()
            conn.execute("INSERT OR IGNORE INTO demo_vouchers (code, balance, origin) "
                         "VALUES (?, ?, ?)", [code, str(sold.amount), order.number])

    def find_order(self, order: Order) -> PlacedOrder | None:
        row = self.db.execute("SELECT id, status FROM demo_orders WHERE number = ?",
                              [order.number]).fetchone()
        return PlacedOrder(remote_id=str(row[0]), status=row[1]) if row else None

    def list_orders(self, **filters: str) -> list[RemoteOrder]:
        rows = self.db.execute(
            "SELECT id, number, status, total, customer, created_at FROM demo_orders "
            "ORDER BY id DESC LIMIT ?", [int(filters.get("limit", "50"))]).fetchall()
        return [_remote(r) for r in rows]

    def get_order(self, remote_id: str) -> RemoteOrder:
        row = self.db.execute(
            "SELECT id, number, status, total, customer, created_at FROM demo_orders "
            "WHERE id = ?", [remote_id]).fetchone()
        if row is None:
            raise NotFoundError(message=f"The demo store has no order {remote_id}.")
        return _remote(row)

    def refund(self, order: Order, refund: Refund) -> str:
        """Book a refund: what the sale took from the store comes back. Stock for each refunded
        line, and the reward points those units earned are taken back (never below zero); when
        the order is refunded whole (`refunded`), the rest of what the sale booked is undone —
        the points it spent, its coupon use, the gift vouchers and store credit it used — as
        OpenCart does when an order leaves its complete states. Returns what was given back,
        for the refund's note ("" when nothing but stock).

        Keyed by the refund's number, so booking the same refund twice changes nothing.
        """
        with transaction(self.db, self.catalog.path) as conn:
            if conn.execute("SELECT 1 FROM demo_refunds WHERE number = ?",
                            [refund.number]).fetchone():
                return ""
            conn.execute("INSERT INTO demo_refunds (number, order_number, created_at, amount, "
                         "data) VALUES (?, ?, ?, ?, ?)",
                         [refund.number, order.number, refund.created_at.isoformat(),
                          str(refund.amount), refund.model_dump_json()])
            for line in refund.lines:
                self.catalog.adjust_stock(conn, line.product_id, line.quantity)
            reward = {line.key: line.reward for line in order.lines}
            earned = sum(reward.get(line.key, 0) * line.quantity for line in refund.lines)
            given: list[str] = []
            if refund.full:
                conn.execute("UPDATE demo_orders SET status = 'refunded' WHERE number = ?",
                             [order.number])
                given = self._unbook(conn, order)
            spent = order.reward if refund.full else 0
            if order.customer.id and (spent or earned):
                conn.execute("UPDATE demo_customers SET reward_points = "
                             "max(reward_points + ? - ?, 0) WHERE id = ?",
                             [spent, earned, order.customer.id])
                given.insert(0, ", ".join(filter(None, [
                    f"{spent} reward points back" if spent else "",
                    f"{earned} points earned taken back" if earned else ""])))
        return "; ".join(given)

    def _unbook(self, conn: sqlite3.Connection, order: Order) -> list[str]:
        """Undo the coupon use, gift vouchers and store credit a sale booked (`_book`), in the
        refund's transaction; what was given back, one text each."""
        given: list[str] = []
        if order.coupon:
            conn.execute("UPDATE demo_coupons SET uses = max(uses - 1, 0) WHERE code = ?",
                         [order.coupon])
            given.append(f"coupon {order.coupon} use returned")
        for code, used in _vouchers_used(order):
            if _add_to_voucher(conn, code, used):
                given.append(f"{format_money(used, order.currency)} back on gift voucher {code}")
        credit = order.totals.store_credit
        if credit and order.customer.id and _add_to_credit(conn, order.customer.id, credit):
            given.append(f"{format_money(credit, order.currency)} store credit back")
        return given

    def update_order_status(self, order: Order, status: str, reason: str = "") -> None:
        with transaction(self.db, self.catalog.path) as conn:
            conn.execute("UPDATE demo_orders SET status = ? WHERE number = ?",
                         [status, order.number])


def _vouchers_used(order: Order) -> list[tuple[str, Decimal]]:
    """(code, amount taken from its balance) of each gift voucher the sale redeemed."""
    used = [-tl.amount for tl in order.totals.lines if tl.code == "voucher"]
    return list(zip(order.vouchers, used, strict=False))


def _add_to_voucher(conn: sqlite3.Connection, code: str, amount: Decimal) -> bool:
    """Add `amount` (negative: take) to a gift voucher's balance; False: no such voucher."""
    row = conn.execute("SELECT balance FROM demo_vouchers WHERE code = ?", [code]).fetchone()
    if row is None:
        return False
    conn.execute("UPDATE demo_vouchers SET balance = ? WHERE code = ?",
                 [str(Decimal(row[0]) + amount), code])
    return True


def _add_to_credit(conn: sqlite3.Connection, customer_id: str, amount: Decimal) -> bool:
    """Add `amount` (negative: take) to a customer's store credit; False: no such customer."""
    row = conn.execute("SELECT store_credit FROM demo_customers WHERE id = ?",
                       [customer_id]).fetchone()
    if row is None:
        return False
    conn.execute("UPDATE demo_customers SET store_credit = ? WHERE id = ?",
                 [str(Decimal(row[0]) + amount), customer_id])
    return True


def _row_customer(row: tuple[object, ...]) -> Customer:
    cid, first, last, email, phone, points, credit = row
    return Customer(id=str(cid), firstname=str(first), lastname=str(last), email=str(email),
                    telephone=str(phone), reward_points=int(str(points)),
                    store_credit=Decimal(str(credit)))


def _remote(row: tuple[object, ...]) -> RemoteOrder:
    oid, number, status, total, customer, created = row
    return RemoteOrder(remote_id=str(oid), number=str(number), status=str(status),
                       total=Decimal(str(total)), customer=str(customer),
                       created_at=datetime.fromisoformat(str(created)))


def _order_cart(order: Order) -> Cart:
    return order.as_cart(cart_id=order.number,
                         customer=order.customer if order.customer.id else None)
