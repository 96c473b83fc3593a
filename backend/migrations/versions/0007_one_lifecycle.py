"""one mentoring lifecycle

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

One mentor at a time: a partial unique index on mentorship(mentee_id) where active, and one
open offer per mentee (match_proposal(mentee_id) where offered). Offers get their own time to
answer, a reminder, a re-offer flag for the worker, and the status "withdrawn" (closed because
the mentee started a mentorship another way). Rounds get a flag for figures the worker should
recompute.

Rows that already break the new rules are settled first, visibly: a mentee's later active
mentorships end early with a reason (the earliest stays), later open offers are withdrawn,
and mentors' place counters are re-derived from the active mentorships.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OLD_STATUSES = ("proposed", "unmatched", "removed", "offered", "accepted", "declined", "expired")
NEW_STATUSES = (*OLD_STATUSES, "withdrawn")


def _in(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    with op.batch_alter_table("matching_round", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("figures_stale", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("respond_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reoffer_pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint("ck_match_proposal_status", type_="check")
        batch_op.create_check_constraint("ck_match_proposal_status", _in(NEW_STATUSES))

    op.execute(
        "UPDATE match_proposal SET respond_by = (SELECT r.respond_by FROM matching_round r "
        "WHERE r.id = match_proposal.round_id) WHERE status = 'offered'"
    )
    op.execute(
        "UPDATE mentorship SET status = 'ended_early', ended_at = CURRENT_TIMESTAMP, "
        "end_reason = 'Closed when one-mentor-at-a-time was enforced (migration 0007): "
        "this member had an earlier active mentorship.' "
        "WHERE status = 'active' AND mentee_id IS NOT NULL AND id > (SELECT min(m.id) "
        "FROM mentorship m WHERE m.mentee_id = mentorship.mentee_id AND m.status = 'active')"
    )
    op.execute(
        "UPDATE mentoring_offer SET active_mentees = (SELECT count(*) FROM mentorship m "
        "WHERE m.mentor_id = mentoring_offer.member_id AND m.status = 'active')"
    )
    op.execute(
        "UPDATE match_proposal SET status = 'withdrawn', "
        "decline_reason = 'Closed: this member had an earlier open offer.' "
        "WHERE status = 'offered' AND mentee_id IS NOT NULL AND id > (SELECT min(p.id) "
        "FROM match_proposal p WHERE p.mentee_id = match_proposal.mentee_id "
        "AND p.status = 'offered')"
    )

    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.create_index(
            "uq_match_proposal_open_mentee",
            ["mentee_id"],
            unique=True,
            sqlite_where=sa.text("status = 'offered'"),
            postgresql_where=sa.text("status = 'offered'"),
        )
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.create_index(
            "uq_mentorship_active_mentee",
            ["mentee_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_mentorship_active_mentee",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_match_proposal_open_mentee",
            sqlite_where=sa.text("status = 'offered'"),
            postgresql_where=sa.text("status = 'offered'"),
        )
    op.execute("UPDATE match_proposal SET status = 'expired' WHERE status = 'withdrawn'")
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_constraint("ck_match_proposal_status", type_="check")
        batch_op.create_check_constraint("ck_match_proposal_status", _in(OLD_STATUSES))
        batch_op.drop_column("reoffer_pending")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("respond_by")
    with op.batch_alter_table("matching_round", schema=None) as batch_op:
        batch_op.drop_column("figures_stale")
