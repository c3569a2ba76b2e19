"""A tiny order store over HTTP/1.1 on loopback, run in its own process by the sync benchmark.

    python -m benchmarks.emulator      # prints the port, serves until killed

POST /orders (an order's JSON, carrying its `number`) → 201 {"id": N}: every POST creates an
order, as a real store would, so a sale sent twice shows up as a duplicate.
GET /orders?number=X → {"orders": [{"id": N, "number": X}, ...]} (reconciliation).
GET /stats → {"posts": ..., "distinct": ..., "duplicates": [...], "numbers_sha": ...}.
"""

from __future__ import annotations

import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ORDERS: dict[str, list[int]] = {}
POSTS = [0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connection
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed ACK)

    def _answer(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urlsplit(self.path).path != "/orders":
            self._answer(404, {"error": "not found"})
            return
        try:
            number = json.loads(body)["number"]
        except (ValueError, KeyError):
            self._answer(400, {"error": "an order needs a number"})
            return
        POSTS[0] += 1
        ORDERS.setdefault(number, []).append(POSTS[0])
        self._answer(201, {"id": POSTS[0], "number": number})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/orders":
            number = parse_qs(url.query).get("number", [""])[0]
            self._answer(200, {"orders": [{"id": i, "number": number}
                                          for i in ORDERS.get(number, [])]})
        elif url.path == "/stats":
            numbers = sorted(ORDERS)
            self._answer(200, {
                "posts": POSTS[0], "distinct": len(ORDERS),
                "duplicates": [n for n, ids in ORDERS.items() if len(ids) > 1][:20],
                "numbers_sha": hashlib.sha256("\n".join(numbers).encode()).hexdigest()})
        else:
            self._answer(404, {"error": "not found"})

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
