"""`pos.backends.response_head`: an answer's headers read as `http.client` reads them.

The header block is compared with the standard library's own parser (`http.client.
parse_headers`, the `email` package) on plain blocks, on odd ones (folded lines, lines without a
name, bytes the `email` parser takes for line breaks, Latin-1, a block cut short) and on
thousands of random blocks; then `HeadResponse` is driven over a real socket through the
transport, for what `begin` decides from the headers (length, chunked, keep-alive, 1xx, HEAD).
"""

from __future__ import annotations

import http.client
import io
import random
import socket
from collections.abc import Callable

import pytest

from pos.backends.response_head import MAX_HEADERS, MAX_LINE, parse_header_lines, read_header_lines
from tests.backends.socket_server import Server, client, read_request

PLAIN = (b"Server: nginx/1.24.0\r\nDate: Sat, 05 Dec 2026 16:00:00 GMT\r\n"
         b"Content-Type: application/json; charset=utf-8\r\nContent-Length: 30\r\n\r\n")
ODD_BLOCKS = [
    PLAIN,
    b"Content-Length: 2\n\n",  # LF line endings
    b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nset-cookie: c=3\r\n\r\n",  # repeated
    b"X-Empty:\r\nX-Blank:   \r\nX-Tabs:\t a \t\r\n\r\n",  # blanks around values
    b"X-Colon: a:b:c\r\nX-Odd-Name!#$%&'*+-.^_`|~: v\r\n\r\n",
    b"X-Folded: first\r\n  second\r\n\tthird\r\nX-After: 1\r\n\r\n",  # continuation lines
    b"  leading continuation\r\nX-A: 1\r\n\r\n",
    b"X-A: 1\r\nno colon here\r\nX-B: 2\r\n\r\n",  # the rest is body to `email`
    b": no name\r\nX-A: 1\r\n\r\n",
    b"X-A : spaced name\r\n\r\n",
    b"From someone\r\nX-A: 1\r\n\r\n",  # an mbox envelope line, to `email`
    b"X-CR: a\rb\r\nX-A: 1\r\n\r\n",  # a bare CR inside a value
    b"X-NEL: a\x85b\r\nX-VT: a\x0bb\r\nX-FF: a\x0cb\r\nX-FS: a\x1cb\r\n\r\n",
    "X-Latin: café\r\n\r\n".encode("latin-1"),
    "X-Utf8: café\r\n\r\n".encode(),
    b"X-A: 1\r\r\n\r\n",
    b"X-A: 1\r\nX-B: cut short",  # the connection closed inside the header block
    b"\r\n",  # no headers at all
]


def lines_of(block: bytes) -> list[bytes]:
    return read_header_lines(io.BytesIO(block))


def stdlib(block: bytes) -> http.client.HTTPMessage:
    return http.client.parse_headers(io.BytesIO(block))


def same_headers(block: bytes) -> None:
    ours, theirs = parse_header_lines(lines_of(block)), stdlib(block)
    assert type(ours) is type(theirs)
    assert ours.items() == theirs.items(), block
    for name in {n.lower() for n in theirs} | {"content-length", "connection"}:
        assert ours.get(name) == theirs.get(name)
        assert ours.get_all(name) == theirs.get_all(name)


@pytest.mark.parametrize("block", ODD_BLOCKS, ids=range(len(ODD_BLOCKS)))
def test_a_header_block_reads_as_the_standard_library_reads_it(block: bytes) -> None:
    same_headers(block)


def random_block(rng: random.Random) -> bytes:
    """Header lines, most of them plain, some odd in one place or another."""
    names = [b"X-A", b"Content-Length", b"set-cookie", b"X_b!~", b"", b"From", b" X", b"\tX"]
    separators = [b": ", b":", b":\t ", b" : ", b"", b": \r"]
    values = [b"1", b"a=b; Path=/", b"", b"  ", b"v\t", b"a:b", b"\xe9", b"\x85", b"\x00",
              b"\x0b", b"\x7f", b"\r", b"text with spaces"]
    endings = [b"\r\n", b"\n", b"\r\r\n", b"\n\r"]
    lines = []
    for _ in range(rng.randint(0, 6)):
        odd = rng.random() < 0.3  # else a plain line
        name = rng.choice(names) if odd else rng.choice(names[:4])
        separator = rng.choice(separators) if odd else rng.choice(separators[:3])
        value = b"".join(rng.choice(values if odd else values[:7])
                         for _ in range(rng.randint(0, 3)))
        ending = rng.choice(endings) if odd else rng.choice(endings[:2])
        lines.append(name + separator + value + ending)
    return b"".join(lines) + rng.choice([b"\r\n", b"\n", b""])


def test_random_header_blocks_read_as_the_standard_library_reads_them() -> None:
    rng = random.Random(20261205)
    for _ in range(5000):
        same_headers(random_block(rng))


def test_the_plain_block_is_read_without_the_email_parser(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(fp: object, _class: object = None) -> http.client.HTTPMessage:
        raise AssertionError("the email parser was used")

    expected = stdlib(PLAIN).items()
    monkeypatch.setattr(http.client, "parse_headers", refuse)
    assert parse_header_lines(lines_of(PLAIN)).items() == expected


def test_limits_are_the_standard_librarys() -> None:
    stdlib_limits = (getattr(http.client, "_MAXLINE", None),
                     getattr(http.client, "_MAXHEADERS", None))
    assert stdlib_limits == (MAX_LINE, MAX_HEADERS)
    with pytest.raises(http.client.LineTooLong):
        lines_of(b"X-Long: " + b"a" * MAX_LINE + b"\r\n\r\n")
    with pytest.raises(http.client.HTTPException, match="more than 100 headers"):
        lines_of(b"X-A: 1\r\n" * MAX_HEADERS + b"\r\n")
    assert len(lines_of(b"X-A: 1\r\n" * (MAX_HEADERS - 1) + b"\r\n")) == MAX_HEADERS


# --- through the transport, over a socket ----------------------------------------------------


def raw_server(serve: Callable[..., Server], answers: list[bytes]) -> Server:
    """Answers the requests of one connection with these raw answers, in turn."""
    def handle(conn: socket.socket) -> None:
        for raw in answers:
            if read_request(conn) is None:
                return
            conn.sendall(raw)
    return serve(handle)


def test_what_begin_decides_from_the_headers(serve: Callable[..., Server]) -> None:
    server = raw_server(serve, [
        b"HTTP/1.1 100 Continue\r\nX-Skipped: 1\r\n\r\n"  # an interim answer, skipped
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-Folded: a\r\n b\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnull",  # a HEAD's answer has no body
        b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.0 200 OK\r\n\r\n{\"end\": true}",  # no length: the body ends at the close
    ])
    http = client(server)
    first = http.request("POST", "/orders", idempotent=False, content=b"{}")
    assert (first.status_code, first.json(), first.headers["x-folded"]) == (201, {}, "a\r\n b")
    assert "x-skipped" not in first.headers
    assert http.request("GET", "/", idempotent=True).json() == []
    assert http.request("DELETE", "/x", idempotent=True).content == b""
    head = http.request("HEAD", "/", idempotent=True)
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "4")
    latin = http.request("GET", "/", idempotent=True)
    assert latin.headers["x-name"] == "café" and latin.json() == {}
    assert http.request("GET", "/", idempotent=True).json() == {"end": True}
    assert server.connections == 1  # kept alive until the HTTP/1.0 answer
    http.close()
