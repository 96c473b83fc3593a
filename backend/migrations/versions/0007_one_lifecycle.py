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


def _new_status_check(statuses: tuple[str, ...]) -> None:
    # SQLite rebuilds the table to change a CHECK. With foreign keys on, dropping the old
    # table clears replaces_id (ON DELETE SET NULL) in the copy, so the links are kept aside.
    bind = op.get_bind()
    links = bind.execute(
        sa.text("SELECT id, replaces_id FROM match_proposal WHERE replaces_id IS NOT NULL")
    ).all()
    with op.batch_alter_table("match_proposal", schema=None) as batch_op:
        batch_op.drop_constraint("ck_match_proposal_status", type_="check")
        batch_op.create_check_constraint("ck_match_proposal_status", _in(statuses))
    if links:
        bind.execute(
            sa.text("UPDATE match_proposal SET replaces_id = :replaces WHERE id = :id"),
            [{"id": i, "replaces": r} for i, r in links],
        )


def _drop_column(table: str, column: str) -> None:
    # Natively where it can: a rebuild of matching_round on SQLite would cascade-delete every
    # proposal (ON DELETE CASCADE) when the old table is dropped.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, never a batch rebuild: on SQLite, rebuilding
    # matching_round drops the old table, and its ON DELETE CASCADE empties match_proposal.
    op.add_column(
        "matching_round",
        sa.Column("figures_stale", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "match_proposal",
        sa.Column("respond_by", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.add_column(
        "match_proposal",
        sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.add_column(
        "match_proposal",
        sa.Column("reoffer_pending", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    _new_status_check(NEW_STATUSES)

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
    _new_status_check(OLD_STATUSES)
    for column in ("reoffer_pending", "reminded_at", "respond_by"):
        _drop_column("match_proposal", column)
    _drop_column("matching_round", "figures_stale")
