"""Mentor suggestions for one member: ranked, with a match percentage and plain reasons.

The matcher scores the member against every mentor with a free place; the hard rules (band
above, not in one's line-management chain, another organisation where asked, not oneself)
are masks that no score can break. The fitted matcher is kept per process by
``backend.matchmaking.suggestions``; this service adds what the mentoring domain knows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from backend.errors import NotFound
from backend.matchmaking import rules as pair_rules
from backend.matchmaking import suggestions as matchmaking
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring.models import MentorRequest
from backend.programmes.models import Programme

MAX_SUGGESTIONS = 50
# Open requests per mentor, for the mentors the matcher asks about (its expanding parameter).
WAITING = (
    select(MentorRequest.mentor_id, func.count())
    .where(col(MentorRequest.mentor_id).in_(bindparam(matchmaking.MENTOR_IDS, expanding=True)))
    .where(MentorRequest.status == "open")
    .group_by(col(MentorRequest.mentor_id))
)


@dataclass(frozen=True)
class SuggestedMentor:
    """One suggestion: the mentor's id, a 0-100 match score, and why."""

    member_id: int
    score: int
    reasons: list[str]


def _band_rule(session: Session, programme_id: int | None) -> str:
    if programme_id is None:
        return "senior"
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("No such programme.", field="programme_id")
    return pair_rules.band_rule_of(programme.type)


def suggest_mentors(
    *,
    session: Session,
    member: Member | None,
    k: int = 10,
    exclude_ids: Collection[int] = (),
    programme_id: int | None = None,
) -> list[SuggestedMentor]:
    """The best mentors with a free place for the signed-in member, best first.

    Exposure control: a mentor who already has many requests waiting per free place, or was
    just suggested to many others, is ranked lower, so a popular mentor is not offered to
    many more mentees than they can take. In a programme (``programme_id``; None: the open,
    default one) the band rule is its type's: in reciprocal mentoring, senior leaders for a
    member with widening-access priority there, and the first reason says so.
    """
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
    ranked = matchmaking.suggest(
        session=session,
        member_id=member.id,
        k=k,
        exclude_ids=asked | set(exclude_ids) | {member.id},
        exposure_counts=WAITING,
        band_rule=_band_rule(session, programme_id),
        programme_id=programme_id,
    )
    return [
        SuggestedMentor(member_id=r.mentor_id, score=round(r.score), reasons=r.reasons)
        for r in ranked
    ]
