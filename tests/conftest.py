"""Shared fixtures: every test gets its own data dir and config file, never the user's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# every value pos builds checks its fields' types (pos.model_base): before pos is imported
os.environ.setdefault("POS_CHECK_MODEL_TYPES", "1")

from pos.config import load_settings
from pos.session import PosSession, open_session

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """POS_DATA_DIR / POS_CONFIG_FILE / log dir under tmp_path; lane fixed to T1; no proxy."""
    data = tmp_path / "data"
    monkeypatch.setenv("POS_DATA_DIR", str(data))
    monkeypatch.setenv("POS_CONFIG_FILE", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("POS_LANE", "T1")
    monkeypatch.delenv("POS_CRASH_AT", raising=False)
    monkeypatch.delenv("POS_PROFILE", raising=False)
    for name in PROXY_VARIABLES:  # the machine's proxy (a CI runner's, say) is not the test's
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return data


@pytest.fixture
def data_dir(isolated_env: Path) -> Path:
    return isolated_env


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


@pytest.fixture
def session(data_dir: Path) -> Iterator[PosSession]:
    """A session on the embedded demo store."""
    s = open_session(data_dir, "local", load_settings())
    yield s
    s.close()
