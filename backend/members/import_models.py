"""An import of the members CSV run as a job: the uploaded file, its progress and its result."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from backend.db import utcnow
from backend.sqltypes import one_of

IMPORT_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")
IMPORT_MODES: tuple[str, ...] = ("all-or-nothing", "partial")


class MemberImport(SQLModel, table=True):
    """One upload: kept in the database so that any worker can read it, until it is done."""

    __tablename__ = "member_import"
    __table_args__ = (
        one_of("status", IMPORT_STATUSES, name="ck_member_import_status"),
        one_of("mode", IMPORT_MODES, name="ck_member_import_mode"),
        CheckConstraint("progress BETWEEN 0 AND 1", name="ck_member_import_progress"),
    )

    id: int = Field(default=None, primary_key=True)
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("member.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    invited_by: str = Field(default="A network organiser", max_length=200)
    send_invitations: bool = Field(default=True)
    mode: str = Field(sa_column=Column(String(20), nullable=False))
    status: str = Field(default="queued", sa_column=Column(String(10), nullable=False, index=True))
    filename: str = Field(default="", max_length=255)
    size_bytes: int = Field(default=0)
    # The file itself; emptied once the import has finished (the result keeps what matters).
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    progress: float = Field(default=0.0)
    stage: str = Field(default="Waiting to start", max_length=100)
    rows_total: int = Field(default=0)
    rows_written: int = Field(default=0)
    created: int = Field(default=0)
    updated: int = Field(default=0)
    invitations: int = Field(default=0)
    organisations_created: int = Field(default=0)
    rejected_rows: int = Field(default=0)
    # Diversity answers stored, and rows whose answers were not used (the member's own).
    demographics_stored: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    demographics_skipped: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Notes on rows imported but not in full, as JSON [[line, column, reason], ...] (first 500).
    notes: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    error_count: int = Field(default=0)
    # The first problems as JSON [[line, column, reason], ...]; all of them in rejects_csv.
    errors: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    rejects_csv: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Why the job stopped, when it did (not a row problem: those are in errors).
    failure: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    attempts: int = Field(default=0)
    heartbeat_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
