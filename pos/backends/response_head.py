"""An answer's status line and headers for `StdlibTransport`, read without the `email` package
when the header block is plain.

`http.client` parses every answer's header block with `email.parser` (`parse_headers`): a
generator-based MIME parser that costs ≈ 45 µs an answer here, the largest single share of a
sale's placement after the network (docs/benchmarks.md, "Sync, fourth pass"). `HeadResponse`
is `http.client.HTTPResponse` whose `begin` reads the header lines as the standard library does
(same limits) and, when every line is a plain `Name: value` line of printable ASCII, splits them
itself into the same `HTTPMessage` the `email` parser would build. Any other block — a folded
(continued) line, a line without a name, a byte outside printable ASCII (which the `email`
parser may take for a line break), a last line cut short — goes to `http.client.parse_headers`,
so it is read exactly as the standard library reads it. `tests/backends/test_response_head.py`
compares both on plain and odd blocks. The rest of `begin` (status, chunked, length, keep-alive)
is the standard library's, unchanged.
"""

from __future__ import annotations

import http.client
import io
import re

# http.client's own limits (`_MAXLINE`, `_MAXHEADERS`): a line longer, or more lines, is refused
MAX_LINE = 65536
MAX_HEADERS = 100
_END = (b"\r\n", b"\n", b"")
# a header line as `email`'s compat32 policy splits it: the name (printable ASCII but `:`), the
# value after the colon with its leading blanks stripped and its trailing ones kept
_PLAIN = re.compile(rb"([\x21-\x39\x3b-\x7e]+):[ \t]*([\t\x20-\x7e]*)\r?\n")


def read_header_lines(fp: io.BufferedIOBase) -> list[bytes]:
    """The header block's lines, the blank one ending it included, as `http.client` reads
    them (`LineTooLong`, more than `MAX_HEADERS` lines: `HTTPException`)."""
    lines: list[bytes] = []
    while True:
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > MAX_HEADERS:
            raise http.client.HTTPException(f"got more than {MAX_HEADERS} headers")
        if line in _END:
            return lines


def parse_header_lines(lines: list[bytes]) -> http.client.HTTPMessage:
    """The `HTTPMessage` `http.client.parse_headers` builds from these lines (the last one
    ending the block, as `read_header_lines` returns them)."""
    matches = [_PLAIN.fullmatch(line) for line in lines[:-1]]
    fields = [match.groups() for match in matches if match is not None]
    if len(fields) < len(matches) or lines[-1] not in _END:  # unusual: the standard library's
        return http.client.parse_headers(io.BytesIO(b"".join(lines)))  # own parser
    message = http.client.HTTPMessage()
    for name, value in fields:
        message.set_raw(name.decode("ascii"), value.decode("ascii"))
    return message


class HeadResponse(http.client.HTTPResponse):
    """`http.client.HTTPResponse` with its headers read by `parse_header_lines`."""

    def begin(self) -> None:  # as http.client's, which calls parse_headers
        if self.headers is not None:
            return
        while True:
            version, status, reason = self._read_status()
            if status != http.client.CONTINUE:
                break
            read_header_lines(self.fp)  # a 100 Continue's headers: skipped
        self.code = self.status = status
        self.reason = reason.strip()
        if version in ("HTTP/1.0", "HTTP/0.9"):
            self.version = 10
        elif version.startswith("HTTP/1."):
            self.version = 11
        else:
            raise http.client.UnknownProtocol(version)
        self.headers = self.msg = parse_header_lines(read_header_lines(self.fp))
        encoding = self.headers.get("transfer-encoding")
        self.chunked = bool(encoding and encoding.lower() == "chunked")
        if self.chunked:
            self.chunk_left = None
        self.will_close = self._check_close()
        self.length = None
        length = self.headers.get("content-length")
        if length and not self.chunked:
            try:
                self.length = int(length)
            except ValueError:
                self.length = None
            else:
                if self.length < 0:  # a negative length is ignored
                    self.length = None
        if (status in (http.client.NO_CONTENT, http.client.NOT_MODIFIED)
                or 100 <= status < 200 or self._method == "HEAD"):
            self.length = 0
        if not self.will_close and not self.chunked and self.length is None:
            self.will_close = True  # no length: the body ends when the connection does
