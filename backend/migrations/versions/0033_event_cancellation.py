"""why and when an event was cancelled

Revision ID: 0033_event_cancellation
Revises: 0032_event_skills
Create Date: 2026-12-03

``event.cancel_reason`` and ``event.cancelled_at``: the reason the organiser gave, kept so the
event's page says it to anyone who comes later (before, it was only sent to those going or
waiting). Events cancelled before this revision keep an empty reason and no time.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0033_event_cancellation"
down_revision = "0032_event_skills"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cancel_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("cancel_reason")
