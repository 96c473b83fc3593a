"""Mentor suggestions for one member: ranked, with a match percentage and plain reasons.

The matcher scores the member against every mentor with a free place; the hard rules (band
above, not in one's line-management chain, another organisation where asked, not oneself)
are masks that no score can break.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
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
    """The best mentors with a free place for the signed-in member, best first."""
    from matching.reasons import pair_reasons
    from matching.rules import feasible_pairs
    from matching.scoring import PairScorer

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
    if frame.empty:
        return []
    scorer = PairScorer().fit(frame)
    pop = scorer.population_
    if pop.n_mentees == 0 or pop.n_mentors == 0:
        return []
    mentee = np.zeros(pop.n_mentors, dtype=np.int64)
    mentors = np.arange(pop.n_mentors, dtype=np.int64)
    allowed = feasible_pairs(pop, mentee, mentors)
    if not allowed.any():
        return []
    mentors = mentors[allowed]
    scores = scorer.score_pairs(mentee[: len(mentors)], mentors)
    order = np.lexsort((mentors, -scores))[:k]
    chosen = mentors[order]
    reasons = pair_reasons(scorer, mentee[: len(chosen)], chosen)
    ids = frame["member_id"].to_numpy()[pop.mentor_rows[chosen]]
    return [
        SuggestedMentor(member_id=int(mid), score=round(float(s)), reasons=list(r))
        for mid, s, r in zip(ids, scores[order], reasons, strict=True)
    ]
