"""Organisation rules: names are matched case- and space-insensitively."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from backend import text
from backend.db import utcnow
from backend.errors import Invalid, NotFound
from backend.organisations.models import ORGANISATION_TYPES, Organisation
from vocabulary import REGIONS


def organisation_key(name: str) -> str:
    """Fold a name so that 'Leeds  Teaching hospitals' and 'leeds teaching Hospitals' match."""
    return " ".join(name.split()).casefold()


def get(*, session: Session, organisation_id: int) -> Organisation:
    """One organisation by id."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No organisation with that id.")
    return organisation


def get_or_create(
    *, session: Session, name: str, type: str = "other", region: str | None = None
) -> Organisation:
    """The organisation called ``name`` (however it is spaced or cased), created if new.

    Safe when many sign-ups name the same new organisation at once: the row is inserted with
    ON CONFLICT DO NOTHING on its unique key, then read, so every caller gets the one row.
    """
    clean = " ".join(name.split())
    problem = text.text_problem(
        clean,
        label="organisation",
        maximum=text.column_length(Organisation, "name"),
        required=True,
        one_line=True,
    )
    if problem:
        raise Invalid(problem, field="organisation")
    if type not in ORGANISATION_TYPES:
        raise Invalid(f"'{type}' is not an organisation type.", field="organisation_type")
    if region is not None and region not in REGIONS:
        raise Invalid(f"'{region}' is not an NHS England region.", field="region")
    key = organisation_key(clean)
    by_key = select(Organisation).where(Organisation.key == key)
    existing = session.exec(by_key).first()
    if existing is not None:
        return existing
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Organisation)
        .values(name=clean, key=key, type=type, region=region, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return session.exec(by_key).one()


def get_many(*, session: Session, organisation_ids: Sequence[int]) -> dict[int, Organisation]:
    """Organisations by id, in one query (for DataLoaders)."""
    if not organisation_ids:
        return {}
    rows = session.exec(
        select(Organisation).where(col(Organisation.id).in_(organisation_ids))
    ).all()
    return {row.id: row for row in rows if row.id is not None}


def page(
    *, session: Session, search: str = "", offset: int = 0, limit: int = 50
) -> tuple[list[Organisation], bool]:
    """A page of organisations by name, optionally matching ``search``, and whether more follow."""
    statement = select(Organisation).order_by(col(Organisation.name), col(Organisation.id))
    folded = organisation_key(search or "")
    if folded:
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(col(Organisation.key).like(f"%{escaped}%", escape="\\"))
    rows = list(session.exec(statement.offset(max(offset, 0)).limit(limit + 1)).all())
    return rows[:limit], len(rows) > limit
