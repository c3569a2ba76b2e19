"""A small HTTP server on 127.0.0.1 for the transport tests: each connection is handled by a
function of the test (answer well, slowly, with garbage, cut short, hang up), and the client is
`HttpClient`, as every backend uses it. The `serve` fixture (tests/backends/conftest.py) starts
them and closes them after the test."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable

from pos.backends.http import HttpClient

Handler = Callable[[socket.socket], None]


class Server:
    """Accepts connections on 127.0.0.1 and hands each to `handler` in its own thread."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.listener.close()


def read_request(conn: socket.socket) -> tuple[str, dict[str, str], bytes] | None:
    """One request off the connection: (request line, headers, body); None at EOF."""
    reader = conn.makefile("rb")
    line = reader.readline()
    if not line:
        return None
    headers: dict[str, str] = {}
    while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return line.decode().strip(), headers, body


def answer(status: str = "200 OK", body: bytes = b'{"ok": true}', *extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def keep_answering(reply: Callable[[str, dict[str, str], bytes], bytes]) -> Handler:
    """A handler answering every request on its connection with `reply(line, headers, body)`."""
    def handle(conn: socket.socket) -> None:
        while (request := read_request(conn)) is not None:
            conn.sendall(reply(*request))
    return handle


def client(server: Server, timeout: float = 2.0) -> HttpClient:
    return HttpClient(server.url, store="Test store", timeout=timeout)
