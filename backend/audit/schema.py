"""The database's own guard of the audit log: no row of ``audit_event`` changes or goes.

Created by migration 0011 (which holds its own frozen copy of these statements; tests compare
the two).  On PostgreSQL a trigger function raises (SQLSTATE 23001,
``restrict_violation``) before any UPDATE or DELETE of a row and before a TRUNCATE; on SQLite
BEFORE UPDATE and BEFORE DELETE triggers ``RAISE(ABORT)`` (SQLite has no TRUNCATE). Both
surface as an ``IntegrityError``. Only someone who may drop triggers (the table's owner) can
get past them, and doing so is itself schema change, not an ordinary write.
"""

from __future__ import annotations

MESSAGE = "audit_event is append-only"

POSTGRESQL_CREATE: tuple[str, ...] = (
    "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation'; END $$",
    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
POSTGRESQL_DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
    "DROP FUNCTION IF EXISTS audit_event_append_only()",
)
SQLITE_CREATE: tuple[str, ...] = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
)
SQLITE_DROP: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
    "DROP TRIGGER IF EXISTS audit_event_no_update",
)


def create_statements(dialect: str) -> tuple[str, ...]:
    """The statements that make ``audit_event`` append-only on ``dialect``."""
    return POSTGRESQL_CREATE if dialect == "postgresql" else SQLITE_CREATE


def drop_statements(dialect: str) -> tuple[str, ...]:
    """The statements that take the guard away again (a downgrade; the tests' emptying)."""
    return POSTGRESQL_DROP if dialect == "postgresql" else SQLITE_DROP
