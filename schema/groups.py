"""Group mentoring: a mentoring group (one mentor, a group of mentees) and its group sessions.

Who may see a group (its mentor and members) and log its sessions is decided by
``backend.mentoring.groups``; members resolve through the members loader.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import NotFound
from backend.members import service as member_service
from backend.mentoring import groups
from backend.mentoring.models import GroupSession as GroupSessionModel
from schema import errors
from schema.context import Info
from schema.ids import decode
from schema.inputs import check_lists, check_text
from schema.members import Member
from schema.permissions import IsAuthenticated


def _group_id(raw_id: int) -> strawberry.ID:
    return strawberry.ID(relay.to_base64("MentoringGroup", raw_id))


async def _people(info: Info, member_ids: list[int]) -> list[Member]:
    found = await info.context.loaders.members.load_many(member_ids)
    return [Member.from_model(m) for m in found if m is not None and m.is_active]


@strawberry.type(
    description="One meeting of a mentoring group; its notes are shared with the group."
)
class GroupSession:
    held_on: date
    duration_minutes: int
    notes: str
    created_at: datetime
    attended_ids: strawberry.Private[list[int]]
    model: strawberry.Private[GroupSessionModel]

    @classmethod
    def from_model(cls, record: GroupSessionModel, attended: list[int]) -> GroupSession:
        """The GraphQL view of a logged group session."""
        return cls(
            held_on=record.held_on,
            duration_minutes=record.duration_minutes,
            notes=record.notes,
            created_at=record.created_at,
            attended_ids=attended,
            model=record,
        )

    @strawberry.field(description="Who came (members who have left are not shown).")
    async def attended(self, info: Info) -> list[Member]:
        """Through the members loader."""
        return await _people(info, self.attended_ids)

    @strawberry.field(description="Who logged it; null if they have left.")
    async def logged_by(self, info: Info) -> Member | None:
        """Through the members loader."""
        if self.model.logged_by_id is None:
            return None
        found = await _people(info, [self.model.logged_by_id])
        return found[0] if found else None


@strawberry.type(description="One mentor and a group of mentees in a group mentoring programme.")
class MentoringGroup:
    id: strawberry.ID = strawberry.field(description="The MentoringGroup's global id.")
    name: str
    status: str = strawberry.field(description="active or closed.")
    programme_name: str
    created_at: datetime
    mentor_id: strawberry.Private[int | None]
    member_ids: strawberry.Private[list[int]]
    session_rows: strawberry.Private[list[GroupSession]]

    @classmethod
    def from_view(cls, view: groups.GroupView) -> MentoringGroup:
        """The GraphQL view of a group as its mentor and members see it."""
        return cls(
            id=_group_id(view.group.id),
            name=view.group.name,
            status=view.group.status,
            programme_name=view.programme_name,
            created_at=view.group.created_at,
            mentor_id=view.group.mentor_id,
            member_ids=[m.id for m in view.members],
            session_rows=[
                GroupSession.from_model(s, view.attended.get(s.id, [])) for s in view.sessions
            ],
        )

    @strawberry.field(description="The group's mentor; null if they have left.")
    async def mentor(self, info: Info) -> Member | None:
        """Through the members loader."""
        if self.mentor_id is None:
            return None
        found = await _people(info, [self.mentor_id])
        return found[0] if found else None

    @strawberry.field(description="The group's mentees, each with their own mentorship.")
    async def members(self, info: Info) -> list[Member]:
        """Through the members loader."""
        return await _people(info, self.member_ids)

    @strawberry.field(description="The group's sessions, latest first.")
    def sessions(self) -> list[GroupSession]:
        """Logged group sessions."""
        return self.session_rows


@strawberry.input(description="A meeting of the group: when, how long, notes, and who came.")
class LogGroupSessionInput:
    group_id: strawberry.ID
    held_on: date = strawberry.field(description="The day you met, like 2026-03-14.")
    duration_minutes: int = strawberry.field(description="5 to 480.")
    attended_ids: list[strawberry.ID] = strawberry.field(
        description="Member ids of who came: the mentor and members of the group."
    )
    notes: str = ""


@strawberry.type(description="The group session, logged; the rest of the group has been told.")
class LogGroupSessionSuccess:
    session: GroupSession
    group: MentoringGroup


LogGroupSessionResult = Annotated[
    LogGroupSessionSuccess | errors.Problem,
    errors.result_named("LogGroupSessionResult", LogGroupSessionSuccess),
]


@strawberry.type
class GroupQuery:
    """The signed-in member's mentoring groups."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A mentoring group you mentor or belong to (null for any other).",
    )
    def mentoring_group(self, info: Info, id: strawberry.ID) -> MentoringGroup | None:
        """One group, for its mentor and members."""
        group_id = decode(id, type_name="MentoringGroup")
        try:
            view = groups.get_group(
                session=info.context.session, member=info.context.member, group_id=group_id
            )
        except NotFound:
            return None
        return MentoringGroup.from_view(view)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="The mentoring groups you mentor or belong to, newest first.",
    )
    def my_mentoring_groups(self, info: Info) -> list[MentoringGroup]:
        """Every group of the caller, built together (a fixed number of queries)."""
        context = info.context
        return [
            MentoringGroup.from_view(view)
            for view in groups.my_group_views(session=context.session, member=context.member)
        ]


@strawberry.type
class GroupMutation:
    """Group sessions."""

    @strawberry.mutation(
        description="Log a group session (the mentor or any member): date, length, notes, who came."
    )
    def log_group_session(self, info: Info, input: LogGroupSessionInput) -> LogGroupSessionResult:
        """Log a meeting of the group."""
        context = info.context

        def log() -> LogGroupSessionSuccess:
            member_service.require_member(context.member)
            check_text(notes=input.notes)
            check_lists(attended_ids=input.attended_ids)
            group_id = decode(input.group_id, type_name="MentoringGroup", field="groupId")
            attended = tuple(
                decode(raw, type_name="Member", field="attendedIds") for raw in input.attended_ids
            )
            record = groups.log_group_session(
                session=context.session,
                member=context.member,
                group_id=group_id,
                log=groups.GroupSessionLog(
                    held_on=input.held_on,
                    duration_minutes=input.duration_minutes,
                    notes=input.notes,
                    attended_ids=attended,
                ),
            )
            view = groups.get_group(
                session=context.session, member=context.member, group_id=group_id
            )
            return LogGroupSessionSuccess(
                session=GroupSession.from_model(record, view.attended.get(record.id, [])),
                group=MentoringGroup.from_view(view),
            )

        return errors.outcome(log)
