"""programme notifications: a kind for an applicant told of the organiser's decision

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-01

``notification.kind`` and ``notification_preference.kind`` may be ``programme``: an organiser
accepted, wait-listed or declined a member's application to a programme.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0016"
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
)
AFTER = (*BEFORE, "programme")
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
    op.execute("DELETE FROM notification WHERE kind = 'programme'")
    op.execute("DELETE FROM notification_preference WHERE kind = 'programme'")
    _replace(BEFORE)
