"""HTTP for backends: one persistent httpx client per backend, and transport failures mapped to
the `PosError` hierarchy the same way for every backend.

What a failure means for a sale depends on whether the request may have taken effect:

* the connection was never made (refused, DNS, connect timeout) → `TransientError`: retry freely;
* the request went out and no complete answer came back (read timeout, connection reset, a 5xx
  from a proxy) → for an idempotent call `TransientError`, for a non-idempotent one (creating an
  order) `OutcomeUnknown`: the sync engine looks the order up before any retry;
* 429 → `TransientError` carrying `Retry-After`;
* a redirect (we never follow them: a POST silently turned into a GET loses the sale) →
  `ConfigError` naming the wrong base URL;
* an answer that is not JSON (an HTML error page, a truncated body) → `PermanentError` or,
  for 5xx, one of the above.

Secrets never reach a message: URLs are shown without their query string.
"""

from __future__ import annotations

import json
import logging
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from pydantic import Field

from pos.backends.base import BackendSettings
from pos.backends.transport import StdlibTransport, environment_proxies
from pos.errors import AuthError, ConfigError, OutcomeUnknown, PermanentError, TransientError

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
USER_AGENT = "pos/0.1 (+terminal point of sale)"


def safe_url(url: httpx.URL | str) -> str:
    """The URL without query string or credentials (tokens travel in queries)."""
    u = httpx.URL(str(url))
    return str(u.copy_with(query=None, fragment=None, username=None, password=None))


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from datetime import UTC, datetime
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None


def check_base_url(base_url: str, allow_http: bool, store: str) -> str:
    url = base_url.strip()
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(message=f"{store}: base_url {url!r} is not an http(s) URL.",
                          hint="Write it like https://shop.example.com")
    if url.startswith("http://") and not allow_http:
        raise ConfigError(
            message=f"{store}: base_url uses plain HTTP, which would send credentials in clear.",
            hint="Use https://, or set allow_http = true in the profile (local tests only).")
    return url


@dataclass(kw_only=True)
class HttpBackendSettings(BackendSettings):
    """The profile keys every backend over HTTP shares: where the store is, how to reach it.

    Each backend adds its own keys (credentials, store specifics) and may give `base_url` a
    default (a hosted service) or tighten a constraint.
    """

    base_url: str
    timeout: float = 15.0  # seconds
    verify_tls: bool = True
    allow_http: bool = False  # plain http:// base_url (local tests only)


@dataclass(kw_only=True)
class RemoteCatalogSettings(BackendSettings):
    """The profile key of a backend whose catalog the counter pulls from the store."""

    # minutes between the counter's background refreshes of its catalog (0: only by hand,
    # `pos catalog sync`); see `pos.catalog_refresher.CatalogRefresher`
    catalog_refresh_minutes: Annotated[float, Field(ge=0)] = 60.0


# keyword arguments the direct path of `HttpClient.send` handles (others go through httpx.Client)
_DIRECT_KWARGS = frozenset({"content", "data", "json", "params", "headers"})
_URL_CACHE_SIZE = 64
_httpx_log = logging.getLogger("httpx")


class HttpClient:
    """A persistent `httpx.Client` (connection reuse) and the failure mapping of every backend.

    Requests without authentication flow, cookies or event hooks (what the backends send: their
    credentials travel in headers, queries or bodies) skip `httpx.Client`'s per-request
    machinery — merging the URL with `base_url` by parsing both again, an auth generator, the
    redirect loop, and building urllib request/response wrappers to look for cookies in every
    answer: about a quarter of the CPU of a request on loopback. `send` builds the
    `httpx.Request` (base URL merged once per path, the client's headers and timeout) and hands
    it to the client's transport for that URL (its proxies/mounts included), as `Client.send`
    does; the answer is read whole, and cookies are still taken from a `Set-Cookie` header.
    Anything else (an `auth=`, `files=`, cookies in the jar, event hooks) goes through
    `httpx.Client.request` unchanged.
    """

    def __init__(self, base_url: str, *, store: str, timeout: float | httpx.Timeout | None = None,
                 verify: bool | ssl.SSLContext = True, transport: httpx.BaseTransport | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.store = store
        if transport is None and not environment_proxies():
            transport = StdlibTransport(verify=verify)  # else httpx's, with the proxies' own
        self.client = httpx.Client(
            base_url=base_url, timeout=timeout or DEFAULT_TIMEOUT, verify=verify,
            transport=transport, follow_redirects=False,
            headers={"User-Agent": USER_AGENT, **(headers or {})})
        self._urls: dict[str, httpx.URL] = {}  # merged with base_url, by path
        self._urls_base = self.client.base_url

    def close(self) -> None:
        self.client.close()

    def _url(self, url: str) -> httpx.URL:
        """`url` merged with the client's base URL as httpx does (appended to its path)."""
        base = self.client.base_url
        if base is not self._urls_base:
            self._urls.clear()
            self._urls_base = base
        merged = self._urls.get(url)
        if merged is None:
            merged = httpx.URL(url)
            if merged.is_relative_url:
                merged = base.copy_with(raw_path=base.raw_path + merged.raw_path.lstrip(b"/"))
            if len(self._urls) < _URL_CACHE_SIZE:
                self._urls[url] = merged
        return merged

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, its answer read whole (see the class docstring); httpx's exceptions."""
        client = self.client
        transport_for = getattr(client, "_transport_for_url", None)
        if (transport_for is None or not kwargs.keys() <= _DIRECT_KWARGS
                or client.auth is not None or client.cookies or client.params
                or any(client.event_hooks.values())):
            return client.request(method, url, **kwargs)
        extra = kwargs.pop("headers", None)
        headers = client.headers
        if extra:
            headers = httpx.Headers(headers)
            headers.update(extra)
        request = httpx.Request(method, self._url(url), headers=headers,
                                extensions={"timeout": client.timeout.as_dict()}, **kwargs)
        response: httpx.Response = transport_for(request.url).handle_request(request)
        response.request = request
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        if "set-cookie" in response.headers:
            client.cookies.extract_cookies(response)
        if _httpx_log.isEnabledFor(logging.INFO):
            _httpx_log.info('HTTP Request: %s %s "%s %d %s"', request.method, request.url,
                            response.http_version, response.status_code,
                            response.reason_phrase)
        return response

    def request(self, method: str, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        """Send; map transport failures and 3xx/429/5xx to `PosError`s; return other answers."""
        try:
            response = self.send(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise TransientError(
                message=f"{self.store} cannot be reached ({type(exc).__name__}).",
                hint="Check the network; the sale is kept and sent later.") from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError,
                httpx.ReadError, httpx.WriteError) as exc:
            what = f"{self.store} did not answer in time" if isinstance(
                exc, httpx.TimeoutException) else f"the connection to {self.store} broke"
            if idempotent:
                raise TransientError(message=f"{what.capitalize()}.",
                                     hint="It will be tried again.") from None
            raise OutcomeUnknown(message=f"{what.capitalize()} after the request was sent.",
                                 hint="pos checks with the store before trying again.") from None
        except httpx.HTTPError as exc:
            raise TransientError(message=f"{self.store}: {type(exc).__name__}.") from None
        status = response.status_code
        if 300 <= status < 400:
            target = response.headers.get("Location", "?")
            raise ConfigError(
                message=f"{self.store} redirected {method} {safe_url(response.request.url)} to "
                        f"{safe_url(target) if target != '?' else target}.",
                hint="The base_url is probably wrong (http vs https, a trailing slash, or a "
                     "moved store). pos never follows redirects: fix base_url.")
        if status == 429:
            raise TransientError(message=f"{self.store} is rate limiting requests (429).",
                                 hint="pos waits and retries.",
                                 retry_after=retry_after_seconds(response), status=429)
        if status >= 500:
            if idempotent or (status in (502, 503) and not response.content):
                raise TransientError(message=f"{self.store} had a server error ({status}).",
                                     hint="It will be tried again.", status=status)
            raise OutcomeUnknown(
                message=f"{self.store} had a server error ({status}) while taking the request.",
                hint="pos checks with the store before trying again.", status=status)
        return response


def _declares_utf8(response: httpx.Response) -> bool:
    """No charset in the Content-Type (JSON is UTF-8), or UTF-8 declared."""
    ctype = response.headers.get("Content-Type", "").lower()
    return "charset" not in ctype or "utf-8" in ctype or "utf8" in ctype


def parse_json(response: httpx.Response, store: str, *, lenient: bool = False) -> Any:
    """The JSON body. `lenient`: skip leaked text (PHP warnings) before the first `{` or `[`.

    A UTF-8 body is parsed from its bytes, as `httpx.Response.json` does: `response.text`
    looks for a charset by parsing the Content-Type with `email.message` (≈ 20 µs an answer).
    Anything else — another charset, bytes that are not UTF-8, not JSON — goes the text way.
    """
    if _declares_utf8(response):
        try:
            return json.loads(response.content)
        except ValueError:  # not JSON, or not UTF-8: the text way says which
            pass
    text = response.text
    try:
        return json.loads(text)
    except ValueError:
        pass
    if lenient:
        start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
        if start > 0:
            try:
                return json.loads(text[start:])
            except ValueError:
                pass
    ctype = response.headers.get("Content-Type", "")
    kind = "an HTML page" if "html" in ctype or text.lstrip().startswith("<") else (
        "an empty answer" if not text.strip() else "something that is not JSON")
    raise PermanentError(
        message=f"{store} answered {kind} (HTTP {response.status_code}) to "
                f"{response.request.method} {safe_url(response.request.url)}.",
        hint="Check base_url; the store or a proxy in front of it may be misconfigured.",
        status=response.status_code)


def parse_object(response: httpx.Response, store: str) -> dict[str, Any]:
    """The JSON body, which must be an object (a store whose answers are always objects)."""
    body = parse_json(response, store)
    if not isinstance(body, dict):
        raise PermanentError(
            message=f"{store} answered JSON that is not an object (HTTP {response.status_code}) "
                    f"to {response.request.method} {safe_url(response.request.url)}.",
            hint="Check base_url; the store or a proxy in front of it may be misconfigured.",
            status=response.status_code)
    return body


def auth_error(store: str, detail: str, status: int | None = None) -> AuthError:
    return AuthError(message=f"{store} refused the login: {detail}",
                     hint="Check the profile's credentials in the config file.", status=status)
