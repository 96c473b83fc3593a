"""Networks for the performance tests: a round to review, pages to count statements on."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import make_member

SCORES = [70.0, 55.5, 55.5, 55.5, 40.25, 90.0, 55.5, 12.0, 40.25, 33.3, 55.5, 61.1]


def make_review(session: Session, size: int = 60) -> tuple[int, str, int, list[int]]:
    """An organiser and a round of ``size`` proposals with many equal scores.

    Returns the organiser's id and email, the round's id and its proposals' ids in the
    review's order (best score first, then newest), as plain values: on SQLite an open
    read would hold the write lock against the app.
    """
    organiser = make_member(session, name="Ola Organiser", band="9", roles=("organiser",))
    mentee, mentor = make_member(session, band="4"), make_member(session, band="8a")
    matching_round = MatchingRound(
        name="Review round", created_by_id=organiser.id, status="ready", progress=1.0
    )
    session.add(matching_round)
    session.flush()
    for i in range(size):
        session.add(
            MatchProposal(
                round_id=matching_round.id,  # type: ignore[arg-type]
                mentee_id=mentee.id,
                mentor_id=mentor.id,
                score=SCORES[i % len(SCORES)],
                reasons="skills sought",
            )
        )
    session.commit()
    round_id: int = matching_round.id  # type: ignore[assignment]
    everything = session.exec(select(MatchProposal).where(MatchProposal.round_id == round_id))
    expected = [p.id for p in sorted(everything, key=lambda p: (-p.score, -p.id))]  # type: ignore[operator]
    found = (organiser.id, organiser.email, round_id, expected)
    session.rollback()
    return found  # type: ignore[return-value]
