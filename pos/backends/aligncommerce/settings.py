"""Align Commerce profile settings and the service's codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from pos.backends.http import HttpBackendSettings, RemoteCatalogSettings

STORE = "Align Commerce"
SCOPE = "products,buyer,invoice"
CATALOG_PAGE = 500
# Our payment method codes → the service's checkout_type.
CHECKOUT_TYPES = {"bitcoin": "btc", "bank_transfer": "bank_transfer"}
LINK_STATUS: dict[str, Literal["pending", "paid", "canceled", "failed"]] = {
    "pending": "pending", "success": "paid", "cancel": "canceled", "fail": "failed"}


@dataclass(kw_only=True)
class AlignCommerceSettings(HttpBackendSettings, RemoteCatalogSettings):
    backend: str = "aligncommerce"
    base_url: str = "https://api.aligncommerce.com/"
    username: str
    password: SecretStr
    client_id: str
    secret_key: SecretStr
    currency: str = "USD"
    # buyer_info needs a name and an e-mail; a walk-in customer gets these.
    guest_first_name: str = "Walk-in"
    guest_last_name: str = "Customer"
    guest_email: str = "pos-guest@example.invalid"

