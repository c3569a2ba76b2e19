"""Fixtures of the backend tests."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pos.cli import main
from pos.config import load_settings
from pos.session import PosSession, open_session
from tests.backends.oc_helpers import CATALOG, KEY
from tests.backends.socket_server import Handler, Server
from tests.emulators.faults import FaultyTransport
from tests.emulators.opencart import OpenCartEmulator, make_emulator


@pytest.fixture
def shop(tmp_path: Path, config_file: Path) -> tuple[OpenCartEmulator, FaultyTransport]:
    config_file.write_text(
        '[profiles.shop]\nbackend = "opencart"\nbase_url = "https://shop.test"\n'
        f'key = "{KEY}"\n', encoding="utf-8")
    emu = make_emulator()
    faults = FaultyTransport(emu.handle, sleep=lambda s: None)
    csv = tmp_path / "catalog.csv"
    csv.write_text(CATALOG, encoding="utf-8")
    assert main(["--profile", "shop", "catalog", "import", str(csv)]) == 0
    return emu, faults


@pytest.fixture
def shop_session(shop: tuple[OpenCartEmulator, FaultyTransport], data_dir: Path
                 ) -> Iterator[PosSession]:
    """A session on the `shop` profile, its requests through the emulator's faulty transport."""
    _emu, faults = shop
    session = open_session(data_dir, "shop", load_settings(), transports={"shop": faults})
    yield session
    session.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start `Server`s on 127.0.0.1 (`serve(handler, tls=None)`); closed after the test."""
    servers: list[Server] = []

    def start(handler: Handler, tls: ssl.SSLContext | None = None) -> Server:
        servers.append(Server(handler, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()
