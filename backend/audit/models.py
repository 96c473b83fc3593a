"""The audit log's one table: who did what to what, and when; rows are never changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from backend.db import utcnow


class AuditEvent(SQLModel, table=True):
    """One organiser, admin or security-relevant action.

    Holds ids, a dotted action name from ``backend.audit.actions`` and counts only: never a
    name, an email or text someone typed (so erasing a member leaves nothing personal here,
    and the erasure scrub may pass this table by: ``info["no_free_text"]``). ``actor_id`` and
    ``subject_id`` have no foreign keys: the event outlives what it is about. The database
    refuses every UPDATE and DELETE of a row (triggers, ``backend.audit.schema``).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_actor", "actor_id", "id"),
        Index("ix_audit_event_action", "action", "id"),
        Index("ix_audit_event_subject", "subject_type", "subject_id", "id"),
        {"info": {"no_free_text": True}},
    )

    id: int = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    action: str = Field(sa_column=Column(String(40), nullable=False))
    subject_type: str | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    subject_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # JSON of counts and ids only (``backend.audit.service.record`` checks it).
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    # A keyed hash of the browser and address behind the action (never the address itself).
    client: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
