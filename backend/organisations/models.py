"""Organisation tables and shapes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of
from vocabulary import REGIONS

ORGANISATION_TYPES: tuple[str, ...] = (
    "acute-trust",
    "mental-health-trust",
    "community-trust",
    "ambulance-trust",
    "integrated-care-board",
    "primary-care",
    "nhs-england",
    "other",
)


class OrganisationBase(SQLModel):
    """Fields every organisation shape shares."""

    name: str = Field(max_length=200)
    type: str = Field(default="other", max_length=40)
    region: str | None = Field(default=None, max_length=40)


class Organisation(OrganisationBase, table=True):
    """An employer; ``key`` is the name folded for case- and space-insensitive matching."""

    __tablename__ = "organisation"
    __table_args__ = (
        UniqueConstraint("key", name="uq_organisation_key"),
        one_of("type", ORGANISATION_TYPES, name="ck_organisation_type"),
        one_of("region", REGIONS, name="ck_organisation_region", nullable=True),
    )

    id: int = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(200), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class OrganisationPublic(OrganisationBase):
    """What anyone may see of an organisation."""

    id: int
