"""Dataclass records as table rows, for Core inserts on hot paths (no ORM objects)."""

from __future__ import annotations

from typing import Any

from jisr.ids import field_names

__all__ = ["record_row"]


def record_row(record: Any, **values: Any) -> dict[str, Any]:
    """The row of ``record`` (a dataclass instance) for a table whose columns are named
    after its fields; ``values`` replace fields that need converting (a tuple stored as a
    JSON list)."""
    row = {name: getattr(record, name) for name in field_names(type(record))}
    row.update(values)
    return row
