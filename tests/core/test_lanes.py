"""Several processes on one data dir never draw the same number; one counter per lane."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pos.errors import StorageError
from pos.store.locks import lane_lock

DRAW = ("import sys\nfrom pathlib import Path\nfrom pos.store import Ledger\n"
        "ledger = Ledger(Path(sys.argv[1]))\n"
        "print('\\n'.join(ledger.orders.reserve_number(sys.argv[2]) for _ in range(150)))\n")


def test_concurrent_processes_draw_unique_numbers(data_dir: Path) -> None:
    lanes = ["L1", "L1", "L1", "L2"]
    procs = [subprocess.Popen([sys.executable, "-c", DRAW, str(data_dir), lane],
                              stdout=subprocess.PIPE, text=True) for lane in lanes]
    numbers: list[str] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        numbers += out.split()
    assert len(numbers) == 600 and len(set(numbers)) == 600
    l1 = sorted(n for n in numbers if n.startswith("L1-"))
    assert l1[0] == "L1-000001" and l1[-1] == "L1-000450"


def test_a_lane_opens_in_one_counter_only(data_dir: Path) -> None:
    first = lane_lock(data_dir, "L1")
    try:
        code = ("import sys\nfrom pathlib import Path\nfrom pos.store.locks import lane_lock\n"
                "lane_lock(Path(sys.argv[1]), 'L1')\n")
        other = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True,
                               text=True, timeout=60)
        assert other.returncode != 0 and "already open in another pos" in other.stderr
        lane_lock(data_dir, "L2").release()  # another lane is fine
    finally:
        first.release()
    lane_lock(data_dir, "L1").release()  # free again once released


def test_lane_lock_in_process_refused(data_dir: Path) -> None:
    held = lane_lock(data_dir, "L9")
    try:
        if os.name == "posix":
            # flock locks are per open file description: a second open in-process conflicts too
            with pytest.raises(StorageError, match="Lane L9 is already open"):
                lane_lock(data_dir, "L9")
    finally:
        held.release()


def test_a_file_lock_taken_twice_is_held_until_released_twice(tmp_path: Path) -> None:
    """The sync lock is taken by a flush and again by a sale's delivery between its steps: the
    inner release must not free it for another process."""
    from pos.store.locks import FileLock

    held = FileLock(tmp_path / "sync.lock")
    assert held.acquire() and held.acquire()
    held.release()
    assert not FileLock(tmp_path / "sync.lock").acquire()  # still held
    held.release()
    other = FileLock(tmp_path / "sync.lock")
    assert other.acquire()
    other.release()
