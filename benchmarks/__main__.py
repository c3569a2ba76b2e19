"""`python -m benchmarks [--quick] [--only NAME,...] [--keep DIR]`: one JSON line per benchmark."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks import store, sync, tui
from benchmarks.common import Run, note

# (benchmark function, the result names it prints), in running order: the 1M import first, so
# lookup/search/RSS reuse the catalog it built.
BENCHMARKS: list[tuple[Callable[[Run], None], tuple[str, ...], bool]] = [
    # (function, names, runs with --quick)
    (store.bench_import_100k, ("catalog_import_100k_s",), True),
    (store.bench_refresh_100k, ("catalog_refresh_100k_s",), True),
    (store.bench_import_1m, ("catalog_import_1m_s",), False),
    (store.bench_refresh_1m, ("catalog_refresh_1m_s",), False),
    (store.bench_lookup, ("barcode_lookup_p99_ms",), True),
    (store.bench_search, ("search_p99_ms",), True),
    (store.bench_rss, ("rss_1m_catalog_mb",), True),
    (store.bench_order_write, ("order_write_p50_ms", "order_write_p99_ms"), True),
    (sync.bench_sync, ("sync_orders_per_s", "sync_cpu_ms_per_order"), True),
    (tui.bench_startup, ("startup_ms", "startup_rss_mb"), True),
    (tui.bench_scan, ("scan_to_screen_p50_ms", "scan_to_screen_p99_ms"), True),
    (tui.bench_scan_during_refresh, ("scan_during_refresh_p99_ms",), False),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="100k catalog, fewer iterations, 1,000 sync orders (< 1 minute)")
    parser.add_argument("--only", default="", help="comma-separated result names to run")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this directory and keep it (default: a temp dir, removed)")
    args = parser.parse_args(argv)
    wanted = {n.strip() for n in args.only.split(",") if n.strip()}
    known = {n for _, names, _ in BENCHMARKS for n in names}
    if wanted - known:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(wanted - known))}; "
                     f"known: {', '.join(sorted(known))}")
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="pos-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    run = Run(workdir=workdir, quick=args.quick)
    note(f"working in {workdir}")
    try:
        for function, names, in_quick in BENCHMARKS:
            if wanted and not wanted & set(names):
                continue
            if args.quick and not in_quick and not wanted:
                continue
            function(run)
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
