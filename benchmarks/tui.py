"""Benchmarks of the TUI (startup, scan → screen). They need the Textual screens (`screens.app`)."""

from __future__ import annotations

import importlib.util

from benchmarks.common import Run, skip

NAMES = (("startup_ms", "ms", 400.0), ("startup_rss_mb", "MB", 60.0),
         ("scan_to_screen_p50_ms", "ms", 50.0), ("scan_to_screen_p99_ms", "ms", 150.0))


def screens_available() -> bool:
    try:
        return importlib.util.find_spec("screens.app") is not None
    except ImportError:
        return False


def bench_tui(run: Run) -> None:
    """Skipped (one line per name) until the screens are merged."""
    for name, unit, target in NAMES:
        skip(name, unit, target, "needs screens")
