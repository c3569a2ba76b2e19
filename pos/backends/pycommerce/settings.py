"""PyCommerce profile settings and the constants the backend and its helpers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator

from pos.backends.http import HttpBackendSettings, RemoteCatalogSettings
from pos.errors import InputError
from pos.models import PaymentMethod
from pos.money import to_decimal

STORE = "PyCommerce"
PAGE_SIZE = 500
RECONCILE_WINDOW_HOURS = 24  # orders created since (sale time - this) are read when reconciling
FILTER_KEYS = ("category", "min_price", "max_price", "in_stock")
PAYMENT_METHODS = (
    PaymentMethod(code="cash", title="Cash", kind="cash"),
    PaymentMethod(code="card", title="Card (Stripe checkout link)", kind="link"),
    PaymentMethod(code="free_checkout", title="Free Checkout", kind="free"),
)


@dataclass(kw_only=True)
class PyCommerceSettings(HttpBackendSettings, RemoteCatalogSettings):
    backend: str = "pycommerce"
    tenant: Annotated[str, Field(min_length=1)]  # the tenant slug, e.g. "tech"
    token: SecretStr | None = None  # an API key / JWT used as is
    username: str = ""
    email: str = ""
    password: SecretStr | None = None
    timeout: Annotated[float, Field(gt=0)] = 15.0  # stricter than HttpBackendSettings: > 0
    currency: str = "USD"
    payment_method: str = "cash"  # PyCommerce payment_method for cash/other tenders
    card_payment_method: str = "credit_card"  # ... for the Stripe link / card tenders
    shipping_method: str = "pickup"  # PyCommerce shipping_method for counter (pickup) sales
    guest_name: str = "Walk-in customer"
    guest_email: str = ""  # sent when the sale has no customer e-mail (store may require one)
    shipping_rates: dict[str, str] = field(default_factory=dict)  # delivery: code → flat cost
    catalog_filters: dict[str, str] = field(default_factory=dict)
    max_retry_wait: Annotated[float, Field(ge=0)] = 10.0  # honour Retry-After up to this, then queue

    @field_validator("catalog_filters")
    @classmethod
    def _filters(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = set(value) - set(FILTER_KEYS)
        if unknown:
            raise ValueError(f"unknown filter {', '.join(sorted(unknown))} "
                             f"(use {', '.join(FILTER_KEYS)})")
        return {k: str(v) for k, v in value.items()}

    @field_validator("shipping_rates", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for code, cost in value.items():
                if isinstance(cost, bool) or not isinstance(cost, int | float | str):
                    raise ValueError(f"shipping rate {code!r} must be an amount like \"5.00\"")
                try:
                    to_decimal(cost)
                except InputError:
                    raise ValueError(f"shipping rate {code!r}: {cost!r} is not an amount") from None
            return {k: str(v) for k, v in value.items()}
        return value

    def login_body(self) -> dict[str, str] | None:
        if self.password is None or not (self.username or self.email):
            return None
        key, who = ("username", self.username) if self.username else ("email", self.email)
        return {key: who, "password": self.password.get_secret_value()}
