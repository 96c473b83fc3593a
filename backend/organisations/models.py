"""Organisation tables and shapes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
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

# Where a row came from: "register" (the ODS register, or added by an admin) or "other" (typed
# by a member as free text, waiting for an admin to map it to the register).
ORGANISATION_STATUSES: tuple[str, ...] = ("register", "other")


class OrganisationBase(SQLModel):
    """Fields every organisation shape shares."""

    name: str = Field(max_length=200)
    type: str = Field(default="other", max_length=40)
    region: str | None = Field(default=None, max_length=40)


class Organisation(OrganisationBase, table=True):
    """An employer; ``key`` is the name folded for case- and space-insensitive matching.

    ``ods_code``: its NHS ODS code (unique when set). ``status``: "register" or "other" (typed
    by a member, to be mapped). ``closed_on``: the close date the ODS register gives, if any.
    ``merged_into_id``: set when an admin merged this row into another; the row stays as an
    alias, so its name (and code) keep leading to the survivor (``register.merge``); an alias
    goes with its survivor if that is ever deleted.
    """

    __tablename__ = "organisation"
    __table_args__ = (
        UniqueConstraint("key", name="uq_organisation_key"),
        UniqueConstraint("ods_code", name="uq_organisation_ods_code"),
        one_of("type", ORGANISATION_TYPES, name="ck_organisation_type"),
        one_of("region", REGIONS, name="ck_organisation_region", nullable=True),
        one_of("status", ORGANISATION_STATUSES, name="ck_organisation_status"),
    )

    id: int = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(200), nullable=False))
    ods_code: str | None = Field(default=None, sa_column=Column(String(10), nullable=True))
    status: str = Field(
        default="other", sa_column=Column(String(10), nullable=False, server_default="other")
    )
    closed_on: date | None = Field(default=None)
    merged_into_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("organisation.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
    )
    created_at: datetime = Field(default_factory=utcnow)


class OrganisationPublic(OrganisationBase):
    """What anyone may see of an organisation."""

    id: int
    ods_code: str | None = None


class OdsImportRejects(SQLModel, table=True):
    """The rows an ODS import did not take, as the CSV the admin downloads to fix them.

    Register files hold organisations, not people, so nothing here is a member's data (the
    import itself, and who ran it, is in the audit log).
    """

    __tablename__ = "organisation_import_rejects"

    id: int = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    rejected_rows: int = Field(default=0)
    rejects_csv: str = Field(sa_column=Column(Text, nullable=False))
