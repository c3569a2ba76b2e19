"""Inter-process locks on the data dir (advisory `flock`, released by the OS if a process dies).

* the **sync lock**: one process at a time talks to backends about a data dir's outbox, so two
  processes never both decide that a `sending` entry was abandoned and send it twice;
* the **lane lock**: one counter (TUI) per lane and data dir, so two windows never edit the same
  active cart. A second `pos` on the same lane is refused with a clear message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from pos.errors import StorageError


class FileLock:
    """An advisory lock on a file. Re-entrant within the process: taken again while held, it is
    held until released as many times (a sale's delivery between the steps of a flush)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self._depth = 0  # acquisitions not released yet

    def acquire(self, blocking: bool = False) -> bool:
        if self.fd is not None:
            self._depth += 1
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        self._depth = 1
        return True

    def release(self) -> None:
        if self.fd is None:
            return
        self._depth -= 1
        if self._depth <= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
            self._depth = 0

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def __enter__(self) -> FileLock:
        self.acquire(blocking=True)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def lane_lock(data_dir: Path, lane: str) -> FileLock:
    """Take this lane's lock or raise: one counter per lane and data dir."""
    lock = FileLock(data_dir / "locks" / f"lane-{lane}.lock")
    if not lock.acquire():
        raise StorageError(
            title="Lane in use",
            message=f"Lane {lane} is already open in another pos (process {lock.holder()}).",
            hint="Close the other window, or start this one with another lane: POS_LANE=L2 pos")
    return lock


def sync_lock(data_dir: Path) -> FileLock:
    return FileLock(data_dir / "locks" / "sync.lock")
