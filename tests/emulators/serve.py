"""Serve an in-process emulator over real HTTP on loopback (tmux end-to-end runs, manual tries).

    python -m tests.emulators.serve opencart --port 8765

Every emulator exposes `handle(request: httpx.Request) -> httpx.Response`; this adapter turns
http.server requests into httpx ones and back. Loopback only.
"""

from __future__ import annotations

import argparse
import importlib
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


def make_server(handler: Handler, port: int = 0) -> ThreadingHTTPServer:
    class _Adapter(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = f"http://127.0.0.1:{cast(ThreadingHTTPServer, self.server).server_port}"
            request = httpx.Request(self.command, host + self.path,
                                    headers=dict(self.headers.items()), content=body)
            response = handler(request)
            response.read()
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), _Adapter)


def serve_in_thread(handler: Handler, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    server = make_server(handler, port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", help="emulator module in tests.emulators (e.g. opencart)")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    module = importlib.import_module(f"tests.emulators.{args.name}")
    emulator = module.make_emulator()
    server = make_server(emulator.handle, args.port)
    print(f"{args.name} emulator on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
