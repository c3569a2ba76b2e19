"""Dependencies point one way: nothing under pos/ imports Textual; screens load lazily."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys, pkgutil, importlib, pos
for m in pkgutil.walk_packages(pos.__path__, "pos."):
    if m.name.startswith("pos.backends.") and m.name.count(".") == 2 and m.name not in (
            "pos.backends.base", "pos.backends.http", "pos.backends.local"):
        continue
    importlib.import_module(m.name)
print(sorted(n for n in sys.modules if n.split(".")[0] in ("textual", "screens")))
"""

LAZY = """
import sys, screens.app
print(sorted(n for n in sys.modules if n.startswith("screens.")))
"""


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_pos_does_not_import_textual() -> None:
    assert run(CHECK) == "[]"


def test_only_the_cart_screen_loads_at_start() -> None:
    """The cart and what it is made of (its footer, the status bar, the background pricing
    it asks for after a change); every other screen is imported when first opened."""
    assert run(LAZY) == ("['screens.app', 'screens.cart', 'screens.key_footer', "
                         "'screens.store_pricing', 'screens.widgets']")
