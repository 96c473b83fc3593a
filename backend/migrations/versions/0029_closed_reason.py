"""why a mentor request closed without an answer: the mentee, no answer in time, or the system

Revision ID: 0029_closed_reason
Revises: 0028
Create Date: 2026-12-02

``mentor_request.closed_reason``: set when an open request closes other than by the mentor's
answer, so the mentee is told what happened (a request that expired is "closed: no answer",
not "withdrawn"). Rows closed before this revision keep NULL: what their status says.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_closed_reason"
down_revision = "0028"
branch_labels = None
depends_on = None

REASONS = (
    "by_mentee",
    "no_answer",
    "mentored_elsewhere",
    "mentee_inactive",
    "mentor_unavailable",
    "programme_ended",
)


def upgrade() -> None:
    quoted = ", ".join(f"'{reason}'" for reason in REASONS)
    with op.batch_alter_table("mentor_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_reason", sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(
            "ck_mentor_request_closed_reason",
            f"closed_reason IS NULL OR closed_reason IN ({quoted})",
        )
    # Requests that expired before: their reason is known.
    op.execute("UPDATE mentor_request SET closed_reason = 'no_answer' WHERE status = 'expired'")


def downgrade() -> None:
    with op.batch_alter_table("mentor_request", schema=None) as batch_op:
        batch_op.drop_constraint("ck_mentor_request_closed_reason", type_="check")
        batch_op.drop_column("closed_reason")
