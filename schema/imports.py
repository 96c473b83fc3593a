"""Importing members from the members CSV (organisers only): all-or-nothing or partial.

Parsing, checking and writing live in ``backend.members.importing``; this layer only maps the
mode and the result. The CSV travels inside the JSON body, so the HTTP body limit (1 MiB)
bounds it; bigger files go through the organisers' import page or ``peerbridge import-members``.
"""

from __future__ import annotations

import enum

import strawberry

from backend.members import importing
from backend.members import service as member_service
from backend.members.importing import ImportResult
from schema import errors
from schema.context import Info


@strawberry.enum(description="ALL_OR_NOTHING imports nothing if any row is bad; PARTIAL the rest.")
class ImportMode(enum.Enum):
    ALL_OR_NOTHING = "all-or-nothing"
    PARTIAL = "partial"


@strawberry.input(description="A members CSV (the members CSV format) and how to treat bad rows.")
class ImportMembersInput:
    csv: str = strawberry.field(description="The whole file as text, header row first.")
    mode: ImportMode = ImportMode.ALL_OR_NOTHING


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
        )


ImportMembersResult = errors.result_union("ImportMembersResult", ImportMembersSuccess)


@strawberry.type
class ImportMutation:
    """Importing members."""

    @strawberry.mutation(
        description="Organisers: import members from a CSV (up to the 1 MiB request limit)."
    )
    def import_members(self, info: Info, input: ImportMembersInput) -> ImportMembersResult:  # type: ignore[valid-type]
        """Import a members CSV; the imported members are invited to set a password."""
        context = info.context

        def run() -> ImportMembersSuccess:
            # actor=None means the CLI to the service: a client must always be a member.
            actor = member_service.require_member(context.member)
            result = importing.import_members(
                session=context.session,
                data=input.csv.encode("utf-8", errors="surrogatepass"),
                mode=input.mode.value,  # type: ignore[arg-type]
                invited_by=actor.name,
                actor=actor,
            )
            context.reset_loaders()
            return ImportMembersSuccess.from_result(result)

        return errors.outcome(run)
