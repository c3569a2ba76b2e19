"""`Model`: the base of pos's values (domain models, settings) — frozen stdlib dataclasses that
pydantic validates and serializes, imported only when a value crosses a boundary.

A sale's values are built by pos's own code with the right types (mypy checks every
constructor), so building one needs no validation; what comes from outside (a saved cart or
order, a backend's settings, a file) goes through pydantic: `model_validate`,
`model_validate_json`, `model_dump`, `model_dump_json` — the method names of a pydantic model,
served by a `pydantic.TypeAdapter` of the class, built on first use and kept.

Why not pydantic models: importing pydantic and creating its model classes is a quarter of the
counter's start (≈ 100 of ≈ 400 ms, docs/benchmarks.md), and the cart screen needs none of it
to show an empty sale. `warm_up` loads it in the background once the cart is on screen.

`validate_plain` is the start's path for the settings: a table whose every value already has
its field's exact type (what a plain TOML file gives) is built directly; anything else (a
string where a number goes, an unknown key, a missing one, a type pydantic must convert) goes
to pydantic, which converts it or says what is wrong. Both give the same value for a plain
table (tests/core/test_model_base.py compares them on random tables).

With `POS_CHECK_MODEL_TYPES=1` in the environment when this module is imported (the test suite
sets it), every value built checks its fields' types: a caller relying on a conversion
(a price given as a string, a list where a tuple goes) fails loudly in the tests.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, ClassVar, Literal, Self, TypeVar, get_args, get_origin

T = TypeVar("T")

CHECK_TYPES = os.environ.get("POS_CHECK_MODEL_TYPES", "") not in ("", "0")


class InvalidData(ValueError):
    """Values pydantic refused: `errors` as pydantic lists them (`loc`, `msg`, `type` ...),
    without the refused `input` (it may be a secret)."""

    def __init__(self, errors: Sequence[Mapping[str, Any]]) -> None:
        self.errors = [{k: v for k, v in e.items() if k != "input"} for e in errors]
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        self.loc: tuple[str | int, ...] = tuple(first.get("loc", ()))
        self.msg: str = str(first.get("msg", "invalid"))
        super().__init__(f"{self.where}: {self.msg}" if self.loc else self.msg)

    @property
    def where(self) -> str:
        return ".".join(str(part) for part in self.loc)


class Model:
    """Base of a value class; each subclass is `@dataclass(frozen=True, kw_only=True)` (the
    settings, which a test or a command may change in place, are not frozen)."""

    # read by pydantic when it validates the dataclass: unknown keys are an error
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    if CHECK_TYPES:

        def __post_init__(self) -> None:
            check_types(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        """A copy with the fields in `update` replaced (not validated, as in pydantic).

        The instance's fields are copied as they are, not passed through `__init__` again
        (`dataclasses.replace`): ≈ 1 µs for an order's 27 fields instead of ≈ 9 (the sync
        engine copies each order twice as it sends it)."""
        copy = object.__new__(type(self))
        fields = copy.__dict__
        fields.update(self.__dict__)
        if update:
            if not update.keys() <= fields.keys():
                unknown = ", ".join(sorted(set(update) - set(fields)))
                raise TypeError(f"{type(self).__name__} has no field {unknown}")
            fields.update(update)
            if CHECK_TYPES:
                check_types(copy)
        return copy

    def model_dump(self, *, mode: Literal["python", "json"] = "python",
                   include: set[str] | None = None,
                   exclude: set[str] | None = None) -> dict[str, Any]:
        data: dict[str, Any] = adapter(type(self)).dump_python(self, mode=mode, include=include,
                                                              exclude=exclude)
        return data

    def model_dump_json(self) -> str:
        text: bytes = adapter(type(self)).dump_json(self)
        return text.decode()

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        return validate(cls, data)

    @classmethod
    def model_validate_json(cls, data: str | bytes) -> Self:
        with _refusals():
            value: Self = adapter(cls).validate_json(data)
        return value


_ADAPTERS: dict[type, Any] = {}


def adapter(cls: type) -> Any:
    """The `pydantic.TypeAdapter` of `cls`, built once."""
    found = _ADAPTERS.get(cls)
    if found is None:
        from pydantic import TypeAdapter

        found = _ADAPTERS[cls] = TypeAdapter(cls)
    return found


@contextmanager
def _refusals() -> Iterator[None]:
    """pydantic's `ValidationError` raised as `InvalidData`."""
    try:
        yield
    except ValueError as exc:
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            raise InvalidData(exc.errors()) from None
        raise


def validate(cls: type[T], data: Any) -> T:
    """`data` (a mapping, or a `cls` value) validated by pydantic as a `cls`; `InvalidData`
    when it is not one."""
    with _refusals():
        value: T = adapter(cls).validate_python(data)
    return value


def validate_plain(cls: type[T], data: Mapping[str, Any]) -> T:
    """`validate`, with a table of exact types built without pydantic (see the module)."""
    built = _build_plain(cls, data)
    return built if built is not None else validate(cls, data)


def warm_up(*classes: type) -> None:
    """Import pydantic and build the adapters of `classes` (the counter calls it in the
    background once the cart is on screen, so the first scan saves its cart at once)."""
    for cls in classes:
        adapter(cls)


# --- building a plain table without pydantic ---------------------------------------------------


_NOT_PLAIN = object()


_FIELDS: dict[type, dict[str, tuple[Any, bool]]] = {}


def _fields(cls: type) -> dict[str, tuple[Any, bool]]:
    """name → (type, required) of a dataclass's init fields, worked out once."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        found = _FIELDS[cls] = {
            f.name: (hints[f.name], f.default is dataclasses.MISSING
                     and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls) if f.init}
    return found


def _build_plain(cls: type[T], data: Mapping[str, Any]) -> T | None:
    if type(data) is not dict:
        return None
    fields = _fields(cls)
    if not data.keys() <= fields.keys() or any(
            required and name not in data for name, (_, required) in fields.items()):
        return None
    values = {}
    for name, value in data.items():
        plain = _plain(value, fields[name][0])
        if plain is _NOT_PLAIN:
            return None
        values[name] = plain
    return cls(**values)


def _plain(value: Any, hint: Any) -> Any:
    """`value` if it already is a `hint` (a nested table built as its class), else _NOT_PLAIN."""
    if hint is Any:
        return value
    origin = get_origin(hint)
    if origin is None:
        if hint in (str, int, float, bool, Decimal):
            return value if type(value) is hint else _NOT_PLAIN
        if isinstance(hint, type) and issubclass(hint, Model) and dataclasses.is_dataclass(hint):
            built = _build_plain(hint, value) if isinstance(value, dict) else None
            return _NOT_PLAIN if built is None else built
        return _NOT_PLAIN
    args = get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None if type(None) in args else _NOT_PLAIN
        others = [a for a in args if a is not type(None)]
        return _plain(value, others[0]) if len(others) == 1 else _NOT_PLAIN
    if origin is Literal:
        return value if type(value) is str and value in args else _NOT_PLAIN
    if origin is list and type(value) is list:
        items = [_plain(item, args[0]) for item in value]
        return _NOT_PLAIN if any(i is _NOT_PLAIN for i in items) else items
    if origin is dict and type(value) is dict:
        out = {}
        for key, item in value.items():
            plain = _plain(item, args[1])
            if type(key) is not str or plain is _NOT_PLAIN:
                return _NOT_PLAIN
            out[key] = plain
        return out
    return _NOT_PLAIN


# --- the type check of the test suite ----------------------------------------------------------


def check_types(value: object) -> None:
    """Raise `TypeError` naming the first field of `value` whose value is not of its type."""
    cls = type(value)
    for name, (hint, _) in _fields(cls).items():
        if not _is_instance(getattr(value, name), hint):
            # the value is not shown: it may be a secret
            raise TypeError(f"{cls.__name__}.{name}: a {type(getattr(value, name)).__name__} "
                            f"is not a {hint}")


def _is_instance(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is None:
        if hint is float:
            return type(value) in (float, int)
        if hint is int:
            return type(value) is int
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return isinstance(value, hint)
        return isinstance(value, hint) if isinstance(hint, type) else True
    if origin in (types.UnionType, typing.Union):
        return any(_is_instance(value, a) for a in args)
    if origin is Literal:
        return value in args
    if origin is typing.Annotated:
        return _is_instance(value, args[0])
    if origin is tuple:
        return type(value) is tuple and all(_is_instance(v, args[0]) for v in value)
    if origin is list:
        return type(value) is list and all(_is_instance(v, args[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            _is_instance(k, args[0]) and _is_instance(v, args[1]) for k, v in value.items())
    return isinstance(value, origin)
