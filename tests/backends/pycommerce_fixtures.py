"""Helpers for the PyCommerce backend tests: a backend wired to the in-process emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from pos.backends.base import BackendContext
from pos.backends.pycommerce import PyCommerceBackend, PyCommerceSettings
from tests.emulators.pycommerce import API_TOKEN, PyCommerceEmulator, make_emulator

MakeBackend = Callable[..., PyCommerceBackend]


@pytest.fixture
def emu() -> PyCommerceEmulator:
    return make_emulator()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_backend(emu: PyCommerceEmulator, tmp_path: Path, sleeps: list[float]) -> MakeBackend:
    def make(transport: httpx.BaseTransport | None = None, **settings: Any) -> PyCommerceBackend:
        table: dict[str, Any] = {"backend": "pycommerce", "base_url": "https://pc.test",
                                 "tenant": "tech", "token": API_TOKEN}
        table.update(settings)
        table = {k: v for k, v in table.items() if v is not None}
        cfg = PyCommerceSettings.model_validate(table)
        ctx = BackendContext(data_dir=tmp_path, profile="pc",
                             transport=transport or httpx.MockTransport(emu.handle))
        return PyCommerceBackend(cfg, ctx, sleep=sleeps.append)

    return make
