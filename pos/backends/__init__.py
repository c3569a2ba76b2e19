"""Finding backends: the entry-point group `pos.backends` (so a shop can ship its own backend as
a separate package), plus the built-in ones when `pos` runs from a source tree."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from pos.errors import ConfigError
from pos.model_base import InvalidData, validate_plain

if TYPE_CHECKING:
    from pos.backends.base import Backend, BackendContext

ENTRY_POINT_GROUP = "pos.backends"

BUILTIN: dict[str, str] = {
    "local": "pos.backends.local:LocalBackend",
    "opencart": "pos.backends.opencart:OpenCartBackend",
    "pycommerce": "pos.backends.pycommerce:PyCommerceBackend",
    "voucherify": "pos.backends.voucherify:VoucherifyBackend",
    "aligncommerce": "pos.backends.aligncommerce:AlignCommerceBackend",
}


def available() -> dict[str, str]:
    """Backend name → "module:Class", entry points first, built-ins where missing."""
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {**BUILTIN, **found}


def backend_class(name: str) -> type[Backend]:
    # a built-in name is imported directly: reading every installed package's entry points
    # costs the counter's start ~1 %, and a built-in name always means pos's own class
    target = BUILTIN.get(name) or available().get(name)
    if target is None:
        raise ConfigError(
            message=f"Unknown backend {name!r}.",
            hint=f"Known backends: {', '.join(sorted(available()))}.",
        )
    module_name, _, attr = target.partition(":")
    try:
        cls: type[Backend] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(message=f"Backend {name!r} cannot be loaded: {exc}") from None
    return cls


def create_backend(table: dict[str, Any], context: BackendContext) -> Backend:
    """Build the backend named by a profile table, validating its settings."""
    cls = backend_class(str(table.get("backend", "")))
    try:
        settings = validate_plain(cls.Settings, table)
    except InvalidData as exc:
        raise ConfigError(
            message=f"[profiles.{context.profile}] {exc.where}: {exc.msg}",
            hint=f"See the README for the settings of the {table.get('backend')} backend.",
        ) from None
    return cls(settings, context)
