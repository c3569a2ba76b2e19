"""`pos.backends.onewrite`: a request goes out in one write, and nothing else changes — early
answers, broken connections, large bodies, TLS — on fake streams and over real loopback HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx
import pytest

from pos.backends.http import HttpClient
from pos.backends.onewrite import HOLD_BYTES, OneWriteStream, one_write_per_request
from pos.errors import OutcomeUnknown


class FakeStream(httpcore.NetworkStream):
    def __init__(self, answer: bytes = b"", fail_write: bool = False) -> None:
        self.writes: list[bytes] = []
        self.answer = answer
        self.fail_write = fail_write
        self.closed = False

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.fail_write:
            raise httpcore.WriteError("broken pipe")
        self.writes.append(buffer)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        answer, self.answer = self.answer, b""
        return answer

    def close(self) -> None:
        self.closed = True

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return FakeStream(b"tls")

    def get_extra_info(self, info: str) -> Any:
        return f"info:{info}"


def test_writes_are_sent_together_at_the_first_read() -> None:
    inner = FakeStream(b"HTTP/1.1 201 Created\r\n")
    stream = OneWriteStream(inner)
    stream.write(b"POST /orders HTTP/1.1\r\n\r\n")
    stream.write(b"")
    stream.write(b'{"number": "L1-000001"}')
    assert inner.writes == []
    assert stream.read(100) == b"HTTP/1.1 201 Created\r\n"
    assert inner.writes == [b'POST /orders HTTP/1.1\r\n\r\n{"number": "L1-000001"}']
    stream.read(100)
    assert len(inner.writes) == 1  # nothing held: nothing sent again
    assert stream.get_extra_info("is_readable") == "info:is_readable"


def test_a_failed_write_still_reads_what_the_server_answered() -> None:
    inner = FakeStream(b"HTTP/1.1 413 Too Large\r\n", fail_write=True)
    stream = OneWriteStream(inner)
    stream.write(b"headers")
    assert stream.read(100) == b"HTTP/1.1 413 Too Large\r\n"


def test_large_bodies_are_not_held() -> None:
    inner = FakeStream()
    stream = OneWriteStream(inner)
    stream.write(b"h" * 100)
    stream.write(b"b" * HOLD_BYTES)
    assert inner.writes == [b"h" * 100 + b"b" * HOLD_BYTES]
    stream.write(b"tail")
    assert len(inner.writes) == 1
    stream.close()
    assert inner.closed


def test_tls_starts_after_what_is_held_and_is_wrapped_too() -> None:
    inner = FakeStream()
    stream = OneWriteStream(inner)
    stream.write(b"CONNECT shop:443 HTTP/1.1\r\n\r\n")
    tls = stream.start_tls(ssl_context=None)  # type: ignore[arg-type]
    assert inner.writes == [b"CONNECT shop:443 HTTP/1.1\r\n\r\n"]
    assert isinstance(tls, OneWriteStream) and tls.read(10) == b"tls"


def test_only_the_default_transport_is_changed() -> None:
    with httpx.Client() as plain:
        assert one_write_per_request(plain)
        assert not one_write_per_request(plain)  # already done
    mock = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=mock) as mocked:
        assert not one_write_per_request(mocked)


def _serve(handle: Any) -> Iterator[str]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                handle(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def _read_request(conn: socket.socket) -> tuple[bytes, bytes, int]:
    """The head, the body, and how many recv calls it took."""
    data, calls = b"", 0
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the client closed the connection")
        data += chunk
        calls += 1
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += conn.recv(1 << 20)
        calls += 1
    return head, body, calls


@pytest.fixture
def echo_store() -> Iterator[tuple[str, list[tuple[bytes, int]]]]:
    seen: list[tuple[bytes, int]] = []

    def handle(conn: socket.socket) -> None:
        while True:
            try:
                _, body, calls = _read_request(conn)
            except (OSError, StopIteration):
                return
            seen.append((body, calls))
            answer = b'{"id": %d}' % len(body)
            conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer))

    yield from ((url, seen) for url in _serve(handle))


def test_requests_over_loopback_small_and_large(
        echo_store: tuple[str, list[tuple[bytes, int]]]) -> None:
    url, seen = echo_store
    client = HttpClient(url, store="test store")
    try:
        small = b'{"number": "L1-000001"}'
        large = b"x" * (3 * HOLD_BYTES + 17)
        for body in (small, large, small):
            answer = client.request("POST", "/orders", idempotent=False, content=body)
            assert answer.status_code == 201 and answer.json() == {"id": len(body)}
    finally:
        client.close()
    assert [body for body, _ in seen] == [small, large, small]
    assert seen[0][1] == 1  # head and body came in one segment


def test_a_connection_closed_without_answer_is_still_outcome_unknown() -> None:
    def handle(conn: socket.socket) -> None:
        _read_request(conn)  # took the request, then went away

    for url in _serve(handle):
        client = HttpClient(url, store="test store")
        try:
            with pytest.raises(OutcomeUnknown):
                client.request("POST", "/orders", idempotent=False, content=b"{}")
        finally:
            client.close()
