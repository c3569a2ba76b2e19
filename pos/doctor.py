"""`pos doctor`: is this till healthy? Config, data dir, catalog, backend, outbox."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from pos.config import SECRET_KEY_PATTERN, config_path, default_data_dir, load_settings
from pos.errors import PosError


def _check_secrets_file(source: str) -> int:
    """A config file holding secrets must not be readable by others (0600)."""
    if not source:
        return 0
    path = Path(source)
    mode = path.stat().st_mode & 0o777
    text = path.read_text(encoding="utf-8", errors="replace")
    if mode & 0o077 and SECRET_KEY_PATTERN.search(text):
        print(f"  FAIL  config permissions: {path} holds secrets and is readable by others "
              f"({oct(mode)}); run: chmod 600 {path}")
        return 1
    return 0


def _report_http(ok: Callable[[str, str], None]) -> None:
    """How the backends' HTTP goes out (`pos.backends.transport`)."""
    from pos.backends.transport import environment_proxies

    proxies = environment_proxies()
    if proxies:
        ok("http", f"through the proxy in {', '.join(proxies)} (httpx's transport)")
    else:
        ok("http", "direct, http.client with keep-alive (no proxy in the environment)")


def run_doctor(data_dir: Path | None, profile: str | None) -> int:
    problems = 0

    def ok(what: str, detail: str = "") -> None:
        print(f"  ok    {what}" + (f": {detail}" if detail else ""))

    def bad(what: str, detail: str) -> None:
        nonlocal problems
        problems += 1
        print(f"  FAIL  {what}: {detail}")

    print("pos doctor")
    try:
        settings = load_settings()
        ok("config", settings.source or f"defaults (no file at {config_path()})")
    except PosError as exc:
        bad("config", exc.one_line())
        print("1 problem found.")
        return 5
    data_dir = data_dir or default_data_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
        ok("data dir", f"{data_dir} (writable)")
    except OSError as exc:
        bad("data dir", f"{data_dir}: {exc.strerror or exc}")
    profile = profile or settings.default_profile
    ok("lane", settings.lane)
    problems += _check_secrets_file(settings.source)
    for name, table in settings.profiles.items():
        if table.get("verify_tls") is False:
            print(f"  WARN  profile {name}: TLS certificate checks are OFF (verify_tls = false)")
    try:
        from pos.session import open_session

        session = open_session(data_dir, profile, settings)
    except PosError as exc:
        bad(f"profile {profile}", exc.one_line())
    else:
        try:
            info = session.backend.info()
            ok(f"backend {profile}", f"{info.name} {info.version} {info.detail}".strip())
        except PosError as exc:
            bad(f"backend {profile}", exc.one_line())
        ok("catalog", f"{session.catalog.count()} products cached")
        pending = session.ledger.outbox.pending_count()
        failed = session.ledger.orders.count_by_status().get("failed", 0)
        (ok if not failed else bad)("outbox", f"{pending} pending, {failed} failed")
        for sink in settings.sinks:
            try:
                info = session.backend_for(sink).info()
                ok(f"sink {sink}", info.name)
            except PosError as exc:
                bad(f"sink {sink}", exc.one_line())
        session.close()
    _report_http(ok)
    if os.environ.get("POS_CRASH_AT"):
        bad("environment", "POS_CRASH_AT is set (fault injection for tests)")
    print("healthy." if not problems else f"{problems} problem(s) found.")
    return 0 if not problems else 5
