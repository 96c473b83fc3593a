"""skills framework: a skill can be retired

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

``skill.retired_at``: set when an admin retires a skill. A retired skill stays on the records
that name it (profiles, requests, posts) but leaves the choices offered and the suggestions.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("skill", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("skill", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
