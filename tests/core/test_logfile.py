"""`pos.logfile`: every line written at once, rotation by size like the standard handler, time
stamps as the standard formatter writes them, and how the `pos` command installs it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos.logfile import LINE_FORMAT, LineFormatter, LogFile, install


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


def test_line_time_stamps_are_the_standard_formatters() -> None:
    ours, standard = LineFormatter(LINE_FORMAT), logging.Formatter(LINE_FORMAT)
    for created in (1_796_400_000.0, 1_796_400_000.5, 1_796_400_000.999, 1_796_400_001.001,
                    1_796_400_061.25, 1_796_400_000.25):  # new seconds, and one back
        record = logging.LogRecord("pos.sync", logging.INFO, __file__, 1, "sync %s", ("S1",), None)
        record.created, record.msecs = created, int((created - int(created)) * 1000)
        assert ours.format(record) == standard.format(record)
    assert ours.formatTime(record, "%H:%M") == standard.formatTime(record, "%H:%M")


@pytest.fixture
def pos_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("pos")
    saved = (logger.handlers[:], logger.level, logging.logThreads, logging.logProcesses,
             logging.logMultiprocessing, logging._srcfile)
    logger.handlers.clear()
    yield logger
    for handler in logger.handlers:
        handler.close()
    (logger.handlers[:], logger.level, logging.logThreads, logging.logProcesses,
     logging.logMultiprocessing, logging._srcfile) = saved


def test_install_writes_pos_lines_to_the_file(tmp_path: Path, pos_logger: logging.Logger) -> None:
    path = tmp_path / "logs" / "pos.log"
    handler = install(path)
    logging.getLogger("pos.sync").info("sync %s place→shop attempt %d: %s", "T1-000001", 1, "done")
    logging.getLogger("httpx").info("HTTP Request: GET https://shop.test/?token=SECRET")
    line = path.read_text(encoding="utf-8")
    assert line.endswith(" INFO pos.sync sync T1-000001 place→shop attempt 1: done\n")
    assert "SECRET" not in line and pos_logger.handlers == [handler]
    assert install(path) is handler and pos_logger.handlers == [handler]  # once a process
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        logging.getLogger("pos").exception("unexpected error")
    details = path.read_text(encoding="utf-8").split("unexpected error\n", 1)[1]
    assert details.startswith("Traceback") and "ZeroDivisionError" in details


def test_install_where_the_file_cannot_be_written_logs_nowhere(
        tmp_path: Path, pos_logger: logging.Logger) -> None:
    (tmp_path / "logs").write_text("a file where the directory should be", encoding="utf-8")
    handler = install(tmp_path / "logs" / "pos.log")
    assert isinstance(handler, logging.NullHandler)
    logging.getLogger("pos").warning("goes nowhere, fails nothing")
