"""Chapters and organiser scopes (admins only): ``chapters``, ``chapter``, ``createChapter``,
``updateChapter``, ``deleteChapter``, ``grantOrganiserScope``, ``revokeOrganiserScope``.

A chapter covers NHS England regions and/or organisations; its organisers see and act only on
the members it covers (``backend.chapters``). Thin: every rule is in the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay

from backend.accounts import service as accounts
from backend.chapters import service as chapters
from backend.chapters.models import CHAPTER_KINDS
from backend.chapters.models import Chapter as ChapterModel
from schema import errors
from schema.context import Info
from schema.enums import Region, _enum, to_enum
from schema.ids import decode
from schema.inputs import check_text
from schema.permissions import IsAuthenticated
from schema.reference import Organisation

if TYPE_CHECKING:
    from schema.members import Member

ChapterKind: Any = _enum(
    "ChapterKind", CHAPTER_KINDS, "A regional chapter, or an integrated care system's chapter."
)


@strawberry.type(description="A chapter of the network: the regions and organisations it covers.")
class Chapter(relay.Node):
    id: relay.NodeID[int]
    name: str
    kind: ChapterKind
    description: str
    regions: list[Region]
    organisations: list[Organisation]
    organisers: list[Annotated[Member, strawberry.lazy("schema.members")]] = strawberry.field(
        description="The members who organise this chapter (organiser scopes)."
    )
    member_count: int = strawberry.field(description="Active members the chapter covers.")
    programme_count: int = strawberry.field(description="Programmes the chapter runs.")

    @classmethod
    def from_summary(cls, summary: chapters.ChapterSummary) -> Chapter:
        """The GraphQL view of a chapter with its coverage."""
        from schema.members import Member

        c = summary.chapter
        return cls(
            id=c.id,
            name=c.name,
            kind=to_enum(ChapterKind, c.kind),
            description=c.description,
            regions=[to_enum(Region, r) for r in summary.regions],
            organisations=[Organisation.from_model(o) for o in summary.organisations],
            organisers=[Member.from_model(m) for m in summary.organisers],
            member_count=summary.members,
            programme_count=summary.programmes,
        )


@strawberry.type(description="A chapter a member organises (Member.organiserScopes).")
class OrganiserScope:
    chapter_id: strawberry.ID = strawberry.field(description="The Chapter's id.")
    name: str

    @classmethod
    def from_model(cls, chapter: ChapterModel) -> OrganiserScope:
        """The scope of one chapter."""
        return cls(
            chapter_id=strawberry.ID(str(relay.GlobalID("Chapter", str(chapter.id)))),
            name=chapter.name,
        )


@strawberry.input(description="A chapter's name, kind, description and coverage.")
class ChapterInput:
    name: str
    kind: ChapterKind
    description: str = ""
    regions: list[Region] = strawberry.field(default_factory=list)
    organisation_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Organisation ids (see organisations)."
    )

    def to_service(self) -> chapters.ChapterSettings:
        """The service's settings, checked for unreadable text."""
        check_text(name=self.name, description=self.description)
        return chapters.ChapterSettings(
            name=self.name,
            kind=self.kind.value,
            description=self.description,
            regions=[r.value for r in self.regions],
            organisation_ids=[
                decode(i, type_name="Organisation", field="organisationIds")
                for i in self.organisation_ids
            ],
        )


@strawberry.input(description="Change a chapter: every field is set as given.")
class UpdateChapterInput(ChapterInput):
    chapter_id: strawberry.ID


@strawberry.input(description="Delete a chapter that runs no programme.")
class DeleteChapterInput:
    chapter_id: strawberry.ID


@strawberry.input(
    description="Make a member an organiser of a chapter, or stop it. Admins with a second "
    "factor confirm it first (confirmSecondFactor); admins without one give their password."
)
class OrganiserScopeInput:
    member_id: strawberry.ID
    chapter_id: strawberry.ID
    password: str = ""


@strawberry.type(description="The chapter after the change.")
class ChapterSuccess:
    chapter: Chapter


@strawberry.type(description="The id of the chapter deleted.")
class DeleteChapterSuccess:
    chapter_id: strawberry.ID


@strawberry.type(description="The chapters the member organises now.")
class OrganiserScopeSuccess:
    organiser_scopes: list[OrganiserScope]


ChapterResult = Annotated[
    ChapterSuccess | errors.Problem, errors.result_named("ChapterResult", ChapterSuccess)
]
DeleteChapterResult = Annotated[
    DeleteChapterSuccess | errors.Problem,
    errors.result_named("DeleteChapterResult", DeleteChapterSuccess),
]
OrganiserScopeResult = Annotated[
    OrganiserScopeSuccess | errors.Problem,
    errors.result_named("OrganiserScopeResult", OrganiserScopeSuccess),
]


def _chapter(info: Info, chapter_id: int) -> Chapter:
    summary = chapters.get_chapter(
        session=info.context.session, admin=info.context.member, chapter_id=chapter_id
    )
    return Chapter.from_summary(summary)


@strawberry.type
class ChapterQuery:
    """Admins: chapters."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Admins: every chapter by name, with its coverage and organisers.",
    )
    def chapters(self, info: Info) -> list[Chapter]:
        """Every chapter."""
        found = chapters.list_chapters(session=info.context.session, admin=info.context.member)
        return [Chapter.from_summary(s) for s in found]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Admins: one chapter.")
    def chapter(self, info: Info, id: strawberry.ID) -> Chapter:
        """One chapter by its id."""
        return _chapter(info, decode(id, type_name="Chapter", field="id"))


@strawberry.type
class ChapterMutation:
    """Admins: create, change and delete chapters; grant and revoke organiser scopes."""

    @strawberry.mutation(description="Admins: create a chapter.")
    def create_chapter(self, info: Info, input: ChapterInput) -> ChapterResult:
        """A new chapter."""
        context = info.context

        def change() -> ChapterSuccess:
            chapter = chapters.create_chapter(
                session=context.session, admin=context.member, settings=input.to_service()
            )
            return ChapterSuccess(chapter=_chapter(info, chapter.id))

        return errors.outcome(change)

    @strawberry.mutation(description="Admins: rename a chapter or change what it covers.")
    def update_chapter(self, info: Info, input: UpdateChapterInput) -> ChapterResult:
        """Change a chapter."""
        context = info.context

        def change() -> ChapterSuccess:
            chapter_id = decode(input.chapter_id, type_name="Chapter", field="chapterId")
            chapter = chapters.update_chapter(
                session=context.session,
                admin=context.member,
                chapter_id=chapter_id,
                settings=input.to_service(),
            )
            return ChapterSuccess(chapter=_chapter(info, chapter.id))

        return errors.outcome(change)

    @strawberry.mutation(description="Admins: delete a chapter that runs no programme.")
    def delete_chapter(self, info: Info, input: DeleteChapterInput) -> DeleteChapterResult:
        """Delete a chapter."""
        context = info.context

        def change() -> DeleteChapterSuccess:
            chapter_id = decode(input.chapter_id, type_name="Chapter", field="chapterId")
            chapters.delete_chapter(
                session=context.session, admin=context.member, chapter_id=chapter_id
            )
            return DeleteChapterSuccess(chapter_id=input.chapter_id)

        return errors.outcome(change)

    @strawberry.mutation(description="Admins: make a member an organiser of a chapter.")
    def grant_organiser_scope(self, info: Info, input: OrganiserScopeInput) -> OrganiserScopeResult:
        """Grant a scope after the step-up."""
        return _change_scope(info, input, granted=True)

    @strawberry.mutation(description="Admins: stop a member organising a chapter.")
    def revoke_organiser_scope(
        self, info: Info, input: OrganiserScopeInput
    ) -> OrganiserScopeResult:
        """Revoke a scope after the step-up."""
        return _change_scope(info, input, granted=False)


def _change_scope(info: Info, input: OrganiserScopeInput, *, granted: bool) -> OrganiserScopeResult:
    context = info.context

    def change() -> OrganiserScopeSuccess:
        check_text(password=input.password)
        member_id = decode(input.member_id, type_name="Member", field="memberId")
        chapter_id = decode(input.chapter_id, type_name="Chapter", field="chapterId")
        token = context.session_token if context.auth == "cookie" else None
        held = chapters.change_scope(
            session=context.session,
            admin=context.member,
            current=accounts.session_for_token(session=context.session, token=token),
            member_id=member_id,
            chapter_id=chapter_id,
            granted=granted,
            password=input.password,
        )
        return OrganiserScopeSuccess(organiser_scopes=[OrganiserScope.from_model(c) for c in held])

    return errors.outcome(change)
