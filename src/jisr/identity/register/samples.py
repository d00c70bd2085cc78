"""Realistic Moroccan and Qatari sample persons, for demos and benchmarks.

Names and places come from the lists in ``data/`` (built by ``scripts/build_sample_names.py``;
sources and licences in ``data/SOURCES.md``): name units attested on Wikidata with the
spelling each country uses in Latin script (French style in Morocco: ``Mohamed``,
``Youssef``; English style in Qatar: ``Yousef``), places of birth from Morocco's communes
and Qatar's eight municipalities.

A name is drawn with weight √(attestations): common names come up often, and the people
Wikidata over-represents (ruling families, footballers) do not swamp the sample. Ages run
0 to 95 on a stylised population pyramid (flat to 35, then a Gaussian fall-off), not census
data. Everything is drawn from one ``random.Random(seed)`` in fixed blocks, so a seed always
gives the same persons and ``generate(c, 10)`` starts with ``generate(c, 5)``.
"""

from __future__ import annotations

import datetime
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate
from typing import Any, Final, Literal

__all__ = ["COUNTRIES", "SamplePerson", "generate"]

COUNTRIES: Final = ("MA", "QA")
AS_OF: Final = datetime.date(2025, 1, 1)
"""Ages are counted back from this fixed day, so a seed's persons never change."""

_MAX_AGE: Final = 95
_BLOCK: Final = 4096  # persons drawn per block: big enough to amortise ``choices``
_DAYS_PER_YEAR: Final = 365.2425


@dataclass(frozen=True, slots=True)
class SamplePerson:
    """One sample person; Arabic and Latin renderings of every name and place."""

    given_name_arab: str
    given_name_latn: str
    family_name_arab: str
    family_name_latn: str
    sex: Literal["F", "M"]
    date_of_birth: datetime.date
    place_of_birth_latn: str
    place_of_birth_arab: str
    nationality: Literal["MA", "QA"]


@dataclass(frozen=True, slots=True)
class _Pool:
    """Items with cumulative weights, ready for ``Random.choices``."""

    items: tuple[tuple[str, str], ...]  # (arab, latn)
    cum_weights: tuple[float, ...]

    @classmethod
    def of(cls, rows: Sequence[dict[str, Any]], weight: str) -> _Pool:
        items = tuple((str(row["arab"]), str(row["latn"])) for row in rows)
        weights = (math.sqrt(float(row[weight])) for row in rows)
        return cls(items, tuple(accumulate(weights)))

    def draw(self, rng: random.Random, k: int) -> list[tuple[str, str]]:
        return rng.choices(self.items, cum_weights=self.cum_weights, k=k)


@dataclass(frozen=True, slots=True)
class _Country:
    code: Literal["MA", "QA"]
    female: _Pool
    male: _Pool
    family: _Pool
    places: _Pool


def _load(name: str) -> Any:
    data = resources.files("jisr.identity.register") / "data" / name
    return json.loads(data.read_text(encoding="utf-8"))


@cache
def _country(code: Literal["MA", "QA"]) -> _Country:
    names = _load(f"names_{code}.json")
    given = names["given"]
    return _Country(
        code=code,
        female=_Pool.of([g for g in given if g["sex"] == "F"], "count"),
        male=_Pool.of([g for g in given if g["sex"] == "M"], "count"),
        family=_Pool.of(names["family"], "count"),
        # Places carry a hand-set weight already; squaring undoes the pool's square root.
        places=_Pool.of(
            [{**p, "weight": p["weight"] ** 2} for p in _load(f"places_{code}.json")], "weight"
        ),
    )


def _age_weights() -> tuple[float, ...]:
    """Stylised pyramid: as many people at every age to 35, then fewer and fewer."""
    return tuple(
        1.0 if age <= 35 else math.exp(-(((age - 35) / 28) ** 2)) for age in range(_MAX_AGE + 1)
    )


_AGES: Final = tuple(range(_MAX_AGE + 1))
_AGE_CUM: Final = tuple(accumulate(_age_weights()))


def _birth_dates(rng: random.Random, k: int) -> list[datetime.date]:
    ages = rng.choices(_AGES, cum_weights=_AGE_CUM, k=k)
    today = AS_OF.toordinal()
    dates = []
    for age in ages:
        # Someone aged ``age`` was born between age and age + 1 years ago.
        days = rng.randrange(round(age * _DAYS_PER_YEAR), round((age + 1) * _DAYS_PER_YEAR))
        dates.append(datetime.date.fromordinal(today - days))
    return dates


def _block(country: _Country, rng: random.Random) -> list[SamplePerson]:
    sexes: list[Literal["F", "M"]] = rng.choices(("F", "M"), k=_BLOCK)
    females = iter(country.female.draw(rng, _BLOCK))
    males = iter(country.male.draw(rng, _BLOCK))
    families = country.family.draw(rng, _BLOCK)
    places = country.places.draw(rng, _BLOCK)
    births = _birth_dates(rng, _BLOCK)
    persons = []
    for sex, family, place, born in zip(sexes, families, places, births, strict=True):
        given = next(females) if sex == "F" else next(males)
        persons.append(
            SamplePerson(
                given_name_arab=given[0],
                given_name_latn=given[1],
                family_name_arab=family[0],
                family_name_latn=family[1],
                sex=sex,
                date_of_birth=born,
                place_of_birth_latn=place[1],
                place_of_birth_arab=place[0],
                nationality=country.code,
            )
        )
    return persons


def generate(country: str, n: int, *, seed: int = 0) -> Iterator[SamplePerson]:
    """``n`` sample persons of ``country`` (``MA`` or ``QA``), the same ones for a seed."""
    if country not in COUNTRIES:
        raise ValueError(f"country must be one of {', '.join(COUNTRIES)}, got {country!r}")
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    data = _country("MA" if country == "MA" else "QA")
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    remaining = n
    while remaining > 0:
        block = _block(data, rng)
        yield from block[:remaining]
        remaining -= len(block)
