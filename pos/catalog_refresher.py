"""The counter's background catalog refresh: when one is due, and pulling the catalog beside the
sale.

A refresh is `pos catalog sync` run in another process (`pull_in_process`): the catalog's pages
are fetched, parsed and written there, on the machine's other core, and the counter's
interpreter stays free for the cashier. (Run in a thread of the counter, a 100k-product refresh
held the interpreter so often that a scan took 120 ms instead of 12: benchmarks/tui.py,
`scan_during_refresh_p99_ms`.) The sync writes in one transaction, so the counter sells from the
catalog as it was until the refresh commits, and a refresh that fails half-way, or is stopped
(the process is ended), changes nothing. Tests whose store is an in-process emulator refresh in
the counter's process (`pull_in_thread`: its own backend client and catalog connection).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from pos.backends.base import Backend
from pos.catalog_sync import sync_catalog, synced_at
from pos.errors import PosError
from pos.store import Catalog

log = logging.getLogger("pos.catalog")

# pulls the catalog; `stop()` is asked as it goes (True: abandon, nothing written); the count
Pull = Callable[[Callable[[], bool]], int]


class RefreshFailed(PosError):
    title = "Catalog refresh failed"


class RefreshStopped(PosError):
    title = "Catalog refresh stopped"


def _stopped() -> RefreshStopped:
    return RefreshStopped(message="The counter closed during the refresh.",
                          hint="The local catalog is unchanged.")


def sync_command(data_dir: Path, profile: str) -> list[str]:
    """`pos --data-dir D --profile P catalog sync`, run by this interpreter."""
    return [sys.executable, "-m", "pos.cli", "--data-dir", str(data_dir), "--profile", profile,
            "catalog", "sync"]


def pull_in_process(command: Sequence[str], env: Mapping[str, str] | None = None,
                    poll_s: float = 0.2) -> Pull:
    """Run `command` (`sync_command`) and read its outcome: the count it prints, or the error
    line `pos` prints on stderr (a `PosError`'s text: never a secret). Stopping ends it."""

    def pull(stop: Callable[[], bool]) -> int:
        proc = subprocess.Popen(list(command), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(env or os.environ))
        while True:
            try:
                out, err = proc.communicate(timeout=poll_s)
                break
            except subprocess.TimeoutExpired:
                if stop():
                    proc.terminate()  # mid-transaction: SQLite rolls it back
                    try:
                        proc.communicate(timeout=5)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.communicate()
                    raise _stopped() from None
        synced = re.search(r"Synced (\d+) products", out)
        if proc.returncode != 0 or synced is None:
            lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
            reason = lines[-1].removeprefix("pos: ") if lines else f"exit code {proc.returncode}"
            raise RefreshFailed(message=reason)
        return int(synced.group(1))

    return pull


def pull_in_thread(open_backend: Callable[[], Backend], catalog_path: Path) -> Pull:
    """`sync_catalog` in this process, with a backend and a catalog connection of its own."""

    def pull(stop: Callable[[], bool]) -> int:
        backend = open_backend()
        catalog = Catalog(catalog_path)

        def page_done(count: int, total: int | None) -> None:
            if stop():
                raise _stopped()

        try:
            return sync_catalog(backend, catalog, progress=page_done)
        finally:
            backend.close()
            catalog.close()

    return pull


class CatalogRefresher:
    """When a refresh is due, and running one (`pull`).

    Due when the catalog was never synced, or last synced `every_s` ago or more — the time
    `sync_catalog` records in the catalog, so a `pos catalog sync` run by hand counts and a
    restarted counter does not refresh again; after a failed refresh, not before `RETRY_S`
    later (a store that is down is not asked every minute). `run` is called from a worker
    thread; `due` and the properties from any thread.
    """

    RETRY_S = 300.0

    def __init__(self, every_s: float, catalog_path: Path, pull: Pull,
                 clock: Callable[[], float] = time.time) -> None:
        self.every_s = every_s
        self.catalog_path = catalog_path
        self.pull = pull
        self.clock = clock
        self.synced_at: datetime | None = None
        self.failed: str = ""  # the last refresh's error ("" when it succeeded)
        self._checked = False  # synced_at read from the catalog
        self._failed_at = -float("inf")
        self._running = threading.Lock()

    @property
    def running(self) -> bool:
        return self._running.locked()

    def _read_synced_at(self) -> None:
        catalog = Catalog(self.catalog_path)
        try:
            self.synced_at = synced_at(catalog)
        finally:
            catalog.close()
        self._checked = True

    def due(self) -> bool:
        if self.running:
            return False
        if not self._checked:
            self._read_synced_at()
        now = self.clock()
        if now - self._failed_at < self.RETRY_S:
            return False
        return self.synced_at is None or now - self.synced_at.timestamp() >= self.every_s

    def run(self, stop: Callable[[], bool] = lambda: False,
            started: Callable[[], object] = lambda: None) -> int | None:
        """Refresh now; the number of products, or None when one is already running.

        `started()` is called once the refresh is under way (`running` is True); `stop()` is
        asked as it goes: True abandons the refresh (nothing is written). A failure is recorded
        (`failed`) and raised.
        """
        if not self._running.acquire(blocking=False):
            return None
        began = time.monotonic()
        try:
            started()
            count = self.pull(stop)
            self._read_synced_at()
        except RefreshStopped:
            log.info("catalog refresh stopped (the counter closed): catalog unchanged")
            raise
        except Exception as exc:  # a bug too: not retried before RETRY_S (the log has it)
            self._failed_at = self.clock()
            self.failed = (exc.one_line() if isinstance(exc, PosError)
                           else f"unexpected error ({type(exc).__name__}), see the log")
            log.warning("catalog refresh failed: %s", self.failed)
            raise
        finally:
            self._running.release()
        self.failed = ""
        self._failed_at = -float("inf")
        log.info("catalog refreshed: %d products (%.1f s)", count, time.monotonic() - began)
        return count
