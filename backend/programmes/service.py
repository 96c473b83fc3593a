"""Programme rules: the default programme, and (later slices) creating, applying, deciding."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from backend.db import utcnow
from backend.programmes.models import DEFAULT_PROGRAMME_NAME, Programme

DEFAULT_PROGRAMME_DESCRIPTION = (
    "The network's open mentoring, all year round: find a mentor from another organisation "
    "and ask them, or be matched in a round run by the organisers."
)


def default_programme_id(*, session: Session) -> int:
    """The id of the network's default programme (open, always-on mentoring), made if missing.

    Safe when first uses race: the row is inserted with ON CONFLICT DO NOTHING on the partial
    unique index of ``is_default``, then read, so every caller gets the one row.
    """
    by_default = select(Programme.id).where(col(Programme.is_default).is_(True))
    existing = session.exec(by_default).first()
    if existing is not None:
        return existing
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    session.execute(
        insert(Programme)
        .values(
            name=DEFAULT_PROGRAMME_NAME,
            description=DEFAULT_PROGRAMME_DESCRIPTION,
            type="one-to-one",
            pairing="both",
            status="published",
            is_default=True,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["is_default"], index_where=text("is_default"))
    )
    return session.exec(by_default).one()
