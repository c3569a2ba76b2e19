"""The `PosError` hierarchy: every error is a value with a title, a message and a hint.

The UI and the CLI show `title`, `message` and `hint`; they never parse a backend's raw text.
`transient` says whether trying again later may succeed (network down, 5xx, timeout, 429):
the sync engine retries transient errors and parks permanent ones for the cashier.
"""

from __future__ import annotations


class PosError(Exception):
    """Base of every error this application reports to a person."""

    title: str = "Error"
    transient: bool = False

    def __init__(self, title: str | None = None, message: str = "", hint: str = "") -> None:
        self.title = title or type(self).title
        self.message = message or self.title
        self.hint = hint
        super().__init__(self.message)

    def one_line(self) -> str:
        """`Title: message (hint)` — for the CLI and log lines."""
        text = self.message if self.message.startswith(self.title) else f"{self.title}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "title": self.title,
            "message": self.message,
            "hint": self.hint,
            "transient": self.transient,
        }


class InputError(PosError):
    """Something a person typed or a file held is not valid (quantity, price, JSON, CSV)."""

    title = "Invalid input"


class NotFoundError(PosError):
    """A product code, customer, order or parked cart that does not exist."""

    title = "Not found"


class RuleError(PosError):
    """The store refuses: out of stock, below minimum, coupon invalid, method unavailable.

    `field` names what was refused (`coupon`, `voucher`, `reward`, `stock`, `minimum`,
    `option`, `shipping_method`, `payment_method`, `customer`, `address` ...).
    """

    title = "Not allowed"

    def __init__(
        self, title: str | None = None, message: str = "", hint: str = "", field: str = ""
    ) -> None:
        super().__init__(title, message, hint)
        self.field = field

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "field": self.field}


class ConfigError(PosError):
    """The configuration file or a profile is wrong (with the line and the reason)."""

    title = "Configuration error"


class StorageError(PosError):
    """The local data directory cannot be written (disk full, read-only, locked)."""

    title = "Cannot save"


class BackendError(PosError):
    """A backend refused or failed. Subclasses say whether retrying may help."""

    title = "Store error"

    def __init__(
        self,
        title: str | None = None,
        message: str = "",
        hint: str = "",
        *,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(title, message, hint)
        self.status = status
        self.request_id = request_id

    def to_dict(self) -> dict[str, object]:
        d = super().to_dict()
        if self.status is not None:
            d["status"] = self.status
        if self.request_id:
            d["request_id"] = self.request_id
        return d


class TransientError(BackendError):
    """Network down, timeout, 5xx, 429: the sale is queued and retried later."""

    title = "Store unreachable"
    transient = True

    def __init__(self, *args: object, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class PermanentError(BackendError):
    """The backend answered and refused (validation, 4xx): retrying the same request won't help."""

    title = "Store refused"


class AuthError(PermanentError):
    """Credentials wrong, token refused, IP not allowed."""

    title = "Login refused"


class OutcomeUnknown(BackendError):
    """The request may or may not have taken effect (timeout after sending a non-idempotent call).

    The sale goes to `unknown` and is reconciled by asking the backend before any retry.
    """

    title = "Outcome unknown"
    transient = True
