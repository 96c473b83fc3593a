"""Small helpers for declaring columns the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import CheckConstraint


def one_of(
    column: str, values: Iterable[str], *, name: str, nullable: bool = False
) -> CheckConstraint:
    """A CHECK constraint that ``column`` holds one of ``values`` (an enumeration)."""
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    condition = f"{column} IN ({quoted})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=name)
