"""Mentor suggestions for one member: ranked, with a match percentage and plain reasons.

The matcher scores the member against every mentor with a free place; the hard rules (band
above, not in one's line-management chain, another organisation where asked, not oneself)
are masks that no score can break.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring.models import MentorRequest
from backend.rounds import population

MAX_SUGGESTIONS = 50


@dataclass(frozen=True)
class SuggestedMentor:
    """One suggestion: the mentor's id, a 0-100 match score, and why."""

    member_id: int
    score: int
    reasons: list[str]


def suggest_mentors(
    *,
    session: Session,
    member: Member | None,
    k: int = 10,
    exclude_ids: Collection[int] = (),
) -> list[SuggestedMentor]:
    """The best mentors with a free place for the signed-in member, best first.

    Exposure control: a mentor who already has many requests waiting per free place is ranked
    lower, so a popular mentor is not offered to many more mentees than they can take.
    """
    from matching.suggestions import MentorSuggester

    member = member_service.require_member(member)
    k = max(1, min(int(k), MAX_SUGGESTIONS))
    # Mentors already asked (open request) are not suggested again.
    asked = set(
        session.exec(
            select(MentorRequest.mentor_id)
            .where(MentorRequest.mentee_id == member.id)
            .where(MentorRequest.status == "open")
        ).all()
    )
    frame = population.member_frame(
        session=session,
        mentee_ids=[member.id],  # type: ignore[list-item]
        exclude_mentors=asked | set(exclude_ids) | {member.id},
    )
    if frame.empty or int(frame["mentor_capacity"].sum()) == 0:
        return []
    waiting = dict(
        session.exec(
            select(MentorRequest.mentor_id, func.count())
            .where(MentorRequest.status == "open")
            .group_by(MentorRequest.mentor_id)
        ).all()
    )
    suggester = MentorSuggester().fit(frame)
    suggestions = suggester.suggest(
        str(member.id),
        k=k,
        exposure_counts={str(m): float(n) for m, n in waiting.items()},
        record=False,
    )
    return [
        SuggestedMentor(
            member_id=int(s.mentor_id), score=round(float(s.score)), reasons=list(s.reasons)
        )
        for s in suggestions
    ]
