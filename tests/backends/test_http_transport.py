"""`StdlibTransport` (pos/backends/transport.py) against real sockets on 127.0.0.1.

Each test runs a small server whose every connection is handled by a function of the test, so
it can answer well, slowly, with garbage, cut an answer short or hang up; the client side is
`HttpClient`, as every backend uses it, so what is checked is what a backend sees: the answer,
or the `PosError` telling "not sent" (retry freely) from "maybe sent" (look the sale up first).
"""

from __future__ import annotations

import gzip
import http.client
import select
import socket
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pos.backends.http import HttpClient
from pos.backends.transport import StdlibTransport
from pos.errors import OutcomeUnknown, TransientError
from tests.backends.socket_server import Server, answer, client, keep_answering, read_request


def test_the_backends_client_uses_it() -> None:
    http = HttpClient("http://127.0.0.1:1", store="Test store")
    assert isinstance(http.client._transport, StdlibTransport)
    http.close()


def test_request_and_answer_go_through_whole(serve: Callable[..., Server]) -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def reply(line: str, headers: dict[str, str], body: bytes) -> bytes:
        seen.append((line, headers, body))
        return answer("201 Created", b'{"id": 7}', "X-Shop: Caf\xe9", "Set-Cookie: a=1",
                      "Set-Cookie: b=2")

    server = serve(keep_answering(reply))
    http = client(server)
    response = http.request("POST", "/orders?token=s3cret", idempotent=False,
                            json={"number": "A1-000001"}, headers={"X-Extra": "1"})
    assert response.status_code == 201
    assert response.json() == {"id": 7}
    assert response.reason_phrase == "Created"
    assert response.http_version == "HTTP/1.1"
    assert response.headers["X-Shop"] == "Caf\xe9"  # a Latin-1 header is kept, not refused
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    line, headers, body = seen[0]
    assert line == "POST /orders?token=s3cret HTTP/1.1"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["content-type"] == "application/json"
    assert headers["x-extra"] == "1"
    assert headers["user-agent"].startswith("pos/")
    assert body == b'{"number":"A1-000001"}' and headers["content-length"] == str(len(body))
    http.close()


def test_one_connection_is_kept_for_the_next_requests(serve: Callable[..., Server]) -> None:
    server = serve(keep_answering(lambda *_: answer()))
    http = client(server)
    for _ in range(5):
        assert http.request("GET", "/x", idempotent=True).json() == {"ok": True}
    assert server.connections == 1
    http.close()


@pytest.mark.parametrize("poll", [True, False], ids=["poll", "select (Windows)"])
def test_a_connection_the_store_closed_while_idle_is_replaced(
        serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch, poll: bool) -> None:
    if not poll:
        monkeypatch.delattr(select, "poll", raising=False)
    hung_up = threading.Semaphore(0)

    def once(conn: socket.socket) -> None:  # one answer per connection, then hang up
        if read_request(conn) is not None:
            conn.sendall(answer())
            conn.shutdown(socket.SHUT_RDWR)
            hung_up.release()

    server = serve(once)
    http = client(server)
    for _ in range(3):
        # without the check the next POST would go out on a dead socket: "maybe sent"
        assert http.request("POST", "/orders", idempotent=False, content=b"{}").status_code == 200
        assert hung_up.acquire(timeout=5)
    assert server.connections == 3
    http.close()


def test_connection_close_in_the_answer(serve: Callable[..., Server]) -> None:
    server = serve(keep_answering(lambda *_: answer("200 OK", b"{}", "Connection: close")))
    http = client(server)
    for _ in range(2):
        assert http.request("GET", "/", idempotent=True).json() == {}
    assert server.connections == 2
    http.close()


def test_chunked_and_gzip_answers_are_decoded(serve: Callable[..., Server]) -> None:
    payload = b'{"products": [' + b",".join(b'{"id": %d}' % i for i in range(500)) + b"]}"
    packed = gzip.compress(payload)

    def reply(line: str, headers: dict[str, str], body: bytes) -> bytes:
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(packed[i:i + 700]), packed[i:i + 700])
                          for i in range(0, len(packed), 700))
        return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
                + b"0\r\n\r\n")

    http = client(serve(keep_answering(reply)))
    response = http.request("GET", "/products", idempotent=True)
    assert response.content == payload
    assert len(response.json()["products"]) == 500
    http.close()


def test_nobody_listening_is_not_sent() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    http = HttpClient(f"http://127.0.0.1:{port}", store="Test store", timeout=2.0)
    with pytest.raises(httpx.ConnectError):
        http.send("POST", "/orders", content=b"{}")
    with pytest.raises(TransientError) as caught:  # not OutcomeUnknown: nothing went out
        http.request("POST", "/orders", idempotent=False, content=b"{}")
    assert "cannot be reached" in caught.value.message
    http.close()


def test_a_connect_timeout_is_not_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_slow(self: http.client.HTTPConnection) -> None:
        raise TimeoutError("timed out")

    monkeypatch.setattr(http.client.HTTPConnection, "connect", too_slow)
    shop = HttpClient("http://127.0.0.1:9", store="Test store", timeout=2.0)
    with pytest.raises(httpx.ConnectTimeout):
        shop.send("GET", "/")
    with pytest.raises(TransientError):
        shop.request("POST", "/orders", idempotent=False, content=b"{}")
    shop.close()


def test_no_answer_in_time_after_sending(serve: Callable[..., Server]) -> None:
    release = threading.Event()

    def hang(conn: socket.socket) -> None:
        read_request(conn)
        release.wait(10)

    http = client(serve(hang), timeout=0.3)
    with pytest.raises(OutcomeUnknown) as caught:
        http.request("POST", "/orders?token=s3cret", idempotent=False, content=b"{}")
    assert "did not answer in time" in caught.value.message
    assert "s3cret" not in str(caught.value)
    with pytest.raises(TransientError):
        http.request("GET", "/orders", idempotent=True)
    release.set()
    http.close()


@pytest.mark.parametrize("misbehave", [
    pytest.param(lambda conn: conn.sendall(b"hello, this is not HTTP\r\n\r\n"), id="garbage"),
    pytest.param(lambda conn: None, id="hangs-up-without-answer"),
    pytest.param(lambda conn: conn.sendall(answer("200 OK", b"x" * 100)[:-60]), id="cut-short"),
])
def test_a_broken_answer_after_sending_is_maybe_sent(
        serve: Callable[..., Server], misbehave: Callable[[socket.socket], None]) -> None:
    def handle(conn: socket.socket) -> None:
        read_request(conn)
        misbehave(conn)
        conn.shutdown(socket.SHUT_RDWR)

    http = client(serve(handle))
    with pytest.raises(httpx.RemoteProtocolError):
        http.send("POST", "/orders", content=b"{}")
    with pytest.raises(OutcomeUnknown):  # the order may exist: looked up before any retry
        http.request("POST", "/orders", idempotent=False, content=b"{}")
    with pytest.raises(TransientError):
        http.request("GET", "/orders", idempotent=True)
    http.close()


def test_a_header_value_that_cannot_be_sent_is_refused_before_sending(
        serve: Callable[..., Server]) -> None:
    server = serve(keep_answering(lambda *_: answer()))
    http = client(server)
    with pytest.raises(TransientError):  # httpx.LocalProtocolError: nothing went out
        http.request("POST", "/orders", idempotent=False, content=b"{}",
                     headers={"X-Bad": "a\r\nInjected: 1"})
    assert http.request("GET", "/", idempotent=True).status_code == 200
    http.close()


def test_threads_share_the_transport(serve: Callable[..., Server]) -> None:
    server = serve(keep_answering(lambda line, headers, body: answer(body=body)))
    http = client(server)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(25):
                body = b'{"n": %d, "i": %d}' % (n, i)
                assert http.request("POST", "/echo", idempotent=False,
                                    content=body).content == body
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert server.connections <= 4
    http.close()


def test_an_environment_proxy_is_still_used(serve: Callable[..., Server],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[str] = []

    def proxy(line: str, headers: dict[str, str], body: bytes) -> bytes:
        lines.append(line)
        return answer(body=b'{"via": "proxy"}')

    proxy_server = serve(keep_answering(proxy))
    monkeypatch.setenv("HTTP_PROXY", proxy_server.url)
    http = HttpClient("http://shop.invalid", store="Test store", timeout=2.0)
    assert not isinstance(http.client._transport, StdlibTransport)  # httpx's, with the proxy
    assert http.request("GET", "/api/x", idempotent=True).json() == {"via": "proxy"}
    assert lines == ["GET http://shop.invalid/api/x HTTP/1.1"]
    http.close()


# --- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


def test_https_with_a_trusted_certificate(serve: Callable[..., Server],
                                          tls: tuple[ssl.SSLContext, Path]) -> None:
    server_context, ca_file = tls
    server = serve(keep_answering(lambda *_: answer()), tls=server_context)
    http = HttpClient(server.url, store="Test store", timeout=2.0,
                      verify=ssl.create_default_context(cafile=str(ca_file)))
    for _ in range(3):
        assert http.request("GET", "/", idempotent=True).json() == {"ok": True}
    assert server.connections == 1
    http.close()


def test_https_with_an_unknown_certificate_is_refused_before_sending(
        serve: Callable[..., Server], tls: tuple[ssl.SSLContext, Path]) -> None:
    server_context, _ = tls
    seen: list[str] = []

    def record(line: str, headers: dict[str, str], body: bytes) -> bytes:
        seen.append(line)
        return answer()

    server = serve(keep_answering(record), tls=server_context)
    http = HttpClient(server.url, store="Test store", timeout=2.0)
    with pytest.raises(TransientError) as caught:
        http.request("POST", "/orders", idempotent=False, content=b"{}")
    assert "cannot be reached" in caught.value.message
    assert seen == []
    http.close()
    unverified = HttpClient(server.url, store="Test store", timeout=2.0, verify=False)
    assert unverified.request("GET", "/", idempotent=True).json() == {"ok": True}
    unverified.close()


def test_a_call_under_way_when_the_client_closes_leaves_no_connection_open(
        serve: Callable[..., Server]) -> None:
    answering = threading.Event()
    closed = threading.Event()
    hung_up = threading.Event()

    def handle(conn: socket.socket) -> None:
        read_request(conn)
        answering.set()
        closed.wait(5)
        conn.sendall(answer())
        if conn.recv(1) == b"":  # the client hung up after reading the answer
            hung_up.set()

    http = client(serve(handle))
    call = threading.Thread(target=http.request, args=("GET", "/"), kwargs={"idempotent": True})
    call.start()
    assert answering.wait(5)
    http.close()  # the counter closing while the flush's call is under way
    closed.set()
    call.join(5)
    assert hung_up.wait(5)
