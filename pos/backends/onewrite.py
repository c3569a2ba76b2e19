"""One write per request: the network streams of `HttpClient`'s connections hold what httpcore
writes until it starts reading the answer, then send it in one `send`.

httpcore writes a request as h11 produces it: the request line and headers in one write, the
body in another (and the end of a chunked body in a third) — two or three system calls and TCP
segments where one does (≈ 25 µs of system CPU a request on loopback here). Holding the writes
until the first read changes nothing else: httpcore always reads the answer after writing the
request, and `HTTP11Connection` already ignores a `WriteError` while sending so that an early
answer from the server (a 413 before the body, say) can still be read — a failed flush is
ignored the same way, and the read that follows reports the broken connection. A write timeout
is still a `WriteTimeout`. At most `HOLD_BYTES` are held: a large or streamed body goes out as it
comes. Before TLS starts (a proxy tunnel) and on close, what is held is sent or dropped as
httpcore would have (it never writes and then closes without reading).

Only the default transport of an `httpx.Client` is changed (`one_write_per_request`), and only
when it is shaped as this module knows (httpx 0.2x: `HTTPTransport` over an httpcore
`ConnectionPool` with its `SyncBackend`); otherwise it is left alone.
"""

from __future__ import annotations

import ssl
from contextlib import suppress
from typing import Any

import httpcore
import httpx

HOLD_BYTES = 64 * 1024


class OneWriteStream(httpcore.NetworkStream):
    """A network stream whose writes are sent together, at the next read."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._timeout: float | None = None

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        self._held.append(buffer)
        self._held_bytes += len(buffer)
        self._timeout = timeout
        if self._held_bytes >= HOLD_BYTES:
            self._send_held()

    def _send_held(self) -> None:
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held.clear()
        self._held_bytes = 0
        self._stream.write(data, timeout=self._timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._held:
            # as HTTP11Connection does: a failed write still reads what the server answered
            with suppress(httpcore.WriteError):
                self._send_held()
        return self._stream.read(max_bytes, timeout=timeout)

    def close(self) -> None:
        self._held.clear()
        self._held_bytes = 0
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        if self._held:
            self._send_held()
        return OneWriteStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class OneWriteBackend(httpcore.NetworkBackend):
    """httpcore's network backend, its streams wrapped in `OneWriteStream`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return OneWriteStream(self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address,
            socket_options=socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> httpcore.NetworkStream:
        return OneWriteStream(self._backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def one_write_per_request(client: httpx.Client) -> bool:
    """Make `client`'s default transport send each request in one write (before its first
    connection is opened). False: left as it was (not the transport shape known here)."""
    transport = getattr(client, "_transport", None)
    pool = getattr(transport, "_pool", None)
    if (type(transport) is not httpx.HTTPTransport or type(pool) is not httpcore.ConnectionPool
            or type(getattr(pool, "_network_backend", None)) is not httpcore.SyncBackend
            or pool.connections):
        return False
    pool._network_backend = OneWriteBackend(pool._network_backend)
    return True
