# ruff: noqa: E501
"""Shared helpers for the OpenCart backend tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from pos.backends.base import BackendContext
from pos.backends.opencart import OpenCartBackend, OpenCartSettings
from pos.models import Address, Cart, CartLine, Customer, SelectedOption
from tests.emulators.faults import FaultyTransport
from tests.emulators.opencart import OpenCartEmulator

KEY = "test-key"
CATALOG = """id,sku,barcode,name,price,stock,category,options,minimum
40,IPHONE,0001,iPhone,101.00,100,Phones,,1
28,HTC,0002,HTC Touch HD,100.00,100,Phones,,1
30,CANON,0003,Canon EOS 5D,80.00,100,Cameras,"[{""id"":""226"",""name"":""Select"",""required"":true,""values"":[{""id"":""15"",""name"":""Red""},{""id"":""16"",""name"":""Blue""}]}]",1
49,GALAXY,0004,Samsung Galaxy Tab 10.1,199.99,100,Tablets,,1
"""


def backend(emu: Any, data_dir: Path, transport: httpx.BaseTransport | None = None,
            **settings: Any) -> OpenCartBackend:
    cfg = OpenCartSettings.model_validate(
        {"backend": "opencart", "base_url": "https://shop.test", "key": KEY, **settings})
    ctx = BackendContext(data_dir=data_dir, profile="shop",
                         transport=transport or httpx.MockTransport(emu.handle))
    return OpenCartBackend(cfg, ctx)


def line(pid: str, qty: int = 1, key: str = "", options: tuple[SelectedOption, ...] = ()
         ) -> CartLine:
    return CartLine(key=key or f"k{pid}", product_id=pid, name=f"P{pid}", quantity=qty,
                    unit_price=Decimal("1"), options=options)


def cart(*lines: CartLine, **kw: Any) -> Cart:
    return Cart(id="c1", created_at=datetime.now(UTC), lines=lines, **kw)


US = Address(firstname="Ann", lastname="Lee", address_1="1 Main St", city="New York",
             country="US", zone="NY")
UK = Address(firstname="Bob", lastname="Ray", address_1="1 High St", city="London",
             postcode="SW1A 1AA", country="GB", zone="GLD")
JANE = Customer(id="1", firstname="Jane", lastname="Doe", email="jane@example.com",
                telephone="555-1234")
JOHN = Customer(id="2", firstname="John", lastname="Smith", email="john@example.com",
                telephone="555-9876")


def emulator() -> OpenCartEmulator:
    return OpenCartEmulator()


def logins(faults: FaultyTransport) -> int:
    """API logins seen by the transport (each opens a new store session)."""
    return sum("api/login" in call for call in faults.calls)


def routes_since(faults: FaultyTransport, start: int) -> list[str]:
    """The API routes called from `faults.calls[start]` on (`login`, `order/add`, …)."""
    return [call.split("route=api/")[1].split("&")[0] for call in faults.calls[start:]
            if "route=api/" in call]
