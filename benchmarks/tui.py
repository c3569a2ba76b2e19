"""Benchmarks of the TUI: cold start of `pos` to a usable cart screen, and scan → line on screen.

* `startup_ms` / `startup_rss_mb`: `pos --data-dir D` spawned under a pseudo-terminal (120×40,
  TERM=xterm-256color), timed from just before the spawn to the line the app writes on
  `POS_READY_FD` (`PosApp.cart_ready`: the cart screen has been painted once, with the cart
  loaded and the scan input focused); the RSS is the process's VmRSS read at that moment. The
  data dir is created and the demo store seeded once beforehand (`pos catalog search`), so the
  figure is start-up, not first-run seeding. Reference: `benchmarks/tui_ref.py` (a minimal
  Textual app with one DataTable, the same ready signal) started the same way, alternating with
  `pos`, after one untimed warm-up of each. Median of the runs. pos/ and screens/ are
  byte-compiled first (as `pip install` does; the dev environment sets PYTHONDONTWRITEBYTECODE).
* `scan_to_screen_p50_ms` / `_p99_ms`: in this process, Textual's Pilot drives the real
  `PosApp` on the demo store: 200 scans (40 products, 5 rounds: new lines, then quantity
  updates): the code is put in the focused input, then an Enter key event is posted to the app
  (as the terminal driver does); timed from posting Enter to the DataTable holding
  the line's row with the new quantity. Reference: the same scans in `ScanRefApp` (Input +
  DataTable, the row added/updated synchronously).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textual import events

from benchmarks.common import Run, emit, note, percentile
from pos.catalog_refresher import CatalogRefresher, RefreshStopped, pull_in_process

NAMES = (("startup_ms", "ms", 400.0), ("startup_rss_mb", "MB", 60.0),
         ("scan_to_screen_p50_ms", "ms", 50.0), ("scan_to_screen_p99_ms", "ms", 150.0))
READY_TIMEOUT = 60.0
SCAN_PRODUCTS, SCAN_ROUNDS, QUICK_SCAN_ROUNDS = 40, 5, 2
REF_SCRIPT = Path(__file__).with_name("tui_ref.py")


def _env(root: Path) -> dict[str, str]:
    """A till set up as the README says: its lane in its config file (`pos config set lane`),
    no `POS_` setting variable (with one, the start-up also imports pydantic-settings to read
    the environment: ≈ 46 M instructions more, see docs/benchmarks.md)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.toml").write_text('lane = "B1"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("POS_")}
    env.update(POS_CONFIG_FILE=str(root / "config.toml"),
               XDG_STATE_HOME=str(root / "state"), XDG_CACHE_HOME=str(root / "cache"),
               TERM="xterm-256color", COLUMNS="120", LINES="40")
    env.pop("TEXTUAL", None)
    return env


@contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _pos_command() -> list[str]:
    script = Path(sys.executable).with_name("pos")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pos.cli"]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start_once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Spawn under a pty; (ms to the ready line, RSS MB then). Quits with ctrl+q."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    ready_r, ready_w = os.pipe()
    stop = threading.Event()

    def drain() -> None:  # the app must never block writing to the terminal
        while not stop.is_set():
            try:
                if select.select([master], [], [], 0.1)[0] and not os.read(master, 65536):
                    return
            except OSError:
                return

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, pass_fds=(ready_w,),
                            env={**env, "POS_READY_FD": str(ready_w)}, start_new_session=True)
    os.close(slave)
    os.close(ready_w)
    try:
        if not select.select([ready_r], [], [], READY_TIMEOUT)[0]:
            raise RuntimeError(f"{command[-1]}: not ready after {READY_TIMEOUT} s")
        elapsed = (time.perf_counter() - started) * 1000
        line = os.read(ready_r, 64)
        rss = _rss_mb(proc.pid)
        if not line.startswith(b"ready"):
            raise RuntimeError(f"{command[-1]}: exited before ready (code {proc.poll()})")
        os.write(master, b"\x11")  # ctrl+q
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return elapsed, rss
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stop.set()
        drainer.join(timeout=2)
        os.close(ready_r)
        os.close(master)


def bench_startup(run: Run) -> None:
    root = run.workdir / "tui-start"
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    env = _env(root)
    pos = [*_pos_command(), "--data-dir", str(data)]
    # `pip install` byte-compiles a package; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 (as here) would compile pos/ and screens/ on every start
    import compileall
    import importlib.util

    for package in ("pos", "screens"):
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.origin is not None
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)
    note("tui: seeding the demo store for the start-up benchmark")
    subprocess.run([*pos, "catalog", "search", "mug"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    ref = [sys.executable, str(REF_SCRIPT)]
    runs = 5 if run.quick else 11
    _start_once(ref, env)  # warm-ups: page cache, .pyc
    _start_once(pos, env)
    times: dict[str, list[float]] = {"pos": [], "ref": []}
    rss: dict[str, list[float]] = {"pos": [], "ref": []}
    for i in range(runs):
        for name, command in (("ref", ref), ("pos", pos)) if i % 2 else (("pos", pos),
                                                                         ("ref", ref)):
            ms, mb = _start_once(command, env)
            times[name].append(ms)
            rss[name].append(mb)
        note(f"tui: start-up run {i + 1}/{runs}: pos {times['pos'][-1]:.0f} ms "
             f"{rss['pos'][-1]:.1f} MB, reference {times['ref'][-1]:.0f} ms")
    emit("startup_ms", statistics.median(times["pos"]), "ms", target=400.0,
         reference=statistics.median(times["ref"]), runs=runs,
         min=round(min(times["pos"]), 1), ref_min=round(min(times["ref"]), 1),
         ratio_target=1.5, data="demo store, seeded beforehand")
    emit("startup_rss_mb", statistics.median(rss["pos"]), "MB", target=60.0,
         reference=statistics.median(rss["ref"]), runs=runs)


async def _drive(app: Any, codes: list[str], row_of: Any) -> list[float]:
    """Scan every code (type it, Enter); ms from Enter to `row_of(app, code, qty)` true."""
    samples: list[float] = []
    counts: dict[str, int] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        for code in codes:
            # the scanner's keystrokes land in the focused input (value set at once: Pilot's
            # per-key waits would dominate), then Enter is posted as the terminal driver does
            app.focused.value = code
            await pilot.pause()
            counts[code] = counts.get(code, 0) + 1
            started = time.perf_counter()
            app.post_message(events.Key("enter", "\r"))
            deadline = started + 10
            while not row_of(app, code, counts[code]):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"scan of {code} never reached the table")
                await asyncio.sleep(0.0005)
            samples.append((time.perf_counter() - started) * 1000)
        await app.workers.wait_for_complete()
    return samples


def _scan_codes(rounds: int) -> tuple[list[str], list[Any]]:
    """The scans: 40 demo products without options, `rounds` times each (a new line, then
    quantity updates); and those products."""
    from pos.backends.local import demo_data

    products = [p for p in demo_data.products()
                if not p.options and p.minimum <= 1 and (p.stock or 0) > SCAN_ROUNDS][
        10:10 + SCAN_PRODUCTS]
    return [p.barcode for _ in range(rounds) for p in products], products


def _pos_row(products: list[Any]) -> Callable[[Any, str, int], bool]:
    """Whether PosApp's cart table shows the product scanned as `code` with quantity `qty`."""
    names = {p.barcode: p.name for p in products}
    keys: dict[str, Any] = {}

    def pos_row(app: Any, code: str, qty: int) -> bool:
        table = app.cart_screen.table
        key = keys.get(code)
        if key is None:
            for row_key in table.rows:
                if table.get_row(row_key)[0] == names[code]:
                    keys[code] = key = row_key
                    break
            else:
                return False
        return bool(table.get_row(key)[2] == str(qty))

    return pos_row


def bench_scan(run: Run) -> None:
    from benchmarks.tui_ref import ScanRefApp
    from pos.config import load_settings
    from pos.money import format_money
    from pos.session import open_session
    from screens.app import PosApp

    root = run.workdir / "tui-scan"
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    # each scan waits untimed for the app to go idle first (Pilot.pause: ≈ 0.1 s here), so
    # --quick scans each product twice (a new line, then a quantity update): 80 scans
    codes, products = _scan_codes(QUICK_SCAN_ROUNDS if run.quick else SCAN_ROUNDS)

    def ref_row(app: Any, code: str, qty: int) -> bool:
        table = app.query_one("#lines")
        return code in table.rows and bool(table.get_row(code)[2] == str(qty))

    with _environ(_env(root)):
        session = open_session(data, "local", load_settings())
        try:
            note(f"tui: {len(codes)} scans in PosApp")
            pos_samples = asyncio.run(_drive(PosApp(session, sync_interval=0), codes,
                                             _pos_row(products)))
        finally:
            session.close()
    ref_app = ScanRefApp({p.barcode: (p.name, format_money(p.price)) for p in products})
    note(f"tui: {len(codes)} scans in the reference app")
    ref_samples = asyncio.run(_drive(ref_app, codes, ref_row))
    for name, p, target in (("scan_to_screen_p50_ms", 50, 50.0),
                            ("scan_to_screen_p99_ms", 99, 150.0)):
        emit(name, percentile(pos_samples, p), "ms", target=target,
             reference=percentile(ref_samples, p), scans=len(codes),
             lines=len(products), max=round(max(pos_samples), 1))


def _refreshing(path: Path, stop: threading.Event, done: list[float]) -> None:
    """Refresh the catalog at `path` again and again until `stop`, as the counter does: by its
    `CatalogRefresher`, the sync in another process (`benchmarks.refresh_worker`)."""
    listing = 0
    while not stop.is_set():
        listing += 1
        command = [sys.executable, "-m", "benchmarks.refresh_worker", str(path), str(listing)]
        refresher = CatalogRefresher(0.0, path, pull_in_process(command))
        started = time.perf_counter()
        try:
            refresher.run(stop=stop.is_set)
        except RefreshStopped:
            return
        done.append(time.perf_counter() - started)


def bench_scan_during_refresh(run: Run) -> None:
    """`scan_during_refresh_p99_ms`: the scans of `bench_scan` while the counter's background
    refresh pulls a 100k-product catalog again and again (in another process, as the counter
    runs it: the machine's other core parses and writes); reference: the same scans with no
    refresh, in this run."""
    from benchmarks.store import catalog_db, copy_db
    from pos.config import load_settings
    from pos.session import open_session
    from screens.app import PosApp

    scratch = run.workdir / "refreshed-100k.db"
    copy_db(catalog_db(run, 100_000), scratch)
    root = run.workdir / "tui-scan-refresh"
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    codes, products = _scan_codes(QUICK_SCAN_ROUNDS if run.quick else SCAN_ROUNDS)
    samples: dict[str, list[float]] = {}
    refreshes: list[float] = []
    stop = threading.Event()
    refreshing = threading.Thread(target=_refreshing, args=(scratch, stop, refreshes))
    with _environ(_env(root)):
        session = open_session(data, "local", load_settings())
        try:
            for label in ("alone", "refreshing"):
                if label == "refreshing":
                    refreshing.start()
                    time.sleep(0.5)  # under way before the first scan
                note(f"tui: {len(codes)} scans in PosApp, {label}")
                samples[label] = asyncio.run(_drive(PosApp(session, sync_interval=0), codes,
                                                    _pos_row(products)))
                session.checkout.void()
        finally:
            stop.set()
            if refreshing.is_alive():
                refreshing.join()
            session.close()
    emit("scan_during_refresh_p99_ms", percentile(samples["refreshing"], 99), "ms",
         target=150.0, reference=percentile(samples["alone"], 99), scans=len(codes),
         p50=round(percentile(samples["refreshing"], 50), 1),
         ref_p50=round(percentile(samples["alone"], 50), 1),
         max=round(max(samples["refreshing"]), 1), refreshes=len(refreshes),
         refresh_s=round(statistics.median(refreshes), 2) if refreshes else None)


def bench_tui(run: Run) -> None:
    bench_startup(run)
    bench_scan(run)
