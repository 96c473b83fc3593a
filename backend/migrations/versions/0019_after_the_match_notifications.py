"""after-the-match notifications: kinds for messages, sessions, check-ins and surveys

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

``notification.kind`` and ``notification_preference.kind`` may be ``message`` (a message in a
mentorship, group or circle), ``session`` (a session proposed, booked, changed, cancelled, or
due tomorrow), ``checkin`` (a monthly check-in or a quiet-mentorship nudge) or ``survey``.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BEFORE = (
    "request_received",
    "request_answered",
    "request_closed",
    "request_reminder",
    "mentorship",
    "round",
    "community",
    "programme",
)
NEW = ("message", "session", "checkin", "survey")
AFTER = (*BEFORE, *NEW)
TABLES = {
    "notification": "ck_notification_kind",
    "notification_preference": "ck_notification_preference_kind",
}


def _condition(kinds: tuple[str, ...]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _replace(kinds: tuple[str, ...]) -> None:
    for table, name in TABLES.items():
        with op.batch_alter_table(table, schema=None, recreate="auto") as batch_op:
            batch_op.drop_constraint(name, type_="check")
            batch_op.create_check_constraint(name, _condition(kinds))


def upgrade() -> None:
    _replace(AFTER)


def downgrade() -> None:
    new_kinds = "('message', 'session', 'checkin', 'survey')"
    op.execute("DELETE FROM notification WHERE kind IN " + new_kinds)  # noqa: S608 (constants)
    op.execute("DELETE FROM notification_preference WHERE kind IN " + new_kinds)  # noqa: S608
    _replace(BEFORE)
