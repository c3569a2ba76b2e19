"""The domain's values: products, the cart, customers, addresses, methods, totals, orders.

All are frozen dataclasses (`pos.model_base.Model`): a change makes a new value
(`model_copy(update=...)`), so a cart can be saved, compared and thrown away without aliasing
surprises; pydantic validates and serializes them where they are read or written
(`model_validate_json`, `model_dump_json`). No I/O here. Money fields are `Decimal` (see
`pos.money` for the rounding policy).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pos.model_base import Model

# --- catalog -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OptionValue(Model):
    id: str
    name: str
    price: Decimal = Decimal("0")
    stock: int | None = None  # None: not tracked


@dataclass(frozen=True, kw_only=True)
class ProductOption(Model):
    id: str
    name: str
    type: Literal["select", "radio", "checkbox", "text", "textarea", "date", "time", "datetime"] = (
        "select"
    )
    required: bool = False
    values: tuple[OptionValue, ...] = ()

    def value(self, value_id: str) -> OptionValue | None:
        return next((v for v in self.values if v.id == value_id), None)


@dataclass(frozen=True, kw_only=True)
class TaxRate(Model):
    name: str
    kind: Literal["percent", "fixed"] = "percent"
    value: Decimal


@dataclass(frozen=True, kw_only=True)
class TaxClass(Model):
    """A set of rates. `included`: shelf prices already contain the tax (VAT-style)."""

    id: str
    name: str
    rates: tuple[TaxRate, ...] = ()
    included: bool = False


@dataclass(frozen=True, kw_only=True)
class Product(Model):
    id: str
    sku: str = ""
    barcode: str = ""
    name: str
    price: Decimal
    tax_class: str = ""
    stock: int | None = None  # None: not tracked (always available)
    minimum: int = 1
    options: tuple[ProductOption, ...] = ()
    category: str = ""
    shipping: bool = True  # needs shipping (False for services, downloads, gift cards)
    points: int = 0  # price in reward points (0: cannot be bought with points)
    reward: int = 0  # points earned per unit

    @property
    def required_options(self) -> tuple[ProductOption, ...]:
        return tuple(o for o in self.options if o.required)


# --- people and places ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Customer(Model):
    id: str | None = None  # None: a guest
    firstname: str = ""
    lastname: str = ""
    email: str = ""
    telephone: str = ""
    reward_points: int = 0
    store_credit: Decimal = Decimal("0")

    @property
    def guest(self) -> bool:
        return self.id is None

    @property
    def name(self) -> str:
        return f"{self.firstname} {self.lastname}".strip() or "Guest"


@dataclass(frozen=True, kw_only=True)
class Address(Model):
    firstname: str
    lastname: str
    company: str = ""
    address_1: str
    address_2: str = ""
    city: str
    postcode: str = ""
    country: str = "US"  # ISO 3166-1 alpha-2
    zone: str = ""  # zone/state code within the country, e.g. "CA"

    def one_line(self) -> str:
        parts = [self.address_1, self.address_2, self.city, self.zone, self.postcode, self.country]
        return ", ".join(p for p in parts if p)


# --- cart -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SelectedOption(Model):
    option_id: str
    name: str
    value_id: str = ""  # for choice options
    value: str  # the label shown (value name, or the typed text)
    price: Decimal = Decimal("0")


@dataclass(frozen=True, kw_only=True)
class CartLine(Model):
    key: str
    product_id: str
    sku: str = ""
    barcode: str = ""
    name: str
    quantity: int
    unit_price: Decimal  # product price + option prices, before discounts
    options: tuple[SelectedOption, ...] = ()
    tax_class: str = ""
    shipping: bool = True
    points: int = 0
    reward: int = 0
    price_override_reason: str = ""

    @property
    def options_label(self) -> str:
        return ", ".join(f"{o.name}: {o.value}" for o in self.options)


@dataclass(frozen=True, kw_only=True)
class SoldVoucher(Model):
    """A gift voucher sold at the counter (a cart line that needs no shipping)."""

    key: str
    from_name: str
    from_email: str = ""
    to_name: str
    to_email: str = ""
    message: str = ""
    amount: Decimal
    code: str = ""


@dataclass(frozen=True, kw_only=True)
class ShippingMethod(Model):
    code: str  # e.g. "flat.flat", "pickup.pickup"
    title: str
    cost: Decimal = Decimal("0")
    tax_class: str = ""


PaymentKind = Literal["cash", "card", "link", "bank", "free", "voucher", "other"]


@dataclass(frozen=True, kw_only=True)
class PaymentMethod(Model):
    code: str
    title: str
    kind: PaymentKind = "other"


@dataclass(frozen=True, kw_only=True)
class Payment(Model):
    method: str
    title: str = ""
    kind: PaymentKind = "other"
    amount: Decimal  # what this tender pays towards the total
    tendered: Decimal | None = None  # cash handed over
    change: Decimal = Decimal("0")
    reference: str = ""  # payment link id, invoice id, card slip ...
    url: str = ""  # a pending payment link's URL (shown again as a QR code after a restart)
    status: Literal["paid", "pending", "canceled"] = "paid"


@dataclass(frozen=True, kw_only=True)
class Cart(Model):
    """The sale in progress: the local source of truth, saved after every change."""

    id: str
    created_at: datetime
    currency: str = "USD"
    number: str | None = None  # reserved order number (before any network call)
    lines: tuple[CartLine, ...] = ()
    sold_vouchers: tuple[SoldVoucher, ...] = ()
    customer: Customer | None = None
    coupon: str | None = None
    vouchers: tuple[str, ...] = ()
    reward: int = 0
    use_store_credit: bool = False
    pickup: bool = True  # taken at the counter; False: delivered to shipping_address
    shipping_address: Address | None = None
    shipping_method: ShippingMethod | None = None
    payment_address: Address | None = None
    payment_method: PaymentMethod | None = None
    payments: tuple[Payment, ...] = ()
    comment: str = ""
    label: str = ""  # name shown for a parked cart
    reopened: bool = False  # a refused sale taken back to fix: placing it replaces the order

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def needs_shipping(self) -> bool:
        return any(line.shipping for line in self.lines)

    def line(self, key: str) -> CartLine | None:
        return next((ln for ln in self.lines if ln.key == key), None)

    @property
    def empty(self) -> bool:
        return not self.lines and not self.sold_vouchers


# --- pricing --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TotalLine(Model):
    code: str  # sub_total, reward, coupon, shipping, tax, credit, voucher, total
    title: str
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class PricedLine(Model):
    key: str
    unit_price: Decimal
    total: Decimal  # unit × quantity, rounded (shelf price: with tax when tax is included)
    discount: Decimal = Decimal("0")  # coupon + reward share of this line
    tax: Decimal = Decimal("0")  # tax of this line after its discount


@dataclass(frozen=True, kw_only=True)
class Totals(Model):
    currency: str = "USD"
    subtotal: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")  # coupon + reward points (positive number)
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")  # tax added on top of prices
    tax_included: Decimal = Decimal("0")  # tax already inside shelf prices (information)
    vouchers: Decimal = Decimal("0")  # gift vouchers redeemed (positive)
    store_credit: Decimal = Decimal("0")  # store credit used (positive)
    total: Decimal = Decimal("0")  # what is left to pay
    lines: tuple[TotalLine, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Quote(Model):
    """A priced cart: per-line prices, the totals, and what can be chosen next."""

    lines: tuple[PricedLine, ...] = ()
    totals: Totals = field(default_factory=Totals)
    shipping_methods: tuple[ShippingMethod, ...] = ()
    payment_methods: tuple[PaymentMethod, ...] = ()
    reward_max: int = 0  # most points usable on this cart
    reward_available: int = 0  # the customer's balance
    warnings: tuple[str, ...] = ()
    remote: bool = False  # priced by the backend (True) or estimated locally (False)

    def line(self, key: str) -> PricedLine | None:
        return next((ln for ln in self.lines if ln.key == key), None)


# --- orders ---------------------------------------------------------------------------------


REFUND_METHODS = ("cash", "card", "voucher", "store_credit", "other")  # how money goes back


class OrderStatus(StrEnum):
    QUEUED = "queued"  # written locally, not yet accepted by the backend
    SENDING = "sending"  # a placement call is under way
    PLACED = "placed"  # the backend has it (remote_id known, or the local store took it)
    UNKNOWN = "unknown"  # a call went out and no answer came back: reconcile before retrying
    FAILED = "failed"  # the backend refused it: a cashier must fix or cancel
    CANCELED = "canceled"  # voided/refunded/cancelled by a cashier


@dataclass(frozen=True, kw_only=True)
class Order(Model):
    number: str  # <lane>-<sequence>
    lane: str
    cashier: str = ""
    profile: str = "local"
    backend: str = "local"
    created_at: datetime
    status: OrderStatus = OrderStatus.QUEUED
    currency: str = "USD"
    customer: Customer = field(default_factory=Customer)
    lines: tuple[CartLine, ...] = ()
    priced: tuple[PricedLine, ...] = ()
    sold_vouchers: tuple[SoldVoucher, ...] = ()
    coupon: str | None = None
    vouchers: tuple[str, ...] = ()
    reward: int = 0
    use_store_credit: bool = False
    pickup: bool = True
    shipping_address: Address | None = None
    shipping_method: ShippingMethod | None = None
    payment_address: Address | None = None
    payment_method: PaymentMethod | None = None
    payments: tuple[Payment, ...] = ()
    totals: Totals = field(default_factory=Totals)
    comment: str = ""
    remote_id: str | None = None
    last_error: str = ""

    def as_cart(self, *, cart_id: str, customer: Customer | None) -> Cart:
        """The sale as a cart again, under `cart_id` and with `customer` as the caller needs
        it: to price or replay it on a store, or to take a refused sale back to fix."""
        return Cart(
            id=cart_id, created_at=self.created_at, currency=self.currency, number=self.number,
            lines=self.lines, sold_vouchers=self.sold_vouchers, customer=customer,
            coupon=self.coupon, vouchers=self.vouchers, reward=self.reward,
            use_store_credit=self.use_store_credit, pickup=self.pickup,
            shipping_address=self.shipping_address, shipping_method=self.shipping_method,
            payment_address=self.payment_address, payment_method=self.payment_method,
            payments=self.payments, comment=self.comment)

    @property
    def outcome(self) -> str:
        """One line: number, status, the store's id and the last error (CLI and counter)."""
        return (f"{self.number}: {self.status.value}"
                + (f" (remote {self.remote_id})" if self.remote_id else "")
                + (f" — {self.last_error}" if self.last_error else ""))

    @property
    def change(self) -> Decimal:
        return sum((p.change for p in self.payments), Decimal("0"))

    @property
    def tendered(self) -> Decimal:
        return sum((p.tendered or p.amount for p in self.payments), Decimal("0"))
