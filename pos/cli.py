"""`pos`: the command line. With no command it opens the counter (the Textual app).

Exit codes: 0 done; 1 unexpected error (details in the log file, never a traceback on screen);
2 bad input or a rule refused (nothing written); 3 configuration or storage problem;
4 the sale was recorded but the store refused it (`failed`, see `pos orders show`);
5 `pos doctor` found a problem.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pos import __version__
from pos.commands import print_json
from pos.errors import ConfigError, PosError, StorageError

log = logging.getLogger("pos")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                   help="where pos keeps its data (default: $POS_DATA_DIR or the platform's "
                        "user data dir)")
    p.add_argument("--profile", default=argparse.SUPPRESS,
                   help="backend profile from the config file (default: default_profile)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pos", description="Keyboard-driven point of sale for the terminal. "
        "Run without a command to open the counter.")
    parser.add_argument("--version", action="version", version=f"pos {__version__}")
    _add_common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("tui", help="open the counter (the default)")
    _add_common(p)

    p = sub.add_parser("checkout", help="run a whole sale from a JSON file (or - for stdin)")
    _add_common(p)
    p.add_argument("sale", help="SALE.json, or - to read standard input")
    p.add_argument("--json", action="store_true", help="print the order as JSON")
    p.add_argument("--link-timeout", type=float, default=300.0, metavar="SECONDS",
                   help="how long to wait for a payment link (card/bitcoin) to be paid")

    from pos.commands import cash, cashier, orders, report

    orders.add_parser(sub, _add_common)
    for module in (cash, report, cashier):
        module.add_parser(sub, _add_common)

    catalog = sub.add_parser("catalog", help="the local product catalog").add_subparsers(
        dest="catalog_command", metavar="ACTION", required=True)
    p = catalog.add_parser("search", help="find products by name, SKU or barcode")
    _add_common(p)
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p = catalog.add_parser("import", help="import products from a CSV file")
    _add_common(p)
    p.add_argument("file", type=Path)
    p = catalog.add_parser("sync", help="pull the catalog from the backend")
    _add_common(p)

    config = sub.add_parser("config", help="the configuration file").add_subparsers(
        dest="config_command", metavar="ACTION", required=True)
    p = config.add_parser("path", help="print where the config file is")
    p = config.add_parser("show", help="print the settings in effect (secrets masked)")
    p.add_argument("--json", action="store_true")
    p = config.add_parser("set", help="set a value, e.g. `lane L2` or `profiles.shop.base_url URL`"
                          " (the file is written 0600)")
    p.add_argument("key")
    p.add_argument("value", nargs="?", help="omitted: asked without echo (for secrets)")

    p = sub.add_parser("doctor", help="check config, data dir and backend; exit 0 if healthy")
    _add_common(p)

    from pos.commands import outbox

    outbox.add_parser(sub, _add_common)

    p = sub.add_parser("backend", help="the profile's backend")
    _add_common(p)
    p.add_argument("action", choices=["info"], help="info: reachability, version, capabilities")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("sync", help="send queued sales to their backends")
    _add_common(p)
    p.add_argument("--once", action="store_true", help="one pass, then exit (default)")
    p.add_argument("--json", action="store_true")
    return parser


CORE_COMMANDS = {"tui", "checkout", "orders", "catalog", "config", "doctor", "sync", "backend",
                 "outbox", "cash", "report", "cashier"}


def main(argv: Sequence[str] | None = None, *, transports: Mapping[str, Any] | None = None) -> int:
    """Run `pos`. `transports` (tests only) maps profile names to emulator transports."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # pos uses no pydantic plugins; looking for them reads every installed package's entry
    # points when the first model is validated (~1 % of the counter's start). An explicit
    # PYDANTIC_DISABLE_PLUGINS (empty = look) is left as it is.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    counter = _counter_args(argv)
    if counter is not None:
        # the counter's start creates ~70,000 objects that live as long as the session
        # (modules, classes, pydantic and Textual state); the cyclic GC's passes over them
        # cost ~5 % of the start. It is off until the cart has been painted: PosApp.cart_ready
        # moves what the start built to the collector's permanent generation and turns it on
        gc.disable()
    _setup_logging()
    try:
        backend_name = _backend_command(argv)
        if backend_name:
            return _backend_cli(backend_name, argv, transports)
        args = counter or build_parser().parse_args(argv)
        args.transports = transports
        return _dispatch(args)
    except ConfigError as exc:
        _error(exc)
        return 3
    except StorageError as exc:
        _error(exc)
        return 3
    except PosError as exc:
        _error(exc)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: no traceback for the cashier
        log.exception("unexpected error")
        print(f"pos: unexpected error: {type(exc).__name__}. Details are in the log "
              f"({_log_file()}).", file=sys.stderr)
        return 1
    finally:
        if counter is not None:
            gc.enable()


def _counter_args(argv: list[str]) -> argparse.Namespace | None:
    """`pos [--data-dir D] [--profile P] [tui [--data-dir D] [--profile P]]` parsed without
    building every sub-command's parser (the counter's start-up time); else None.

    Gives what `build_parser().parse_args(argv)` gives for these arguments (the last value of
    an option wins); any other spelling (`--data-dir=D`, abbreviations, help) takes the full
    parser.
    """
    args = argparse.Namespace(command=None)
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("--data-dir", "--profile"):
            if i + 1 == len(argv) or argv[i + 1].startswith("-"):
                return None
            value = argv[i + 1]
            if token == "--data-dir":
                args.data_dir = Path(value)
            else:
                args.profile = value
            i += 2
        elif token == "tui" and args.command is None:
            args.command = "tui"
            i += 1
        else:
            return None
    return args


def _backend_command(argv: list[str]) -> str | None:
    """`pos [--data-dir D] [--profile P] NAME ...` where NAME is a backend with commands."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("--data-dir", "--profile"):
            i += 2
            continue
        if token.startswith("-"):
            i += 1
            continue
        if token in CORE_COMMANDS:
            return None
        from pos.backends import available

        return token if token in available() else None
    return None


def _backend_cli(name: str, argv: list[str], transports: Mapping[str, Any] | None) -> int:
    from pos.backends import backend_class
    from pos.config import load_settings
    from pos.session import open_session

    cls = backend_class(name)
    parser = argparse.ArgumentParser(prog=f"pos {name}", description=cls.cli_help or None)
    _add_common(parser)
    if cls.cli_help:
        cls.build_cli(parser)
    rest = list(argv)
    rest.remove(name)
    args = parser.parse_args(rest)
    settings = load_settings()
    profile = getattr(args, "profile", None) or next(
        (n for n, t in settings.profiles.items() if t.get("backend") == name), None)
    if profile is None:
        raise ConfigError(message=f"No profile uses the {name} backend.",
                          hint=f"Add [profiles.NAME] with backend = \"{name}\" to the config file.")
    session = open_session(getattr(args, "data_dir", None), profile, settings, transports)
    try:
        return session.backend.run_cli(args)
    finally:
        session.close()


def _error(exc: PosError) -> None:
    print(f"pos: {exc.one_line()}", file=sys.stderr)


def _log_file() -> Path:
    from pos.config import log_dir

    return log_dir() / "pos.log"


def _setup_logging() -> None:
    from pos.logfile import install

    install(_log_file())


def _session(args: argparse.Namespace) -> Any:
    from pos.session import open_session

    return open_session(getattr(args, "data_dir", None), getattr(args, "profile", None),
                        transports=getattr(args, "transports", None))


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command or "tui"
    if command == "tui":
        return _tui(args)
    if command == "config":
        return _config(args)
    if command == "doctor":
        from pos.doctor import run_doctor

        return run_doctor(getattr(args, "data_dir", None), getattr(args, "profile", None))
    session = _session(args)
    try:
        handler = {"checkout": _checkout, "orders": _orders, "catalog": _catalog,
                   "sync": _sync, "backend": _backend_info, "outbox": _outbox,
                   "cash": _counter, "report": _counter, "cashier": _counter}[command]
        return handler(session, args)
    finally:
        session.close()


def _tui(args: argparse.Namespace) -> int:
    from pos.store.locks import lane_lock

    session = _session(args)
    lock = lane_lock(session.data_dir, session.lane)  # one counter per lane and data dir
    try:
        from screens.app import run_app  # type: ignore[import-not-found,unused-ignore]
    except ImportError as exc:  # pragma: no cover - screens ship with the package
        print(f"pos: the counter screens cannot be loaded ({exc}).", file=sys.stderr)
        return 1
    try:
        return int(run_app(session))
    finally:
        session.close()
        lock.release()


def _checkout(session: Any, args: argparse.Namespace) -> int:
    from pos.sale_file import order_json, parse_sale, run_sale

    source = "stdin" if args.sale == "-" else args.sale
    try:
        text = sys.stdin.read() if args.sale == "-" else Path(args.sale).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        from pos.errors import InputError

        raise InputError(message=f"Cannot read {source}: {exc}") from None
    sale = parse_sale(text, source)
    def show_link(link: Any) -> None:
        from pos.payment_link import qr_text

        print(qr_text(link.url), file=sys.stderr)
        print(f"Pay here: {link.url}\nWaiting for the payment (link {link.id}) ...",
              file=sys.stderr)

    order = run_sale(session.new_checkout(persist=False), sale, on_link=show_link,
                     link_timeout=args.link_timeout)
    if args.json:
        print_json(order_json(order))
    else:
        from pos.receipt import render_receipt

        print(render_receipt(order, session.settings.shop), end="")
        print(order.outcome)
    return 4 if order.status.value == "failed" else 0


def _orders(session: Any, args: argparse.Namespace) -> int:
    from pos.commands import orders

    return orders.run(session, args)


def _catalog(session: Any, args: argparse.Namespace) -> int:
    from pos.money import format_money

    catalog = session.catalog
    if args.catalog_command == "search":
        hits = catalog.search(args.text, args.limit) or (
            [p] if (p := catalog.lookup(args.text)) else [])
        if args.json:
            print_json([{"code": p.sku or p.id, "id": p.id, "sku": p.sku, "barcode": p.barcode,
                          "name": p.name, "price": str(p.price), "stock": p.stock}
                         for p in hits])
            return 0
        if not hits:
            print(f"No product matches {args.text!r}.")
        for p in hits:
            stock = "∞" if p.stock is None else str(p.stock)
            print(f"{p.sku or p.id:<16} {p.barcode:<14} {p.name[:40]:<40} "
                  f"{format_money(p.price):>10} {stock:>6}")
        return 0
    if args.catalog_command == "import":
        from pos.progress import Progress

        with Progress("Importing", stream=sys.stderr) as bar:
            count = catalog.import_csv(args.file, progress=bar.update)
        print(f"Imported {count} products into {catalog.path}.")
        return 0
    from pos.catalog_sync import sync_catalog
    from pos.progress import Progress

    with Progress("Syncing", stream=sys.stderr) as bar:
        count = sync_catalog(session.backend, catalog, progress=bar.update)
    print(f"Synced {count} products from {session.profile}.")
    return 0


def _backend_info(session: Any, args: argparse.Namespace) -> int:
    backend = session.backend
    info = backend.info()
    caps = [c.name.lower() for c in type(backend).capabilities.__class__
            if c.name and c in backend.capabilities]
    data = {"profile": session.profile, "backend": backend.name, "name": info.name,
            "version": info.version, "detail": info.detail, "capabilities": caps}
    if args.json:
        print_json(data)
    else:
        for key, value in data.items():
            print(f"{key:<13} {', '.join(value) if isinstance(value, list) else value}")
    return 0


def _counter(session: Any, args: argparse.Namespace) -> int:
    from pos.commands import cash, cashier, report

    return int({"cash": cash, "report": report, "cashier": cashier}[args.command].run(session, args))


def _outbox(session: Any, args: argparse.Namespace) -> int:
    from pos.commands import outbox

    return outbox.run(session, args)


def _sync(session: Any, args: argparse.Namespace) -> int:
    report = session.sync.flush()
    pending = session.ledger.outbox.pending_count()
    if args.json:
        print_json({**report.to_dict(), "pending": pending})
    else:
        print(f"placed {len(report.placed)}, mirrored {len(report.mirrored)}, "
              f"queued {len(report.queued)}, unknown {len(report.unknown)}, "
              f"failed {len(report.failed)}; {pending} still pending")
        for err in dict.fromkeys(report.errors):
            print(f"  {err}")
    return 0


def _config(args: argparse.Namespace) -> int:
    from pos.config import SECRET_KEY_PATTERN, config_path, load_settings

    if args.config_command == "path":
        print(config_path())
        return 0
    if args.config_command == "set":
        from pos.config import set_value

        value: object = args.value
        if value is None:
            import getpass

            value = getpass.getpass(f"{args.key}: ")
        elif args.value in ("true", "false"):
            value = args.value == "true"
        set_value(config_path(), args.key, value)
        shown = "********" if SECRET_KEY_PATTERN.search(args.key) else value
        print(f"{args.key} = {shown}  ({config_path()})")
        return 0
    settings = load_settings()
    if getattr(args, "json", False):
        print_json(settings.masked())
        return 0
    print(f"# {settings.source or 'defaults (no config file at ' + str(config_path()) + ')'}")
    for key, value in settings.masked().items():
        print(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
