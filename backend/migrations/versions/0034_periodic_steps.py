"""when each throttled step of the periodic pass last ran

Revision ID: 0034_periodic_steps
Revises: 0033_event_cancellation
Create Date: 2026-12-03

``periodic_step``: one row per step of the worker's pass that runs at most once per
``PEERBRIDGE_SCAN_INTERVAL_SECONDS`` (check-ins, quiet-pair nudges, the month's peer pairs),
claimed with a conditional update so that of several workers one runs it.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0034_periodic_steps"
down_revision = "0033_event_cancellation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "periodic_step",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("last_run_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("periodic_step")
