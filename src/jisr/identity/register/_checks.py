"""Validation rules of the register: pydantic errors and date rules as field problems."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from jisr.identity.register.errors import InvalidInput, Problem

__all__ = ["EARLIEST_BIRTH", "date_problems", "parse_model"]

EARLIEST_BIRTH = date(1880, 1, 1)

Model = TypeVar("Model", bound=BaseModel)

# pydantic error types renamed to the register's rule names.
_RULES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "date_from_datetime_parsing": "date",
    "date_parsing": "date",
    "date_type": "date",
    "literal_error": "choice",
    "string_pattern_mismatch": "format",
    "too_long": "too_many",
    "string_too_short": "required",
    "string_too_long": "too_long",
}


def parse_model(model: type[Model], data: Model | Mapping[str, Any], prefix: str = "") -> Model:
    """``data`` as a ``model``; every pydantic error becomes a field :class:`Problem`."""
    raw = data.model_dump() if isinstance(data, BaseModel) else data
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput([_problem(item, prefix) for item in error.errors()]) from error


def _problem(item: Any, prefix: str) -> Problem:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in item["loc"])
    field = (prefix + path).lstrip(".")
    return Problem(field, _RULES.get(item["type"], item["type"]), item["msg"])


def date_problems(field: str, value: date, *, today: date, not_before: date) -> list[Problem]:
    """A date must not lie in the future nor before ``not_before``."""
    if value > today:
        return [Problem(field, "range", f"{value} is in the future")]
    if value < not_before:
        return [Problem(field, "range", f"{value} is before {not_before}")]
    return []
