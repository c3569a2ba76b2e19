"""Fixtures shared by the core tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.config import load_settings
from pos.session import PosSession, open_session
from tests.fakes import FlakyBackend, install_flaky


@pytest.fixture
def flaky(data_dir: Path) -> Iterator[tuple[PosSession, FlakyBackend]]:
    """A demo-store session whose store fails as its `FlakyBackend.plan` says."""
    session = open_session(data_dir, "local", load_settings())
    backend = install_flaky(session)
    yield session, backend
    session.close()
