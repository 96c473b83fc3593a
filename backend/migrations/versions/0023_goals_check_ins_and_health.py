"""goals and check-ins, relationship health: tracked goals with notes, monthly check-ins,
why a mentorship ended early, and when a quiet pair was nudged

Revision ID: 0023
Revises: 0024
Create Date: 2026-12-02

``mentorship_goal`` (what, by when, how we'll know, open/achieved/dropped) and ``goal_note``
(dated progress notes by either side); ``check_in`` (a monthly "How is it going?" per side,
1-5 and a line, private to the answerer). ``mentorship.end_category`` (why it ended early) and
``mentorship.quiet_nudged_at``.

Data: each mentorship's free-text ``goals`` becomes one open goal per non-empty line, and the
text is emptied (the column stays, deprecated, for a release). Downgrade writes the goals'
titles back as lines.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0023"
down_revision = "0024"
branch_labels = None
depends_on = None

END_CATEGORIES = (
    "goals_met_early",
    "no_time",
    "not_a_good_fit",
    "changed_job",
    "mentor_unavailable",
    "other",
)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "mentorship_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentorship_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("measure", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'achieved', 'dropped')", name="ck_mentorship_goal_status"
        ),
        sa.ForeignKeyConstraint(["mentorship_id"], ["mentorship.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mentorship_goal", schema=None) as batch_op:
        batch_op.create_index("ix_mentorship_goal_mentorship_id", ["mentorship_id"], unique=False)
        batch_op.create_index("ix_mentorship_goal_created_by_id", ["created_by_id"], unique=False)
    op.create_table(
        "goal_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["mentorship_goal.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["member.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("goal_note", schema=None) as batch_op:
        batch_op.create_index("ix_goal_note_goal_id", ["goal_id"], unique=False)
        batch_op.create_index("ix_goal_note_author_id", ["author_id"], unique=False)
    op.create_table(
        "check_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mentorship_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=6), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("answered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("shared_with_organisers", sa.Boolean(), nullable=False),
        sa.CheckConstraint("role IN ('mentor', 'mentee')", name="ck_check_in_role"),
        sa.CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="ck_check_in_score"),
        sa.ForeignKeyConstraint(["mentorship_id"], ["mentorship.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.create_index("ix_check_in_mentorship_id", ["mentorship_id"], unique=False)
        batch_op.create_index("ix_check_in_member_id", ["member_id"], unique=False)
        batch_op.create_index(
            "uq_check_in_period", ["mentorship_id", "member_id", "period"], unique=True
        )
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("end_category", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.add_column(
            sa.Column("quiet_nudged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.create_check_constraint(
            "ck_mentorship_end_category",
            f"end_category IS NULL OR end_category IN ({_quoted(END_CATEGORIES)})",
        )
    _goals_to_rows()


def _goals_to_rows() -> None:
    """One open goal per non-empty line of each mentorship's free-text goals, then empty it."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, goals, started_at FROM mentorship WHERE goals <> '' ORDER BY id")
    ).all()
    insert = sa.text(
        "INSERT INTO mentorship_goal (mentorship_id, title, measure, status, created_at, "
        "updated_at) VALUES (:mentorship_id, :title, '', 'open', :at, :at)"
    )
    for mentorship_id, goals, started_at in rows:
        lines = [line.strip() for line in (goals or "").splitlines()]
        for line in lines:
            if line:
                connection.execute(
                    insert, {"mentorship_id": mentorship_id, "title": line, "at": started_at}
                )
    connection.execute(sa.text("UPDATE mentorship SET goals = '' WHERE goals <> ''"))


def _rows_to_goals() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT mentorship_id, title FROM mentorship_goal ORDER BY mentorship_id, id")
    ).all()
    texts: dict[int, list[str]] = {}
    for mentorship_id, title in rows:
        texts.setdefault(mentorship_id, []).append(title)
    update = sa.text("UPDATE mentorship SET goals = :goals WHERE id = :id")
    for mentorship_id, titles in texts.items():
        connection.execute(update, {"goals": "\n".join(titles)[:4000], "id": mentorship_id})


def downgrade() -> None:
    _rows_to_goals()
    with op.batch_alter_table("mentorship", schema=None) as batch_op:
        batch_op.drop_constraint("ck_mentorship_end_category", type_="check")
        batch_op.drop_column("quiet_nudged_at")
        batch_op.drop_column("end_category")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_index("uq_check_in_period")
        batch_op.drop_index("ix_check_in_member_id")
        batch_op.drop_index("ix_check_in_mentorship_id")
    op.drop_table("check_in")
    with op.batch_alter_table("goal_note", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_note_author_id")
        batch_op.drop_index("ix_goal_note_goal_id")
    op.drop_table("goal_note")
    with op.batch_alter_table("mentorship_goal", schema=None) as batch_op:
        batch_op.drop_index("ix_mentorship_goal_created_by_id")
        batch_op.drop_index("ix_mentorship_goal_mentorship_id")
    op.drop_table("mentorship_goal")
