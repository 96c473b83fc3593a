"""the rows an ODS import did not take, kept for the admin to download as CSV

Revision ID: 0027
Revises: 0021
Create Date: 2026-12-02

``organisation_import_rejects``: one row per ODS import that rejected rows, holding the
rejected rows (each with its line and its problem) as CSV with formula cells neutralised.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0027"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisation_import_rejects",
        sa.Column("id", sa.Integer(), primary_key=True, nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("rejected_rows", sa.Integer(), nullable=False),
        sa.Column("rejects_csv", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("organisation_import_rejects")
