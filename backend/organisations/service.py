"""Organisation rules: names are matched case- and space-insensitively; a name an admin merged
into another organisation leads to the survivor; the register (``status == "register"``) is
what sign-up, the profile and imports offer. Admins' changes are in ``register.py``."""

from __future__ import annotations

import re
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


ODS_CODE = re.compile(r"^[A-Z0-9]{3,10}$")
MAX_MERGE_HOPS = 20


def ods_code_problem(code: str) -> str | None:
    """Why ``code`` (already stripped and upper-cased) is not an ODS code, or None."""
    if not ODS_CODE.fullmatch(code):
        return "An ODS code is 3 to 10 letters and digits, for example RXN or Y12345."
    return None


def survivor(*, session: Session, organisation: Organisation) -> Organisation:
    """The organisation ``organisation`` was merged into (itself when not merged)."""
    seen = 0
    while organisation.merged_into_id is not None and seen < MAX_MERGE_HOPS:
        found = session.get(Organisation, organisation.merged_into_id)
        if found is None:
            break
        organisation, seen = found, seen + 1
    return organisation


def find(*, session: Session, text_or_code: str) -> Organisation | None:
    """The organisation named ``text_or_code`` (any spacing or case) or whose ODS code it is,
    following merges; None when unknown."""
    clean = " ".join((text_or_code or "").split())
    if not clean:
        return None
    found = session.exec(
        select(Organisation).where(Organisation.key == organisation_key(clean))
    ).first()
    if found is None and ODS_CODE.fullmatch(clean.upper()):
        found = session.exec(
            select(Organisation).where(Organisation.ods_code == clean.upper())
        ).first()
    return survivor(session=session, organisation=found) if found is not None else None


def register_choices(*, session: Session) -> list[Organisation]:
    """The open organisations of the register, by name: what a member chooses from."""
    return list(
        session.exec(
            select(Organisation)
            .where(Organisation.status == "register")
            .where(col(Organisation.merged_into_id).is_(None))
            .where(col(Organisation.closed_on).is_(None))
            .order_by(col(Organisation.name), col(Organisation.id))
        ).all()
    )


def get(*, session: Session, organisation_id: int) -> Organisation:
    """One organisation by id."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No organisation with that id.")
    return organisation


def get_or_create(
    *, session: Session, name: str, type: str = "other", region: str | None = None
) -> Organisation:
    """The organisation called ``name`` (however it is spaced or cased) or whose ODS code
    ``name`` is, following merges; created if new, as an "other" organisation (typed by a
    member, for an admin to map to the register).

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
    existing = find(session=session, text_or_code=clean)
    if existing is not None:
        return existing
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(Organisation)
        .values(name=clean, key=key, type=type, region=region, status="other", created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return survivor(session=session, organisation=session.exec(by_key).one())


def get_many(*, session: Session, organisation_ids: Sequence[int]) -> dict[int, Organisation]:
    """Organisations by id, in one query (for DataLoaders)."""
    if not organisation_ids:
        return {}
    rows = session.exec(
        select(Organisation).where(col(Organisation.id).in_(organisation_ids))
    ).all()
    return {row.id: row for row in rows if row.id is not None}


def page(
    *,
    session: Session,
    search: str = "",
    offset: int = 0,
    limit: int = 50,
    in_register: bool | None = None,
) -> tuple[list[Organisation], bool]:
    """A page of organisations by name, optionally matching ``search`` (part of the name, or
    the ODS code), and whether more follow. Aliases (merged into another) are left out;
    ``in_register``: True, only the register's open organisations; False, only the others."""
    statement = (
        select(Organisation)
        .where(col(Organisation.merged_into_id).is_(None))
        .order_by(col(Organisation.name), col(Organisation.id))
    )
    if in_register is True:
        statement = statement.where(Organisation.status == "register").where(
            col(Organisation.closed_on).is_(None)
        )
    elif in_register is False:
        statement = statement.where(Organisation.status != "register")
    folded = organisation_key(search or "")
    if folded:
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(
            col(Organisation.key).like(f"%{escaped}%", escape="\\")
            | (col(Organisation.ods_code) == folded.upper())
        )
    rows = list(session.exec(statement.offset(max(offset, 0)).limit(limit + 1)).all())
    return rows[:limit], len(rows) > limit


# An organisation's type, guessed from words in its name (first match wins).
_TYPE_HINTS: tuple[tuple[str, str], ...] = (
    ("integrated care board", "integrated-care-board"),
    ("icb", "integrated-care-board"),
    ("ambulance", "ambulance-trust"),
    ("mental health", "mental-health-trust"),
    ("community", "community-trust"),
    ("primary care network", "primary-care"),
    ("pcn", "primary-care"),
    ("practice", "primary-care"),
    ("surgery", "primary-care"),
    ("medical centre", "primary-care"),
    ("health centre", "primary-care"),
    ("medical group", "primary-care"),
    ("nhs england", "nhs-england"),
    ("hospital", "acute-trust"),
)


def guess_type(name: str) -> str:
    """An organisation type from words in its name ('... Ambulance Service ...' -> ambulance)."""
    folded = f" {' '.join(name.casefold().split())} "
    for hint, kind in _TYPE_HINTS:
        if f" {hint} " in folded or (len(hint) > 4 and hint in folded):
            return kind
    return "other"
