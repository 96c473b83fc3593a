"""Mentoring: requests and the mentor's inbox, mentorships, logged sessions and endings.

Who may see what is decided by ``backend.mentoring.service`` (only the two people involved);
relationship fields go through the request's DataLoaders.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from backend.errors import NotFound
from backend.members import service as member_service
from backend.members.models import Member as MemberModel
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentoringSession as SessionModel
from backend.mentoring.models import MentorRequest as RequestModel
from backend.mentoring.models import Mentorship as MentorshipModel
from backend.mentoring.models import MentorshipFeedback as FeedbackModel
from backend.programmes import pairing
from schema import errors
from schema.bookings import BookedSession, bookings_of_mentorship
from schema.context import Info
from schema.enums import (
    EndReasonCategory,
    MentorRequestDirection,
    MentorRequestStatus,
    MentorshipOutcome,
    MentorshipRole,
    MentorshipStatus,
    from_enum,
    to_enum,
)
from schema.ids import database_id, decode
from schema.inputs import check_lists, check_text
from schema.members import Member
from schema.permissions import IsAuthenticated
from schema.reference import Skill, connection, decode_offset, page_size

if TYPE_CHECKING:
    from schema.goals import CheckIn, MentorshipGoal

FORMER_MEMBER = "Former member"


@strawberry.type(description="The programme a mentorship, request or round belongs to.")
class ProgrammeSummary:
    id: strawberry.ID = strawberry.field(description="The Programme's global id.")
    name: str
    is_default: bool = strawberry.field(
        description="True for the network's open, always-on mentoring (the default programme)."
    )


def programme_summary(info: Info, programme_id: int) -> ProgrammeSummary:
    """The programme of ``programme_id`` as the schema shows it."""
    programme = pairing.get_programme(session=info.context.session, programme_id=programme_id)
    return ProgrammeSummary(
        id=strawberry.ID(relay.to_base64("Programme", programme.id)),
        name=programme.name,
        is_default=programme.is_default,
    )


async def _member(info: Info, member_id: int | None) -> Member | None:
    """A member through the loader; null once they have erased or closed their account."""
    if member_id is None:
        return None
    found = await info.context.loaders.members.load(member_id)
    return Member.from_model(found) if found is not None and found.is_active else None


def _viewer_id(info: Info) -> int | None:
    member = info.context.member
    return member.id if member is not None else None


@strawberry.type(
    description="A request for mentoring, seen by the mentee who sent it and its mentor."
)
class MentorRequest(relay.Node):
    id: relay.NodeID[int]
    status: MentorRequestStatus
    message: str
    decline_reason: str = strawberry.field(description="The mentor's reason, if they gave one.")
    created_at: datetime
    expires_at: datetime = strawberry.field(description="When it closes if still unanswered.")
    responded_at: datetime | None
    model: strawberry.Private[RequestModel]

    @classmethod
    def from_model(cls, request: RequestModel) -> MentorRequest:
        """The GraphQL view of a request."""
        return cls(
            id=request.id,
            status=to_enum(MentorRequestStatus, request.status),
            message=request.message,
            decline_reason=request.decline_reason,
            created_at=request.created_at,
            expires_at=request.expires_at,
            responded_at=request.responded_at,
            model=request,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[MentorRequest | None]:
        """Requests by id, with the rule of `mentorRequest(id)`: only the two people involved."""
        result: list[MentorRequest | None] = []
        for raw in node_ids:
            try:
                found = mentoring.get_request(
                    session=info.context.session,
                    member=info.context.member,
                    request_id=database_id(raw) or 0,
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(found))
        return result

    @strawberry.field(description="The member asking; null if they have left.")
    async def mentee(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.mentee_id)

    @strawberry.field(description="The member asked; null if they have left.")
    async def mentor(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.mentor_id)

    @strawberry.field(description="The skills the mentee wants to work on.")
    async def skills(self, info: Info) -> list[Skill]:
        """Through the skills loader."""
        found = await info.context.loaders.skill_by_id.load_many(self.model.skill_ids)
        return [Skill.from_model(s) for s in found if s is not None]


@strawberry.type(description="One meeting of a mentorship. Notes are private to the pair.")
class MentoringSession:
    held_on: date
    duration_minutes: int
    notes: str
    created_at: datetime
    model: strawberry.Private[SessionModel]

    @classmethod
    def from_model(cls, record: SessionModel) -> MentoringSession:
        """The GraphQL view of a logged session."""
        return cls(
            held_on=record.held_on,
            duration_minutes=record.duration_minutes,
            notes=record.notes,
            created_at=record.created_at,
            model=record,
        )

    @strawberry.field(description="Who logged it; null if they have left.")
    async def logged_by(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.logged_by_id)

    @strawberry.field(description="True when you logged it.")
    def logged_by_me(self, info: Info) -> bool:
        """Whether the caller logged this session."""
        return self.model.logged_by_id is not None and self.model.logged_by_id == _viewer_id(info)


@strawberry.type(description="A rating (1-5) and words about a mentorship, from one side.")
class MentorshipFeedback:
    rating: int
    text: str
    created_at: datetime

    @classmethod
    def from_model(cls, feedback: FeedbackModel) -> MentorshipFeedback:
        """The GraphQL view of feedback."""
        return cls(rating=feedback.rating, text=feedback.text, created_at=feedback.created_at)


@strawberry.type(description="A mentor and a mentee working together; only the two can see it.")
class Mentorship(relay.Node):
    id: relay.NodeID[int]
    status: MentorshipStatus
    meeting_rhythm: str
    planned_months: int = strawberry.field(description="The agreed length, 6 to 12 months.")
    started_at: datetime
    ended_at: datetime | None
    end_reason: str
    end_reason_category: EndReasonCategory | None = strawberry.field(
        description="Why it ended early, where the side who ended it said."
    )
    model: strawberry.Private[MentorshipModel]

    @classmethod
    def from_model(cls, mentorship: MentorshipModel) -> Mentorship:
        """The GraphQL view of a mentorship."""
        return cls(
            id=mentorship.id,
            status=to_enum(MentorshipStatus, mentorship.status),
            meeting_rhythm=mentorship.meeting_rhythm,
            planned_months=mentorship.planned_months,
            started_at=mentorship.started_at,
            ended_at=mentorship.ended_at,
            end_reason=mentorship.end_reason,
            end_reason_category=to_enum(EndReasonCategory, mentorship.end_category),
            model=mentorship,
        )

    @classmethod
    def resolve_nodes(  # type: ignore[override]  # strawberry overloads on required; one body
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Mentorship | None]:
        """Mentorships by id, with the rule of `mentorship(id)`: only the pair."""
        result: list[Mentorship | None] = []
        for raw in node_ids:
            try:
                found = mentoring.get_mentorship(
                    session=info.context.session,
                    member=info.context.member,
                    mentorship_id=database_id(raw) or 0,
                )
            except NotFound:
                result.append(None)
            else:
                result.append(cls.from_model(found))
        return result

    def _is_mentor(self, info: Info) -> bool:
        viewer_id = _viewer_id(info)
        return viewer_id is not None and viewer_id == self.model.mentor_id

    @strawberry.field(description="The mentor; null if they have erased their account.")
    async def mentor(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.mentor_id)

    @strawberry.field(description="The mentee; null if they have erased their account.")
    async def mentee(self, info: Info) -> Member | None:
        """Through the members loader."""
        return await _member(info, self.model.mentee_id)

    @strawberry.field(description="The programme the mentorship belongs to.")
    def programme(self, info: Info) -> ProgrammeSummary:
        """The mentorship's programme (the default programme for open mentoring)."""
        return programme_summary(info, self.model.programme_id)

    @strawberry.field(description="Your side of the mentorship.")
    def my_role(self, info: Info) -> MentorshipRole:
        """MENTOR or MENTEE, for the caller."""
        return to_enum(MentorshipRole, "mentor" if self._is_mentor(info) else "mentee")

    @strawberry.field(description="The other person; null if they have erased their account.")
    async def partner(self, info: Info) -> Member | None:
        """The mentee for the mentor, the mentor for the mentee."""
        model = self.model
        return await _member(info, model.mentee_id if self._is_mentor(info) else model.mentor_id)

    @strawberry.field(description=f"The other person's name, or '{FORMER_MEMBER}'.")
    async def partner_name(self, info: Info) -> str:
        """A name to show even when the partner has left."""
        partner = await self.partner(info)
        return partner.name if partner is not None else FORMER_MEMBER

    @strawberry.field(description="Logged sessions, newest first, with the pair's notes.")
    async def sessions(self, info: Info) -> list[MentoringSession]:
        """Through the sessions loader, which asks the service (pair only)."""
        records = await info.context.loaders.mentoring_sessions.load(self.id)
        return [MentoringSession.from_model(r) for r in records]

    @strawberry.field(description="Sessions booked (and cancelled), soonest first, with times.")
    async def booked_sessions(self, info: Info) -> list[BookedSession]:
        """Through the bookings loader, which asks the service (pair only)."""
        found = await bookings_of_mentorship(info, self.id)
        return [BookedSession.from_model(b) for b in found if b.status in ("booked", "cancelled")]

    @strawberry.field(description="Times proposed and waiting for an answer, with their options.")
    async def session_proposals(self, info: Info) -> list[BookedSession]:
        """Through the bookings loader: the open proposals, from either side."""
        found = await bookings_of_mentorship(info, self.id)
        return [BookedSession.from_model(b) for b in found if b.status == "proposed"]

    @strawberry.field(description="The pair's tracked goals, oldest first (pair only).")
    async def goals(
        self, info: Info
    ) -> list[Annotated[MentorshipGoal, strawberry.lazy("schema.goals")]]:
        """Through the goals loader, which asks the service (pair only)."""
        from schema.goals import MentorshipGoal as GoalType

        records = await info.context.loaders.mentorship_goals.load(self.id)
        return [GoalType.of(g) for g in records]

    @strawberry.field(description="Your own unanswered check-ins of this mentorship.")
    async def pending_check_ins(
        self, info: Info
    ) -> list[Annotated[CheckIn, strawberry.lazy("schema.goals")]]:
        """Through the check-ins loader: the caller's own, never the partner's."""
        from schema.goals import CheckIn as CheckInType

        records = await info.context.loaders.pending_check_ins.load(self.id)
        return [CheckInType.of(c) for c in records]

    @strawberry.field(description="The feedback you gave, once the mentorship has ended.")
    async def my_feedback(self, info: Info) -> MentorshipFeedback | None:
        """Through the feedback loader."""
        found = await info.context.loaders.own_feedback.load(self.id)
        return MentorshipFeedback.from_model(found) if found is not None else None


# Inputs and payloads --------------------------------------------------------------------------


@strawberry.input(description="Ask a mentor; retrying with the same `idempotencyKey` is safe.")
class RequestMentorInput:
    mentor_id: strawberry.ID = strawberry.field(description="The mentor's Member id.")
    message: str = strawberry.field(description="What you would like help with (up to 2,000).")
    skills: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Skill ids to work on (at most 10)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="Any unique string per attempt, up to 100 characters."
    )
    programme_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Ask within this Programme (you must be one of its accepted mentees); "
        "null for the network's open mentoring.",
    )


@strawberry.type(description="The request, sent; the mentor has been told.")
class RequestMentorSuccess:
    request: MentorRequest


@strawberry.input
class WithdrawMentorRequestInput:
    request_id: strawberry.ID


@strawberry.type(description="The request, withdrawn.")
class WithdrawMentorRequestSuccess:
    request: MentorRequest


@strawberry.input(description="Accept, or decline with an optional reason shown to the mentee.")
class RespondToMentorRequestInput:
    request_id: strawberry.ID
    accept: bool
    reason: str = ""


@strawberry.type(description="The request, answered; `mentorship` is set when you accepted.")
class RespondToMentorRequestSuccess:
    request: MentorRequest
    mentorship: Mentorship | None


@strawberry.input(description="What the pair agreed.")
class UpdateMentorshipAgreementInput:
    mentorship_id: strawberry.ID
    goals: str | None = strawberry.field(
        default=None,
        description="Deprecated: use addGoal. Each line not already a goal becomes an open goal.",
    )
    meeting_rhythm: str = strawberry.field(description="Like 'Monthly, 45 minutes, on Teams'.")
    planned_months: int = strawberry.field(description="6 to 12.")


@strawberry.type(description="The mentorship with the agreement saved.")
class MentorshipSuccess:
    mentorship: Mentorship


@strawberry.input(description="A meeting of the pair; the notes are private to the two of you.")
class LogMentoringSessionInput:
    mentorship_id: strawberry.ID
    held_on: date = strawberry.field(description="The day you met, like 2026-03-14.")
    duration_minutes: int = strawberry.field(description="5 to 480.")
    notes: str = ""
    booking_id: strawberry.ID | None = strawberry.field(
        default=None, description="The booked session this logs, once its time has passed."
    )


@strawberry.type(description="The session, logged; the other side has been told.")
class LogMentoringSessionSuccess:
    session: MentoringSession
    mentorship: Mentorship


@strawberry.input(description="End a mentorship; a rating now is optional (or give it later).")
class EndMentorshipInput:
    mentorship_id: strawberry.ID
    outcome: MentorshipOutcome
    rating: int | None = strawberry.field(default=None, description="1 to 5.")
    feedback: str = ""
    reason: str = ""
    reason_category: EndReasonCategory | None = strawberry.field(
        default=None, description="Why it ended early (only with ENDED_EARLY)."
    )


@strawberry.input(description="Your rating (1-5) of an ended mentorship, once per side.")
class GiveMentorshipFeedbackInput:
    mentorship_id: strawberry.ID
    rating: int
    feedback: str = ""


@strawberry.type(description="Your feedback, saved.")
class GiveMentorshipFeedbackSuccess:
    mentorship: Mentorship
    feedback: MentorshipFeedback


RequestMentorResult = Annotated[
    RequestMentorSuccess | errors.Problem | errors.RequestProblem,
    errors.result_named("RequestMentorResult", RequestMentorSuccess),
]
WithdrawMentorRequestResult = Annotated[
    WithdrawMentorRequestSuccess | errors.Problem,
    errors.result_named("WithdrawMentorRequestResult", WithdrawMentorRequestSuccess),
]
RespondToMentorRequestResult = Annotated[
    RespondToMentorRequestSuccess | errors.Problem | errors.RequestProblem,
    errors.result_named("RespondToMentorRequestResult", RespondToMentorRequestSuccess),
]
UpdateMentorshipAgreementResult = Annotated[
    MentorshipSuccess | errors.Problem,
    errors.result_named("UpdateMentorshipAgreementResult", MentorshipSuccess),
]
LogMentoringSessionResult = Annotated[
    LogMentoringSessionSuccess | errors.Problem,
    errors.result_named("LogMentoringSessionResult", LogMentoringSessionSuccess),
]
EndMentorshipResult = Annotated[
    MentorshipSuccess | errors.Problem,
    errors.result_named("EndMentorshipResult", MentorshipSuccess),
]
GiveMentorshipFeedbackResult = Annotated[
    GiveMentorshipFeedbackSuccess | errors.Problem,
    errors.result_named("GiveMentorshipFeedbackResult", GiveMentorshipFeedbackSuccess),
]


# Queries and mutations ------------------------------------------------------------------------


@strawberry.type
class MentoringQuery:
    """The signed-in member's requests and mentorships."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Requests you sent (SENT) or that were sent to you (RECEIVED), newest first.",
    )
    def mentor_requests(
        self,
        info: Info,
        direction: MentorRequestDirection,
        status: MentorRequestStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> relay.Connection[MentorRequest]:
        """A page of the caller's requests."""
        limit = page_size(first, info, default=20)
        offset = decode_offset(after)
        rows, more = mentoring.requests_page(
            session=info.context.session,
            member=info.context.member,
            direction=from_enum(direction),
            status=from_enum(status),
            offset=offset,
            limit=limit,
        )
        return connection([MentorRequest.from_model(r) for r in rows], offset=offset, more=more)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One of your requests by id; null if there is none you may see.",
    )
    def mentor_request(self, info: Info, id: strawberry.ID) -> MentorRequest | None:
        """A request the caller sent or received."""
        request_id = decode(id, type_name="MentorRequest")
        try:
            found = mentoring.get_request(
                session=info.context.session, member=info.context.member, request_id=request_id
            )
        except NotFound:
            return None
        return MentorRequest.from_model(found)

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Your mentorships, as mentor or mentee, newest first.",
    )
    def mentorships(
        self,
        info: Info,
        status: MentorshipStatus | None = None,
    ) -> list[Mentorship]:
        """The caller's mentorships."""
        rows = mentoring.list_mentorships(
            session=info.context.session, member=info.context.member, status=from_enum(status)
        )
        return [Mentorship.from_model(m) for m in rows]

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="One of your mentorships by id; null if there is none you may see.",
    )
    def mentorship(self, info: Info, id: strawberry.ID) -> Mentorship | None:
        """A mentorship the caller is part of."""
        mentorship_id = decode(id, type_name="Mentorship")
        try:
            found = mentoring.get_mentorship(
                session=info.context.session,
                member=info.context.member,
                mentorship_id=mentorship_id,
            )
        except NotFound:
            return None
        return Mentorship.from_model(found)


def _mentorship_for(
    info: Info, mentor: MemberModel, request: RequestModel
) -> MentorshipModel | None:
    """The mentorship an accepted request started (among the mentor's active ones)."""
    if request.status != "accepted":
        return None
    active = mentoring.list_mentorships(
        session=info.context.session, member=mentor, status="active"
    )
    return next((m for m in active if m.request_id == request.id), None)


@strawberry.type
class MentoringMutation:
    """Mutations on requests and mentorships."""

    @strawberry.mutation(description="Ask a member to be your mentor.")
    def request_mentor(self, info: Info, input: RequestMentorInput) -> RequestMentorResult:
        """Send a request."""
        context = info.context

        def send() -> RequestMentorSuccess:
            member_service.require_member(context.member)
            check_lists(skills=input.skills)
            check_text(message=input.message, idempotency_key=input.idempotency_key)
            request = mentoring.request_mentor(
                session=context.session,
                mentee=context.member,
                mentor_id=decode(input.mentor_id, type_name="Member", field="mentorId"),
                message=input.message,
                skills=[str(s) for s in input.skills],
                idempotency_key=input.idempotency_key,
                programme_id=None
                if input.programme_id is None
                else decode(input.programme_id, type_name="Programme", field="programmeId"),
            )
            context.reset_loaders()
            return RequestMentorSuccess(request=MentorRequest.from_model(request))

        return errors.outcome(send, extra=errors.REQUEST_ERRORS)

    @strawberry.mutation(description="Take back a request you sent that is still open.")
    def withdraw_mentor_request(
        self, info: Info, input: WithdrawMentorRequestInput
    ) -> WithdrawMentorRequestResult:
        """Withdraw a request."""
        context = info.context

        def withdraw() -> WithdrawMentorRequestSuccess:
            member_service.require_member(context.member)
            request = mentoring.withdraw_request(
                session=context.session,
                mentee=context.member,
                request_id=decode(input.request_id, type_name="MentorRequest", field="requestId"),
            )
            context.reset_loaders()
            return WithdrawMentorRequestSuccess(request=MentorRequest.from_model(request))

        return errors.outcome(withdraw)

    @strawberry.mutation(description="As the mentor: accept a request, or decline it.")
    def respond_to_mentor_request(
        self, info: Info, input: RespondToMentorRequestInput
    ) -> RespondToMentorRequestResult:
        """Answer a request."""
        context = info.context

        def respond() -> RespondToMentorRequestSuccess:
            mentor = member_service.require_member(context.member)
            check_text(reason=input.reason)
            request = mentoring.respond_to_request(
                session=context.session,
                mentor=mentor,
                request_id=decode(input.request_id, type_name="MentorRequest", field="requestId"),
                accept=input.accept,
                reason=input.reason,
            )
            context.reset_loaders()
            started = _mentorship_for(info, mentor, request)
            return RespondToMentorRequestSuccess(
                request=MentorRequest.from_model(request),
                mentorship=Mentorship.from_model(started) if started is not None else None,
            )

        return errors.outcome(respond, extra=errors.REQUEST_ERRORS)

    @strawberry.mutation(description="Record your goals, meeting rhythm and planned length.")
    def update_mentorship_agreement(
        self, info: Info, input: UpdateMentorshipAgreementInput
    ) -> UpdateMentorshipAgreementResult:
        """Save the agreement."""
        context = info.context

        def update() -> MentorshipSuccess:
            member_service.require_member(context.member)
            check_text(goals=input.goals, meeting_rhythm=input.meeting_rhythm)
            mentorship = mentoring.update_agreement(
                session=context.session,
                member=context.member,
                mentorship_id=decode(
                    input.mentorship_id, type_name="Mentorship", field="mentorshipId"
                ),
                agreement=mentoring.AgreementUpdate(
                    goals=input.goals,
                    meeting_rhythm=input.meeting_rhythm,
                    planned_months=input.planned_months,
                ),
            )
            return MentorshipSuccess(mentorship=Mentorship.from_model(mentorship))

        return errors.outcome(update)

    @strawberry.mutation(description="Log a meeting: the date, how long, and private notes.")
    def log_mentoring_session(
        self, info: Info, input: LogMentoringSessionInput
    ) -> LogMentoringSessionResult:
        """Log a session."""
        context = info.context

        def log() -> LogMentoringSessionSuccess:
            member_service.require_member(context.member)
            check_text(notes=input.notes)
            mentorship_id = decode(
                input.mentorship_id, type_name="Mentorship", field="mentorshipId"
            )
            record = mentoring.log_session(
                session=context.session,
                member=context.member,
                mentorship_id=mentorship_id,
                log=mentoring.SessionLog(
                    held_on=input.held_on,
                    duration_minutes=input.duration_minutes,
                    notes=input.notes,
                    booking_id=decode(
                        input.booking_id, type_name="BookedSession", field="bookingId"
                    )
                    if input.booking_id
                    else None,
                ),
            )
            context.reset_loaders()
            mentorship = mentoring.get_mentorship(
                session=context.session, member=context.member, mentorship_id=mentorship_id
            )
            return LogMentoringSessionSuccess(
                session=MentoringSession.from_model(record),
                mentorship=Mentorship.from_model(mentorship),
            )

        return errors.outcome(log)

    @strawberry.mutation(description="End a mentorship, completed or early, with feedback.")
    def end_mentorship(self, info: Info, input: EndMentorshipInput) -> EndMentorshipResult:
        """End a mentorship; the mentor's place is freed."""
        context = info.context

        def end() -> MentorshipSuccess:
            member_service.require_member(context.member)
            check_text(feedback=input.feedback, reason=input.reason)
            mentorship = mentoring.end_mentorship(
                session=context.session,
                member=context.member,
                mentorship_id=decode(
                    input.mentorship_id, type_name="Mentorship", field="mentorshipId"
                ),
                ending=mentoring.MentorshipEnding(
                    outcome=from_enum(input.outcome),
                    rating=input.rating,
                    feedback=input.feedback,
                    reason=input.reason,
                    category=from_enum(input.reason_category),
                ),
            )
            context.reset_loaders()
            return MentorshipSuccess(mentorship=Mentorship.from_model(mentorship))

        return errors.outcome(end)

    @strawberry.mutation(description="Rate an ended mentorship (1-5), once per side.")
    def give_mentorship_feedback(
        self, info: Info, input: GiveMentorshipFeedbackInput
    ) -> GiveMentorshipFeedbackResult:
        """Give feedback."""
        context = info.context

        def give() -> GiveMentorshipFeedbackSuccess:
            member_service.require_member(context.member)
            check_text(feedback=input.feedback)
            mentorship_id = decode(
                input.mentorship_id, type_name="Mentorship", field="mentorshipId"
            )
            feedback = mentoring.give_feedback(
                session=context.session,
                member=context.member,
                mentorship_id=mentorship_id,
                given=mentoring.FeedbackGiven(rating=input.rating, feedback=input.feedback),
            )
            context.reset_loaders()
            mentorship = mentoring.get_mentorship(
                session=context.session, member=context.member, mentorship_id=mentorship_id
            )
            return GiveMentorshipFeedbackSuccess(
                mentorship=Mentorship.from_model(mentorship),
                feedback=MentorshipFeedback.from_model(feedback),
            )

        return errors.outcome(give)
