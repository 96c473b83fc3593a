"""Twelve months of history for the demo network, deterministic by seed.

``backend.demo.load`` makes the people; this module gives them a past, ending today (London
date): sign-ups spread over the year, mentor requests answered, declined and expired, two
published matching rounds, mentorships active, completed and ended early with each side's end
feedback, sessions logged, consented diversity answers at NHS workforce rates, and peer circles.
Finally it runs the learning-from-outcomes training path (``backend.matchmaking.learning``) on
that history and records its verdict on the latest round, so an organiser sees a learned model
in use.

Rows are bulk-inserted (services would take minutes at 50,000 members) but kept to the rules the
services enforce: one open request per pair and at most one per mentee here, one active
mentorship per pair and per mentee in a programme, no mentor over their places, sessions only
between a mentorship's start and its end (or today), feedback only on ended mentorships.

Whether a pair worked out is drawn from a hidden model of the pair's score components that the
fixed weights do not share (shared place and role count for more than skills), so the learned
model has something real to find.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from backend import london
from backend.community.models import Circle, CircleMember
from backend.db import utcnow
from backend.matchmaking import frames, learning
from backend.members.models import Member, MentoringOffer
from backend.mentoring.models import (
    MentoringSession,
    MentorRequest,
    Mentorship,
    MentorshipFeedback,
)
from backend.privacy.models import DEMOGRAPHICS_WORDING_VERSION, ConsentRecord, DemographicRecord
from backend.programmes import service as programme_service
from backend.rounds.models import MatchingRound, MatchProposal

# The parameters of the history (change here, not in the code below).
MONTHS = 12
REQUEST_DAYS = 14  # a request expires unanswered after this many days
RESPOND_DAYS = 7  # a round's offers are answered within this many days
# The mentee's wait between one episode and the next (days).
WAIT_DAYS = (7, 60)
PLANNED_MONTHS = {3: 15, 6: 55, 9: 15, 12: 15}
SHARE_SEEKING_HISTORY = 0.9  # mentees with any history at all
EXPIRED_SHARE = 0.12  # requests the mentor never answers
COMPLETED_ANYWAY = 0.2  # of pairs the hidden model says fail, who complete all the same
ACCEPTED_ANYWAY = 0.05  # of requests and offers the hidden model says fail, accepted anyway
ENDED_EARLY_WHILE_ACTIVE = 0.08  # of mentorships still within their plan, ended early anyway
SESSION_EVERY_DAYS = (18, 42)
SESSION_MINUTES = {30: 25, 45: 20, 60: 40, 90: 15}
# The hidden model: logit of a pair working out, by score component (fixed weights differ).
TRUE_LOGIT = {"place": 9.0, "role": 7.5, "skills": -7.0, "organisation": -3.0}
TRUE_INTERCEPT = -0.5
ROUNDS = ((240, "Spring mentoring round"), (75, "Autumn mentoring round"))  # days before today
ROUND_WINDOW_DAYS = 21  # mentees starting an episode this soon after a round's publication join it
CIRCLE_SIZE = (4, 6)
CIRCLE_SHARE = 0.18  # of members without a mentor role (peers) who are in a circle
CIRCLE_NAMES = (
    "Leading through change",
    "New to band 8",
    "Digital in the front line",
    "Quality improvement in practice",
    "Managing across organisations",
    "Finance for operational managers",
    "People and culture",
    "Waiting lists and flow",
)
# Diversity answers: who consents, and the mixes (NHS workforce statistics, rounded).
CONSENT_SHARE = 0.68
ANSWER_SKIPPED = 0.04  # a consenting member leaves a question unanswered
ETHNICITY = {
    "white": 70,
    "asian": 13,
    "black": 8,
    "mixed": 2,
    "other": 3,
    "prefer-not-to-say": 4,
}
GENDER = {"woman": 76, "man": 21, "non-binary": 1, "self-described": 0.3, "prefer-not-to-say": 2}
DISABILITY = {"no": 83, "yes": 6, "prefer-not-to-say": 11}
AGE_BAND = {
    "16-24": 3,
    "25-34": 20,
    "35-44": 29,
    "45-54": 29,
    "55-64": 16,
    "65+": 1,
    "prefer-not-to-say": 2,
}
RATINGS_GOOD = {5: 55, 4: 35, 3: 10}
RATINGS_POOR = {4: 15, 3: 35, 2: 35, 1: 15}
END_CATEGORIES = {"no_time": 35, "changed_job": 20, "not_a_good_fit": 20, "other": 10}
FEEDBACK = {
    "good": (
        "Really useful: I have a plan for the next year and the confidence to use it.",
        "We met regularly and I came away from every session with something to try.",
        "A good match. The conversations on leading through change helped most.",
    ),
    "poor": (
        "We struggled to find time to meet once winter pressures began.",
        "Helpful at first, but our goals drifted apart.",
        "Not quite the right fit for what I needed, though I learned something.",
    ),
}
DECLINE_REASONS = (
    "I have no capacity this quarter.",
    "I think another mentor would suit your goals better.",
    "",
)


@dataclass
class HistoryResult:
    """What ``build`` added, by kind of row, and the learning verdict."""

    counts: dict[str, int] = field(default_factory=dict)
    learned_used: bool = False
    learning: str = ""


@dataclass
class _Plan:
    requests: list[dict[str, Any]] = field(default_factory=list)
    mentorships: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)


def _weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _at(day: date, rng: random.Random) -> datetime:
    """A moment in working hours, London time, on ``day``."""
    return london.london_to_utc(day, time(8 + rng.randint(0, 9), rng.randint(0, 59)))


def _months_ago(day: date, months: int) -> date:
    return day - timedelta(days=round(months * 30.44))


def build(
    *, session: Session, seed: int, member_ids: list[int], organiser_id: int | None
) -> HistoryResult:
    """Give the generated members ``member_ids`` twelve months of history; return the counts."""
    rng = random.Random(seed * 7919 + 1)
    today = london.london_today()
    now = min(utcnow(), london.london_to_utc(today, time(23, 0)))
    first = today - timedelta(days=365)
    programme_id = programme_service.default_programme_id(session=session)
    result = HistoryResult()

    signed_up = _spread_sign_ups(rng, session, member_ids, first, today)
    rows = session.exec(
        select(Member.id, Member.seeking_mentor).where(col(Member.id).in_(member_ids))
    ).all()
    mentee_ids = sorted(member_id for member_id, seeking in rows if seeking)
    capacity = dict(
        session.exec(
            select(MentoringOffer.member_id, MentoringOffer.capacity).where(
                col(MentoringOffer.member_id).in_(member_ids)
            )
        ).all()
    )
    mentor_ids = sorted(m for m, places in capacity.items() if places > 0)
    if not mentee_ids or not mentor_ids:
        return result
    chance = _pair_chances(session, mentee_ids, mentor_ids, seed)

    rounds = _add_rounds(session, rng, today, programme_id, organiser_id)
    plan = _plan(
        rng,
        mentee_ids=mentee_ids,
        mentor_ids=mentor_ids,
        capacity=capacity,
        signed_up=signed_up,
        today=today,
        now=now,
        chance=chance,
        rounds=rounds,
    )
    _write(session, rng, plan, programme_id=programme_id, today=today, now=now, result=result)
    _summarise_rounds(session, rounds, plan)
    result.counts["rounds"] = len(rounds)
    result.counts["diversity answers"] = _add_diversity(session, rng, member_ids, signed_up)
    peers = sorted(set(member_ids) - set(mentor_ids) - set(mentee_ids))
    result.counts["circles"] = _add_circles(session, rng, peers + mentee_ids, signed_up, now)
    session.flush()

    # The existing training path, on the history just written: the latest round used it.
    outcome = learning.learn(session=session, seed=seed)
    result.learned_used = outcome.used
    result.learning = outcome.explanation
    _record_learning(session, rounds[-1][0], outcome)
    session.flush()
    return result


def _spread_sign_ups(
    rng: random.Random, session: Session, member_ids: list[int], first: date, today: date
) -> dict[int, datetime]:
    """Sign-ups over the year, growing: twice as many join in the last month as the first."""
    span = (today - first).days
    signed_up: dict[int, datetime] = {}
    for member_id in member_ids:
        # Density rising linearly from 1 to 2 over the year: invert its distribution function.
        share = min(math.sqrt(1 + 3 * rng.random()) - 1, 0.999)
        day = first + timedelta(days=int(share * span))
        signed_up[member_id] = _at(day, rng)
    session.execute(
        update(Member),
        [
            {"id": m, "created_at": at, "email_verified_at": at + timedelta(minutes=5)}
            for m, at in signed_up.items()
        ],
    )
    return signed_up


def _pair_chances(session: Session, mentee_ids: list[int], mentor_ids: list[int], seed: int) -> Any:
    """A function (mentee, mentor) -> chance the pair works out, from the hidden model."""
    from backend.matchmaking.learning import pair_components

    # The frame learning from outcomes reads (everyone at capacity 0), so the hidden model
    # sees the same components the learned one will.
    frame = frames.member_frame(
        session=session, mentee_ids=[], places=dict.fromkeys([*mentee_ids, *mentor_ids], 0)
    )
    known = set(frame["member_id"])
    cache: dict[tuple[int, int], float] = {}

    def chances(pairs: list[tuple[int, int]]) -> None:
        todo = [p for p in pairs if p not in cache and str(p[0]) in known and str(p[1]) in known]
        if not todo:
            return
        parts = pair_components(
            frame, [str(e) for e, _ in todo], [str(m) for _, m in todo], random_state=seed
        )
        logit = parts.mul(pd_series(TRUE_LOGIT, parts.columns)).sum(axis=1) + TRUE_INTERCEPT
        for pair, value in zip(todo, logit.to_numpy(), strict=True):
            cache[pair] = 1.0 / (1.0 + math.exp(-float(value)))

    def chance(mentee: int, mentor: int) -> float:
        if (mentee, mentor) not in cache:
            chances([(mentee, mentor)])
        return cache.get((mentee, mentor), 0.5)

    chance.prefetch = chances  # type: ignore[attr-defined]
    return chance


def pd_series(weights: dict[str, float], columns: Any) -> Any:
    import pandas as pd

    return pd.Series({c: weights.get(c, 0.0) for c in columns})


def _add_rounds(
    session: Session,
    rng: random.Random,
    today: date,
    programme_id: int,
    organiser_id: int | None,
) -> list[tuple[int, datetime]]:
    """Two published rounds (their proposals come with the mentees' episodes)."""
    from backend.matchmaking.rounds import ScoreWeights

    made: list[tuple[int, datetime]] = []
    for days_ago, name in ROUNDS:
        published = _at(today - timedelta(days=days_ago), rng)
        matching_round = MatchingRound(
            name=name,
            created_by_id=organiser_id,
            status="published",
            programme_id=programme_id,
            weights=json.dumps(ScoreWeights().as_dict()),
            learn_from_outcomes=days_ago == ROUNDS[-1][0],
            seed=rng.randint(1, 10_000),
            respond_days=RESPOND_DAYS,
            progress=1.0,
            stage="Published",
            created_at=published - timedelta(days=2),
            started_at=published - timedelta(days=2),
            finished_at=published - timedelta(days=2, minutes=-3),
            published_at=published,
            respond_by=published + timedelta(days=RESPOND_DAYS),
            heartbeat_at=published - timedelta(days=2, minutes=-3),
            attempts=1,
        )
        session.add(matching_round)
        session.flush()
        made.append((matching_round.id, published))
    return made


def _plan(
    rng: random.Random,
    *,
    mentee_ids: list[int],
    mentor_ids: list[int],
    capacity: dict[int, int],
    signed_up: dict[int, datetime],
    today: date,
    now: datetime,
    chance: Any,
    rounds: list[tuple[int, datetime]],
) -> _Plan:
    """Each mentee's episodes in time order: a request or a round's offer, perhaps a mentorship."""
    plan = _Plan()
    active_of_mentor: dict[int, int] = defaultdict(int)
    active_pairs: set[tuple[int, int]] = set()
    # Candidate mentors per mentee, drawn once so the hidden model is computed in one batch.
    candidates = {e: rng.sample(mentor_ids, k=min(8, len(mentor_ids))) for e in mentee_ids}
    chance.prefetch([(e, m) for e, ms in candidates.items() for m in ms if e != m])
    for mentee in mentee_ids:
        if rng.random() > SHARE_SEEKING_HISTORY:
            continue
        mentors = [m for m in candidates[mentee] if m != mentee]
        if not mentors:
            continue
        cursor = signed_up[mentee] + timedelta(days=rng.randint(*WAIT_DAYS) // 3)
        in_rounds: set[int] = set()
        open_request = False
        while cursor < now:
            # Mentees ask mentors who show a free place today.
            free = [m for m in mentors if active_of_mentor[m] < capacity.get(m, 0)]
            mentor = rng.choice(free or mentors)
            works = rng.random() < chance(mentee, mentor)
            round_id = next(
                (
                    rid
                    for rid, published in rounds
                    if rid not in in_rounds
                    and published <= cursor < published + timedelta(days=ROUND_WINDOW_DAYS)
                    and signed_up[mentor] < published
                ),
                None,
            )
            if round_id is not None:
                in_rounds.add(round_id)
                published = dict(rounds)[round_id]
                answered = published + timedelta(days=rng.randint(1, RESPOND_DAYS - 1))
                accepted = works or rng.random() < ACCEPTED_ANYWAY
                proposal = {
                    "round_id": round_id,
                    "mentee_id": mentee,
                    "mentor_id": mentor,
                    "score": round(40 + 50 * chance(mentee, mentor), 1),
                    "reasons": "Shares the skills the mentee seeks; a good band step.",
                    "status": "accepted" if accepted else "declined",
                    "mentee_answer": "accepted",
                    "mentor_answer": "accepted" if accepted else "declined",
                    "decline_reason": "" if accepted else rng.choice(DECLINE_REASONS),
                    "created_at": published - timedelta(days=2),
                    "offered_at": published,
                    "answered_at": answered,
                    "respond_by": published + timedelta(days=RESPOND_DAYS),
                    "mentorship": None,
                }
                plan.proposals.append(proposal)
                started = answered if accepted else None
                request = None
            else:
                responded = cursor + timedelta(days=rng.randint(1, REQUEST_DAYS - 2))
                expires = cursor + timedelta(days=REQUEST_DAYS)
                if expires > now:
                    # Recent: still open, once per mentee (the services allow one per pair).
                    if open_request or (mentee, mentor) in active_pairs:
                        break
                    status, started = "open", None
                    open_request = True
                elif rng.random() < EXPIRED_SHARE:
                    status, started = "expired", None
                elif works or rng.random() < ACCEPTED_ANYWAY:
                    status, started = "accepted", responded
                else:
                    status, started = "declined", None
                request = {
                    "mentee_id": mentee,
                    "mentor_id": mentor,
                    "message": "I would value your experience as I take the next step.",
                    "status": status,
                    "decline_reason": rng.choice(DECLINE_REASONS) if status == "declined" else "",
                    "created_at": cursor,
                    "expires_at": expires,
                    "responded_at": responded if status in ("accepted", "declined") else None,
                    "mentorship": None,
                }
                plan.requests.append(request)
                proposal = None
            if started is None:
                cursor = cursor + timedelta(days=rng.randint(*WAIT_DAYS))
                if open_request:
                    break
                continue
            months = _weighted(rng, PLANNED_MONTHS)
            planned_end = started + timedelta(days=round(months * 30.44))
            if planned_end <= now:
                # A fresh draw: some accepted pairs still drift apart.
                lasts = rng.random() < chance(mentee, mentor) or rng.random() < COMPLETED_ANYWAY
                status = "completed" if lasts else "ended_early"
            else:
                status = "ended_early" if rng.random() < ENDED_EARLY_WHILE_ACTIVE else "active"
            if status == "ended_early":
                latest = min(planned_end, now - timedelta(days=1))
                span = max((latest - started).days, 14)
                ended: datetime | None = started + timedelta(days=rng.randint(14, span))
                if ended is not None and ended > now:
                    ended = now - timedelta(hours=1)
            elif status == "completed":
                ended = planned_end
            else:
                ended = None
            if status == "active" and (
                active_of_mentor[mentor] >= capacity.get(mentor, 0)
                or (mentee, mentor) in active_pairs
            ):
                # The mentor is full today: they declined this one instead.
                if request is not None:
                    request["status"], request["mentorship"] = "declined", None
                    request["decline_reason"] = DECLINE_REASONS[0]
                elif proposal is not None:
                    proposal["status"], proposal["mentor_answer"] = "declined", "declined"
                cursor = cursor + timedelta(days=rng.randint(*WAIT_DAYS))
                continue
            mentorship = {
                "mentor_id": mentor,
                "mentee_id": mentee,
                "status": status,
                "planned_months": months,
                "started_at": started,
                "ended_at": ended,
                "ended_by_id": mentee if ended else None,
                "end_reason": "",
                "end_category": _weighted(rng, END_CATEGORIES) if status == "ended_early" else None,
                "goals": "Build confidence in leading a larger team.",
                "meeting_rhythm": "Every 4 weeks, 1 hour",
                "created_at": started,
            }
            plan.mentorships.append(mentorship)
            if request is not None:
                request["mentorship"] = mentorship
            if proposal is not None:
                proposal["mentorship"] = mentorship
            if ended is None:
                active_of_mentor[mentor] += 1
                active_pairs.add((mentee, mentor))
                break
            cursor = ended + timedelta(days=rng.randint(*WAIT_DAYS))
    return plan


def _insert_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and return their ids in order (one statement per 1,000 rows)."""
    ids: list[int] = []
    table = model.__table__
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        result = session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), chunk
        )
        ids.extend(row[0] for row in result)
    return ids


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        session.execute(insert(model.__table__), rows[start : start + 5000])


def _write(
    session: Session,
    rng: random.Random,
    plan: _Plan,
    *,
    programme_id: int,
    today: date,
    now: datetime,
    result: HistoryResult,
) -> None:
    # Mentorships first: requests and proposals point at them, and they at requests.
    ids = _insert_ids(
        session, Mentorship, [{**m, "programme_id": programme_id} for m in plan.mentorships]
    )
    for mentorship, mentorship_id in zip(plan.mentorships, ids, strict=True):
        mentorship["id"] = mentorship_id
    request_rows = [
        {k: v for k, v in r.items() if k != "mentorship"} | {"programme_id": programme_id}
        for r in plan.requests
    ]
    request_ids = _insert_ids(session, MentorRequest, request_rows)
    links = [
        {"id": r["mentorship"]["id"], "request_id": request_id}
        for r, request_id in zip(plan.requests, request_ids, strict=True)
        if r["mentorship"] is not None and r["status"] == "accepted"
    ]
    if links:
        session.execute(update(Mentorship), links)
    _bulk(
        session,
        MatchProposal,
        [
            {k: v for k, v in p.items() if k != "mentorship"}
            | {
                "programme_id": programme_id,
                "mentorship_id": p["mentorship"]["id"] if p["mentorship"] else None,
            }
            for p in plan.proposals
        ],
    )
    sessions: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    for m in plan.mentorships:
        start_day = m["started_at"].date()
        last_day = (m["ended_at"] or now).date()
        day = start_day + timedelta(days=rng.randint(3, 14))
        logger = [m["mentor_id"], m["mentee_id"]]
        while day <= last_day and day <= today:
            sessions.append(
                {
                    "mentorship_id": m["id"],
                    "held_on": day,
                    "duration_minutes": _weighted(rng, SESSION_MINUTES),
                    "notes": "",
                    "logged_by_id": rng.choice(logger),
                    "created_at": min(london.london_to_utc(day, time(18, 0)), now),
                }
            )
            day += timedelta(days=rng.randint(*SESSION_EVERY_DAYS))
        if m["ended_at"] is not None:
            good = m["status"] == "completed"
            for role in ("mentee", "mentor"):
                if rng.random() < 0.85:
                    feedback.append(
                        {
                            "mentorship_id": m["id"],
                            "author_role": role,
                            "rating": _weighted(rng, RATINGS_GOOD if good else RATINGS_POOR),
                            "text": rng.choice(FEEDBACK["good" if good else "poor"]),
                            "created_at": m["ended_at"] + timedelta(hours=rng.randint(1, 72)),
                        }
                    )
    # Feedback is never dated after today.
    for row in feedback:
        row["created_at"] = min(row["created_at"], now)
    _bulk(session, MentoringSession, sessions)
    _bulk(session, MentorshipFeedback, feedback)
    by_status: dict[str, int] = defaultdict(int)
    for r in plan.requests:
        by_status[f"requests {r['status']}"] += 1
    for m in plan.mentorships:
        by_status[f"mentorships {m['status'].replace('_', ' ')}"] += 1
    for p in plan.proposals:
        by_status[f"round offers {p['status']}"] += 1
    result.counts.update(sorted(by_status.items()))
    result.counts["sessions"] = len(sessions)
    result.counts["end feedback"] = len(feedback)


def _summarise_rounds(session: Session, rounds: list[tuple[int, datetime]], plan: _Plan) -> None:
    """Each round's figures, as a run would have recorded them."""
    for round_id, _ in rounds:
        offers = [p for p in plan.proposals if p["round_id"] == round_id]
        mentors = {p["mentor_id"] for p in offers}
        summary = {
            "mentees": len(offers),
            "mentors": len(mentors),
            "places": len(mentors) * 2,
            "matched": len(offers),
            "bound": len(offers),
            "unmatched": 0,
            "unmatched_why": {},
            "cross_organisation_share": 0.8,
            "skills_covered": 0.9,
            "total_score": sum(p["score"] for p in offers),
            "priority": False,
            "priority_rate": None,
            "other_rate": None,
            "priority_score_cost": 0.0,
            "blocking_pairs": 0,
            "seconds": 1.2,
            "scoring": "fixed",
            "learning": None,
        }
        session.execute(
            update(MatchingRound)
            .where(col(MatchingRound.id) == round_id)
            .values(summary=json.dumps(summary))
        )


def _record_learning(session: Session, round_id: int, outcome: learning.LearningOutcome) -> None:
    matching_round = session.get(MatchingRound, round_id)
    assert matching_round is not None
    summary = json.loads(matching_round.summary)
    summary["scoring"] = "learned" if outcome.used else "fixed"
    summary["learning"] = {
        "used": outcome.used,
        "outcomes": outcome.outcomes,
        "auc_learned": outcome.auc_learned,
        "auc_fixed": outcome.auc_fixed,
        "explanation": outcome.explanation,
    }
    matching_round.summary = json.dumps(summary)
    session.add(matching_round)


def _add_diversity(
    session: Session, rng: random.Random, member_ids: list[int], signed_up: dict[int, datetime]
) -> int:
    """Consent and answers for about two in three members; some prefer not to say."""
    consents: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    for member_id in member_ids:
        if rng.random() >= CONSENT_SHARE:
            continue
        given = signed_up[member_id] + timedelta(minutes=rng.randint(10, 60 * 24 * 20))
        consents.append(
            {
                "member_id": member_id,
                "purpose": "demographics",
                "wording_version": DEMOGRAPHICS_WORDING_VERSION,
                "source": "self",
                "given_at": given,
            }
        )

        def answer(mix: Mapping[str, float]) -> str | None:
            return None if rng.random() < ANSWER_SKIPPED else _weighted(rng, mix)

        answers.append(
            {
                "member_id": member_id,
                "ethnicity": answer(ETHNICITY),
                "gender": answer(GENDER),
                "disability": answer(DISABILITY),
                "age_band": answer(AGE_BAND),
                "updated_at": given,
            }
        )
    consent_ids = _insert_ids(session, ConsentRecord, consents)
    for row, consent_id in zip(answers, consent_ids, strict=True):
        row["consent_id"] = consent_id
    _bulk(session, DemographicRecord, answers)
    return len(answers)


def _add_circles(
    session: Session,
    rng: random.Random,
    member_ids: list[int],
    signed_up: dict[int, datetime],
    now: datetime,
) -> int:
    """Peer circles that keep the circles page's rules: 4-6 members at one band, each from a
    different organisation, each member in one circle at most."""
    pool = list(member_ids)
    rng.shuffle(pool)
    pool = pool[: int(len(pool) * CIRCLE_SHARE)]
    seats = session.exec(
        select(Member.id, Member.band, Member.organisation_id).where(col(Member.id).in_(pool))
    ).all()
    by_band: dict[str, list[tuple[int, int]]] = {}
    for member_id, band, organisation_id in seats:
        by_band.setdefault(band, []).append((member_id, organisation_id))
    groups: list[list[int]] = []
    for band in sorted(by_band):
        people = sorted(by_band[band])
        rng.shuffle(people)
        size, group, orgs = rng.randint(*CIRCLE_SIZE), [], set()
        for member_id, organisation_id in people:
            if organisation_id in orgs:
                continue
            group.append(member_id)
            orgs.add(organisation_id)
            if len(group) == size:
                groups.append(group)
                size, group, orgs = rng.randint(*CIRCLE_SIZE), [], set()
        if len(group) >= CIRCLE_SIZE[0]:
            groups.append(group)
    circles = []
    for number, group in enumerate(groups):
        founded = max(signed_up[m] for m in group) + timedelta(days=rng.randint(1, 20))
        name = CIRCLE_NAMES[number % len(CIRCLE_NAMES)]
        if number >= len(CIRCLE_NAMES):
            name = f"{name} {number // len(CIRCLE_NAMES) + 1}"
        circles.append(
            {
                "name": name,
                "status": "active",
                "created_by_id": group[0],
                "created_at": min(founded, now),
            }
        )
    ids = _insert_ids(session, Circle, circles)
    _bulk(
        session,
        CircleMember,
        [
            {"circle_id": circle_id, "member_id": m, "joined_at": circle["created_at"]}
            for circle_id, circle, group in zip(ids, circles, groups, strict=True)
            for m in group
        ],
    )
    return len(circles)
