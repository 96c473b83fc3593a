"""directory search honours contact visibility; imports report diversity answers not used

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

A member who shares their contact details with nobody was still found by the words of their
organisation's name, because the search documents held that name whatever the member chose.
Now the organisation's words are kept apart when it is hidden, so a search by other members
cannot match them, while the member can still find themselves:

- PostgreSQL (``member_fts_document``): the name, job title and bio carry weight A, and so does
  the organisation's name when shared; a hidden organisation's name carries weight B. Other
  members search with ``word:*A`` (one match on the one GIN index, as before); the member's
  own row alone is also searched with every weight.
- SQLite (``member_fts``, FTS5): the organisation's name goes in ``organisation`` when shared
  and in ``hidden_organisation`` when not; other members search every column but that one.

Both are kept in step by triggers, now also when ``contact_visibility`` changes.
backend/members/directory.py writes the matching queries.

``member_import`` gains ``demographics_stored``, ``demographics_skipped`` and ``notes``: an
import never creates or changes a member's own diversity answers (they have an account, or
withdrew), and says so row by row while importing the rest of the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

SHARED = "{m}.contact_visibility = 'members'"

# PostgreSQL ------------------------------------------------------------------------------------

DOCUMENT = (
    "setweight(to_tsvector('simple'::regconfig, {m}.name || ' ' || {m}.job_title || ' ' || "
    "{m}.bio), 'A') || setweight(to_tsvector('simple'::regconfig, coalesce({o}, '')), "
    f"(CASE WHEN {SHARED} THEN 'A' ELSE 'B' END)::\"char\")"
)
OLD_DOCUMENT = (
    "to_tsvector('simple'::regconfig, {m}.name || ' ' || {m}.job_title || ' ' || "
    "coalesce({o}, '') || ' ' || {m}.bio)"
)
MEMBER_TRIGGER = (
    "CREATE TRIGGER member_fts_document_member "
    "AFTER INSERT OR UPDATE OF name, job_title, bio, organisation_id{extra} ON member "
    "FOR EACH ROW EXECUTE FUNCTION member_fts_document_of_member()"
)


def _postgresql(document: str, *, extra: str) -> None:
    member_row = document.format(
        m="NEW", o="(SELECT o.name FROM organisation o WHERE o.id = NEW.organisation_id)"
    )
    op.execute(
        "CREATE OR REPLACE FUNCTION member_fts_document_of_member() RETURNS trigger "  # noqa: S608
        "LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO member_fts_document (member_id, document) "
        f"VALUES (NEW.id, {member_row}) "
        "ON CONFLICT (member_id) DO UPDATE SET document = excluded.document; "
        "RETURN NULL; END $$"
    )
    op.execute("DROP TRIGGER IF EXISTS member_fts_document_member ON member")
    op.execute(MEMBER_TRIGGER.format(extra=extra))
    renamed = document.format(m="m", o="NEW.name")
    op.execute(
        "CREATE OR REPLACE FUNCTION member_fts_document_of_organisation() "  # noqa: S608
        "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"UPDATE member_fts_document d SET document = {renamed} "
        "FROM member m WHERE m.id = d.member_id AND m.organisation_id = NEW.id; "
        "RETURN NULL; END $$"
    )
    existing = document.format(m="m", o="o.name")
    op.execute(
        f"UPDATE member_fts_document d SET document = {existing} "  # noqa: S608
        "FROM member m LEFT JOIN organisation o ON o.id = m.organisation_id "
        "WHERE m.id = d.member_id"
    )


# SQLite ----------------------------------------------------------------------------------------

SQLITE_ROW = (
    "INSERT INTO member_fts (rowid, name, job_title, organisation, bio, hidden_organisation) "  # noqa: S608
    "SELECT m.id, m.name, m.job_title, "
    f"CASE WHEN {SHARED.format(m='m')} THEN o.name ELSE '' END, m.bio, "
    f"CASE WHEN {SHARED.format(m='m')} THEN '' ELSE o.name END FROM member m "
    "JOIN organisation o ON o.id = m.organisation_id"
)
OLD_SQLITE_ROW = (
    "INSERT INTO member_fts (rowid, name, job_title, organisation, bio) "
    "SELECT m.id, m.name, m.job_title, o.name, m.bio FROM member m "
    "JOIN organisation o ON o.id = m.organisation_id"
)
TOKENIZE = "tokenize = 'unicode61 remove_diacritics 2'"


def _drop_sqlite() -> None:
    for trigger in ("insert", "update", "delete", "organisation"):
        op.execute(f"DROP TRIGGER IF EXISTS member_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS member_fts")


def _sqlite(*, columns: str, row: str, watched: str, renamed: str) -> None:
    _drop_sqlite()
    op.execute(f"CREATE VIRTUAL TABLE member_fts USING fts5({columns}, {TOKENIZE})")
    op.execute(row)
    op.execute(
        f"CREATE TRIGGER member_fts_insert AFTER INSERT ON member BEGIN {row} WHERE m.id = new.id; END"
    )
    op.execute(
        f"CREATE TRIGGER member_fts_update AFTER UPDATE OF {watched} ON member BEGIN "  # noqa: S608
        "DELETE FROM member_fts WHERE rowid = old.id; "
        f"{row} WHERE m.id = new.id; END"
    )
    op.execute(
        "CREATE TRIGGER member_fts_delete AFTER DELETE ON member BEGIN "
        "DELETE FROM member_fts WHERE rowid = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER member_fts_organisation AFTER UPDATE OF name ON organisation BEGIN "
        f"{renamed}; END"
    )


def upgrade() -> None:
    with op.batch_alter_table("member_import", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("demographics_stored", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("demographics_skipped", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("notes", sa.Text(), server_default="[]", nullable=False))
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _postgresql(DOCUMENT, extra=", contact_visibility")
    elif dialect == "sqlite":
        shared = SHARED.format(m="member")
        _sqlite(
            columns="name, job_title, organisation, bio, hidden_organisation",
            row=SQLITE_ROW,
            watched="name, job_title, bio, organisation_id, contact_visibility",
            renamed=(
                f"UPDATE member_fts SET organisation = (SELECT CASE WHEN {shared} THEN new.name "  # noqa: S608
                "ELSE '' END FROM member WHERE member.id = member_fts.rowid), "
                f"hidden_organisation = (SELECT CASE WHEN {shared} THEN '' ELSE new.name END "
                "FROM member WHERE member.id = member_fts.rowid) "
                "WHERE rowid IN (SELECT id FROM member WHERE organisation_id = new.id)"
            ),
        )


def downgrade() -> None:
    with op.batch_alter_table("member_import", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("demographics_skipped")
        batch_op.drop_column("demographics_stored")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _postgresql(OLD_DOCUMENT, extra="")
    elif dialect == "sqlite":
        _sqlite(
            columns="name, job_title, organisation, bio",
            row=OLD_SQLITE_ROW,
            watched="name, job_title, bio, organisation_id",
            renamed=(
                "UPDATE member_fts SET organisation = new.name WHERE rowid IN "
                "(SELECT id FROM member WHERE organisation_id = new.id)"
            ),
        )
