"""Mentor suggestions for the signed-in member: ranked by the matcher, with scores and reasons.

The rules (never oneself, never one's line-management chain, only mentors with a free place)
live in ``backend.mentoring.suggestions``; mentors resolve through the members loader.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend.errors import Invalid
from backend.mentoring import suggestions as suggestion_service
from schema.context import Info
from schema.ids import decode
from schema.members import Member
from schema.permissions import IsAuthenticated

MAX_SUGGESTIONS = suggestion_service.MAX_SUGGESTIONS


@strawberry.type(description="A mentor the matcher suggests for you, with a match score and why.")
class MentorSuggestion:
    mentor: Member = strawberry.field(description="The suggested mentor.")
    score: int = strawberry.field(description="How well you match, 0 to 100.")
    reasons: list[str] = strawberry.field(description="Why, in plain English.")


@strawberry.type
class SuggestionQuery:
    """Suggestions for the signed-in member."""

    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description=f"Mentors with a free place for you, best first (at most {MAX_SUGGESTIONS}).",
    )
    async def mentor_suggestions(
        self,
        info: Info,
        first: int = 10,
        programme_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Suggest under this programme's type (reciprocal mentoring pairs "
                "senior leaders with members who have widening-access priority); none: the "
                "open mentoring."
            ),
        ] = None,
    ) -> list[MentorSuggestion]:
        """The best-matching mentors for the caller, their profiles through the loader."""
        if not 1 <= first <= MAX_SUGGESTIONS:
            raise Invalid(f"first must be from 1 to {MAX_SUGGESTIONS}.", field="first")
        found = suggestion_service.suggest_mentors(
            session=info.context.session,
            member=info.context.member,
            k=first,
            programme_id=None
            if programme_id is None
            else decode(programme_id, type_name="Programme", field="programmeId"),
        )
        mentors = await info.context.loaders.members.load_many([s.member_id for s in found])
        return [
            MentorSuggestion(
                mentor=Member.from_model(mentor),
                score=max(0, min(100, int(s.score))),
                reasons=list(s.reasons),
            )
            for s, mentor in zip(found, mentors, strict=True)
            if mentor is not None and mentor.is_active  # gone since ranking: leave out
        ]
