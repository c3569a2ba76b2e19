"""A minimal progress line for long CLI jobs (catalog import/sync), on stderr."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int | None = None, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.started = time.monotonic()
        self.shown = 0.0
        self.tty = stream.isatty()

    def __enter__(self) -> Progress:
        return self

    def update(self, done: int, total: int | None = None) -> None:
        total = total or self.total
        now = time.monotonic()
        if not self.tty or now - self.shown < 0.1:
            return
        self.shown = now
        if total:
            width = 30
            filled = int(width * min(done, total) / total)
            bar = "█" * filled + "·" * (width - filled)
            text = f"\r{self.label} {bar} {done}/{total}"
        else:
            text = f"\r{self.label} {done} …"
        self.stream.write(text)
        self.stream.flush()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.tty:
            self.stream.write(f"\r{self.label} done in {time.monotonic() - self.started:.1f}s"
                              + " " * 30 + "\n")
