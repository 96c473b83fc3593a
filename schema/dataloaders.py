"""DataLoaders, created fresh for every request so that nothing is cached across users."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session
from strawberry.dataloader import DataLoader

from backend.events import service as event_service
from backend.members import service as member_service
from backend.members.models import Member, MentoringOffer
from backend.mentoring import bookings as bookings_service
from backend.mentoring import check_ins as check_in_service
from backend.mentoring import goals as goal_service
from backend.mentoring import service as mentoring_service
from backend.mentoring.models import (
    CheckIn,
    GoalNote,
    MentoringSession,
    MentorshipFeedback,
    MentorshipGoal,
    SessionBooking,
    SessionTimeOption,
)
from backend.organisations import service as organisation_service
from backend.organisations.models import Organisation
from backend.skills import service as skill_service
from backend.skills.models import Skill


@dataclass
class Loaders:
    """One request's loaders: each batches its keys into a single SQL query."""

    members: DataLoader[int, Member | None]
    roles: DataLoader[int, list[str]]
    skills: DataLoader[int, dict[str, list[str]]]
    offers: DataLoader[int, MentoringOffer]
    organisations: DataLoader[int, Organisation | None]
    skill_by_id: DataLoader[str, Skill | None]
    mentoring_sessions: DataLoader[int, list[MentoringSession]]
    own_feedback: DataLoader[int, MentorshipFeedback | None]
    session_bookings: DataLoader[int, list[SessionBooking]]
    booking_options: DataLoader[int, list[SessionTimeOption]]
    mentorship_goals: DataLoader[int, list[MentorshipGoal]]
    goal_notes: DataLoader[int, list[GoalNote]]
    pending_check_ins: DataLoader[int, list[CheckIn]]
    event_skills: DataLoader[int, list[str]]


def make_loaders(session: Session, viewer: Callable[[], Member | None] = lambda: None) -> Loaders:
    """Fresh loaders bound to ``session``; ``viewer`` gives the caller, for private data."""

    async def members(ids: Sequence[int]) -> list[Member | None]:
        found = member_service.get_many(session=session, member_ids=list(ids))
        return [found.get(i) for i in ids]

    async def roles(ids: Sequence[int]) -> list[list[str]]:
        found = member_service.roles_for(session=session, member_ids=list(ids))
        return [found[i] for i in ids]

    async def skills(ids: Sequence[int]) -> list[dict[str, list[str]]]:
        found = member_service.skills_for(session=session, member_ids=list(ids))
        return [found[i] for i in ids]

    async def offers(ids: Sequence[int]) -> list[MentoringOffer]:
        found = member_service.offers_for(session=session, member_ids=list(ids))
        return [found[i] for i in ids]

    async def organisations(ids: Sequence[int]) -> list[Organisation | None]:
        found = organisation_service.get_many(session=session, organisation_ids=list(ids))
        return [found.get(i) for i in ids]

    async def skill_by_id(ids: Sequence[str]) -> list[Skill | None]:
        # The framework is small: one query for all of it beats an IN list.
        found = {skill.id: skill for skill in skill_service.list_skills(session=session)}
        return [found.get(i) for i in ids]

    async def mentoring_sessions(ids: Sequence[int]) -> list[list[MentoringSession]]:
        # The service leaves out mentorships the viewer is not part of: notes stay private.
        found = mentoring_service.sessions_for(
            session=session, member=viewer(), mentorship_ids=list(ids)
        )
        return [found[i] for i in ids]

    async def own_feedback(ids: Sequence[int]) -> list[MentorshipFeedback | None]:
        found = mentoring_service.own_feedback_for(
            session=session, member=viewer(), mentorship_ids=list(ids)
        )
        return [found[i] for i in ids]

    async def session_bookings(ids: Sequence[int]) -> list[list[SessionBooking]]:
        # Only the viewer's own mentorships' bookings (the service checks the pair).
        found = bookings_service.bookings_for(
            session=session, member=viewer(), mentorship_ids=list(ids)
        )
        return [found[i] for i in ids]

    async def booking_options(ids: Sequence[int]) -> list[list[SessionTimeOption]]:
        # Keys come from bookings the viewer was allowed to load.
        found = bookings_service.options_for(session=session, booking_ids=list(ids))
        return [found[i] for i in ids]

    async def mentorship_goals(ids: Sequence[int]) -> list[list[MentorshipGoal]]:
        # Pair only, like sessions: the service returns nothing for anyone else.
        found = goal_service.goals_for(session=session, member=viewer(), mentorship_ids=list(ids))
        return [found[i] for i in ids]

    async def goal_notes(ids: Sequence[int]) -> list[list[GoalNote]]:
        found = goal_service.notes_for(session=session, member=viewer(), goal_ids=list(ids))
        return [found[i] for i in ids]

    async def pending_check_ins(ids: Sequence[int]) -> list[list[CheckIn]]:
        # The viewer's own check-ins only, never the partner's.
        found = check_in_service.pending_for(
            session=session, member=viewer(), mentorship_ids=list(ids)
        )
        return [found[i] for i in ids]

    async def event_skills(ids: Sequence[int]) -> list[list[str]]:
        # Keys come from events the viewer was allowed to load.
        found = event_service.skills_of(session=session, event_ids=list(ids))
        return [found[i] for i in ids]

    return Loaders(
        members=DataLoader(load_fn=members),
        roles=DataLoader(load_fn=roles),
        skills=DataLoader(load_fn=skills),
        offers=DataLoader(load_fn=offers),
        organisations=DataLoader(load_fn=organisations),
        skill_by_id=DataLoader(load_fn=skill_by_id),
        mentoring_sessions=DataLoader(load_fn=mentoring_sessions),
        own_feedback=DataLoader(load_fn=own_feedback),
        session_bookings=DataLoader(load_fn=session_bookings),
        booking_options=DataLoader(load_fn=booking_options),
        mentorship_goals=DataLoader(load_fn=mentorship_goals),
        goal_notes=DataLoader(load_fn=goal_notes),
        pending_check_ins=DataLoader(load_fn=pending_check_ins),
        event_skills=DataLoader(load_fn=event_skills),
    )
