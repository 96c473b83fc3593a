"""single sign-on with OpenID Connect

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

``account_identity`` links a member to an account at an OpenID provider by (issuer, subject),
unique, so a later sign-in finds the member without trusting the email address.
``sso_sign_in`` holds each sign-in under way (state hash, nonce, PKCE verifier; single use),
and, for a provider account with no member yet, the checked claims until the profile is done.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

AutoString = sqlmodel.sql.sqltypes.AutoString
UTCDateTime = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "account_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("issuer", AutoString(length=300), nullable=False),
        sa.Column("subject", AutoString(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_sign_in_at", UTCDateTime(), nullable=False),
        sa.Column("last_amr", AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "subject", name="uq_account_identity_issuer_subject"),
    )
    with op.batch_alter_table("account_identity", schema=None) as batch_op:
        batch_op.create_index("ix_account_identity_member_id", ["member_id"], unique=False)
    op.create_table(
        "sso_sign_in",
        sa.Column("id", AutoString(length=64), nullable=False),
        sa.Column("nonce", AutoString(length=64), nullable=False),
        sa.Column("code_verifier", AutoString(length=128), nullable=False),
        sa.Column("next_path", AutoString(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("issuer", AutoString(length=300), nullable=True),
        sa.Column("subject", AutoString(length=255), nullable=True),
        sa.Column("email", AutoString(length=254), nullable=True),
        sa.Column("name", AutoString(length=200), nullable=True),
        sa.Column("amr", AutoString(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sso_sign_in", schema=None) as batch_op:
        batch_op.create_index("ix_sso_sign_in_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sso_sign_in", schema=None) as batch_op:
        batch_op.drop_index("ix_sso_sign_in_expires_at")
    op.drop_table("sso_sign_in")
    with op.batch_alter_table("account_identity", schema=None) as batch_op:
        batch_op.drop_index("ix_account_identity_member_id")
    op.drop_table("account_identity")
