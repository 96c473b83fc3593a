"""Small helpers for declaring columns the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import CheckConstraint, Table, inspect
from sqlmodel import SQLModel


def one_of(
    column: str, values: Iterable[str], *, name: str, nullable: bool = False
) -> CheckConstraint:
    """A CHECK constraint that ``column`` holds one of ``values`` (an enumeration)."""
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    condition = f"{column} IN ({quoted})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=name)


def table_of(model: type[SQLModel]) -> Table:
    """The Core ``Table`` of a SQLModel table class, typed (SQLModel sets ``__table__`` at run
    time only)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to one table")
    return table
