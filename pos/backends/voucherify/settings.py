"""Voucherify profile settings and the API's enums and limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from pos.backends.http import HttpBackendSettings

STORE = "Voucherify"
STATUSES = ("CREATED", "PAID", "CANCELED", "FULFILLED")
LIST_ORDERS = ("created_at", "-created_at", "updated_at", "-updated_at")
EXPORT_FIELDS = ("id", "source_id", "created_at", "updated_at", "status", "amount",
                 "discount_amount", "items_discount_amount", "total_discount_amount",
                 "total_amount", "customer_id", "referrer_id", "metadata")
EXPORT_ORDERS = ("-created_at", "created_at", "-updated_at", "updated_at", "-status", "status")
MAX_IMPORT_BATCH = 2000
MAX_ITEMS = 500
MAX_429_RETRIES = 5

# Local words for a status change → Voucherify's enum.
STATUS_WORDS = {
    "created": "CREATED", "paid": "PAID", "placed": "PAID",
    "canceled": "CANCELED", "cancelled": "CANCELED", "void": "CANCELED", "voided": "CANCELED",
    "refund": "CANCELED", "refunded": "CANCELED",
    "fulfilled": "FULFILLED", "picked_up": "FULFILLED", "shipped": "FULFILLED",
    "delivered": "FULFILLED",
}


@dataclass(kw_only=True)
class VoucherifySettings(HttpBackendSettings):
    backend: Literal["voucherify"] = "voucherify"
    base_url: str = "https://api.voucherify.io"
    app_id: str
    app_token: SecretStr
    poll_interval: float = 1.0  # first wait between async-action/export polls (then ×1.5)
    poll_max_interval: float = 15.0
    poll_timeout: float = 1800.0  # give up waiting for one import batch/export after this

