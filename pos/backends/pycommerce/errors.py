"""PyCommerce's error bodies (two shapes, or HTML from a proxy) → the `PosError` a cashier reads."""

from __future__ import annotations

import json

import httpx

from pos.backends.http import safe_url
from pos.backends.pycommerce.settings import STORE
from pos.errors import (
    AuthError,
    PermanentError,
    TransientError,
)


def error_text(response: httpx.Response) -> str:
    """The message of either error shape, or a description of an HTML/empty/odd body."""
    text = response.text
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body.get("message")))
        if isinstance(err, dict):
            parts = [str(err.get("message") or err.get("code") or "").strip()]
            details = err.get("details")
            if details and str(details) not in parts[0]:
                parts.append(str(details))
            code = err.get("code")
            msg = " — ".join(p for p in parts if p) or "no message"
            return f"{msg} [{code}]" if code and code != msg else msg
        if isinstance(err, str) and err.strip():
            return err.strip()
        if isinstance(err, list) and err:  # FastAPI validation details
            return "; ".join(str(e.get("msg", e)) if isinstance(e, dict) else str(e)
                             for e in err[:3])
    ctype = response.headers.get("Content-Type", "")
    if "html" in ctype or text.lstrip().startswith("<"):
        return "an HTML page instead of JSON (a proxy or the wrong base_url?)"
    if not text.strip():
        return "an empty answer"
    return text.strip()[:200]


def raise_for_status(response: httpx.Response, what: str) -> None:
    """4xx → the `PosError` a cashier understands (3xx/429/5xx are mapped by `HttpClient`)."""
    status = response.status_code
    if status < 400:
        return
    detail = error_text(response)
    where = f"{response.request.method} {safe_url(response.request.url)}"
    if status == 401:
        raise AuthError(message=f"{STORE} refused the credentials while trying to {what}: "
                                f"{detail}",
                        hint="Check token, or username/email and password, in the profile.",
                        status=status)
    if status == 403:
        raise AuthError(title="Not permitted",
                        message=f"{STORE} does not allow this account to {what}: {detail}",
                        hint="Use an account/API key with the right permissions.", status=status)
    if status == 404:
        raise PermanentError(title="Not found",
                             message=f"{STORE} could not {what}: {detail} ({where}).",
                             hint="Check the tenant and the base_url.", status=status)
    if status == 409:
        raise PermanentError(title="Conflict", message=f"{STORE} could not {what}: {detail}",
                             hint="Someone else changed it; reload and try again.", status=status)
    if status == 429:  # normally mapped by HttpClient already
        raise TransientError(message=f"{STORE} is rate limiting requests (429).", status=status)
    raise PermanentError(message=f"{STORE} refused to {what}: {detail}",
                         hint="Correct the sale and try again." if status in (400, 422) else
                         f"HTTP {status} from {where}.", status=status)
