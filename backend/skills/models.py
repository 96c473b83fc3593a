"""Skill tables and shapes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from backend.db import utcnow


class Skill(SQLModel, table=True):
    """A skill in the framework; ``id`` is a stable lowercase slug used in imports."""

    __tablename__ = "skill"
    __table_args__ = (CheckConstraint("length(id) BETWEEN 2 AND 60", name="ck_skill_id_length"),)

    id: str = Field(primary_key=True, max_length=60)
    name: str = Field(max_length=120)
    group: str = Field(max_length=80)
    builtin: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    # Retired by an admin: kept on old records, left out of choices and suggestions.
    retired_at: datetime | None = None
