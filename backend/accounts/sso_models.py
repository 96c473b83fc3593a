"""Single sign-on tables: who a provider's account is here, and sign-ins under way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.db import utcnow


class AccountIdentity(SQLModel, table=True):
    """A member's account at an OpenID provider: later sign-ins match on (issuer, subject).

    The email address is never used to find the member again once this row exists: an address
    can be renamed or reassigned at the provider, the subject cannot.
    """

    __tablename__ = "account_identity"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_account_identity_issuer_subject"),
    )

    id: int = Field(default=None, primary_key=True)
    member_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    issuer: str = Field(max_length=300)
    subject: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime = Field(default_factory=utcnow)
    # The provider's "amr" claim at the last sign-in (space-separated), for the second-factor
    # rule to read: "mfa" there means the provider checked a second factor.
    last_amr: str = Field(default="", max_length=200)


class SsoSignIn(SQLModel, table=True):
    """A sign-in under way: the state, nonce and PKCE verifier sent to the provider.

    The row's id is the SHA-256 of the state, which the browser also holds in a cookie; the
    callback uses the row once (``used_at``). When the provider's account has no member yet,
    the checked claims wait here until the "complete your profile" form creates one, and the
    row is then deleted; rows past ``expires_at`` are purged.
    """

    __tablename__ = "sso_sign_in"

    id: str = Field(primary_key=True, max_length=64)
    nonce: str = Field(max_length=64)
    code_verifier: str = Field(max_length=128)
    next_path: str = Field(default="/profile", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    used_at: datetime | None = None
    # Set by the callback for a new account, until its profile is complete.
    issuer: str | None = Field(default=None, max_length=300)
    subject: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=254)
    name: str | None = Field(default=None, max_length=200)
    amr: str | None = Field(default=None, max_length=200)
