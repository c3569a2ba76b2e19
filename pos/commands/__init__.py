"""Subcommands of `pos` that grew beyond a few lines, one module per group."""

from __future__ import annotations

import json
from typing import Any


def print_json(data: Any) -> None:
    """What every `--json` option prints: indented, UTF-8 as is."""
    print(json.dumps(data, indent=2, ensure_ascii=False))
