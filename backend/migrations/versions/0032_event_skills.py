"""event skills, and notifications about development opportunities

Revision ID: 0032_event_skills
Revises: 0031_opportunities
Create Date: 2026-12-03

``event_skill``: the framework skills an event develops, so it shows on those skills' pages.
``notification.kind`` and ``notification_preference.kind`` may be ``opportunity`` (a saved
opportunity closing soon, or withdrawn by its provider).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_event_skills"
down_revision = "0031_opportunities"
branch_labels = None
depends_on = None

# Frozen here as they were when this revision was written.
NOTIFICATION_BEFORE = (
    "request_received",
    "request_answered",
    "request_closed",
    "request_reminder",
    "mentorship",
    "round",
    "community",
    "programme",
    "message",
    "session",
    "checkin",
    "survey",
    "event",
)
NOTIFICATION_AFTER = (*NOTIFICATION_BEFORE, "opportunity")
NOTIFICATION_TABLES = {
    "notification": "ck_notification_kind",
    "notification_preference": "ck_notification_preference_kind",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _kinds(kinds: tuple[str, ...]) -> None:
    for table, name in NOTIFICATION_TABLES.items():
        with op.batch_alter_table(table, schema=None, recreate="auto") as batch_op:
            batch_op.drop_constraint(name, type_="check")
            batch_op.create_check_constraint(name, _in("kind", kinds))


def upgrade() -> None:
    op.create_table(
        "event_skill",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("skill_id", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["skill_id"], ["skill.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "skill_id"),
    )
    with op.batch_alter_table("event_skill", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_skill_skill_id"), ["skill_id"], unique=False)
    _kinds(NOTIFICATION_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE kind = 'opportunity'")
    op.execute("DELETE FROM notification_preference WHERE kind = 'opportunity'")
    _kinds(NOTIFICATION_BEFORE)
    with op.batch_alter_table("event_skill", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_skill_skill_id"))
    op.drop_table("event_skill")
