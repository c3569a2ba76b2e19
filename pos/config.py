"""Settings: a TOML file in the platformdirs config dir, overridden by `POS_*` variables.

    lane = "L1"                   # order numbers are <lane>-<sequence>; default: from the host
    cashier = "ann"
    default_profile = "local"
    sinks = ["voucherify-eu"]     # profiles that receive a copy of every placed sale

    [profiles.shop]
    backend = "opencart"
    base_url = "https://shop.example.com"
    username = "Default"
    key = "..."                   # secrets are SecretStr in memory and masked when shown

    [keys]
    pay = "f12"                   # remap a binding by its id

A missing file means defaults (the embedded `local` profile). A broken file raises `ConfigError`
with the file, the line and the reason. Environment: `POS_LANE`, `POS_CASHIER`,
`POS_DEFAULT_PROFILE` (any setting, as `POS_<NAME>`: read by pydantic-settings, see
`pos.config_env`), `POS_DATA_DIR`, `POS_CONFIG_FILE` (where the file is).
"""

from __future__ import annotations

import os
import re
import socket
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir, user_data_dir, user_log_dir

from pos.errors import ConfigError
from pos.model_base import InvalidData, Model, validate_plain

APP_NAME = "pos"
LANE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{0,23}$")
SECRET_KEY_PATTERN = re.compile(r"(key|token|password|secret|pin)", re.IGNORECASE)
MASK = "********"


def default_lane() -> str:
    """A lane name from the host name: letters and digits only, upper case, ≤ 12 characters."""
    host = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname().split(".")[0]).upper()
    return (host or "LANE")[:12]


def config_path() -> Path:
    env = os.environ.get("POS_CONFIG_FILE")
    return Path(env).expanduser() if env else Path(user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    env = os.environ.get("POS_DATA_DIR")
    return Path(env).expanduser() if env else Path(user_data_dir(APP_NAME))


def log_dir() -> Path:
    return Path(user_log_dir(APP_NAME))


@dataclass(kw_only=True)
class ShopSettings(Model):
    """What a receipt says about the shop."""

    name: str = "POS Demo Store"
    address: str = "1 Market Street, Springfield"
    tax_id: str = ""
    footer: str = "Thank you for shopping with us!"


@dataclass(kw_only=True)
class PrinterSettings(Model):
    """Where receipts go: a text file (default) or an ESC/POS printer (python-escpos)."""

    kind: str = "file"  # file | usb | network | serial | escpos-file
    path: str = ""  # file/escpos-file: output path; serial: device
    host: str = ""  # network printer
    port: int = 9100
    vendor_id: str = ""  # usb, hex
    product_id: str = ""  # usb, hex
    width: int = 42  # characters per line


def _toml_error(path: Path, exc: tomllib.TOMLDecodeError) -> ConfigError:
    return ConfigError(
        message=f"{path}: {exc}",
        hint="Fix the file (TOML syntax) or move it away to start from the defaults.",
    )


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line) or re.match(rf"\s*\[.*{re.escape(key)}", line):
            return number
    return None


ENV_PREFIX = "POS_"


@dataclass(kw_only=True)
class Settings(Model):
    """The settings; `load_settings` reads them from the file and the environment."""

    lane: str = field(default_factory=default_lane)
    cashier: str = ""
    default_profile: str = "local"
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    sinks: list[str] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    shop: ShopSettings = field(default_factory=ShopSettings)
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    source: str = ""  # the file these came from ("" = defaults); not a setting

    # --- profiles -------------------------------------------------------------------------

    def profile_table(self, name: str | None = None) -> dict[str, Any]:
        name = name or self.default_profile
        if name in self.profiles:
            return dict(self.profiles[name])
        if name == "local":
            return {"backend": "local"}
        known = ", ".join(sorted({"local", *self.profiles})) or "local"
        raise ConfigError(
            message=f"There is no profile named {name!r}.",
            hint=f"Known profiles: {known}. Add [profiles.{name}] to {config_path()}.",
        )

    def masked(self) -> dict[str, Any]:
        """The settings as a dict with every secret replaced by a mask (for `pos config show`)."""
        data = self.model_dump(mode="json", exclude={"source"})
        data["profiles"] = {n: mask_secrets(t) for n, t in self.profiles.items()}
        return data


def mask_secrets(table: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out[key] = mask_secrets(value)
        elif _is_secret(value) or (SECRET_KEY_PATTERN.search(key) and value):
            out[key] = MASK
        else:
            out[key] = value
    return out


def _is_secret(value: object) -> bool:
    """A pydantic `SecretStr` (known by its method: pydantic need not be imported to ask)."""
    return callable(getattr(value, "get_secret_value", None))


def settings_from(values: dict[str, Any]) -> Settings:
    """`Settings` from a table of values (the file's, with the arguments'); `InvalidData`
    naming the first wrong one. A plain table is built without pydantic (`validate_plain`)."""
    return check_settings(validate_plain(Settings, values))


def check_settings(settings: Settings) -> Settings:
    """The rules no type says: a lane's form, a profile's `backend`."""
    if not LANE_PATTERN.match(settings.lane):
        raise InvalidData([{"loc": ("lane",), "msg": "a lane is 1-24 letters, digits or '_', "
                                                     "starting with a letter or digit"}])
    for name, table in settings.profiles.items():
        if not isinstance(table.get("backend"), str):
            raise InvalidData([{"loc": ("profiles", name),
                                "msg": f"[profiles.{name}] needs backend = \"...\""}])
    return settings


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read the config file (if any) and the environment; raise `ConfigError` when broken.

    Arguments (command-line options) win over `POS_<NAME>` variables, which win over the file.
    Only when such a variable is set is pydantic-settings imported to read them (≈ 3 % of a
    till's start-up, where the file alone sets it up).
    """
    path = path or config_path()
    file_values: dict[str, Any] = {}
    text = ""
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
            file_values = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(path, exc) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(message=f"Cannot read {path}: {exc}") from None
    init: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    variables = environment_overrides()
    try:
        if variables:
            from pos.config_env import settings_with_environment

            settings = settings_with_environment(file_values, init)
        else:
            settings = settings_from({**file_values, **init})
    except InvalidData as exc:
        where = _where(str(exc.loc[0]) if exc.loc else "", variables, path, text)
        raise ConfigError(
            message=f"{where}: {exc.where}: {exc.msg}",
            hint="Fix the setting, or remove it to use the default.",
        ) from None
    return settings.model_copy(update={"source": str(path) if text else ""})


def _where(setting: str, variables: list[str], path: Path, text: str) -> str:
    """Where a wrong `setting` came from: the variable that set it, else the file's line."""
    for variable in variables:
        if variable.upper() == ENV_PREFIX + setting.upper():
            return f"environment: {variable.upper()}"
    if not text:
        return "environment"
    line = _line_of(text, setting) if setting else None
    return f"{path}, line {line}" if line else str(path)


def environment_overrides() -> list[str]:
    """The `POS_<NAME>` variables naming a setting (any case, as pydantic-settings reads them)."""
    names = {(ENV_PREFIX + f.name).upper() for f in fields(Settings) if f.name != "source"}
    return [key for key in os.environ if key.upper() in names]


def write_private(path: Path, text: str) -> None:
    """Write a file that may hold secrets: created 0600, replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def set_value(path: Path, dotted_key: str, value: object) -> None:
    """Set `lane`, `profiles.shop.key` ... in the config file, keeping the rest; file made 0600.

    The file is re-validated before it is replaced, so a bad value never lands on disk.
    """
    import tomli_w

    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(path, exc) from None
    parts = dotted_key.split(".")
    table = data
    for part in parts[:-1]:
        child = table.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(message=f"{dotted_key}: {part} is not a table in {path}.")
        table = child
    table[parts[-1]] = value
    text = tomli_w.dumps(data)
    try:
        settings_from(tomllib.loads(text))  # the file alone, whatever the environment says
    except InvalidData as exc:
        raise ConfigError(message=f"{dotted_key}: {exc.msg}") from None
    write_private(path, text)
