"""one search document per member on PostgreSQL

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

PostgreSQL searched the directory with two GIN indexes (member text, organisation name), one
UNION per word, the words' sets intersected: 3-10x SQLite's FTS5, which holds the
organisation name in each member's row. Here PostgreSQL gets the same shape: a table
``member_fts_document`` holding each member's document (name, job title, organisation name,
bio) as a ``tsvector`` under one GIN index, kept in step by triggers on ``member`` and on
``organisation`` renames, so a search of any number of words is one index match. The two
expression indexes it replaces are dropped (every member write computed them). SQLite is
unchanged. Not a model: ``backend.migrate`` leaves tables named ``member_fts*`` out of the
model comparison, as it does SQLite's FTS5 table.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# backend/members/directory.py queries this table; the words are those of to_tsvector 'simple'.
DOCUMENT = (
    "to_tsvector('simple'::regconfig, {m}.name || ' ' || {m}.job_title || ' ' || "
    "coalesce({o}, '') || ' ' || {m}.bio)"
)
OLD_MEMBER_DOCUMENT = "to_tsvector('simple'::regconfig, name || ' ' || job_title || ' ' || bio)"
OLD_ORGANISATION_DOCUMENT = "to_tsvector('simple'::regconfig, name)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE member_fts_document ("
        "member_id integer PRIMARY KEY REFERENCES member (id) ON DELETE CASCADE, "
        "document tsvector NOT NULL)"
    )
    member_row = DOCUMENT.format(
        m="NEW", o="(SELECT o.name FROM organisation o WHERE o.id = NEW.organisation_id)"
    )
    op.execute(
        "CREATE FUNCTION member_fts_document_of_member() RETURNS trigger "  # noqa: S608
        "LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO member_fts_document (member_id, document) "
        f"VALUES (NEW.id, {member_row}) "
        "ON CONFLICT (member_id) DO UPDATE SET document = excluded.document; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER member_fts_document_member "
        "AFTER INSERT OR UPDATE OF name, job_title, bio, organisation_id ON member "
        "FOR EACH ROW EXECUTE FUNCTION member_fts_document_of_member()"
    )
    renamed = DOCUMENT.format(m="m", o="NEW.name")
    op.execute(
        "CREATE FUNCTION member_fts_document_of_organisation() RETURNS trigger "  # noqa: S608
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"UPDATE member_fts_document d SET document = {renamed} "
        "FROM member m WHERE m.id = d.member_id AND m.organisation_id = NEW.id; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER member_fts_document_organisation "
        "AFTER UPDATE OF name ON organisation "
        "FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) "
        "EXECUTE FUNCTION member_fts_document_of_organisation()"
    )
    existing = DOCUMENT.format(m="m", o="o.name")
    op.execute(
        "INSERT INTO member_fts_document (member_id, document) "  # noqa: S608
        f"SELECT m.id, {existing} FROM member m "
        "LEFT JOIN organisation o ON o.id = m.organisation_id"
    )
    # Without the pending list (fastupdate), new members are in the index at once and the
    # planner's cost of it does not grow with writes waiting for a vacuum.
    op.execute(
        "CREATE INDEX ix_member_fts_document ON member_fts_document "
        "USING gin (document) WITH (fastupdate = off)"
    )
    op.execute("DROP INDEX IF EXISTS ix_member_search")
    op.execute("DROP INDEX IF EXISTS ix_organisation_search")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS member_fts_document_organisation ON organisation")
    op.execute("DROP TRIGGER IF EXISTS member_fts_document_member ON member")
    op.execute("DROP FUNCTION IF EXISTS member_fts_document_of_organisation()")
    op.execute("DROP FUNCTION IF EXISTS member_fts_document_of_member()")
    op.execute("DROP TABLE IF EXISTS member_fts_document")
    op.execute(f"CREATE INDEX ix_member_search ON member USING gin ({OLD_MEMBER_DOCUMENT})")
    op.execute(
        f"CREATE INDEX ix_organisation_search ON organisation USING gin ({OLD_ORGANISATION_DOCUMENT})"
    )
