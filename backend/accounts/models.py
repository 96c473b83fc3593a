"""Account tables: server-side sessions, one-time email tokens, access tokens, throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

EMAIL_TOKEN_PURPOSES: tuple[str, ...] = ("verify", "reset", "invite")


class UserSession(SQLModel, table=True):
    """A browser session. The cookie holds a random token; only its hash is stored here.

    A row starts at log-in or sign-up; anonymous visitors' forms carry a signed CSRF cookie
    instead (``backend.accounts.csrf``). Rows with member_id empty are left from before that.
    """

    __tablename__ = "user_session"

    id: str = Field(primary_key=True, max_length=64)  # sha256 of the cookie token
    member_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    revoked_at: datetime | None = None
    user_agent: str = Field(default="", max_length=300)
    # Set while the password is right but the second factor is still to come: until then the
    # session signs nobody in (``backend.accounts.two_factor``); after it, the session is dead.
    pending_until: datetime | None = None
    # When this session last proved a second factor (sign-in or step-up, for erasure etc.).
    second_factor_at: datetime | None = None


class EmailToken(SQLModel, table=True):
    """A one-time link sent by email: verify an address, reset a password, accept an invitation."""

    __tablename__ = "email_token"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_email_token_hash"),
        one_of("purpose", EMAIL_TOKEN_PURPOSES, name="ck_email_token_purpose"),
    )

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    purpose: str = Field(sa_column=Column(String(10), nullable=False))
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class AccessToken(SQLModel, table=True):
    """A personal access token for API clients (``Authorization: Bearer ...``)."""

    __tablename__ = "access_token"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_access_token_hash"),)

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginThrottle(SQLModel, table=True):
    """Failed log-ins per account key (the folded email), whether or not the account exists."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=254)
    failures: int = Field(default=0)
    last_failure_at: datetime = Field(default_factory=utcnow)
    blocked_until: datetime | None = None
