"""The email outbox: rows written in the same transaction as the change that causes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from backend.db import utcnow


class OutboxEmail(SQLModel, table=True):
    """An email waiting to be sent (or sent: ``sent_at``), retried with back-off on failure."""

    __tablename__ = "outbox_email"

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=254, index=True)
    subject: str = Field(max_length=200)
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(default="account", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
