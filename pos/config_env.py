"""Settings overridden by `POS_<NAME>` environment variables, read by pydantic-settings.

Imported by `load_settings` only when such a variable is set (`POS_LANE=L2 pos` for a second
lane on one machine, a container's setup): importing pydantic-settings costs ≈ 46 M instructions
(≈ 3 %) of a till's start-up, and a till set up by its config file does not need it.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, get_type_hints

from pydantic import Field, ValidationError, create_model
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from pos.config import ENV_PREFIX, Settings, check_settings
from pos.errors import ConfigError
from pos.model_base import InvalidData


class _FileSource(PydanticBaseSettingsSource):
    """Values read from the TOML file (lowest priority after the environment)."""

    def __init__(self, settings_cls: type[BaseSettings], values: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self.values = values

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self.values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.values)


class _EnvironmentBase(BaseSettings):
    """Values from the arguments, then `POS_<NAME>` variables (a table or a list as JSON),
    then the file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        assert isinstance(init_settings, InitSettingsSource)
        file_values = init_settings.init_kwargs.pop("_file_values", {})
        return (init_settings, env_settings, _FileSource(settings_cls, file_values))


def _field(spec: dataclasses.Field[Any], hint: Any) -> tuple[Any, Any]:
    if spec.default_factory is not dataclasses.MISSING:
        return hint, Field(default_factory=spec.default_factory)
    return hint, spec.default


# the fields of `Settings` (but `source`), read by pydantic-settings
_HINTS = get_type_hints(Settings)
_FIELDS: dict[str, Any] = {spec.name: _field(spec, _HINTS[spec.name])
                           for spec in dataclasses.fields(Settings) if spec.name != "source"}
EnvironmentSettings = create_model("EnvironmentSettings", __base__=_EnvironmentBase, **_FIELDS)


def settings_with_environment(file_values: dict[str, Any], init: dict[str, Any]) -> Settings:
    """The settings from `init`, the environment and `file_values`; `ConfigError` for a
    variable that is not the JSON its setting needs, `InvalidData` for a wrong value."""
    try:
        read = EnvironmentSettings(_file_values=file_values, **init)  # type: ignore[call-arg]
    except SettingsError as exc:
        raise _environment_error(exc) from None
    except ValidationError as exc:
        raise InvalidData(exc.errors()) from None
    return check_settings(Settings(**{name: getattr(read, name)
                                      for name in type(read).model_fields}))


def _environment_error(exc: SettingsError) -> ConfigError:
    """pydantic-settings could not read a POS_ variable (a table or list given as bad JSON).
    The message names the variable, never its value (it may be a secret)."""
    field = re.search(r'field "(\w+)"', str(exc))
    name = f"{ENV_PREFIX}{field.group(1).upper()}" if field else "a POS_ variable"
    return ConfigError(message=f"environment: {name} is not valid JSON.",
                       hint=f"Give {name} a JSON value (a table as {{\"key\": \"value\"}}, "
                            "a list as [\"a\", \"b\"]), or unset it.")
