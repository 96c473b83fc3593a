"""Importing members from the members CSV (organisers only): all-or-nothing or partial.

Parsing, checking and writing live in ``backend.members.importing``; this layer only maps the
mode and the result. The CSV travels inside the JSON body, so the HTTP body limit (1 MiB)
bounds it; bigger files go through the organisers' import page or ``peerbridge import-members``.

Every import is stored and run as an import job, written in short chunks so the database stays
free for everyone else. With ``background: true`` the mutation returns at once and
``memberImport(id)`` reports progress; otherwise it runs the job before answering.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry

from backend import db
from backend.errors import NotFound
from backend.members import importing
from backend.members import service as member_service
from backend.members.import_models import MemberImport as ImportModel
from backend.members.importing import ImportResult
from schema import errors
from schema.context import Info


@strawberry.enum(description="ALL_OR_NOTHING imports nothing if any row is bad; PARTIAL the rest.")
class ImportMode(enum.Enum):
    ALL_OR_NOTHING = strawberry.enum_value(
        "all-or-nothing", description="Import nothing if any row is bad."
    )
    PARTIAL = strawberry.enum_value(
        "partial", description="Import the good rows; list the bad ones as rejects."
    )


@strawberry.input(description="A members CSV (the members CSV format) and how to treat bad rows.")
class ImportMembersInput:
    csv: str = strawberry.field(description="The whole file as text, header row first.")
    mode: ImportMode = ImportMode.ALL_OR_NOTHING
    background: bool = strawberry.field(
        default=False,
        description="Return at once and import as a job; follow it with memberImport(id).",
    )


@strawberry.enum(description="Where an import job is.")
class MemberImportStatus(enum.Enum):
    QUEUED = strawberry.enum_value("queued", description="Waiting for a worker to start it.")
    RUNNING = strawberry.enum_value("running", description="Being imported: progress says how far.")
    DONE = strawberry.enum_value("done", description="Finished: the counts say what was imported.")
    FAILED = strawberry.enum_value(
        "failed", description="Stopped by an error: nothing half-written is kept."
    )


@strawberry.type(description="An import job: its progress and, once DONE, its counts.")
class MemberImport:
    id: strawberry.ID
    status: MemberImportStatus
    progress: float = strawberry.field(description="How far the job has got, 0 to 1.")
    stage: str
    rows_total: int
    rows_written: int
    failure: str = strawberry.field(description="Why a FAILED import stopped; run it again.")
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_model(cls, model: ImportModel) -> MemberImport:
        """The GraphQL view of an import job."""
        return cls(
            id=strawberry.ID(str(model.id)),
            status=MemberImportStatus(model.status),
            progress=float(model.progress),
            stage=model.stage,
            rows_total=model.rows_total,
            rows_written=model.rows_written,
            failure=model.failure,
            created_at=model.created_at,
            finished_at=model.finished_at,
        )


@strawberry.type(description="A problem in the file: the line, the column (if one) and why.")
class ImportRowError:
    line: int = strawberry.field(description="The line in the file (1 is the header; 0 whole).")
    column: str | None = strawberry.field(description="The column's name, when one is at fault.")
    reason: str


@strawberry.type(description="What the import did; `errors` lists every bad row (if any).")
class ImportMembersSuccess:
    ok: bool = strawberry.field(description="True when every row was imported.")
    created: int
    updated: int
    errors: list[ImportRowError]
    rejects_csv: str | None = strawberry.field(
        description="The bad rows with a reason column, to fix and import again; null if none."
    )
    summary: str = strawberry.field(description="One or two sentences for the organiser.")
    demographics_stored: int = strawberry.field(
        default=0, description="Members whose diversity answers this import stored."
    )
    demographics_skipped: int = strawberry.field(
        default=0,
        description="Rows imported without their diversity answers: the member has an account "
        "or withdrew consent, so only they can give or change them.",
    )
    notes: list[ImportRowError] = strawberry.field(
        default_factory=list,
        description="Rows imported, but not in full, and why (first 500).",
    )
    job: MemberImport | None = strawberry.field(
        default=None, description="The import job (with background: true, still running)."
    )

    @classmethod
    def from_import(cls, model: ImportModel) -> ImportMembersSuccess:
        """The GraphQL view of an import job's result (empty counts until it is DONE)."""
        success = cls.from_result(importing.import_result(model))
        success.ok = model.status == "done" and model.error_count == 0
        success.summary = model.summary or model.failure or model.stage
        success.job = MemberImport.from_model(model)
        return success

    @classmethod
    def from_result(cls, result: ImportResult) -> ImportMembersSuccess:
        """The GraphQL view of an import's result."""
        return cls(
            ok=result.ok,
            created=result.created,
            updated=result.updated,
            errors=[
                ImportRowError(line=e.line, column=e.column, reason=e.reason) for e in result.errors
            ],
            rejects_csv=result.rejects_csv,
            summary=result.summary(),
            demographics_stored=result.demographics_stored,
            demographics_skipped=result.demographics_skipped,
            notes=[
                ImportRowError(line=n.line, column=n.column, reason=n.reason) for n in result.notes
            ],
        )


ImportMembersResult = Annotated[
    ImportMembersSuccess | errors.Problem,
    errors.result_named("ImportMembersResult", ImportMembersSuccess),
]


@strawberry.input(description="An import job that stopped (FAILED, or RUNNING but stalled).")
class RetryMemberImportInput:
    import_id: strawberry.ID = strawberry.field(description="The `MemberImport` id.")
    background: bool = strawberry.field(
        default=False,
        description="Return at once and resume as a job; follow it with memberImport(id).",
    )


def _run_import(
    info: Info, actor: Any, import_id: int, *, background: bool
) -> ImportMembersSuccess:
    """Run the queued import job now (or enqueue it) and report where it stands."""
    context = info.context
    db.commit_for_job(context.session)  # the job reads the import from its own session
    if background:
        importing.enqueue_import(import_id=import_id, engine=context.job_engine)
    else:
        importing.run_import_job(import_id, engine=context.job_engine)
    context.session.expire_all()
    found = importing.get_import(session=context.session, actor=actor, import_id=import_id)
    db.commit_for_job(context.session)
    context.reset_loaders()
    return ImportMembersSuccess.from_import(found)


@strawberry.type
class ImportMutation:
    """Importing members."""

    @strawberry.mutation(
        description="Organisers: import members from a CSV (up to the 1 MiB request limit)."
    )
    def import_members(self, info: Info, input: ImportMembersInput) -> ImportMembersResult:
        """Import a members CSV; the imported members are invited to set a password."""
        context = info.context

        def run() -> ImportMembersSuccess:
            # actor=None means the CLI to the service: a client must always be a member.
            actor = member_service.require_member(context.member)
            started = importing.start_import(
                session=context.session,
                actor=actor,
                data=input.csv.encode("utf-8", errors="surrogatepass"),
                mode=str(input.mode.value),
            )
            import_id: int = started.id
            return _run_import(info, actor, import_id, background=input.background)

        return errors.outcome(run)

    @strawberry.mutation(
        description="Organisers: run an import that stopped again; it resumes after the rows "
        "already written."
    )
    def retry_member_import(self, info: Info, input: RetryMemberImportInput) -> ImportMembersResult:
        """Queue the import again and run it (or, with background, enqueue it)."""
        context = info.context

        def run() -> ImportMembersSuccess:
            actor = member_service.require_member(context.member)
            try:
                import_id = int(str(input.import_id))
            except ValueError as error:
                raise NotFound("No such import.", field="importId") from error
            importing.retry_import(session=context.session, actor=actor, import_id=import_id)
            return _run_import(info, actor, import_id, background=input.background)

        return errors.outcome(run)


@strawberry.type
class ImportQuery:
    """Import jobs."""

    @strawberry.field(description="Organisers: an import job, to follow its progress.")
    def member_import(self, info: Info, id: strawberry.ID) -> MemberImport | None:
        """The import job (null if there is none with that id)."""
        try:
            number = int(str(id))
        except ValueError:
            return None
        try:
            found = importing.get_import(
                session=info.context.session, actor=info.context.member, import_id=number
            )
        except NotFound:
            return None
        return MemberImport.from_model(found)
