"""The e-service catalogue: one JSON file per service, shipped inside this package.

Every file ``<service id>.json`` describes one service a citizen can request: its owning
administration, its country, and in each catalogue language a title, a description and
search keywords. Darija and Amazigh keywords are also given in Latin script (Arabizi and
Amazigh Latin) under ``latin_keywords``. See ``docs/services-catalogue.md``.

    CatalogueError(ValueError)    a file is unreadable, invalid, or clashes with another

The loader validates every file when the catalogue is loaded; a broken file stops the load
with the file named, so a bad edit is caught by the test suite rather than in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "LANGUAGES",
    "LATIN_KEYWORD_LANGUAGES",
    "Administration",
    "Catalogue",
    "CatalogueError",
    "Service",
    "ServiceText",
    "load_catalogue",
    "load_catalogue_from",
]

#: Catalogue languages: Modern Standard Arabic, Darija (Arabic script), Standard Moroccan
#: Amazigh (Tifinagh), French, English.
LANGUAGES: tuple[str, ...] = ("ar", "ary", "zgh", "fr", "en")
#: Latin-script keyword lists every service carries: Arabizi Darija, Amazigh in Latin.
LATIN_KEYWORD_LANGUAGES: tuple[str, ...] = ("ary_Latn", "zgh_Latn")

_SCRIPTS = {
    "ar": re.compile("[\u0600-\u06ff]"),
    "ary": re.compile("[\u0600-\u06ff]"),
    "zgh": re.compile("[\u2d30-\u2d7f]"),
}
_ID = re.compile(r"^(ma|qa)\.[a-z]+(\.[a-z]+(-[a-z]+)*)+$")


class CatalogueError(ValueError):
    """A catalogue file that cannot be used; the message names the file and the fault."""


class ServiceText(BaseModel):
    """A service described in one language."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    keywords: tuple[str, ...] = Field(min_length=1)

    @field_validator("keywords")
    @classmethod
    def _keywords_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not keyword.strip() for keyword in value):
            raise ValueError("keywords must not be blank")
        return value


class Administration(BaseModel):
    """The administration that owns a service; names in ``ar``, ``fr``, ``en`` at least."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^(ma|qa)\.[a-z0-9]+$")
    names: dict[str, str]

    @field_validator("names")
    @classmethod
    def _names_complete(cls, value: dict[str, str]) -> dict[str, str]:
        missing = {"ar", "fr", "en"} - value.keys()
        if missing:
            raise ValueError(f"names missing in {sorted(missing)}")
        return value


class Service(BaseModel):
    """One e-service of the catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_ID.pattern)
    country: Literal["MA", "QA"]
    administration: Administration
    texts: dict[str, ServiceText]
    latin_keywords: dict[str, tuple[str, ...]]

    @field_validator("texts")
    @classmethod
    def _texts_complete(cls, value: dict[str, ServiceText]) -> dict[str, ServiceText]:
        _require_exactly(value.keys(), LANGUAGES, "texts")
        for language, script in _SCRIPTS.items():
            if not script.search(value[language].title):
                raise ValueError(f"texts.{language}.title is not in the expected script")
        return value

    @field_validator("latin_keywords")
    @classmethod
    def _latin_complete(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        _require_exactly(value.keys(), LATIN_KEYWORD_LANGUAGES, "latin_keywords")
        if not all(value.values()):
            raise ValueError("latin_keywords lists must not be empty")
        return value

    @model_validator(mode="after")
    def _country_matches_id(self) -> Service:
        if not self.id.startswith(f"{self.country.lower()}."):
            raise ValueError(f"id {self.id!r} does not start with the country {self.country!r}")
        return self

    def text(self, language: str) -> ServiceText:
        """The service in ``language``, falling back to English for unknown languages."""
        return self.texts.get(language, self.texts["en"])


def _require_exactly(found: Iterable[str], expected: tuple[str, ...], where: str) -> None:
    keys = set(found)
    if keys != set(expected):
        raise ValueError(
            f"{where} must hold exactly {list(expected)}; "
            f"missing {sorted(set(expected) - keys)}, unexpected {sorted(keys - set(expected))}"
        )


class Catalogue:
    """The validated services, in id order, looked up by id."""

    def __init__(self, services: list[Service]) -> None:
        self._by_id = {service.id: service for service in sorted(services, key=lambda s: s.id)}

    def __iter__(self) -> Iterator[Service]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, service_id: object) -> bool:
        return service_id in self._by_id

    def get(self, service_id: str) -> Service | None:
        """The service with this id, or ``None``."""
        return self._by_id.get(service_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """All service ids, sorted."""
        return tuple(self._by_id)


def load_catalogue_from(directory: Traversable) -> Catalogue:
    """Load and validate every ``*.json`` file in ``directory``.

    Raises :class:`CatalogueError` naming the first bad file: invalid JSON, a schema
    violation, an id that differs from the file name, or an id already seen.
    """
    services: list[Service] = []
    seen: set[str] = set()
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        service = _load_file(entry)
        if service.id in seen:
            raise CatalogueError(f"{entry.name}: duplicate service id {service.id!r}")
        seen.add(service.id)
        services.append(service)
    if not services:
        raise CatalogueError("the catalogue holds no service")
    return Catalogue(services)


def _load_file(entry: Traversable) -> Service:
    try:
        service = Service.model_validate(json.loads(entry.read_text(encoding="utf-8")))
    except ValidationError as exc:
        faults = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()
        )
        raise CatalogueError(f"{entry.name}: {faults}") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise CatalogueError(f"{entry.name}: not UTF-8 JSON: {exc}") from exc
    if entry.name != f"{service.id}.json":
        raise CatalogueError(f"{entry.name}: the file must be named {service.id}.json")
    return service


@cache
def load_catalogue() -> Catalogue:
    """The catalogue shipped with Jisr (loaded and validated once per process)."""
    return load_catalogue_from(resources.files(__name__))
