"""Matching rounds for organisers: create, run as a job, review, publish; both sides answer.

A round runs the matcher over a cohort (everyone seeking a mentor, or chosen members such as
an imported CSV cohort) and every mentor with a free place. The organiser reviews the
proposals, removes or reassigns pairs, and publishes; each side then accepts or declines
within a set time. A declined offer is re-offered to the next best available mentor.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from backend.db import session_scope, utcnow
from backend.errors import Conflict, FieldErrors, Invalid, NotFound
from backend.members import service as member_service
from backend.members.models import Member, MentoringOffer
from backend.mentoring import service as mentoring_service
from backend.mentoring.models import Mentorship
from backend.notifications import service as notifications
from backend.rounds import population
from backend.rounds.models import MatchingRound, MatchProposal
from backend.settings import get_settings
from matching.scoring import ScoreWeights

log = logging.getLogger("peerbridge.rounds")
WEIGHT_NAMES = tuple(ScoreWeights().as_dict())


# Creating and listing -------------------------------------------------------------------------


def create_round(
    *,
    session: Session,
    organiser: Member | None,
    name: str,
    cohort: str = "seeking",
    cohort_member_ids: Sequence[int] = (),
    weights: dict[str, float] | None = None,
    priority: bool = False,
    seed: int = 0,
    respond_days: int = 7,
    learn_from_outcomes: bool = False,
) -> MatchingRound:
    """Create a round (queued); the caller starts the job with ``start_round``."""
    organiser = member_service.require_organiser(session=session, member=organiser)
    problems: dict[str, str] = {}
    clean_name = " ".join((name or "").split())
    if not clean_name:
        problems["name"] = "Give the round a name, like 'Spring 2026 cohort'."
    elif len(clean_name) > 200:
        problems["name"] = "Name must be 200 characters or fewer."
    if cohort not in ("seeking", "members"):
        problems["cohort"] = "Cohort must be everyone seeking a mentor, or chosen members."
    elif cohort == "members" and not cohort_member_ids:
        problems["cohort"] = "Choose the members of the cohort."
    elif len(cohort_member_ids) > 100_000:
        problems["cohort"] = "A cohort can have at most 100,000 members."
    chosen = dict(weights or {})
    unknown = sorted(set(chosen) - set(WEIGHT_NAMES))
    if unknown:
        problems["weights"] = (
            f"Unknown weight: {', '.join(unknown)}. Use {', '.join(WEIGHT_NAMES)}."
        )
    else:
        try:
            ScoreWeights.from_dict({**ScoreWeights().as_dict(), **chosen}).as_array()
        except (TypeError, ValueError):
            problems["weights"] = "Weights must be numbers of 0 or more, and not all 0."
        else:
            if any(value > 1000 for value in chosen.values()):
                problems["weights"] = "Weights must be 1,000 or less."
    if (
        isinstance(respond_days, bool)
        or not isinstance(respond_days, int)
        or not 1 <= respond_days <= 60
    ):
        problems["respond_days"] = "Time to answer must be from 1 to 60 days."
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        problems["seed"] = "Seed must be a whole number from 0 to 2147483647."
    if problems:
        raise FieldErrors(problems)
    if cohort == "members":
        found = set(
            session.exec(select(Member.id).where(Member.id.in_(list(cohort_member_ids)))).all()  # type: ignore[union-attr]
        )
        missing = sorted(set(cohort_member_ids) - found)
        if missing:
            raise FieldErrors({"cohort": f"Unknown member id: {', '.join(map(str, missing[:5]))}."})
    matching_round = MatchingRound(
        name=clean_name,
        created_by_id=organiser.id,
        cohort=cohort,
        cohort_ids=json.dumps(sorted(set(cohort_member_ids))),
        weights=json.dumps(
            {**ScoreWeights().as_dict(), **{k: float(v) for k, v in chosen.items()}}
        ),
        priority=priority,
        seed=seed,
        respond_days=respond_days,
        learn_from_outcomes=bool(learn_from_outcomes),
    )
    session.add(matching_round)
    session.commit()
    session.refresh(matching_round)
    return matching_round


def import_cohort(
    *, session: Session, organiser: Member | None, data: bytes
) -> tuple[object, list[int]]:
    """Import a members CSV (all-or-nothing) as a round's cohort.

    Returns the import result and, when it succeeded, the ids of the file's members who are
    seeking a mentor (everyone else in the file, such as mentors, joins the network as usual).
    """
    from backend.members.importing import import_members
    from members_csv import parse_members_csv

    organiser = member_service.require_organiser(session=session, member=organiser)
    result = import_members(
        session=session,
        data=data,
        mode="all-or-nothing",
        invited_by=organiser.name,
        actor=organiser,
    )
    if not result.ok:
        return result, []
    seeking = [r.member_id for r in parse_members_csv(data).records if r.seeking_mentor]
    ids = list(
        session.exec(select(Member.id).where(Member.external_id.in_(seeking))).all()  # type: ignore[union-attr]
    )
    return result, sorted(ids)  # type: ignore[arg-type]


def start_round(*, round_id: int, engine: Engine | None = None) -> None:
    """Hand the round to the job runner (a worker with Redis, or a thread with SQLite).

    Call it after the transaction that queued the round has committed, so the job sees it.
    """
    from backend import jobs

    jobs.enqueue("backend.rounds.service.run_round_job", round_id, engine=engine)


def list_rounds(*, session: Session, organiser: Member | None) -> list[MatchingRound]:
    """Every round, newest first (organisers only)."""
    member_service.require_organiser(session=session, member=organiser)
    return list(
        session.exec(
            select(MatchingRound).order_by(MatchingRound.created_at.desc(), MatchingRound.id.desc())
        ).all()  # type: ignore[attr-defined,union-attr]
    )


def get_round(*, session: Session, organiser: Member | None, round_id: int) -> MatchingRound:
    """One round (organisers only)."""
    member_service.require_organiser(session=session, member=organiser)
    matching_round = session.get(MatchingRound, round_id)
    if matching_round is None:
        raise NotFound("No such round.", field="roundId")
    return matching_round


def proposals_of(
    *, session: Session, organiser: Member | None, round_id: int, status: str | None = None
) -> list[MatchProposal]:
    """The round's proposals, best score first (organisers only)."""
    get_round(session=session, organiser=organiser, round_id=round_id)
    statement = select(MatchProposal).where(MatchProposal.round_id == round_id)
    if status is not None:
        statement = statement.where(MatchProposal.status == status)
    return list(
        session.exec(statement.order_by(MatchProposal.score.desc(), MatchProposal.id)).all()
    )  # type: ignore[attr-defined]


def summary_of(matching_round: MatchingRound) -> dict[str, object]:
    """The round's figures (matched, unmatched and why, cross-organisation share, parity)."""
    return json.loads(matching_round.summary or "{}")


# Running (a background job) -------------------------------------------------------------------


def _set_progress(
    engine: Engine | None, round_id: int, stage: str, fraction: float, attempt: int
) -> None:
    """Record progress (and so a heartbeat) for this attempt of the round, if still its own."""
    with session_scope(engine) as session:
        session.execute(
            update(MatchingRound)
            .where(MatchingRound.id == round_id)
            .where(MatchingRound.status == "running")
            .where(MatchingRound.attempts == attempt)
            .values(stage=stage[:100], progress=max(0.0, min(1.0, fraction)), heartbeat_at=utcnow())
        )


def _beat(engine: Engine | None, round_id: int, attempt: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(MatchingRound)
            .where(MatchingRound.id == round_id)
            .where(MatchingRound.status == "running")
            .where(MatchingRound.attempts == attempt)
            .values(heartbeat_at=utcnow())
        )


def run_round_job(round_id: int, engine: Engine | None = None) -> str:
    """Run a queued round: build the population, match, store proposals. Safe to retry.

    Each run is an attempt (``attempts`` counts them). The job beats a heartbeat while it
    works; the proposals and the ready status are written together in one transaction, and
    only if the round is still this attempt's, so a re-run never leaves two sets or half a set.
    """
    from backend import jobs
    from matching.rounds import run_round

    with session_scope(engine) as session:
        claimed = session.execute(
            update(MatchingRound)
            .where(MatchingRound.id == round_id)
            .where(MatchingRound.status.in_(("queued", "failed")))  # type: ignore[attr-defined]
            .values(
                status="running",
                started_at=utcnow(),
                heartbeat_at=utcnow(),
                attempts=MatchingRound.attempts + 1,
                progress=0.0,
                stage="Reading members",
                error="",
                finished_at=None,
            )
        ).rowcount
        if not claimed:
            return "not queued"
        attempt = session.exec(
            select(MatchingRound.attempts).where(MatchingRound.id == round_id)
        ).one()
    with jobs.heartbeat(lambda: _beat(engine, round_id, attempt)):
        return _run_attempt(engine, round_id, attempt, run_round)


def _run_attempt(engine: Engine | None, round_id: int, attempt: int, run_round: Any) -> str:
    with session_scope(engine) as session:
        matching_round = session.get(MatchingRound, round_id)
        assert matching_round is not None
        if matching_round.cohort == "members":
            waiting = set(population.mentees_waiting(session=session))
            mentee_ids = [i for i in json.loads(matching_round.cohort_ids) if i in waiting]
        else:
            mentee_ids = population.mentees_waiting(session=session)
        frame = population.member_frame(session=session, mentee_ids=mentee_ids)
        weights = ScoreWeights.from_dict(json.loads(matching_round.weights))
        priority, seed = matching_round.priority, matching_round.seed
        learned = None
        if matching_round.learn_from_outcomes:
            from backend.rounds import learning

            learned = learning.learn(session=session, seed=seed)
    # The matcher runs outside any transaction, so the database stays free for everyone else.
    last = [0.0]

    def progress(stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5 or fraction >= 1.0:
            last[0] = now
            _set_progress(engine, round_id, stage, 0.05 + 0.85 * fraction, attempt)

    try:
        result = run_round(
            frame,
            weights=weights,
            priority=priority,
            seed=seed,
            progress=progress,
            acceptance=learned.model if learned is not None and learned.used else None,
        )
    except Exception as error:
        log.exception("round %s failed", round_id)
        with session_scope(engine) as session:
            session.execute(
                update(MatchingRound)
                .where(MatchingRound.id == round_id)
                .where(MatchingRound.attempts == attempt)
                .where(MatchingRound.status == "running")
                .values(
                    status="failed",
                    error=f"The matcher failed: {error}. Run it again."[:1000],
                    finished_at=utcnow(),
                )
            )
        return "failed"
    summary = {
        "mentees": result.n_mentees,
        "mentors": result.n_mentors,
        "places": result.total_capacity,
        "matched": result.matched,
        "bound": result.bound,
        "unmatched": result.n_mentees - result.matched,
        "unmatched_why": result.unmatched_why,
        "cross_organisation_share": result.cross_org_share,
        "skills_covered": result.skills_covered,
        "total_score": result.total_score,
        "priority": result.priority,
        "priority_rate": result.priority_rate,
        "other_rate": result.other_rate,
        "priority_score_cost": result.priority_score_cost,
        "blocking_pairs": result.blocking_pairs,
        "seconds": sum(result.timings.values()),
        "scoring": "learned" if learned is not None and learned.used else "fixed",
        "learning": None
        if learned is None
        else {
            "used": learned.used,
            "outcomes": learned.outcomes,
            "auc_learned": learned.auc_learned,
            "auc_fixed": learned.auc_fixed,
            "explanation": learned.explanation,
        },
    }
    with session_scope(engine) as session:
        # The status first: it locks the round's row, and only this attempt may finish it.
        finished = session.execute(
            update(MatchingRound)
            .where(MatchingRound.id == round_id)
            .where(MatchingRound.status == "running")
            .where(MatchingRound.attempts == attempt)
            .values(
                status="ready",
                progress=1.0,
                stage="Ready for review",
                summary=json.dumps(summary, default=float),
                finished_at=utcnow(),
                heartbeat_at=utcnow(),
            )
        ).rowcount
        if not finished:
            log.warning(
                "round %s attempt %s was superseded; its result is dropped", round_id, attempt
            )
            return "superseded"
        # Any earlier attempt's proposals go, in the same transaction as the new ones.
        session.execute(
            MatchProposal.__table__.delete().where(MatchProposal.round_id == round_id)  # type: ignore[attr-defined]
        )
        for row in result.matches.itertuples(index=False):
            mentor = int(row.mentor_id) if row.mentor_id not in ("", None) else None
            session.add(
                MatchProposal(
                    round_id=round_id,
                    mentee_id=int(row.mentee_id),
                    mentor_id=mentor,
                    score=float(row.score) if mentor else 0.0,
                    reasons=str(row.reasons),
                    status="proposed" if mentor else "unmatched",
                )
            )
    return "ready"


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=get_settings().job_stale_seconds)


def is_stalled(matching_round: MatchingRound, now: datetime | None = None) -> bool:
    """True when the round is running but its job has not beaten for too long."""
    if matching_round.status != "running":
        return False
    last = matching_round.heartbeat_at or matching_round.started_at or matching_round.created_at
    return _aware(last) < _stale_before(now or utcnow())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def fail_stalled_rounds(*, session: Session, now: datetime | None = None) -> int:
    """Mark running rounds whose heartbeat stopped as failed, saying why; returns how many."""
    now = now or utcnow()
    cutoff = _stale_before(now)
    running = session.exec(select(MatchingRound).where(MatchingRound.status == "running")).all()
    failed = 0
    for matching_round in running:
        if not is_stalled(matching_round, now):
            continue
        last = matching_round.heartbeat_at or matching_round.started_at or cutoff
        reason = (
            "The worker running this round stopped (no heartbeat since "
            f"{_aware(last):%d %B %Y at %H:%M:%S} UTC). Run it again."
        )
        # Conditional on the attempt, so a job that beats again just now is left alone.
        failed += session.execute(
            update(MatchingRound)
            .where(MatchingRound.id == matching_round.id)
            .where(MatchingRound.status == "running")
            .where(MatchingRound.attempts == matching_round.attempts)
            .where(
                (MatchingRound.heartbeat_at.is_(None)) | (MatchingRound.heartbeat_at < cutoff)  # type: ignore[union-attr,operator]
            )
            .values(status="failed", error=reason, finished_at=now, stage="Stopped")
        ).rowcount
    return failed


def retry_round(*, session: Session, organiser: Member | None, round_id: int) -> MatchingRound:
    """Queue a failed (or stalled) round to run again; the caller commits, then ``start_round``.

    The next attempt replaces any proposals of an earlier one when it finishes.
    """
    matching_round = get_round(session=session, organiser=organiser, round_id=round_id)
    session.refresh(matching_round)  # the job changes it from other sessions
    if matching_round.status != "failed" and not is_stalled(matching_round):
        raise Conflict(
            "Only a round that failed, or whose worker stopped, can be run again.",
            field="round_id",
        )
    queued = session.execute(
        update(MatchingRound)
        .where(MatchingRound.id == round_id)
        .where(MatchingRound.status == matching_round.status)
        .where(MatchingRound.attempts == matching_round.attempts)
        .values(status="queued", progress=0.0, stage="Waiting to run again", error="")
    ).rowcount
    if not queued:
        raise Conflict("The round changed just now; look again.", field="round_id")
    session.refresh(matching_round)
    return matching_round


# Reviewing ------------------------------------------------------------------------------------


def _proposal_in_review(
    session: Session, organiser: Member | None, proposal_id: int
) -> MatchProposal:
    member_service.require_organiser(session=session, member=organiser)
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.", field="proposalId")
    matching_round = session.get(MatchingRound, proposal.round_id)
    if matching_round is None or matching_round.status != "ready":
        raise Conflict("Pairs can only be changed while the round is in review.")
    return proposal


def remove_proposal(
    *, session: Session, organiser: Member | None, proposal_id: int
) -> MatchProposal:
    """Take a pair out of the round before publishing."""
    proposal = _proposal_in_review(session, organiser, proposal_id)
    if proposal.status != "proposed":
        raise Conflict("Only proposed pairs can be removed.")
    proposal.status = "removed"
    session.add(proposal)
    session.commit()
    return proposal


def swap_mentors(
    *, session: Session, organiser: Member | None, proposal_id: int, other_proposal_id: int
) -> tuple[MatchProposal, MatchProposal]:
    """Swap the mentors of two proposed pairs, if the hard rules allow both new pairs."""
    first = _proposal_in_review(session, organiser, proposal_id)
    second = _proposal_in_review(session, organiser, other_proposal_id)
    if first.round_id != second.round_id or first.id == second.id:
        raise Invalid("Choose two different pairs of the same round.")
    if first.status != "proposed" or second.status != "proposed":
        raise Conflict("Only proposed pairs can be swapped.")
    for mentee_id, mentor_id in (
        (first.mentee_id, second.mentor_id),
        (second.mentee_id, first.mentor_id),
    ):
        problem = pair_problem(session=session, mentee_id=mentee_id, mentor_id=mentor_id)  # type: ignore[arg-type]
        if problem:
            raise Conflict(f"That swap breaks a rule: {problem}")
    first.mentor_id, second.mentor_id = second.mentor_id, first.mentor_id
    for proposal in (first, second):
        proposal.reasons = "swapped by the organiser"
        session.add(proposal)
    session.commit()
    return first, second


def pair_problem(*, session: Session, mentee_id: int, mentor_id: int) -> str | None:
    """Which hard rule a pair breaks, or None (the same rules the matcher keeps)."""
    from vocabulary import BAND_RANK

    mentee, mentor = session.get(Member, mentee_id), session.get(Member, mentor_id)
    if mentee is None or mentor is None:
        return "a member no longer exists"
    if mentee.id == mentor.id:
        return "nobody mentors themselves"
    if BAND_RANK[mentor.band] <= BAND_RANK[mentee.band]:
        return "the mentor's band must be above the mentee's"
    if mentee.outside_organisation_only and mentee.organisation_id == mentor.organisation_id:
        return "the mentee asked for a mentor from another organisation"
    if mentoring_service.in_same_chain(session=session, a=mentee.id, b=mentor.id):  # type: ignore[arg-type]
        return "they are in the same line-management chain"
    return None


# Publishing and answering ---------------------------------------------------------------------


def _offer(session: Session, proposal: MatchProposal, respond_by_days: int) -> None:
    mentee = session.get(Member, proposal.mentee_id)
    mentor = session.get(Member, proposal.mentor_id)
    if mentee is None or mentor is None:
        return
    proposal.status = "offered"
    proposal.offered_at = utcnow()
    session.add(proposal)
    days = f"within {respond_by_days} days"
    notifications.notify(
        session=session,
        member_id=mentee.id,  # type: ignore[arg-type]
        email=mentee.email,
        kind="round",
        title=f"We have found you a mentor: {mentor.name}",
        body=f"Our matching round suggests {mentor.name} ({mentor.job_title or 'mentor'}) as your "
        f"mentor. Please accept or decline {days}.",
        link=f"/mentoring/proposals/{proposal.id}",
    )
    notifications.notify(
        session=session,
        member_id=mentor.id,  # type: ignore[arg-type]
        email=mentor.email,
        kind="round",
        title=f"Would you mentor {mentee.name}?",
        body=f"Our matching round suggests you as mentor to {mentee.name} "
        f"({mentee.job_title or 'member'}). Please accept or decline {days}.",
        link=f"/mentoring/proposals/{proposal.id}",
    )


def publish_round(*, session: Session, organiser: Member | None, round_id: int) -> MatchingRound:
    """Publish a reviewed round: every proposed pair becomes an offer to both sides."""
    matching_round = get_round(session=session, organiser=organiser, round_id=round_id)
    now = utcnow()
    published = session.execute(
        update(MatchingRound)
        .where(MatchingRound.id == round_id)
        .where(MatchingRound.status == "ready")
        .values(
            status="published",
            published_at=now,
            respond_by=now + timedelta(days=matching_round.respond_days),
        )
    ).rowcount
    if not published:
        raise Conflict("Only a round that is ready for review can be published.")
    for proposal in session.exec(
        select(MatchProposal)
        .where(MatchProposal.round_id == round_id)
        .where(MatchProposal.status == "proposed")
    ).all():
        _offer(session, proposal, matching_round.respond_days)
    session.commit()
    session.refresh(matching_round)
    return matching_round


def my_proposals(*, session: Session, member: Member | None) -> list[MatchProposal]:
    """Offers waiting for the member's answer, as mentee or mentor."""
    member = member_service.require_member(member)
    return list(
        session.exec(
            select(MatchProposal)
            .where(MatchProposal.status == "offered")
            .where((MatchProposal.mentee_id == member.id) | (MatchProposal.mentor_id == member.id))
            .order_by(MatchProposal.offered_at.desc())  # type: ignore[union-attr]
        ).all()
    )


def get_proposal(*, session: Session, member: Member | None, proposal_id: int) -> MatchProposal:
    """One proposal, visible to its two members and to organisers."""
    member = member_service.require_member(member)
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None or (
        member.id not in (proposal.mentee_id, proposal.mentor_id)
        and not member_service.has_role(session=session, member=member, role="organiser")
    ):
        raise NotFound("No such proposal.", field="proposalId")
    return proposal


def respond_to_proposal(
    *, session: Session, member: Member | None, proposal_id: int, accept: bool, reason: str = ""
) -> MatchProposal:
    """One side's answer. Both accepting starts a mentorship; a decline is re-offered."""
    member = member_service.require_member(member)
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None or member.id not in (proposal.mentee_id, proposal.mentor_id):
        raise NotFound("No such proposal.", field="proposalId")
    if len(reason or "") > 1000:
        raise Invalid("Reason must be 1,000 characters or fewer.", field="reason")
    side = "mentee" if member.id == proposal.mentee_id else "mentor"
    answer = "accepted" if accept else "declined"
    column = getattr(MatchProposal, f"{side}_answer")
    recorded = session.execute(
        update(MatchProposal)
        .where(MatchProposal.id == proposal.id)
        .where(MatchProposal.status == "offered")
        .where(column.is_(None))
        .values({f"{side}_answer": answer, "answered_at": utcnow()})
    ).rowcount
    if not recorded:
        session.rollback()
        raise Conflict("This offer has already been answered or has closed.")
    session.refresh(proposal)
    if not accept:
        _decline(session, proposal, member, reason)
    elif proposal.mentee_answer == "accepted" and proposal.mentor_answer == "accepted":
        _start_mentorship(session, proposal)
    session.commit()
    session.refresh(proposal)
    return proposal


def _decline(session: Session, proposal: MatchProposal, by: Member, reason: str) -> None:
    proposal.status = "declined"
    proposal.decline_reason = (reason or "").strip()
    session.add(proposal)
    other_id = proposal.mentor_id if by.id == proposal.mentee_id else proposal.mentee_id
    other = session.get(Member, other_id)
    if other is not None:
        notifications.notify(
            session=session,
            member_id=other.id,  # type: ignore[arg-type]
            email=other.email,
            kind="round",
            title="A proposed match will not go ahead",
            body=f"{by.name} is not able to take up the proposed match. "
            + (
                "We will suggest another mentor."
                if other.id == proposal.mentee_id
                else "Thank you."
            ),
            link="/mentoring",
        )
    session.flush()
    reoffer(session=session, proposal=proposal)


def _start_mentorship(session: Session, proposal: MatchProposal) -> None:
    took_place = session.execute(
        update(MentoringOffer)
        .where(MentoringOffer.member_id == proposal.mentor_id)
        .where(MentoringOffer.paused.is_(False))  # type: ignore[attr-defined]
        .where(MentoringOffer.active_mentees < MentoringOffer.capacity)
        .values(active_mentees=MentoringOffer.active_mentees + 1)
    ).rowcount
    if not took_place:
        # The mentor filled their places elsewhere meanwhile: offer the mentee someone else.
        proposal.status = "declined"
        proposal.decline_reason = "The mentor no longer has a free place."
        session.add(proposal)
        session.flush()
        reoffer(session=session, proposal=proposal)
        return
    mentee = session.get(Member, proposal.mentee_id)
    mentorship = Mentorship(
        mentor_id=proposal.mentor_id,
        mentee_id=proposal.mentee_id,
        goals=(mentee.goals if mentee else "")[:4000],
        planned_months=6,
    )
    session.add(mentorship)
    session.flush()
    proposal.status = "accepted"
    proposal.mentorship_id = mentorship.id
    session.add(proposal)
    for member_id in (proposal.mentee_id, proposal.mentor_id):
        member = session.get(Member, member_id)
        if member is not None:
            notifications.notify(
                session=session,
                member_id=member.id,  # type: ignore[arg-type]
                email=member.email,
                kind="mentorship",
                title="Your mentorship has started",
                body="You have both accepted the match. Agree how you will work together and "
                "book your first session.",
                link=f"/mentoring/mentorships/{mentorship.id}",
            )
    if mentee is not None:
        # Any open requests the mentee had sent are no longer needed.
        for request in mentoring_service.list_requests(
            session=session, member=mentee, direction="sent", status="open"
        ):
            session.execute(
                update(type(request))
                .where(type(request).id == request.id)
                .where(type(request).status == "open")
                .values(status="withdrawn", responded_at=utcnow())
            )
        session.execute(update(Member).where(Member.id == mentee.id).values(open_requests=0))


def reoffer(*, session: Session, proposal: MatchProposal) -> MatchProposal | None:
    """Offer the mentee of a declined proposal the next best available mentor, if any."""
    from matching.rounds import run_round

    matching_round = session.get(MatchingRound, proposal.round_id)
    if matching_round is None or proposal.mentee_id is None:
        return None
    declined = set(
        session.exec(
            select(MatchProposal.mentor_id)
            .where(MatchProposal.round_id == proposal.round_id)
            .where(MatchProposal.mentee_id == proposal.mentee_id)
        ).all()
    )
    frame = population.member_frame(
        session=session, mentee_ids=[proposal.mentee_id], exclude_mentors=declined
    )
    if frame.empty:
        return None
    result = run_round(
        frame,
        weights=ScoreWeights.from_dict(json.loads(matching_round.weights)),
        seed=matching_round.seed,
    )
    row = result.matches.iloc[0] if len(result.matches) else None
    if row is None or row["mentor_id"] in ("", None):
        return None
    new = MatchProposal(
        round_id=proposal.round_id,
        mentee_id=proposal.mentee_id,
        mentor_id=int(row["mentor_id"]),
        score=float(row["score"]),
        reasons=str(row["reasons"]),
        replaces_id=proposal.id,
        status="proposed",
    )
    session.add(new)
    session.flush()
    _offer(session, new, matching_round.respond_days)
    return new


def expire_offers(*, session: Session) -> int:
    """Close offers of published rounds whose time to answer has passed."""
    now = utcnow()
    due = session.exec(
        select(MatchProposal)
        .join(MatchingRound, MatchingRound.id == MatchProposal.round_id)  # type: ignore[arg-type]
        .where(MatchProposal.status == "offered")
        .where(MatchingRound.respond_by <= now)  # type: ignore[operator]
    ).all()
    for proposal in due:
        proposal.status = "expired"
        session.add(proposal)
    session.commit()
    return len(due)


def export_csv(*, session: Session, organiser: Member | None, round_id: int) -> str:
    """The round as CSV, for organisers' records (member ids, names, score, reasons, status)."""
    proposals = proposals_of(session=session, organiser=organiser, round_id=round_id)
    ids = {p.mentee_id for p in proposals} | {p.mentor_id for p in proposals if p.mentor_id}
    people = member_service.get_many(session=session, member_ids=[i for i in ids if i])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["mentee_id", "mentee_name", "mentor_id", "mentor_name", "score", "reasons", "status"]
    )
    for p in proposals:
        mentee, mentor = people.get(p.mentee_id), people.get(p.mentor_id) if p.mentor_id else None  # type: ignore[arg-type]
        writer.writerow(
            [
                (mentee.external_id or mentee.id) if mentee else "",
                _csv_safe(mentee.name) if mentee else "Former member",
                (mentor.external_id or mentor.id) if mentor else "",
                _csv_safe(mentor.name) if mentor else "",
                f"{p.score:.0f}" if p.mentor_id else "",
                p.reasons,
                p.status,
            ]
        )
    return out.getvalue()


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets: neutralise it.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
