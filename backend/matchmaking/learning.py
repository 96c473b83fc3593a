"""Learning from outcomes: the platform's history of answers, for the matcher's acceptance model.

Accepted and declined mentor requests and proposed matches, and mentorships that completed or
ended early, become (mentee, mentor, outcome) rows. The matcher fits its acceptance model on
the pairs' score components and reports the held-out AUC of the model and of the fixed weights;
a round uses the learned score only when it is better (``matching.learning.use_learned``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from backend.matchmaking import frames
from backend.mentoring.models import MentorRequest, Mentorship
from backend.rounds.models import MatchProposal

MIN_OUTCOMES = 40  # below this, a held-out comparison says nothing


@dataclass
class LearningOutcome:
    """What learning from outcomes found: the model (if any) and a sentence for organisers."""

    model: object | None
    used: bool
    outcomes: int
    auc_learned: float | None
    auc_fixed: float | None
    explanation: str


def outcome_history(*, session: Session) -> pd.DataFrame:
    """Every answered pair: columns mentee_id, mentor_id (database ids as text), outcome.

    In id order: the held-out split depends on the order, so an unordered read (PostgreSQL
    returns rows in whatever order its pages hold them) would make the verdict vary.
    """
    rows: list[tuple[int | None, int | None, str]] = []
    rows.extend(
        session.exec(
            select(MentorRequest.mentee_id, MentorRequest.mentor_id, MentorRequest.status)
            .where(col(MentorRequest.status).in_(("accepted", "declined")))
            .order_by(col(MentorRequest.id))
        ).all()
    )
    rows.extend(
        session.exec(
            select(MatchProposal.mentee_id, MatchProposal.mentor_id, MatchProposal.status)
            .where(col(MatchProposal.status).in_(("accepted", "declined")))
            .where(col(MatchProposal.mentor_id).is_not(None))
            .order_by(col(MatchProposal.id))
        ).all()
    )
    rows.extend(
        session.exec(
            select(Mentorship.mentee_id, Mentorship.mentor_id, Mentorship.status)
            .where(col(Mentorship.status).in_(("completed", "ended_early")))
            .where(col(Mentorship.mentee_id).is_not(None))
            .where(col(Mentorship.mentor_id).is_not(None))
            .order_by(col(Mentorship.id))
        ).all()
    )
    return pd.DataFrame(
        [(str(e), str(m), o) for e, m, o in rows if e is not None and m is not None],
        columns=["mentee_id", "mentor_id", "outcome"],
    )


def learn(*, session: Session, seed: int = 0) -> LearningOutcome:
    """Fit the acceptance model on the history and say whether it beats the fixed weights."""
    from matching.learning import AcceptanceModel, history_dataset, use_learned

    history = outcome_history(session=session)
    if len(history) < MIN_OUTCOMES or history["outcome"].nunique() < 2:
        return LearningOutcome(
            model=None,
            used=False,
            outcomes=len(history),
            auc_learned=None,
            auc_fixed=None,
            explanation=(
                f"Fixed weights used: {len(history)} answered pairs so far; learning needs at "
                f"least {MIN_OUTCOMES} with both acceptances and refusals."
            ),
        )
    people = {int(x) for x in history["mentee_id"]} | {int(x) for x in history["mentor_id"]}
    # Everyone who took part, whatever their places today (capacity 0 keeps them out of rounds).
    frame = frames.member_frame(
        session=session, mentee_ids=[], places={member_id: 0 for member_id in people}
    )
    known = set(frame["member_id"])
    history = history[history["mentee_id"].isin(known) & history["mentor_id"].isin(known)]
    if len(history) < MIN_OUTCOMES or history["outcome"].nunique() < 2:
        return LearningOutcome(
            None,
            False,
            len(history),
            None,
            None,
            "Fixed weights used: too few answered pairs remain (some members have left).",
        )
    components, labels = history_dataset(frame, history, random_state=seed)
    model = AcceptanceModel(random_state=seed).fit(components, labels)
    used = use_learned(model)
    learned, fixed = float(model.auc_learned_), float(model.auc_fixed_)
    verdict = (
        "Learned model used: it predicts acceptance better than the fixed weights"
        if used
        else "Fixed weights used: the learned model did not predict acceptance clearly better"
    )
    return LearningOutcome(
        model=model,
        used=used,
        outcomes=len(history),
        auc_learned=learned,
        auc_fixed=fixed,
        explanation=f"{verdict} on held-out outcomes (AUC {learned:.2f} against {fixed:.2f}, "
        f"{len(history)} answered pairs).",
    )


def pair_components(*args: Any, **kwargs: Any) -> Any:
    """The matcher's per-pair score components (``matching.learning.pair_components``), for
    the backend beyond this seam (the demo's history draws outcomes from them)."""
    from matching.learning import pair_components as components

    return components(*args, **kwargs)
