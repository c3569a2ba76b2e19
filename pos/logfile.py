"""The log file: `pos.log`, rotated by size, one line per record written out at once.

`logging.handlers.RotatingFileHandler` decides on every record whether to rotate by checking
the path twice (`os.path.exists`, `os.path.isfile`), formatting the record a first time to
measure it, then seeking to the end of the file — about half of the cost of a log line, and the
sync engine writes one per attempt. `LogFile` formats once and keeps count of the file's size
itself, re-reading it from the file every `RESYNC_LINES` lines (another pos process may write to
the same file) and after each rotation. Each line is still flushed to the file as it is written
(a killed process loses no line), and files are rotated as the standard handler does
(`pos.log.1` … `pos.log.<backupCount>`).

`install` is how the `pos` command logs (and the sync benchmark, which measures it): `LogFile`
with `LineFormatter`, which formats a record's time once a second rather than once a line; and
the `logging` module told not to look up, for every record, what no pos line shows — the
caller's file and line (a walk up the stack), the thread, the process (the switches the
`logging` HOWTO's "Optimization" section names). Together ≈ 15 µs of a sync attempt's line.
"""

from __future__ import annotations

import logging
import os
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path

RESYNC_LINES = 100
LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
MAX_BYTES, BACKUP_COUNT = 1_000_000, 3
QUIET_LOGGERS = ("httpx", "httpcore")  # they log full URLs, and tokens travel in queries


def install(path: Path) -> logging.Handler:
    """Log pos's INFO lines to `path` (rotated): the handler added to the `pos` logger, or a
    `NullHandler` when the file cannot be opened. Once per process (the `pos` command): where
    the `pos` logger has a handler already, that one is returned and no file is opened."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # no caller's file and line
    root = logging.getLogger("pos")
    if root.handlers:
        return root.handlers[0]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = LogFile(path, max_bytes=MAX_BYTES, backup_count=BACKUP_COUNT)
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(LineFormatter(LINE_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler


class LineFormatter(logging.Formatter):
    """`logging.Formatter` whose default time stamp (`2026-12-05 16:37:04,143`) is made once a
    second: `time.strftime` of every record costs ≈ 5 µs."""

    def __init__(self, fmt: str) -> None:
        super().__init__(fmt)
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        msec = self.default_msec_format
        return msec % (self._stamp, record.msecs) if msec else self._stamp


class LogFile(RotatingFileHandler):
    def __init__(self, filename: str | os.PathLike[str], max_bytes: int,
                 backup_count: int) -> None:
        super().__init__(filename, maxBytes=max_bytes, backupCount=backup_count)
        self._size = -1  # bytes in the file (approximately), -1: read it from the file
        self._lines = 0  # lines written since the size was last read from the file
        self._regular = True  # a regular file (rotating /dev/null would make no sense)

    def _sync_size(self) -> None:
        path = self.baseFilename
        self._regular = not os.path.exists(path) or os.path.isfile(path)
        if self.stream is None:
            self.stream = self._open()
        self.stream.seek(0, 2)
        self._size = self.stream.tell()
        self._lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            if self._size < 0 or self._lines >= RESYNC_LINES:
                self._sync_size()
            if (self.maxBytes > 0 and self._regular and self._size > 0
                    and self._size + len(line) >= self.maxBytes):  # as the standard handler
                self.doRollover()
                self._size, self._lines = 0, 0
            if self.stream is None:
                self.stream = self._open()
            self.stream.write(line)
            self.stream.flush()
            self._size += len(line)
            self._lines += 1
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
