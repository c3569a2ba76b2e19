"""Property tests: whatever a person or a file sends, the answer is a clear PosError (or a
valid result), never a traceback, never a half-written record."""

from __future__ import annotations

import contextlib
import json
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos.config import load_settings
from pos.errors import PosError
from pos.sale_file import parse_sale
from pos.store.catalog import Catalog

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["items", "code", "quantity", "options", "customer",
                                       "tendered", "coupon", "reward", "x"]), children,
                      max_size=4),
    max_leaves=12)


@FAST
@given(json_values)
def test_sale_json_is_valid_or_a_clear_error(value: object) -> None:
    try:
        sale = parse_sale(json.dumps(value))
    except PosError as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert sale.items and all(item.quantity >= 1 for item in sale.items)


@FAST
@given(st.text(max_size=200))
def test_sale_text_is_valid_or_a_clear_error(text: str) -> None:
    with contextlib.suppress(PosError):
        parse_sale(text)


cell = st.text(alphabet=string.printable.replace("\r", "").replace("\x0b", "")
               .replace("\x0c", ""), max_size=12)


@FAST
@given(st.lists(st.lists(cell, min_size=1, max_size=8), min_size=1, max_size=6),
       st.booleans())
def test_csv_import_all_or_nothing(tmp_path: Path, rows: list[list[str]], good_header: bool) -> None:
    import csv
    import io
    import uuid

    buf = io.StringIO()
    writer = csv.writer(buf)
    if good_header:
        writer.writerow(["id", "sku", "barcode", "name", "price", "stock", "category"])
    for row in rows:
        writer.writerow(row)
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_text(buf.getvalue())
    catalog = Catalog(tmp_path / f"{uuid.uuid4().hex}.db")
    try:
        try:
            count = catalog.import_csv(path)
        except PosError as exc:
            assert exc.message
            assert catalog.count() == 0  # nothing half-written
            return
        assert catalog.count() <= count
    finally:
        catalog.close()


@FAST
@given(st.text(max_size=120))
def test_config_file_is_valid_or_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    try:
        load_settings(path)
    except PosError as exc:
        assert str(path) in exc.message or "environment" in exc.message


@FAST
@given(st.dictionaries(st.sampled_from(["lane", "cashier", "default_profile", "sinks", "keys",
                                        "profiles", "shop", "extra"]),
                       st.one_of(st.text(max_size=6), st.integers(), st.lists(st.text(max_size=3)),
                                 st.dictionaries(st.text(max_size=3), st.text(max_size=3))),
                       max_size=4))
def test_config_values_are_valid_or_a_clear_error(tmp_path: Path, values: dict[str, object]) -> None:
    import tomllib

    def toml_value(v: object) -> str:
        return json.dumps(v) if not isinstance(v, dict) else "{" + ", ".join(
            f"{json.dumps(k)} = {json.dumps(x)}" for k, x in v.items()) + "}"

    text = "\n".join(f"{k} = {toml_value(v)}" for k, v in values.items())
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    path = tmp_path / "config.toml"
    path.write_text(text)
    try:
        load_settings(path)
    except PosError as exc:
        assert exc.message
