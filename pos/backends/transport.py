"""The httpx transport pos's backends use: HTTP/1.1 over the standard library's `http.client`.

httpx's default transport (httpcore with h11, a pure-Python HTTP parser) costs ≈ 0.38 ms of CPU
a request on loopback here; `http.client`, whose status line and headers are read by the
interpreter's buffered socket file, ≈ 0.15 ms (docs/benchmarks.md, "Sync, third pass"). This is
an adapter between httpx's documented transport API (`httpx.BaseTransport`, as the urllib3
transport httpx once shipped) and `http.client`; httpx still does everything above it: the
request and its headers, decoding (`Content-Encoding`), cookies. A till whose environment names
a proxy keeps httpx's own transport (`environment_proxies`: httpx applies the environment's
proxies only to its own). What this does itself is what httpcore's pool does for one client:

* one keep-alive connection per origin at a time a request, idle ones kept (at most
  `MAX_IDLE` per origin, `KEEPALIVE_S` seconds) and dropped when the server has closed them
  (the socket readable before a request is sent, as httpcore checks);
* the timeouts httpx passes (`connect`, `write`, `read`);
* failures as httpx's exceptions, by phase, which is what tells a sale "not sent" from "maybe
  sent" (`pos.backends.http`): the connection not made (refused, DNS, TLS refused, connect
  timeout) → `ConnectError`/`ConnectTimeout`; sending → `WriteError`/`WriteTimeout`; the
  answer → `ReadTimeout`, `ReadError`, or `RemoteProtocolError` (not HTTP, cut short).
  Nothing is ever retried here.
"""

from __future__ import annotations

import functools
import http.client
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator

import httpx

from pos.backends.response_head import HeadResponse

MAX_IDLE = 4  # idle connections kept per origin
KEEPALIVE_S = 5.0  # an idle connection older than this is closed, not reused (as httpx's)
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def environment_proxies() -> list[str]:
    """The proxy variables the environment sets (`https_proxy`, `http_proxy`, `all_proxy`: any
    case), by name; their values (which may carry a password) are not returned.

    httpx reads proxies from the environment only for its own transport, so a till behind a
    proxy keeps httpx's transport (and its proxy and `NO_PROXY` handling) instead of this one.
    """
    return sorted(f"{scheme}_proxy" for scheme in urllib.request.getproxies() if scheme != "no")


@functools.cache
def _shared_ssl_context(verify: bool, trust_env: bool) -> ssl.SSLContext:
    """httpx's TLS settings, built once a process (loading the CA bundle takes ≈ 25 ms; the
    counter, its background flush and its pricing each have a client of the same store)."""
    return httpx.create_ssl_context(verify=verify, trust_env=trust_env)


def _readable(sock: socket.socket | None) -> bool:
    """The socket has something to read (or is gone): an idle connection the server closed."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _Body(httpx.SyncByteStream):
    """The answer's body, read whole before the transport returns (backends read it anyway)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def __iter__(self) -> Iterator[bytes]:
        yield self._content


class StdlibTransport(httpx.BaseTransport):
    """`http.client` behind httpx's transport API (see the module docstring)."""

    def __init__(self, *, verify: ssl.SSLContext | str | bool = True,
                 trust_env: bool = True) -> None:
        self._verify = verify
        self._trust_env = trust_env
        self._ssl: ssl.SSLContext | None = None  # built at the first https:// request
        self._idle: dict[Origin, list[tuple[http.client.HTTPConnection, float]]] = {}
        self._lock = threading.Lock()
        self._closed = False

    # --- connections ------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            verify, trust_env = self._verify, self._trust_env
            self._ssl = (_shared_ssl_context(verify, trust_env) if isinstance(verify, bool)
                         else httpx.create_ssl_context(verify=verify, trust_env=trust_env))
        return self._ssl

    def _take_idle(self, origin: Origin) -> http.client.HTTPConnection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                if not idle:
                    return None
                conn, since = idle.pop()
            if now - since < KEEPALIVE_S and not _readable(conn.sock):
                return conn
            conn.close()

    def _give_back(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < MAX_IDLE and not self._closed:  # closed: a call that was under way
                idle.append((conn, time.monotonic()))
                return
        conn.close()

    def _connect(self, origin: Origin, timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port = origin
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout,
                                               context=self._ssl_context())
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(f"connect timed out ({exc})") from exc
        except OSError as exc:  # refused, unreachable, DNS (socket.gaierror), TLS (ssl.SSLError)
            conn.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        conn.response_class = HeadResponse  # headers read without `email` (response_head)
        return conn  # with TCP_NODELAY: `connect` sets it

    # --- one exchange -----------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"{scheme!r} URLs are not supported")
        origin = (scheme, url.raw_host.decode("ascii"), url.port or _DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout", {})
        body = request.read()
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"transfer-encoding"]
        if body and b"content-length" not in (k.lower() for k, _ in headers):
            headers.append((b"Content-Length", str(len(body)).encode()))
        conn = self._take_idle(origin) or self._connect(origin, timeouts.get("connect"))
        try:
            response = self._exchange(conn, request.method, url.raw_path, headers, body,
                                      timeouts)
        except BaseException:
            conn.close()
            raise
        if response.will_close:
            conn.close()
        else:
            self._give_back(origin, conn)
        return response.as_httpx

    def _exchange(self, conn: http.client.HTTPConnection, method: str, target: bytes,
                  headers: list[tuple[bytes, bytes]], body: bytes,
                  timeouts: dict[str, float | None]) -> _Answer:
        sock = conn.sock
        assert sock is not None
        try:  # nothing goes out before endheaders: a bad name or value is refused here
            conn.putrequest(method, target.decode("ascii"), skip_host=True,
                            skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
        except (ValueError, http.client.HTTPException) as exc:
            raise httpx.LocalProtocolError(str(exc)) from exc
        try:
            sock.settimeout(timeouts.get("write"))
            conn.endheaders(body or None)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(f"write timed out ({exc})") from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc
        try:
            sock.settimeout(timeouts.get("read"))
            answer = conn.getresponse()
            content = answer.read()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"read timed out ({exc})") from exc
        except (http.client.HTTPException, ValueError) as exc:  # not HTTP, cut short, closed
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        return _Answer(answer, content)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn, _ in conns:
                conn.close()


class _Answer:
    """An `http.client` answer read whole, and what the connection does next."""

    def __init__(self, answer: http.client.HTTPResponse, content: bytes) -> None:
        self.will_close = bool(answer.will_close)
        self.as_httpx = httpx.Response(
            status_code=answer.status,
            # http.client decoded the header lines as Latin-1: their bytes again, unchanged
            headers=[(name.encode("latin-1"), value.encode("latin-1"))
                     for name, value in answer.getheaders()],
            stream=_Body(content),
            extensions={"http_version": b"HTTP/1.1" if answer.version == 11 else b"HTTP/1.0",
                        "reason_phrase": answer.reason.encode("latin-1", "replace")})
