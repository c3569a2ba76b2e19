"""End to end: the real `pos` in tmux sells a mug for exact cash, then `pos orders list` sees it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def pos_command() -> list[str]:
    exe = Path(sys.executable).with_name("pos")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pos.cli"]


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_sale_in_tmux(tmp_path: Path) -> None:
    data = tmp_path / "pos-data"
    name = f"pos-e2e-{uuid.uuid4().hex[:8]}"
    env_prefix = " ".join(f"{k}={v}" for k, v in (
        ("POS_LANE", "T1"), ("POS_CONFIG_FILE", tmp_path / "config.toml"),
        ("XDG_STATE_HOME", tmp_path / "state"), ("TERM", "xterm-256color")))
    command = f"env {env_prefix} {' '.join(pos_command())} --data-dir {data}"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", command],
                   check=True)

    def screen() -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", name], capture_output=True,
                              text=True).stdout

    def keys(*sent: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", name, *sent], check=True)

    try:
        assert wait_for(lambda: "Scan a barcode" in screen()), screen()
        time.sleep(1.0)  # on a loaded machine the first paint can precede input focus
        keys("MUG")
        if not wait_for(lambda: "MUG" in screen(), timeout=10):
            keys("C-u", "MUG")  # keys sent before the app listened: type again
        assert wait_for(lambda: "MUG" in screen()), screen()
        keys("Enter")
        assert wait_for(lambda: "Ceramic Mug" in screen()), screen()
        time.sleep(0.5)  # let the cart settle: a slow first start must not split F12's sequence
        keys("F12")
        assert wait_for(lambda: "To pay:" in screen()), screen()
        time.sleep(0.3)
        keys("Enter")
        assert wait_for(lambda: "Order T1-000001" in screen()), screen()
        keys("C-q")
        wait_for(lambda: subprocess.run(["tmux", "has-session", "-t", name],
                                        capture_output=True).returncode != 0, timeout=5)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    listed = subprocess.run([*pos_command(), "--data-dir", str(data), "orders", "list", "--json"],
                            capture_output=True, text=True, check=True,
                            env={**os.environ, "POS_LANE": "T1"})
    orders = json.loads(listed.stdout)
    assert [(o["number"], o["status"]) for o in orders] == [("T1-000001", "placed")]
