"""The counter's start loads no pydantic: the cart is painted first (`PosSession.warm_up`
loads it in the background afterwards). A start with pydantic costs ≈ 100 ms more
(docs/benchmarks.md), so a change that brings it back should fail here, not in a benchmark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

START = """
import asyncio, sys, threading
from pathlib import Path
from pos.config import load_settings
from pos.session import open_session
from screens.app import PosApp

at_ready = []
first_paint = PosApp.cart_ready

def cart_ready(self):
    at_ready.append("pydantic" in sys.modules)
    first_paint(self)

PosApp.cart_ready = cart_ready
session = open_session(Path(sys.argv[1]), None, load_settings())

async def main():
    app = PosApp(session, sync_interval=0)
    async with app.run_test(size=(120, 40)) as pilot:
        while not at_ready:
            await pilot.pause(0.01)
        for thread in threading.enumerate():
            if thread.name == "pos-warm-up":
                thread.join(30)

asyncio.run(main())
session.close()
print(at_ready[0], "pydantic" in sys.modules)
"""


def _run(code: str, data: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "start.toml"
    config.write_text('lane = "S1"\ncashier = ""\n[shop]\nname = "Corner"\n', "utf-8")
    env = {"PATH": "/usr/bin:/bin", "POS_CONFIG_FILE": str(config), "HOME": str(tmp_path),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "c")}
    return subprocess.run([sys.executable, "-c", code, str(data)], capture_output=True,
                          text=True, env=env, check=False, timeout=120)


def test_the_cart_is_painted_before_pydantic_is_imported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    seed = ("import sys\nfrom pathlib import Path\nfrom pos.config import load_settings\n"
            "from pos.session import open_session\n"
            "open_session(Path(sys.argv[1]), None, load_settings()).close()\n")
    assert _run(seed, data, tmp_path).returncode == 0  # the demo store seeded, as on a till
    out = _run(START, data, tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    # not at the first paint; loaded by the warm-up right after it
    assert out.stdout.split() == ["False", "True"]
