"""Crash points for the durability tests.

`POS_CRASH_AT=<point>` makes the process die (`os._exit(137)`, like `kill -9`: no cleanup, no
flush) when it reaches that point of a sale or a flush. Points: `after_reserve`,
`after_record`, `after_sending`, `after_remote`, `before_done`. Unset in normal use, it costs one
dict lookup.
"""

from __future__ import annotations

import os


def crash_point(name: str) -> None:
    if os.environ.get("POS_CRASH_AT") == name:
        os._exit(137)
