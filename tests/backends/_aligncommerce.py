"""Shared helpers for the Align Commerce tests (profile `ac` against the emulator)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pos.backends.aligncommerce import AlignCommerceBackend, AlignCommerceSettings
from pos.backends.base import BackendContext
from pos.config import load_settings
from pos.session import PosSession, open_session
from tests.emulators.aligncommerce import (
    CLIENT_ID,
    PASSWORD,
    SECRET_KEY,
    USERNAME,
    AlignCommerceEmulator,
)

CONFIG = f"""
default_profile = "ac"

[profiles.ac]
backend = "aligncommerce"
base_url = "https://ac.test/"
username = "{USERNAME}"
password = "{PASSWORD}"
client_id = "{CLIENT_ID}"
secret_key = "{SECRET_KEY}"
currency = "USD"
"""


def write_config(path: Path, **extra: str) -> None:
    text = CONFIG + "".join(f'{k} = "{v}"\n' for k, v in extra.items())
    path.write_text(text, "utf-8")


def make_backend(emulator: AlignCommerceEmulator, tmp_path: Path,
                 **overrides: Any) -> AlignCommerceBackend:
    values: dict[str, Any] = {
        "backend": "aligncommerce", "base_url": "https://ac.test/", "username": USERNAME,
        "password": PASSWORD, "client_id": CLIENT_ID, "secret_key": SECRET_KEY, **overrides}
    settings = AlignCommerceSettings.model_validate(values)
    context = BackendContext(data_dir=tmp_path, profile="ac", transport=emulator.transport())
    return AlignCommerceBackend(settings, context, clock=emulator.clock)


def make_session(emulator: AlignCommerceEmulator, data_dir: Path,
                 transport: Any = None) -> PosSession:
    return open_session(data_dir, "ac", load_settings(),
                        transports={"ac": transport or emulator.transport()})


@contextmanager
def ac_session(emulator: AlignCommerceEmulator, data_dir: Path,
               config_file: Path) -> Iterator[PosSession]:
    """Profile `ac` in the config file, a session on it whose store is `emulator` in this
    process (its catalog not synced); closed at the end."""
    write_config(config_file)
    session = make_session(emulator, data_dir)
    try:
        yield session
    finally:
        session.close()


SECRETS = (PASSWORD, SECRET_KEY)
