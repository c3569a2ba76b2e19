"""`pos.logfile.LogFile`: every line written at once, rotation by size like the standard handler."""

from __future__ import annotations

import logging
from pathlib import Path

from pos.logfile import LogFile


def test_lines_are_flushed_and_files_rotate_by_size(tmp_path: Path) -> None:
    path = tmp_path / "pos.log"
    handler = LogFile(path, max_bytes=2_000, backup_count=2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("test.logfile")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("first → line")
        assert path.read_text(encoding="utf-8") == "first → line\n"  # on disk at once
        for i in range(400):
            log.info("line %03d %s", i, "x" * 20)
    finally:
        log.removeHandler(handler)
        handler.close()
    files = [path, tmp_path / "pos.log.1", tmp_path / "pos.log.2"]
    assert all(f.exists() for f in files) and not (tmp_path / "pos.log.3").exists()
    assert all(f.stat().st_size <= 2_000 for f in files)
    kept = [ln for f in reversed(files) for ln in f.read_text(encoding="utf-8").splitlines()]
    assert kept[-1] == f"line 399 {'x' * 20}"
    assert kept == [f"line {i:03d} {'x' * 20}" for i in range(400 - len(kept), 400)]


def test_another_writer_is_taken_into_account(tmp_path: Path) -> None:
    path = tmp_path / "pos.log"
    handler = LogFile(path, max_bytes=1_000, backup_count=1)
    handler.setFormatter(logging.Formatter("%(message)s"))
    record = logging.LogRecord("pos", logging.INFO, __file__, 1, "mine", None, None)
    try:
        handler.emit(record)
        with path.open("a") as other:  # another pos process writing to the same file
            other.write("o" * 990 + "\n")
        for _ in range(100):
            handler.emit(record)
    finally:
        handler.close()
    assert (tmp_path / "pos.log.1").exists()  # rotated after re-reading the file's size
