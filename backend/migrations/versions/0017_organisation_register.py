"""the organisation register: ODS codes, status, close dates and merges

Revision ID: 0017
Revises: 0020
Create Date: 2026-12-01

``organisation`` gains:
- ``ods_code``: the NHS ODS code (unique when set);
- ``status``: "register" (from the ODS register or added by an admin) or "other" (typed by a
  member, waiting to be mapped). Every organisation that exists before this migration was typed
  by members, so each becomes "other";
- ``closed_on``: the close date the register gives;
- ``merged_into_id``: the organisation an admin merged this one into (the row stays as an alias).

NOTE for the merge: this revision must follow 0016 (written in parallel): set
``down_revision = "0016"`` when both are on one branch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0020"
branch_labels = None
depends_on = None


def _sqlite_triggers_naming_organisation() -> list[tuple[str, str]]:
    """(name, SQL) of the SQLite triggers that name ``organisation``: SQLite's batch mode
    rebuilds the table, which a trigger naming it forbids (and one on it would be lost)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    rows = bind.execute(
        sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL")
    ).all()
    return [
        (name, sql) for name, sql in rows if "organisation" in sql.replace("organisation_id", "")
    ]


def _rebuilding_organisation():
    """Drop the triggers that name ``organisation`` and give them back after the rebuild."""
    import contextlib

    @contextlib.contextmanager
    def rebuild():
        saved = _sqlite_triggers_naming_organisation()
        for name, _ in saved:
            op.execute(f'DROP TRIGGER IF EXISTS "{name}"')
        yield
        for _, sql in saved:
            op.execute(sql)

    return rebuild()


def upgrade() -> None:
    with _rebuilding_organisation(), op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ods_code", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), server_default="other", nullable=False)
        )
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_organisation_ods_code", ["ods_code"])
        batch_op.create_check_constraint(
            "ck_organisation_status", "status IN ('register', 'other')"
        )
        batch_op.create_foreign_key(
            "fk_organisation_merged_into_id_organisation",
            "organisation",
            ["merged_into_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index(
            batch_op.f("ix_organisation_merged_into_id"), ["merged_into_id"], unique=False
        )


def downgrade() -> None:
    with _rebuilding_organisation(), op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_merged_into_id"))
        batch_op.drop_constraint("fk_organisation_merged_into_id_organisation", type_="foreignkey")
        batch_op.drop_constraint("ck_organisation_status", type_="check")
        batch_op.drop_constraint("uq_organisation_ods_code", type_="unique")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("closed_on")
        batch_op.drop_column("status")
        batch_op.drop_column("ods_code")
