"""Property tests of every remote backend's response handling: whatever a server answers —
any status, any content type, HTML, truncated or odd JSON, random bytes — a call returns a
value or raises a `PosError` with a one-line message that carries no secret; never another
exception (which would reach the cashier as a traceback)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos.backends import create_backend
from pos.backends.base import Backend, BackendContext
from pos.errors import PosError
from pos.models import Cart, CartLine

SECRETS = ("k3y-SECRET-oc", "tok-SECRET-pc", "app-SECRET-vf", "pw-SECRET-ac", "sk-SECRET-ac")

PROFILES: dict[str, dict[str, Any]] = {
    "opencart": {"backend": "opencart", "base_url": "https://shop.test", "key": SECRETS[0]},
    "pycommerce": {"backend": "pycommerce", "base_url": "https://pc.test", "tenant": "demo",
                   "token": SECRETS[1]},
    "voucherify": {"backend": "voucherify", "base_url": "https://api.voucherify.io",
                   "app_id": "app-id", "app_token": SECRETS[2]},
    "aligncommerce": {"backend": "aligncommerce", "base_url": "https://ac.test",
                      "username": "merchant", "password": SECRETS[3], "client_id": "cid",
                      "secret_key": SECRETS[4]},
}

KEYS = ["error", "errors", "success", "data", "token", "access_token", "expires_in", "orders",
        "id", "status", "total", "message", "code", "products", "detail", "object",
        "invoice_url", "cart_status", "items", "totals", "api_token"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(KEYS), children, max_size=5),
    max_leaves=15)

bodies = (json_values.map(lambda v: json.dumps(v).encode())
          | json_values.map(lambda v: json.dumps(v).encode()[: max(1, len(json.dumps(v)) // 2)])
          | st.binary(max_size=120)
          | st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>")
          | st.just(b"<b>Warning</b>: Undefined index in /var/www/x.php on line 3\n{\"success\":1}"))

answers = st.tuples(
    st.sampled_from([200, 200, 200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503]),
    st.sampled_from(["application/json", "text/html; charset=utf-8", "text/plain", ""]),
    bodies)


def a_cart() -> Cart:
    line = CartLine(key="k1", product_id="40", sku="IPHONE", name="iPhone", quantity=1,
                    unit_price=Decimal("101.00"))
    return Cart(id="c1", created_at=datetime.now(UTC), lines=(line,))


CALLS: dict[str, list[Callable[[Backend], object]]] = {
    "opencart": [lambda b: b.quote(a_cart()), lambda b: b.search_customers("ann")],
    "pycommerce": [lambda b: b.list_orders(), lambda b: b.get_order("7"),
                   lambda b: list(b.iter_catalog())],
    "voucherify": [lambda b: b.list_orders(), lambda b: b.get_order("L1-000001")],
    "aligncommerce": [lambda b: b.list_orders(), lambda b: list(b.iter_catalog()),
                      lambda b: b.search_customers("ann")],
}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_any_answer_is_a_value_or_a_clear_error(name: str, tmp_path: Path) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(answer=answers, which=st.integers(0, len(CALLS[name]) - 1))
    def check(answer: tuple[int, str, bytes], which: int) -> None:
        status, content_type, body = answer
        headers = {"Content-Type": content_type} if content_type else {}
        if status == 429:
            headers["Retry-After"] = "0"
        transport = httpx.MockTransport(
            lambda request: httpx.Response(status, headers=headers, content=body))
        context = BackendContext(data_dir=tmp_path, profile=name, lane="T1",
                                 transport=transport)
        backend = create_backend(dict(PROFILES[name]), context)
        try:
            CALLS[name][which](backend)
        except PosError as exc:
            text = f"{exc.title} {exc.message} {exc.hint}"
            assert exc.message.strip(), "an error with no message"
            assert not any(secret in text for secret in SECRETS), text
        finally:
            backend.close()

    check()
