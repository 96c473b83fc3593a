"""Goals, check-ins and relationship health.

Goals and their notes: only the two people of the mentorship (``backend.mentoring.goals``).
Check-ins: only the member asked. Health: organisers, aggregated and disclosure-controlled
(``backend.insights.health``); the needs-attention list names pairs and why, never notes or
check-in words.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry import relay

from backend.errors import NotFound
from backend.insights import health as health_figures
from backend.members import service as member_service
from backend.mentoring import check_ins as check_in_service
from backend.mentoring import goals as goal_service
from backend.mentoring import health
from backend.mentoring.models import CheckIn as CheckInModel
from backend.mentoring.models import GoalNote as GoalNoteModel
from backend.mentoring.models import MentorshipGoal as GoalModel
from schema import errors
from schema.context import Info
from schema.enums import EndReasonCategory, GoalStatus, from_enum, to_enum
from schema.ids import decode
from schema.inputs import check_text
from schema.insights import PublishedCount
from schema.mentoring import ProgrammeSummary, programme_summary
from schema.permissions import IsAuthenticated


def _gid(type_name: str, value: int) -> strawberry.ID:
    return strawberry.ID(relay.to_base64(type_name, value))


@strawberry.type(description="A dated progress note on a goal, by either side.")
class GoalNote:
    id: strawberry.ID
    text: str
    created_at: datetime
    written_by_me: bool

    @classmethod
    def of(cls, note: GoalNoteModel, viewer_id: int | None) -> GoalNote:
        """The GraphQL view of a note."""
        return cls(
            id=_gid("GoalNote", note.id),
            text=note.text,
            created_at=note.created_at,
            written_by_me=viewer_id is not None and note.author_id == viewer_id,
        )


@strawberry.type(description="A tracked goal of a mentorship; only the pair can read it.")
class MentorshipGoal:
    id: strawberry.ID
    title: str = strawberry.field(description="What the goal is.")
    due_on: date | None = strawberry.field(description="By when.")
    measure: str = strawberry.field(description="How you will know it is met.")
    status: GoalStatus
    created_at: datetime
    updated_at: datetime
    model: strawberry.Private[GoalModel]

    @classmethod
    def of(cls, goal: GoalModel) -> MentorshipGoal:
        """The GraphQL view of a goal."""
        return cls(
            id=_gid("MentorshipGoal", goal.id),
            title=goal.title,
            due_on=goal.due_on,
            measure=goal.measure,
            status=to_enum(GoalStatus, goal.status),
            created_at=goal.created_at,
            updated_at=goal.updated_at,
            model=goal,
        )

    @strawberry.field(description="Progress notes, newest first.")
    async def notes(self, info: Info) -> list[GoalNote]:
        """Through the notes loader (pair only)."""
        viewer = info.context.member
        found = await info.context.loaders.goal_notes.load(self.model.id)
        return [GoalNote.of(n, viewer.id if viewer else None) for n in found]


@strawberry.type(description="Your monthly 'How is it going?': private to you.")
class CheckIn:
    id: strawberry.ID
    asked_at: datetime
    answered_at: datetime | None
    score: int | None = strawberry.field(description="1 (not well) to 5 (very well).")
    comment: str
    share_with_organisers: bool
    mentorship_id: strawberry.ID = strawberry.field(description="The Mentorship's global id.")

    @classmethod
    def of(cls, check_in: CheckInModel) -> CheckIn:
        """The GraphQL view of a check-in."""
        return cls(
            id=_gid("CheckIn", check_in.id),
            asked_at=check_in.created_at,
            answered_at=check_in.answered_at,
            score=check_in.score,
            comment=check_in.comment,
            share_with_organisers=check_in.shared_with_organisers,
            mentorship_id=_gid("Mentorship", check_in.mentorship_id),
        )


@strawberry.type(description="A pair needing attention, and why (organisers only).")
class MentorshipNeedingAttention:
    mentor_name: str
    mentee_name: str
    programme: ProgrammeSummary
    started_at: datetime
    last_activity_on: date = strawberry.field(
        description="The latest session, or the start if none."
    )
    weeks_quiet: int
    reasons: list[str] = strawberry.field(description="Like 'No session for 9 weeks'.")


@strawberry.type(description="A count of ended-early mentorships with one reason category.")
class EndedEarlyCount:
    category: EndReasonCategory | None = strawberry.field(
        description="Null: no category was recorded."
    )
    label: str
    count: PublishedCount


@strawberry.type(description="A programme's relationship health, disclosure-controlled.")
class MentorshipHealth:
    programme: ProgrammeSummary
    weeks: int = strawberry.field(description="The quiet period the 'recent' figures use.")
    active_pairs: PublishedCount
    with_recent_session: PublishedCount
    recent_session_share: float | None = strawberry.field(description="Percent; null if hidden.")
    needing_attention: PublishedCount
    ended_early: PublishedCount
    ended_early_by_category: list[EndedEarlyCount]
    check_in_answers: PublishedCount
    mean_check_in_score: float | None = strawberry.field(description="Null where too few.")


# Inputs and payloads --------------------------------------------------------------------------


@strawberry.input(description="A goal: what, by when, how you will know.")
class AddGoalInput:
    mentorship_id: strawberry.ID
    title: str
    due_on: date | None = None
    measure: str = ""


@strawberry.input(description="Change a goal; leave out what stays as it is.")
class UpdateGoalInput:
    goal_id: strawberry.ID
    title: str | None = None
    due_on: date | None = None
    clear_due_on: bool = False
    measure: str | None = None
    status: GoalStatus | None = None


@strawberry.input(description="A progress note on a goal.")
class AddGoalNoteInput:
    goal_id: strawberry.ID
    text: str


@strawberry.input(description="Your answer: 1-5 and a line if you like.")
class AnswerCheckInInput:
    check_in_id: strawberry.ID
    score: int
    comment: str = ""
    share_with_organisers: bool = strawberry.field(
        default=False, description="Let organisers read your line (they never do otherwise)."
    )


@strawberry.type
class GoalSuccess:
    goal: MentorshipGoal


@strawberry.type
class GoalNoteSuccess:
    goal: MentorshipGoal
    note: GoalNote


@strawberry.type
class AnswerCheckInSuccess:
    check_in: CheckIn


AddGoalResult = Annotated[
    GoalSuccess | errors.Problem, errors.result_named("AddGoalResult", GoalSuccess)
]
UpdateGoalResult = Annotated[
    GoalSuccess | errors.Problem, errors.result_named("UpdateGoalResult", GoalSuccess)
]
AddGoalNoteResult = Annotated[
    GoalNoteSuccess | errors.Problem, errors.result_named("AddGoalNoteResult", GoalNoteSuccess)
]
AnswerCheckInResult = Annotated[
    AnswerCheckInSuccess | errors.Problem,
    errors.result_named("AnswerCheckInResult", AnswerCheckInSuccess),
]


def _programme_id(raw: strawberry.ID | None) -> int | None:
    return None if raw is None else decode(raw, type_name="Programme", field="programmeId")


@strawberry.type
class GoalQuery:
    """Goals, check-ins and relationship health."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A goal of one of your mentorships; null if there is none you may see.",
    )
    def mentorship_goal(self, info: Info, id: strawberry.ID) -> MentorshipGoal | None:
        """One goal (pair only)."""
        goal_id = decode(id, type_name="MentorshipGoal")
        try:
            found = goal_service.get_goal(
                session=info.context.session, member=info.context.member, goal_id=goal_id
            )
        except NotFound:
            return None
        return MentorshipGoal.of(found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your own check-ins, newest first (pending: unanswered ones only).",
    )
    def my_check_ins(self, info: Info, pending: bool = False) -> list[CheckIn]:
        """The caller's check-ins."""
        rows = check_in_service.mine(
            session=info.context.session, member=info.context.member, pending_only=pending
        )
        return [CheckIn.of(c) for c in rows]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Active pairs that need attention, quietest first (organisers, in scope).",
    )
    def mentorships_needing_attention(
        self, info: Info, programme_id: strawberry.ID | None = None
    ) -> list[MentorshipNeedingAttention]:
        """The needs-attention list."""
        items = health.needing_attention(
            session=info.context.session,
            organiser=info.context.member,
            programme_id=_programme_id(programme_id),
        )
        former = "Former member"
        return [
            MentorshipNeedingAttention(
                mentor_name=item.mentor.name if item.mentor else former,
                mentee_name=item.mentee.name if item.mentee else former,
                programme=programme_summary(info, item.programme_id),
                started_at=item.started_at,
                last_activity_on=item.last_activity,
                weeks_quiet=item.weeks_quiet,
                reasons=item.reasons,
            )
            for item in items
        ]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="A programme's relationship health (organisers who manage it).",
    )
    def mentorship_health(self, info: Info, programme_id: strawberry.ID) -> MentorshipHealth:
        """Health figures for one programme."""
        pid = decode(programme_id, type_name="Programme", field="programmeId")
        figures = health_figures.programme_health(
            session=info.context.session, organiser=info.context.member, programme_id=pid
        )
        return MentorshipHealth(
            programme=programme_summary(info, pid),
            weeks=figures.weeks,
            active_pairs=PublishedCount.of(figures.active),
            with_recent_session=PublishedCount.of(figures.with_recent_session),
            recent_session_share=figures.recent_share,
            needing_attention=PublishedCount.of(figures.needing_attention),
            ended_early=PublishedCount.of(figures.ended_early),
            ended_early_by_category=[
                EndedEarlyCount(
                    category=None
                    if key == health_figures.NOT_RECORDED
                    else to_enum(EndReasonCategory, key),
                    label=health_figures.CATEGORY_LABELS.get(key, "Reason not recorded"),
                    count=PublishedCount.of(count),
                )
                for key, count in figures.ended_early_by_category.items()
            ],
            check_in_answers=PublishedCount.of(figures.check_in_answers),
            mean_check_in_score=figures.mean_check_in_score,
        )


@strawberry.type
class GoalMutation:
    """Goals and check-ins."""

    @strawberry.mutation(description="Add a goal to one of your active mentorships.")
    def add_goal(self, info: Info, input: AddGoalInput) -> AddGoalResult:
        """Either side adds a goal."""
        context = info.context

        def add() -> GoalSuccess:
            member_service.require_member(context.member)
            check_text(title=input.title, measure=input.measure)
            goal = goal_service.add_goal(
                session=context.session,
                member=context.member,
                mentorship_id=decode(
                    input.mentorship_id, type_name="Mentorship", field="mentorshipId"
                ),
                draft=goal_service.GoalDraft(
                    title=input.title, due_on=input.due_on, measure=input.measure
                ),
            )
            context.reset_loaders()
            return GoalSuccess(goal=MentorshipGoal.of(goal))

        return errors.outcome(add)

    @strawberry.mutation(description="Change a goal: what, by when, how you'll know, status.")
    def update_goal(self, info: Info, input: UpdateGoalInput) -> UpdateGoalResult:
        """Either side changes a goal."""
        context = info.context

        def change() -> GoalSuccess:
            member_service.require_member(context.member)
            check_text(title=input.title, measure=input.measure)
            goal = goal_service.update_goal(
                session=context.session,
                member=context.member,
                goal_id=decode(input.goal_id, type_name="MentorshipGoal", field="goalId"),
                draft=goal_service.GoalDraft(
                    title=input.title,
                    due_on=input.due_on,
                    measure=input.measure,
                    status=from_enum(input.status),
                    clear_due_on=input.clear_due_on,
                ),
            )
            context.reset_loaders()
            return GoalSuccess(goal=MentorshipGoal.of(goal))

        return errors.outcome(change)

    @strawberry.mutation(description="Add a dated progress note to a goal.")
    def add_goal_note(self, info: Info, input: AddGoalNoteInput) -> AddGoalNoteResult:
        """Either side adds a note."""
        context = info.context

        def add() -> GoalNoteSuccess:
            member = member_service.require_member(context.member)
            check_text(text=input.text)
            goal_id = decode(input.goal_id, type_name="MentorshipGoal", field="goalId")
            note = goal_service.add_note(
                session=context.session, member=member, goal_id=goal_id, text=input.text
            )
            context.reset_loaders()
            goal = goal_service.get_goal(session=context.session, member=member, goal_id=goal_id)
            return GoalNoteSuccess(goal=MentorshipGoal.of(goal), note=GoalNote.of(note, member.id))

        return errors.outcome(add)

    @strawberry.mutation(description="Answer one of your check-ins, once.")
    def answer_check_in(self, info: Info, input: AnswerCheckInInput) -> AnswerCheckInResult:
        """The member answers "How is it going?"."""
        context = info.context

        def answer() -> AnswerCheckInSuccess:
            member_service.require_member(context.member)
            check_text(comment=input.comment)
            found = check_in_service.answer(
                session=context.session,
                member=context.member,
                check_in_id=decode(input.check_in_id, type_name="CheckIn", field="checkInId"),
                given=check_in_service.CheckInAnswer(
                    score=input.score,
                    comment=input.comment,
                    share_with_organisers=input.share_with_organisers,
                ),
            )
            context.reset_loaders()
            return AnswerCheckInSuccess(check_in=CheckIn.of(found))

        return errors.outcome(answer)
