"""Countries and zones shipped with the package (ISO codes, OpenCart's numeric country ids)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Country:
    id: int  # OpenCart's country_id (identical in every default install)
    iso2: str
    iso3: str
    name: str
    postcode_required: bool


@dataclass(frozen=True)
class Zone:
    country: str
    code: str
    name: str


@cache
def countries() -> dict[str, Country]:
    text = resources.files("pos.data").joinpath("countries.csv").read_text(encoding="utf-8")
    out: dict[str, Country] = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["iso_code_2"]] = Country(int(row["country_id"]), row["iso_code_2"],
                                         row["iso_code_3"], row["name"],
                                         row["postcode_required"] == "1")
    return out


@cache
def zones(country: str) -> tuple[Zone, ...]:
    text = resources.files("pos.data").joinpath("zones.csv").read_text(encoding="utf-8")
    return tuple(Zone(r["country"], r["code"], r["name"])
                 for r in csv.DictReader(text.splitlines()) if r["country"] == country.upper())


def country(code: str) -> Country | None:
    code = code.strip().upper()
    table = countries()
    if code in table:
        return table[code]
    return next((c for c in table.values() if code in (c.iso3, c.name.upper())), None)
