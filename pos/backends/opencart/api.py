"""The OpenCart 3 session API on the wire: form posts, PHP bracket arrays, tokens in the query.

Every answer is HTTP 200 JSON (object or `[]`), possibly preceded by leaked PHP warnings; an
unknown route is an HTML 404 page and a PHP fatal error an HTML 200 page. The permission error
comes as a string or as `{"warning": ...}` depending on the route, and means "log in again".
The `api_token` travels in the query string, so URLs are only ever shown through `safe_url`.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from pos.backends.http import HttpClient, parse_json, safe_url
from pos.errors import AuthError, OutcomeUnknown, PermanentError

log = logging.getLogger("pos.backends.opencart")
_TOKEN = re.compile(r"(api_token|key)=[^&\s\"']*")


class RedactTokens(logging.Filter):
    """httpx logs every request URL at INFO, and ours carry `api_token`: cut the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(safe_url(a) if isinstance(a, httpx.URL) else
                                _TOKEN.sub(r"\1=***", a) if isinstance(a, str) else a
                                for a in record.args)
        if isinstance(record.msg, str) and "api_token" in record.msg:
            record.msg = _TOKEN.sub(r"\1=***", record.msg)
        return True


for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(RedactTokens())

PERMISSION = "You do not have permission to access the API"
Form = list[tuple[str, str]]


class SessionExpired(Exception):
    """The token was refused (expired, deleted, or the session data timed out)."""


def flatten(prefix: str, value: Any) -> Form:
    """`{"option": {"226": "15"}}` → `[("option[226]", "15")]` (PHP bracket syntax)."""
    if isinstance(value, Mapping):
        out: Form = []
        for k, v in value.items():
            out += flatten(f"{prefix}[{k}]" if prefix else str(k), v)
        return out
    if isinstance(value, list | tuple):
        out = []
        for v in value:
            out += flatten(f"{prefix}[]", v)
        return out
    if value is None:
        return [(prefix, "")]
    return [(prefix, str(value))]


def messages(error: Any) -> list[str]:
    """Every message of an error value (string, object of fields, nested, list), unescaped."""
    if error is None or error is False:
        return []
    if isinstance(error, str):
        return [html.unescape(error)] if error else []
    if isinstance(error, Mapping):
        return [m for v in error.values() for m in messages(v)]
    if isinstance(error, list):
        return [m for v in error for m in messages(v)]
    return [html.unescape(str(error))]


def is_permission_error(body: Any) -> bool:
    return isinstance(body, Mapping) and any(PERMISSION in m for m in messages(body.get("error")))


def text(value: Any) -> str:
    return html.unescape(str(value)) if value is not None else ""


class OpenCartApi:
    """One HTTP client; `login()` opens a fresh, empty session (a new token)."""

    def __init__(self, http: HttpClient, username: str, key: str, store: str) -> None:
        self.http = http
        self.username = username
        self._key = key
        self.store = store
        self.token: str | None = None

    def _send(self, route: str, form: Form, query: Mapping[str, str], *, idempotent: bool,
              token: bool = True) -> Any:
        params: dict[str, str] = {"route": route}
        if token and self.token:
            params["api_token"] = self.token
        params.update(query)
        log.debug("POST %s route=%s", self.store, route)
        self.http.client.cookies.clear()  # the session is the token's, never a cookie's
        response = self.http.request("POST", "index.php?" + urlencode(params, safe="/"),
                                     data=dict_or_list(form), idempotent=idempotent)
        try:
            return self._decode(response, route)
        except PermanentError as exc:
            if idempotent or exc.status == 404:
                raise
            # order/add sent, the answer unreadable (truncated, a proxy's page): it may exist
            raise OutcomeUnknown(message=f"{exc.message} The order may have been created.",
                                 hint="pos checks with the store before trying again.",
                                 status=exc.status) from None

    def _decode(self, response: httpx.Response, route: str) -> Any:
        ctype = response.headers.get("Content-Type", "")
        body_text = response.text
        if response.status_code == 404:
            raise PermanentError(
                message=f"{self.store} has no API route {route} (HTTP 404 at "
                        f"{safe_url(response.request.url)}).",
                hint="Check base_url points at an OpenCart 3 store (…/index.php).", status=404)
        if "Fatal error" in body_text and "html" in ctype:
            raise PermanentError(
                message=f"{self.store} crashed on {route} (PHP fatal error).",
                hint="The store rejected the request's format; report this to its admin.",
                status=response.status_code)
        if body_text.strip().startswith("Error: Invalid session ID"):
            raise SessionExpired(route)
        if response.status_code >= 400:
            raise PermanentError(message=f"{self.store} answered HTTP {response.status_code} "
                                         f"to {route}.", status=response.status_code)
        return parse_json(response, self.store, lenient=True)

    def login(self) -> str:
        self.token = None
        body = self._send("api/login", [("username", self.username), ("key", self._key)], {},
                          idempotent=True, token=False)
        if isinstance(body, Mapping) and body.get("api_token"):
            self.token = str(body["api_token"])
            return self.token
        if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping) \
                and body["error"].get("ip"):
            raise AuthError(message=f"{self.store}: {text(body['error']['ip'])}",
                            hint="Add this machine's IP to the API user's allowed IPs "
                                 "(System › Users › API).")
        detail = "; ".join(messages(body.get("error"))) if isinstance(body, Mapping) else ""
        raise AuthError(
            message=f"{self.store} refused the login: wrong key, unknown or disabled user "
                    f"{self.username!r}{f' ({detail})' if detail else ''}.",
            hint="Check username and key in the profile (System › Users › API in OpenCart).")

    def call(self, route: str, form: Form | None = None, *, query: Mapping[str, str] | None = None,
             idempotent: bool = True) -> Any:
        """Call `api/<route>`; raises `SessionExpired` on the permission error."""
        if self.token is None:
            self.login()
        body = self._send(f"api/{route}", form or [], query or {}, idempotent=idempotent)
        if is_permission_error(body):
            raise SessionExpired(route)
        return body

    def probe(self) -> bool:
        """One call without a token (`api/cart/products`): the store answers with its permission
        error; no API session is opened and the current token is kept. True: it answered."""
        self._send("api/cart/products", [], {}, idempotent=True, token=False)
        return True

    def storefront(self, route: str, query: Mapping[str, str]) -> Any:
        """A storefront (non-API) JSON route, over GET, without a token."""
        self.http.client.cookies.clear()
        response = self.http.request("GET", "index.php?" + urlencode(
            {"route": route, **query}, safe="/"), idempotent=True)
        return self._decode(response, route)


def dict_or_list(form: Iterable[tuple[str, str]]) -> Any:
    """httpx accepts a dict of lists for repeated keys (`option[223][]`)."""
    out: dict[str, list[str]] = {}
    for k, v in form:
        out.setdefault(k, []).append(v)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}
