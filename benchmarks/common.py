"""Shared helpers: the run's options, percentiles, result lines."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Run:
    """Options and shared state of one benchmark run."""

    workdir: Path
    quick: bool = False
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def big(self) -> int:
        """Size of the catalog for lookup/search/RSS: 1M (100k with --quick)."""
        return 100_000 if self.quick else 1_000_000


def percentile(samples: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def emit(name: str, value: float, unit: str, *, target: float, reference: float | None,
         higher_is_better: bool = False, **extra: Any) -> dict[str, Any]:
    """Print one result line and return it."""
    ratio = (value / reference) if reference else None
    ok = value >= target if higher_is_better else value <= target
    line: dict[str, Any] = {
        "name": name, "value": round(value, 4), "unit": unit,
        "reference": round(reference, 4) if reference is not None else None,
        "ratio": round(ratio, 4) if ratio is not None else None,
        "target": target, "ok": ok, **extra,
    }
    print(json.dumps(line), flush=True)
    return line


def skip(name: str, unit: str, target: float, why: str) -> dict[str, Any]:
    line = {"name": name, "value": None, "unit": unit, "reference": None, "ratio": None,
            "target": target, "ok": None, "skipped": why}
    print(json.dumps(line), flush=True)
    return line


def note(text: str) -> None:
    """Progress on stderr (stdout carries only the JSON lines)."""
    print(text, file=sys.stderr, flush=True)
