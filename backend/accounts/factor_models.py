"""Second-factor tables: TOTP secrets, recovery codes, passkeys and their challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

CHALLENGE_PURPOSES: tuple[str, ...] = ("register", "authenticate")


class TotpCredential(SQLModel, table=True):
    """A member's authenticator app: the shared secret, encrypted with a key from the
    secret key; on only once ``confirmed_at`` is set (a code was given back)."""

    __tablename__ = "totp_credential"

    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    confirmed_at: datetime | None = None
    # The 30-second time step of the last code accepted: a code is good once only.
    last_used_step: int = Field(default=0)


class RecoveryCode(SQLModel, table=True):
    """A single-use recovery code, stored only as a keyed hash."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("member_id", "code_hash", name="uq_recovery_code"),)

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    used_at: datetime | None = None


class WebauthnCredential(SQLModel, table=True):
    """A passkey: the public key of a WebAuthn credential the member registered."""

    __tablename__ = "webauthn_credential"
    __table_args__ = (UniqueConstraint("credential_id", name="uq_webauthn_credential_id"),)

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=100)
    credential_id: str = Field(sa_column=Column(String(1400), nullable=False))  # base64url
    public_key: str = Field(sa_column=Column(Text, nullable=False))  # base64url COSE key
    sign_count: int = Field(default=0)
    transports: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class WebauthnChallenge(SQLModel, table=True):
    """A challenge handed to the browser for one WebAuthn ceremony: single use, short-lived,
    bound to the session that asked for it."""

    __tablename__ = "webauthn_challenge"
    __table_args__ = (
        UniqueConstraint("challenge", name="uq_webauthn_challenge"),
        one_of("purpose", CHALLENGE_PURPOSES, name="ck_webauthn_challenge_purpose"),
    )

    id: int = Field(default=None, primary_key=True)
    challenge: str = Field(max_length=100)  # base64url
    purpose: str = Field(sa_column=Column(String(12), nullable=False))
    session_id: str = Field(max_length=64, index=True)  # user_session.id
    member_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
