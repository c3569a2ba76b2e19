"""The log file: `pos.log`, rotated by size, one line per record written out at once.

`logging.handlers.RotatingFileHandler` decides on every record whether to rotate by checking
the path twice (`os.path.exists`, `os.path.isfile`), formatting the record a first time to
measure it, then seeking to the end of the file — about half of the cost of a log line, and the
sync engine writes one per attempt. `LogFile` formats once and keeps count of the file's size
itself, re-reading it from the file every `RESYNC_LINES` lines (another pos process may write to
the same file) and after each rotation. Each line is still flushed to the file as it is written
(a killed process loses no line), and files are rotated as the standard handler does
(`pos.log.1` … `pos.log.<backupCount>`).
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler

RESYNC_LINES = 100


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
