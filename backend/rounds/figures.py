"""A round's figures, recomputed from its proposals after every change.

The matcher's run writes the first figures; after that, every swap, removal, decline,
expiry, withdrawal, re-offer and accepted match changes who is matched, so ``refresh`` derives
the figures again from the rows (aggregates in SQL; only the mentees left without a pair are
read one by one, to say why). Organisers' actions and the worker's steps refresh at once;
members' answers only ``mark_stale``, and the worker's next pass refreshes (``refresh_stale``).
Figures only the matcher can know (the maximum-cardinality bound, blocking pairs, timings)
stay as the run left them, under ``at_run``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from sqlalchemy import and_, case, exists, func, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from backend import db
from backend.db import utcnow
from backend.members.models import Member, MemberSkill
from backend.privacy import widening
from backend.rounds.models import PROPOSAL_STATUSES, MatchingRound, MatchProposal

# A mentee is matched while one of their proposals is in one of these states.
LIVE = ("proposed", "offered", "accepted")
CLOSED = tuple(status for status in PROPOSAL_STATUSES if status not in LIVE)
RECOMPUTED = (
    "matched",
    "unmatched",
    "unmatched_why",
    "cross_organisation_share",
    "skills_covered",
    "total_score",
    "priority_rate",
    "other_rate",
)
WHY_CLOSED = {
    "removed": "removed from the round by the organiser",
    "declined": "the proposed match was declined and no other mentor was free",
    "expired": "the proposed match was not answered in time",
    "withdrawn": "started a mentorship another way",
}


def _unmatched_statement(round_id: int) -> Any:
    """The round's mentees without a live pair, each with their latest proposal's status.

    Read from the round's closed proposals alone (``ix_match_proposal_round_status``), each
    checked to be its mentee's latest and to have no live sibling: the cost follows the
    mentees without a mentor, not the size of the round.
    """
    latest = aliased(MatchProposal)
    live = aliased(MatchProposal)
    return (
        select(MatchProposal.mentee_id, MatchProposal.status, MatchProposal.reasons)
        .where(MatchProposal.round_id == round_id)
        .where(col(MatchProposal.status).in_(CLOSED))
        .where(col(MatchProposal.mentee_id).is_not(None))
        .where(
            col(MatchProposal.id)
            == select(func.max(col(latest.id)))
            .where(latest.round_id == round_id, latest.mentee_id == MatchProposal.mentee_id)
            .scalar_subquery()
        )
        .where(
            ~exists().where(
                col(live.round_id) == round_id,
                col(live.mentee_id) == col(MatchProposal.mentee_id),
                col(live.status).in_(LIVE),
            )
        )
    )


def unmatched_mentees(
    *, session: Session, round_id: int, offset: int = 0, limit: int | None = None
) -> list[tuple[int, str]]:
    """Mentees of the round who have no live pair, with why (their latest proposal says).

    In mentee id order; ``offset`` and ``limit`` page it in the database.
    """
    statement = _unmatched_statement(round_id).order_by(col(MatchProposal.mentee_id)).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    rows = session.exec(statement).all()
    return [
        (int(mentee_id), reasons if status == "unmatched" else WHY_CLOSED.get(status, status))
        for mentee_id, status, reasons in rows
        if mentee_id is not None  # always (the query's condition), for the type checker
    ]


def unmatched_count(*, session: Session, round_id: int) -> int:
    """How many of the round's mentees have no live pair (counted in the database)."""
    rows = _unmatched_statement(round_id).subquery()
    return int(session.execute(select(func.count()).select_from(rows)).scalar_one())


def compute(*, session: Session, round_id: int) -> dict[str, object]:
    """The figures of the round as its proposals stand now."""
    mentee = aliased(Member)
    mentor = aliased(Member)
    # Widening-access priority as the round's matcher saw it: the flag in its programme.
    flagged = widening.flag_condition(
        widening.counting_categories(widening.round_programme(session=session, round_id=round_id)),
        mentee,
    )
    is_live = and_(
        col(MatchProposal.status).in_(LIVE),
        col(MatchProposal.mentor_id).is_not(None),
    )
    pairs = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(MatchProposal.score), 0.0),
            func.coalesce(
                func.sum(
                    case((col(mentee.organisation_id) != col(mentor.organisation_id), 1), else_=0)
                ),
                0,
            ),
            func.coalesce(func.sum(case((flagged, 1), else_=0)), 0),
        )
        .select_from(MatchProposal)
        .join(mentee, col(mentee.id) == col(MatchProposal.mentee_id))
        .join(mentor, col(mentor.id) == col(MatchProposal.mentor_id))
        .where(MatchProposal.round_id == round_id)
        .where(is_live)
    ).one()
    matched, total_score, cross_org, priority_matched = (
        int(pairs[0]),
        float(pairs[1]),
        int(pairs[2]),
        int(pairs[3]),
    )
    mentees, priority_mentees = session.execute(
        select(
            func.count(func.distinct(MatchProposal.mentee_id)),
            func.count(func.distinct(case((flagged, col(MatchProposal.mentee_id))))),
        )
        .select_from(MatchProposal)
        .join(mentee, col(mentee.id) == col(MatchProposal.mentee_id))
        .where(MatchProposal.round_id == round_id)
    ).one()
    sought = aliased(MemberSkill)
    offered = aliased(MemberSkill)
    n_sought, n_covered = session.execute(
        select(func.count(), func.count(col(offered.skill_id)))
        .select_from(MatchProposal)
        .join(
            sought,
            and_(
                col(sought.member_id) == col(MatchProposal.mentee_id), col(sought.kind) == "sought"
            ),
        )
        .outerjoin(
            offered,
            and_(
                col(offered.member_id) == col(MatchProposal.mentor_id),
                col(offered.kind) == "offered",
                col(offered.skill_id) == col(sought.skill_id),
            ),
        )
        .where(MatchProposal.round_id == round_id)
        .where(is_live)
    ).one()
    statuses = dict(
        session.execute(
            select(MatchProposal.status, func.count())
            .where(MatchProposal.round_id == round_id)
            .group_by(MatchProposal.status)
        ).all()
    )
    why = Counter(reason for _, reason in unmatched_mentees(session=session, round_id=round_id))
    others = int(mentees) - int(priority_mentees)
    return {
        "matched": matched,
        "unmatched": int(mentees) - matched,
        "unmatched_why": dict(why.most_common()),
        "cross_organisation_share": cross_org / matched if matched else 0.0,
        "skills_covered": n_covered / n_sought if n_sought else None,
        "total_score": total_score,
        "priority_rate": priority_matched / priority_mentees if priority_mentees else None,
        "other_rate": (matched - priority_matched) / others if others else None,
        "proposals": {str(k): int(v) for k, v in statuses.items()},
    }


def refresh(*, session: Session, round_id: int) -> dict[str, object]:
    """Recompute the round's figures and store them in its summary; the caller commits."""
    matching_round = session.get(MatchingRound, round_id)
    if matching_round is None:
        return {}
    session.flush()
    summary: dict[str, object] = json.loads(matching_round.summary or "{}")
    if "at_run" not in summary:
        summary["at_run"] = {key: summary.get(key) for key in RECOMPUTED if key in summary}
    summary.update(compute(session=session, round_id=round_id))
    summary["recomputed_at"] = utcnow().isoformat()
    session.execute(
        update(MatchingRound)
        .where(col(MatchingRound.id) == round_id)
        .values(summary=json.dumps(summary, default=float), figures_stale=False)
    )
    return summary


def mark_stale(*, session: Session, round_id: int) -> None:
    """Note that the round's figures changed; the worker's next pass recomputes them.

    For members' own requests (answers, accepts), which must stay quick however big the round.
    """
    session.execute(
        update(MatchingRound)
        .where(col(MatchingRound.id) == round_id)
        .where(col(MatchingRound.figures_stale).is_(False))
        .values(figures_stale=True)
    )


def refresh_stale(*, session: Session, limit: int = 20) -> int:
    """Recompute the figures of rounds marked stale (a worker step); each round commits alone."""
    stale = session.exec(
        select(MatchingRound.id)
        .where(col(MatchingRound.figures_stale).is_(True))
        .order_by(col(MatchingRound.id))
        .limit(limit)
    ).all()
    for round_id in stale:
        refresh(session=session, round_id=round_id)
        db.commit_for_job(session)
    return len(stale)
