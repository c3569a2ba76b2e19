"""A fault-injecting httpx transport around any in-process emulator.

    emulator = OpenCartEmulator(...)
    faults = FaultyTransport(emulator.handle)
    faults.plan("api/order/add", "drop_after_commit")   # the next matching call
    client = httpx.Client(transport=faults)

Faults (each consumed by the next request whose URL contains the pattern, or by any request
when the pattern is ""):
  delay:<seconds>       answer late (the emulator still answers)
  timeout_before        raise ReadTimeout *without* calling the emulator (nothing happened)
  drop_after_commit     call the emulator (it commits), then raise ReadTimeout (answer lost)
  reset_after_commit    call the emulator, then raise RemoteProtocolError (connection reset)
  connect_error         raise ConnectError (the request never left)
  500 / 502 / 503       answer that status with an empty body, emulator not called
  html                  answer a 200 HTML page (a proxy's error page), emulator not called
  truncated             call the emulator, answer only the first half of its body
  wrong_content_type    call the emulator, answer its body as text/plain garbage prefix
  429:<seconds>         answer 429 with Retry-After, emulator not called
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FaultyTransport(httpx.BaseTransport):
    handler: Handler
    planned: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # "METHOD url" of every request seen
    sleep: Callable[[float], None] = time.sleep

    def plan(self, pattern: str, fault: str, times: int = 1) -> None:
        self.planned.extend([(pattern, fault)] * times)

    def _take(self, request: httpx.Request) -> str | None:
        url = str(request.url)
        for i, (pattern, fault) in enumerate(self.planned):
            if pattern in url:
                del self.planned[i]
                return fault
        return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.calls.append(f"{request.method} {request.url}")
        fault = self._take(request)
        if fault is None:
            return self._call(request)
        name, _, arg = fault.partition(":")
        if name == "delay":
            self.sleep(float(arg or 1))
            return self._call(request)
        if name == "timeout_before":
            raise httpx.ReadTimeout("timed out", request=request)
        if name == "connect_error":
            raise httpx.ConnectError("connection refused", request=request)
        if name == "drop_after_commit":
            self._call(request)
            raise httpx.ReadTimeout("timed out", request=request)
        if name == "reset_after_commit":
            self._call(request)
            raise httpx.RemoteProtocolError("connection reset by peer", request=request)
        if name in ("500", "502", "503"):
            return httpx.Response(int(name), request=request)
        if name == "html":
            return httpx.Response(200, headers={"Content-Type": "text/html; charset=utf-8"},
                                  content=b"<html><body><h1>Bad Gateway</h1></body></html>",
                                  request=request)
        if name == "truncated":
            real = self._call(request)
            body = real.content[: max(1, len(real.content) // 2)]
            return httpx.Response(real.status_code, headers=real.headers, content=body,
                                  request=request)
        if name == "wrong_content_type":
            real = self._call(request)
            return httpx.Response(real.status_code, headers={"Content-Type": "text/plain"},
                                  content=b"OK\n" + real.content, request=request)
        if name == "429":
            return httpx.Response(429, headers={"Retry-After": arg or "1"}, request=request)
        raise ValueError(f"unknown fault {fault!r}")

    def _call(self, request: httpx.Request) -> httpx.Response:
        response = self.handler(request)
        response.read()
        return httpx.Response(response.status_code, headers=response.headers,
                              content=response.content, request=request)
