"""Matching rounds for organisers: create, run as a job, review, publish; both sides answer.

A round runs the matcher over a cohort (everyone seeking a mentor, or chosen members such as
an imported CSV cohort) and every mentor with a free place. The organiser reviews the
proposals, removes or reassigns pairs, and publishes; each side then accepts or declines
within a set time, and is reminded before it closes. Declined or lapsed offers are re-offered
by the worker (``reoffer_pending``): the mentee gets the next best free mentor, and a freed
place goes to the round's best waiting mentee. Every path to a mentorship goes through
``backend.mentoring.lifecycle.start_mentorship``.

Rounds over a programme: every round pairs in one programme (``RoundSettings.programme_id``,
None for the network's default programme); its mentorships belong to it. In the default
programme the cohort is as it always was: everyone seeking a mentor ('seeking'), or chosen
members ('members'). In another programme the same two cohorts are read within the programme,
so no new cohort kind is needed: 'seeking' is every accepted mentee applicant still waiting for
a mentor in the programme, and 'members' is the chosen members among them (an imported CSV
cohort of non-applicants pairs nobody). Applicants are read when the round runs, so an
applicant accepted after the round was created is in it. Its mentors are the programme's
accepted mentor applicants, or the network's mentors offering places when it has none; their
places count across programmes. A mentee with a mentor in another programme can be matched
here; one with a mentor in this programme is left out. Eligibility is the programme's: its
applicants passed it when accepted. Widening-access priority reads ``Member.priority_access``.
"""

from __future__ import annotations

import io
import json
import logging
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, literal, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import audit, db, london
from backend.chapters import service as chapters
from backend.db import session_scope, utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from backend.matchmaking import frames as population
from backend.matchmaking import rules as pair_rules
from backend.matchmaking.rounds import ScoreWeights
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members.models import Member, MentoringOffer
from backend.mentoring import groups, lifecycle
from backend.mentoring.models import Mentorship
from backend.notifications import service as notifications
from backend.programmes import pairing
from backend.programmes import service as programmes
from backend.programmes.models import Programme
from backend.rounds import figures
from backend.rounds.models import MatchingRound, MatchProposal
from backend.settings import get_settings
from backend.sqltypes import table_of
from members_csv import safe_writer

if TYPE_CHECKING:
    pass

log = logging.getLogger("peerbridge.rounds")
# The matcher's default weights, by name, for the surfaces (which never import the matcher).
DEFAULT_WEIGHTS: dict[str, float] = ScoreWeights().as_dict()
WEIGHT_NAMES = tuple(DEFAULT_WEIGHTS)


# Creating and listing -------------------------------------------------------------------------


# What a surface says when a number cannot be read as its type (also the range message).
WEIGHTS_PROBLEM = "Weights must be numbers of 0 or more, and not all 0."
RESPOND_DAYS_PROBLEM = "Time to answer must be from 1 to 60 days."
RESPOND_DAYS_EMPTY = "Enter how many days mentors and mentees have to answer, from 1 to 60."
SEED_PROBLEM = "Seed must be a whole number from 0 to 2147483647."


@dataclass(frozen=True)
class RoundSettings:
    """A new round's settings, already read as their types by the surface (page or API)."""

    name: str
    cohort: str = "seeking"
    cohort_member_ids: Sequence[int] = ()
    weights: dict[str, float] | None = None
    priority: bool = False
    seed: int = 0
    respond_days: int = 7
    learn_from_outcomes: bool = False
    # The programme the round pairs in (None: the network's default programme).
    programme_id: int | None = None


def round_problems(settings: RoundSettings) -> dict[str, str]:
    """What is wrong with a new round's settings (ranges and rules), by field; empty if none."""
    problems: dict[str, str] = {}
    clean_name = " ".join((settings.name or "").split())
    if not clean_name:
        problems["name"] = "Give the round a name, like 'Spring 2026 cohort'."
    elif len(clean_name) > 200:
        problems["name"] = "Name must be 200 characters or fewer."
    cohort, cohort_member_ids = settings.cohort, settings.cohort_member_ids
    if cohort not in ("seeking", "members"):
        problems["cohort"] = "Cohort must be everyone seeking a mentor, or chosen members."
    elif cohort == "members" and not cohort_member_ids:
        problems["cohort"] = "Choose the members of the cohort."
    elif len(cohort_member_ids) > 100_000:
        problems["cohort"] = "A cohort can have at most 100,000 members."
    chosen = dict(settings.weights or {})
    unknown = sorted(set(chosen) - set(WEIGHT_NAMES))
    if unknown:
        problems["weights"] = (
            f"Unknown weight: {', '.join(unknown)}. Use {', '.join(WEIGHT_NAMES)}."
        )
    else:
        try:
            ScoreWeights.from_dict({**ScoreWeights().as_dict(), **chosen}).as_array()
        except ValueError:
            problems["weights"] = WEIGHTS_PROBLEM
        else:
            if any(value > 1000 for value in chosen.values()):
                problems["weights"] = "Weights must be 1,000 or less."
    if not 1 <= settings.respond_days <= 60:
        problems["respond_days"] = RESPOND_DAYS_PROBLEM
    if not 0 <= settings.seed < 2**31:
        problems["seed"] = SEED_PROBLEM
    return problems


def check_round(settings: RoundSettings) -> tuple[str, dict[str, float]]:
    """Check a new round's settings (``FieldErrors`` naming each wrong one); the clean name
    and the chosen weights when they are right. Lets a page check the form before a CSV
    cohort is imported, so a wrong name never leaves an import without its round."""
    problems = round_problems(settings)
    if problems:
        raise FieldErrors(problems)
    return " ".join(settings.name.split()), dict(settings.weights or {})


def _require_round_organiser(
    session: Session, organiser: Member | None, programme_id: int | None
) -> tuple[Member, int]:
    """The organiser and the round's programme id, if they may run a round in it.

    The default programme's rounds are for network organisers; another programme's are for
    whoever manages it (its chapter's organisers, or network organisers), and it must be
    published, not ended, with a pairing that includes rounds.
    """
    from backend.chapters import service as chapters

    if programme_id is None:
        member = member_service.require_organiser(session=session, member=organiser)
        return member, programmes.default_programme_id(session=session)
    programme = pairing.get_programme(session=session, programme_id=programme_id)
    if programme.is_default:
        member = member_service.require_organiser(session=session, member=organiser)
        return member, programme.id
    member = chapters.require_chapter(
        session=session, member=organiser, chapter_id=programme.chapter_id
    )
    pairing.check_round_allowed(programme=programme)
    return member, programme.id


def create_round(
    *, session: Session, organiser: Member | None, settings: RoundSettings
) -> MatchingRound:
    """Create a round (queued) in its programme; the caller starts the job with ``start_round``."""
    organiser, programme_id = _require_round_organiser(session, organiser, settings.programme_id)
    clean_name, chosen = check_round(settings)
    cohort, cohort_member_ids = settings.cohort, settings.cohort_member_ids
    if cohort == "members":
        found = set(
            session.exec(
                select(col(Member.id)).where(col(Member.id).in_(list(cohort_member_ids)))
            ).all()
        )
        missing = sorted(set(cohort_member_ids) - found)
        if missing:
            raise FieldErrors({"cohort": f"Unknown member id: {', '.join(map(str, missing[:5]))}."})
    matching_round = MatchingRound(
        name=clean_name,
        programme_id=programme_id,
        created_by_id=organiser.id,
        cohort=cohort,
        cohort_ids=json.dumps(sorted(set(cohort_member_ids))),
        weights=json.dumps(
            {**ScoreWeights().as_dict(), **{k: float(v) for k, v in chosen.items()}}
        ),
        priority=settings.priority,
        seed=settings.seed,
        respond_days=settings.respond_days,
        learn_from_outcomes=settings.learn_from_outcomes,
    )
    session.add(matching_round)
    session.flush()
    session.refresh(matching_round)
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.ROUND_CREATED,
        subject=audit.subject("round", matching_round.id),
        details={
            "cohort": cohort,
            "cohort_size": len(set(cohort_member_ids)),
            "programme_id": programme_id,
        },
    )
    return matching_round


def start_cohort_import(*, session: Session, organiser: Member | None, data: bytes) -> int:
    """Store a round's CSV cohort as an all-or-nothing members import; returns its id.

    The caller commits, then runs ``run_cohort_import``: the file is imported by the same
    chunked job as any upload, so a big cohort never holds the write lock for long.
    """
    from backend.members import importing

    return importing.start_import(
        session=session, actor=organiser, data=data, mode="all-or-nothing", filename="cohort.csv"
    ).id


def run_cohort_import(*, import_id: int, engine: Engine | None = None) -> tuple[Any, list[int]]:
    """Run the cohort's import here and return its result and the cohort.

    The cohort is the file's members who are seeking a mentor, as the import wrote them (the
    file is parsed once, with the import's own rules); empty when the import did not succeed.
    Everyone else in the file, such as mentors, joins the network as usual.
    """
    from backend.db import session_scope
    from backend.members import importing
    from backend.members.import_models import MemberImport

    written: dict[int, bool] = {}
    outcome = importing.run_import_job(import_id, engine=engine, written=written)
    with session_scope(engine) as session:
        done = session.get(MemberImport, import_id)
        assert done is not None
        result = importing.import_result(done)
        failure = done.failure
    if outcome != "done":
        result.errors.append(importing.RowError(0, None, failure or "The import stopped."))
    if not result.ok:
        return result, []
    return result, sorted(i for i, seeking in written.items() if seeking)


def start_round(*, round_id: int, engine: Engine | None = None) -> None:
    """Hand the round to the job runner (a worker with Redis, or a thread with SQLite).

    Call it after the transaction that queued the round has committed, so the job sees it.
    """
    from backend import jobs

    jobs.enqueue("backend.rounds.service.run_round_job", round_id, engine=engine)


def list_rounds(*, session: Session, organiser: Member | None) -> list[MatchingRound]:
    """Every round the organiser's scope covers, newest first (organisers only): a chapter
    organiser sees the rounds of their chapters' programmes only."""
    _, scope = chapters.require_scope(session=session, member=organiser)
    return list(
        session.exec(
            select(MatchingRound)
            .where(chapters.programmes_in(scope=scope, programme_id=MatchingRound.programme_id))
            .order_by(col(MatchingRound.created_at).desc(), col(MatchingRound.id).desc())
        ).all()
    )


def programme_names(*, session: Session, rounds: Sequence[MatchingRound]) -> dict[int, str]:
    """Each round's programme name, by round id: only for rounds of a programme other than
    the default one (the open mentoring needs no label)."""
    default_id = programmes.default_programme_id(session=session)
    names = pairing.names_of(
        session=session,
        programme_ids={r.programme_id for r in rounds if r.programme_id != default_id},
    )
    return {r.id: names[r.programme_id] for r in rounds if r.programme_id in names}


def round_programmes(*, session: Session, organiser: Member | None) -> list[tuple[int, str]]:
    """The programmes the organiser can run a round in now (id, name), the default first."""
    from backend.chapters import service as chapters

    _, scope = chapters.require_scope(session=session, member=organiser)
    found = pairing.programmes_for_rounds(
        session=session, chapter_ids=None if scope.network else set(scope.chapter_ids)
    )
    if not scope.network:
        found = [p for p in found if not p.is_default]
    elif not any(p.is_default for p in found):
        default = pairing.get_programme(session=session, programme_id=None)
        found.insert(0, default)
    return [(p.id, p.name) for p in found]


def get_round(*, session: Session, organiser: Member | None, round_id: int) -> MatchingRound:
    """One round (organisers whose scope covers its programme; NotFound for others, so a
    round outside a chapter organiser's chapters is not revealed)."""
    _, scope = chapters.require_scope(session=session, member=organiser)
    matching_round = session.get(MatchingRound, round_id)
    if matching_round is None or not chapters.covers_programme(
        session=session, scope=scope, programme_id=matching_round.programme_id
    ):
        raise NotFound("No such round.", field="round_id")
    return matching_round


@dataclass(frozen=True)
class ProposalKey:
    """A place in the review's order (best score first, then newest id): a page's edge."""

    score: float
    id: int

    @classmethod
    def of(cls, proposal: MatchProposal) -> ProposalKey:
        """The key of ``proposal``."""
        return cls(score=float(proposal.score), id=int(proposal.id))

    @classmethod
    def parse(cls, text: str | None) -> ProposalKey | None:
        """The key written by ``str(key)``, or ``None`` for text that is not one."""
        score, _, number = (text or "").partition(":")
        try:
            key = cls(score=float(score), id=int(number))
        except ValueError:
            return None
        return key if math.isfinite(key.score) and 0 < key.id < 2**63 else None

    def __str__(self) -> str:
        return f"{self.score!r}:{self.id}"  # repr: the exact float, so no row is skipped


def proposals_of(
    *,
    session: Session,
    organiser: Member | None,
    round_id: int,
    status: str | None = None,
    limit: int | None = None,
    after: ProposalKey | None = None,
    before: ProposalKey | None = None,
) -> list[MatchProposal]:
    """The round's proposals, best score first (organisers only); one page given ``limit``.

    Pages are cut by key, not offset: the ``limit`` proposals right ``after`` one key (or
    right ``before`` it), read along ``ix_match_proposal_round_score`` (round_id, score, id),
    so the last page of fifty thousand costs what the first page of a thousand does.
    """
    get_round(session=session, organiser=organiser, round_id=round_id)
    key = tuple_(MatchProposal.score, MatchProposal.id)
    statement = _proposals(round_id, status)
    if after is not None:
        statement = statement.where(key < tuple_(literal(after.score), literal(after.id)))
    if before is not None:
        statement = statement.where(key > tuple_(literal(before.score), literal(before.id)))
    backwards = before is not None and after is None
    if backwards:  # the page nearest the key, read upwards, then put in the review's order
        order = (col(MatchProposal.score).asc(), col(MatchProposal.id).asc())
    else:
        order = (col(MatchProposal.score).desc(), col(MatchProposal.id).desc())
    statement = statement.order_by(*order)
    if limit is not None:
        statement = statement.limit(max(0, limit))
    rows = list(session.exec(statement).all())
    return rows[::-1] if backwards else rows


def proposal_count(
    *,
    session: Session,
    organiser: Member | None,
    round_id: int,
    status: str | None = None,
    with_mentor: bool = False,
) -> int:
    """How many proposals the round has (with ``status``, if given; only those naming a mentor
    with ``with_mentor``, leaving out the mentees the round found nobody for); organisers only.
    """
    get_round(session=session, organiser=organiser, round_id=round_id)
    counted = select(func.count()).select_from(MatchProposal)
    counted = counted.where(MatchProposal.round_id == round_id)
    if status is not None:
        counted = counted.where(MatchProposal.status == status)
    if with_mentor:
        counted = counted.where(col(MatchProposal.mentor_id).is_not(None))
    return int(session.exec(counted).one())


def _proposals(round_id: int, status: str | None):
    statement = select(MatchProposal).where(MatchProposal.round_id == round_id)
    if status is not None:
        statement = statement.where(MatchProposal.status == status)
    return statement


def summary_of(matching_round: MatchingRound) -> dict[str, object]:
    """The round's figures (matched, unmatched and why, cross-organisation share, parity)."""
    return json.loads(matching_round.summary or "{}")


# Running (a background job) -------------------------------------------------------------------


# The matcher's stages (``matching.rounds``) as the organiser watching the round reads them.
STAGE_WORDS = {
    "features": "Reading what each member offers and seeks",
    "candidates": "Finding the mentors who could suit each mentee",
    "coverage": "Working out how many mentees can be matched",
    "solve": "Choosing the best pairs",
    "reasons": "Writing down why each pair suits",
    "done": "Saving the pairs",
}


def _set_progress(
    engine: Engine | None, round_id: int, stage: str, fraction: float, attempt: int
) -> None:
    """Record progress (and so a heartbeat) for this attempt of the round, if still its own."""
    with session_scope(engine) as session:
        session.execute(
            update(MatchingRound)
            .where(col(MatchingRound.id) == round_id)
            .where(col(MatchingRound.status) == "running")
            .where(col(MatchingRound.attempts) == attempt)
            .values(stage=stage[:100], progress=max(0.0, min(1.0, fraction)), heartbeat_at=utcnow())
        )


def _beat(engine: Engine | None, round_id: int, attempt: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(MatchingRound)
            .where(col(MatchingRound.id) == round_id)
            .where(col(MatchingRound.status) == "running")
            .where(col(MatchingRound.attempts) == attempt)
            .values(heartbeat_at=utcnow())
        )


def run_round_job(round_id: int, engine: Engine | None = None) -> str:
    """Run a queued round: build the population, match, store proposals. Safe to retry.

    Each run is an attempt (``attempts`` counts them). The job beats a heartbeat while it
    works; the proposals and the ready status are written together in one transaction, and
    only if the round is still this attempt's, so a re-run never leaves two sets or half a set.
    """
    from backend import jobs
    from backend.matchmaking.rounds import run_round

    with session_scope(engine) as session:
        claimed = session.exec(
            update(MatchingRound)
            .where(col(MatchingRound.id) == round_id)
            .where(col(MatchingRound.status).in_(("queued", "failed")))
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
        mentee_ids = _round_mentees(session, matching_round)
        not_joined = _not_joined(session, matching_round)
        frame = population.member_frame(
            session=session,
            mentee_ids=mentee_ids,
            places=_round_places(session, matching_round.programme_id),
            programme_id=matching_round.programme_id,
        )
        weights = ScoreWeights.from_dict(json.loads(matching_round.weights))
        priority, seed = matching_round.priority, matching_round.seed
        band_rule = _band_rule(session, matching_round.programme_id)
        working = _pairs_working(session, mentee_ids)
        learned = None
        if matching_round.learn_from_outcomes:
            from backend.matchmaking import learning

            learned = learning.learn(session=session, seed=seed)
    # The matcher runs outside any transaction, so the database stays free for everyone else.
    last = [0.0]

    def progress(stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5 or fraction >= 1.0:
            last[0] = now
            words = STAGE_WORDS.get(stage, stage)
            _set_progress(engine, round_id, words, 0.05 + 0.85 * fraction, attempt)

    try:
        result = run_round(
            frame,
            weights=weights,
            priority=priority,
            seed=seed,
            progress=progress,
            band_rule=band_rule,
            excluded_pairs=working,
            acceptance=learned.model if learned is not None and learned.used else None,
        )
    except Exception as error:
        log.exception("round %s failed", round_id)
        with session_scope(engine) as session:
            session.execute(
                update(MatchingRound)
                .where(col(MatchingRound.id) == round_id)
                .where(col(MatchingRound.attempts) == attempt)
                .where(col(MatchingRound.status) == "running")
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
        "not_joined": not_joined,
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
        finished = session.exec(
            update(MatchingRound)
            .where(col(MatchingRound.id) == round_id)
            .where(col(MatchingRound.status) == "running")
            .where(col(MatchingRound.attempts) == attempt)
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
            table_of(MatchProposal).delete().where(col(MatchProposal.round_id) == round_id)
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
        audit.record(
            session,
            actor=matching_round.created_by_id,
            action=audit.actions.ROUND_RUN,
            subject=audit.subject("round", round_id),
            details={
                "attempt": attempt,
                "mentees": int(result.n_mentees),
                "mentors": int(result.n_mentors),
                "matched": int(result.matched),
            },
        )
    return "ready"


def _round_mentees(session: Session, matching_round: MatchingRound) -> list[int]:
    """The round's mentees waiting now (see the module's docstring on programmes)."""
    programme = session.get(Programme, matching_round.programme_id)
    among: set[int] | None = None
    if programme is not None and not programme.is_default:
        among = set(
            pairing.accepted_applicants(session=session, programme_id=programme.id, role="mentee")
        )
    waiting = population.mentees_waiting(
        session=session, programme_id=matching_round.programme_id, among=among
    )
    if matching_round.cohort == "members":
        chosen = set(json.loads(matching_round.cohort_ids))
        return [i for i in waiting if i in chosen]
    return waiting


def _not_joined(session: Session, matching_round: MatchingRound) -> int:
    """Members the round would have had as mentees but who have not joined yet (imported, the
    invitation not accepted): a round leaves them out, and its page says how many."""
    statement = (
        select(func.count())
        .select_from(Member)
        .where(col(Member.is_active))
        .where(col(Member.email_verified_at).is_(None))
    )
    if matching_round.cohort == "members":
        chosen = sorted(set(json.loads(matching_round.cohort_ids)))
        if not chosen:
            return 0
        statement = statement.where(col(Member.id).in_(chosen))
    else:
        statement = statement.where(col(Member.seeking_mentor))
    return int(session.exec(statement).one())


def _pairs_working(session: Session, mentee_ids: Sequence[int]) -> list[tuple[str, str]]:
    """(mentee, mentor) pairs already active together in any programme: a pair works together
    in one programme at a time, so the round leaves them out (the matcher's ids are text)."""
    if not mentee_ids:
        return []
    rows = session.exec(
        select(Mentorship.mentee_id, Mentorship.mentor_id)
        .where(Mentorship.status == "active")
        .where(col(Mentorship.mentee_id).in_(list(mentee_ids)))
        .where(col(Mentorship.mentor_id).is_not(None))
    ).all()
    return [(str(e), str(m)) for e, m in rows]


def _band_rule(session: Session, programme_id: int | None) -> str:
    """The matcher's band rule of the programme's type (``pair_rules.band_rule_of``)."""
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    return pair_rules.band_rule_of(programme.type if programme is not None else None)


def _round_places(session: Session, programme_id: int) -> dict[int, int]:
    """Free places of the programme's mentors (every mentor's, where it names none)."""
    programme = session.get(Programme, programme_id)
    mentors = (
        None
        if programme is None
        else pairing.programme_mentors(session=session, programme=programme)
    )
    if programme is not None and groups.is_group_programme(programme):
        # Group mentoring: the group size is each mentor's capacity in the programme.
        return groups.group_places(session=session, programme=programme, mentor_ids=mentors)
    places = population.free_places(session=session)
    if mentors is None:
        return places
    return {member_id: free for member_id, free in places.items() if member_id in mentors}


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
            f"{london.format_datetime(last)}). Run it again."
        )
        # Conditional on the attempt, so a job that beats again just now is left alone.
        failed += session.exec(
            update(MatchingRound)
            .where(col(MatchingRound.id) == matching_round.id)
            .where(col(MatchingRound.status) == "running")
            .where(col(MatchingRound.attempts) == matching_round.attempts)
            .where(
                (col(MatchingRound.heartbeat_at).is_(None))
                | (col(MatchingRound.heartbeat_at) < cutoff)
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
    queued = session.exec(
        update(MatchingRound)
        .where(col(MatchingRound.id) == round_id)
        .where(col(MatchingRound.status) == matching_round.status)
        .where(col(MatchingRound.attempts) == matching_round.attempts)
        .values(status="queued", progress=0.0, stage="Waiting to run again", error="")
    ).rowcount
    if not queued:
        raise Conflict("The round changed just now; look again.", field="round_id")
    session.refresh(matching_round)
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.ROUND_RETRIED,
        subject=audit.subject("round", round_id),
        details={"attempts": matching_round.attempts},
    )
    return matching_round


# Reviewing ------------------------------------------------------------------------------------


def _proposal_in_review(
    session: Session, organiser: Member | None, proposal_id: int
) -> MatchProposal:
    chapters.require_scope(session=session, member=organiser)
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None:
        raise NotFound("No such proposal.", field="proposal_id")
    try:
        matching_round = get_round(session=session, organiser=organiser, round_id=proposal.round_id)
    except NotFound:
        raise NotFound("No such proposal.", field="proposal_id") from None
    if matching_round.status != "ready":
        raise Conflict("Pairs can only be changed while the round is in review.")
    return proposal


def remove_proposal(
    *, session: Session, organiser: Member | None, proposal_id: int
) -> MatchProposal:
    """Take a pair out of the round before publishing."""
    proposal = _proposal_in_review(session, organiser, proposal_id)
    if proposal.status != "proposed":
        raise Conflict("Only proposed pairs can be removed.")
    lifecycle.move_offer(session=session, proposal_id=proposal.id, to="removed")
    figures.refresh(session=session, round_id=proposal.round_id)
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.PROPOSAL_REMOVED,
        subject=audit.subject("proposal", proposal.id),
        details={"round": proposal.round_id},
    )
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
    # A proposed pair names both people (only an unmatched row lacks a mentor).
    assert first.mentee_id is not None and first.mentor_id is not None
    assert second.mentee_id is not None and second.mentor_id is not None
    first_round = session.get(MatchingRound, first.round_id)
    assert first_round is not None
    for mentee_id, mentor_id in (
        (first.mentee_id, second.mentor_id),
        (second.mentee_id, first.mentor_id),
    ):
        problem = pair_rules.pair_violation(
            session=session,
            mentee_id=mentee_id,
            mentor_id=mentor_id,
            band_rule=_band_rule(session, first_round.programme_id),
            programme_id=first_round.programme_id,
        )
        if problem:
            raise Conflict(f"That swap breaks a rule: {problem}")
    first.mentor_id, second.mentor_id = second.mentor_id, first.mentor_id
    matching_round = session.get(MatchingRound, first.round_id)
    assert matching_round is not None
    # Each new pair gets its own score and reasons, from the matcher's scoring of the round.
    scored = score_pairs(
        session=session,
        matching_round=matching_round,
        pairs=[(first.mentee_id, first.mentor_id), (second.mentee_id, second.mentor_id)],
    )
    for proposal, (score, reasons) in zip((first, second), scored, strict=True):
        proposal.score = score
        proposal.reasons = reasons
        session.add(proposal)
    figures.refresh(session=session, round_id=first.round_id)
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.PROPOSAL_SWAPPED,
        subject=audit.subject("proposal", first.id),
        details={"round": first.round_id, "other_proposal": second.id},
    )
    return first, second


SCORING_SAMPLE = 400


def _sample(ids: set[int], size: int = SCORING_SAMPLE) -> set[int]:
    ordered = sorted(ids)
    step = max(len(ordered) // size, 1)
    return set(ordered[::step][:size])


def score_pairs(
    *, session: Session, matching_round: MatchingRound, pairs: Sequence[tuple[int, int]]
) -> list[tuple[float, str]]:
    """Score (mentee id, mentor id) pairs with the matcher's scoring of the round's people.

    The scorer is fitted on the round's mentees and mentors (an even sample of at most
    ``SCORING_SAMPLE`` of each in big rounds), as the run was, so a swapped pair's score reads
    on the same scale as the others. Returns (score 0-100, reasons).
    """
    import numpy as np

    from backend.matchmaking.rounds import PairScorer, join_reasons, pair_reasons

    people = session.exec(
        select(MatchProposal.mentee_id, MatchProposal.mentor_id).where(
            MatchProposal.round_id == matching_round.id
        )
    ).all()
    # Fitting the text space on every member of a big round takes seconds; an even sample of
    # the round's people (the pairs themselves always in) keeps the scale and stays quick.
    mentee_ids = _sample({e for e, _ in people if e is not None}) | {e for e, _ in pairs}
    mentor_ids = _sample({m for _, m in people if m is not None}) | {m for _, m in pairs}
    frame = population.member_frame(
        session=session,
        mentee_ids=mentee_ids,
        places=dict.fromkeys(mentor_ids, 1),
        programme_id=matching_round.programme_id,
    )
    scorer = PairScorer(
        weights=ScoreWeights.from_dict(json.loads(matching_round.weights)),
        random_state=matching_round.seed,
        band_rule=_band_rule(session, matching_round.programme_id),
    ).fit(frame)
    pop = scorer.population_
    mentee_at = {pop.member_ids[row]: i for i, row in enumerate(pop.mentee_rows)}
    mentor_at = {pop.member_ids[row]: j for j, row in enumerate(pop.mentor_rows)}
    e = np.array([mentee_at[str(mentee)] for mentee, _ in pairs], np.int64)
    m = np.array([mentor_at[str(mentor)] for _, mentor in pairs], np.int64)
    scores = np.round(np.clip(scorer.score_pairs(e, m), 0, 100), 1)
    return [
        (float(score), join_reasons(reasons))
        for score, reasons in zip(scores, pair_reasons(scorer, e, m), strict=True)
    ]


# Publishing and answering ---------------------------------------------------------------------


MENTOR_PAUSED = "The mentor has paused mentoring."
MENTOR_INACTIVE = lifecycle.MENTOR_INACTIVE


def _programme_id_of(session: Session, round_id: int) -> int:
    programme_id = session.execute(
        select(MatchingRound.programme_id).where(MatchingRound.id == round_id)
    ).scalar()
    return programme_id or programmes.default_programme_id(session=session)


def _offer(session: Session, proposal: MatchProposal, respond_by_days: int) -> bool:
    """Offer a proposed pair to both sides; False when the mentee cannot take it now."""
    mentee = session.get(Member, proposal.mentee_id)
    mentor = session.get(Member, proposal.mentor_id)
    if mentee is None or mentor is None:
        return False
    why = None
    mentor_offer = session.get(MentoringOffer, mentor.id)
    programme_id = _programme_id_of(session, proposal.round_id)
    if not mentee.is_active:
        why = lifecycle.MENTEE_INACTIVE  # suspended since the round ran
    elif (
        lifecycle.active_mentorship_of(
            session=session, mentee_id=mentee.id, programme_id=programme_id
        )
        is not None
    ):
        why = "The mentee already has a mentor."
    elif not mentor.is_active:
        why = MENTOR_INACTIVE  # suspended since the round ran: the mentee is owed another
    elif lifecycle.active_pair(session=session, mentee_id=mentee.id, mentor_id=mentor.id):
        why = "The mentor already mentors this mentee in another programme."
    elif mentor_offer is None or mentor_offer.paused:
        # Paused since the round ran: the mentee is owed another mentor (the re-offer step).
        why = MENTOR_PAUSED
    else:
        now = utcnow()
        try:
            with session.begin_nested():
                lifecycle.move_offer(
                    session=session,
                    proposal_id=proposal.id,
                    to="offered",
                    offered_at=now,
                    respond_by=now + timedelta(days=respond_by_days),
                )
        except IntegrityError:
            # One open offer per mentee per programme (a unique index): another round of the
            # programme offered them first.
            why = "The mentee already has an open offer in this programme from another round."
    if why is not None:
        lifecycle.move_offer(
            session=session,
            proposal_id=proposal.id,
            to="withdrawn",
            decline_reason=why,
            reoffer_pending=why in (MENTOR_PAUSED, MENTOR_INACTIVE),
        )
        return False
    days = f"within {respond_by_days} days"
    notifications.notify_member(
        session=session,
        member=mentee,
        kind="round",
        title=f"We have found you a mentor: {mentor.name}",
        body=f"Our matching round suggests {mentor.name} ({mentor.job_title or 'mentor'}) as your "
        f"mentor. Please accept or decline {days}.",
        link=f"/mentoring/proposals/{proposal.id}",
    )
    notifications.notify_member(
        session=session,
        member=mentor,
        kind="round",
        title=f"Would you mentor {mentee.name}?",
        body=f"Our matching round suggests you as mentor to {mentee.name} "
        f"({mentee.job_title or 'member'}). Please accept or decline {days}.",
        link=f"/mentoring/proposals/{proposal.id}",
    )
    return True


@dataclass(frozen=True)
class PublishPreview:
    """What publishing would do now: pairs offered, people told, and people emailed at once."""

    pairs: int
    people: int
    emailed: int


def publish_preview(*, session: Session, organiser: Member | None, round_id: int) -> PublishPreview:
    """Count who publishing the round would tell, before the organiser confirms."""
    from backend.notifications.models import NotificationPreference
    from backend.notifications.service import DEFAULT_MODES

    matching_round = get_round(session=session, organiser=organiser, round_id=round_id)
    busy = (
        select(Mentorship.mentee_id)
        .where(Mentorship.status == "active")
        .where(Mentorship.programme_id == matching_round.programme_id)
    )
    offered = (
        select(MatchProposal.mentee_id)
        .where(MatchProposal.status == "offered")
        .where(MatchProposal.programme_id == matching_round.programme_id)
    )
    pairs = session.exec(
        select(MatchProposal.mentee_id, MatchProposal.mentor_id)
        .where(MatchProposal.round_id == round_id)
        .where(MatchProposal.status == "proposed")
        .where(col(MatchProposal.mentee_id).not_in(busy))
        .where(col(MatchProposal.mentee_id).not_in(offered))
    ).all()
    people = {i for pair in pairs for i in pair if i is not None}
    not_immediate = set()
    if people:
        chosen = dict(
            session.exec(
                select(NotificationPreference.member_id, NotificationPreference.mode)
                .where(NotificationPreference.kind == "round")
                .where(col(NotificationPreference.member_id).in_(people))
            ).all()
        )
        default = DEFAULT_MODES["round"]
        not_immediate = {i for i in people if chosen.get(i, default) != "immediate"}
    return PublishPreview(
        pairs=len(pairs), people=len(people), emailed=len(people) - len(not_immediate)
    )


def publish_round(
    *,
    session: Session,
    organiser: Member | None,
    round_id: int,
    expected_emails: int | None = None,
) -> MatchingRound:
    """Publish a reviewed round: every proposed pair becomes an offer to both sides.

    With ``expected_emails`` (the count the organiser confirmed from ``publish_preview``),
    publishing is refused if the round changed meanwhile and a different number would be
    emailed.
    """
    matching_round = get_round(session=session, organiser=organiser, round_id=round_id)
    if expected_emails is not None:
        preview = publish_preview(session=session, organiser=organiser, round_id=round_id)
        if preview.emailed != expected_emails:
            raise Conflict(
                f"The round changed since you checked: publishing would now email "
                f"{preview.emailed:,} people, not {expected_emails:,}. Check and confirm again.",
                field="expected_emails",
            )
    now = utcnow()
    published = session.exec(
        update(MatchingRound)
        .where(col(MatchingRound.id) == round_id)
        .where(col(MatchingRound.status) == "ready")
        .values(
            status="published",
            published_at=now,
            respond_by=now + timedelta(days=matching_round.respond_days),
        )
    ).rowcount
    if not published:
        raise Conflict("Only a round that is ready for review can be published.")
    proposed = session.exec(
        select(MatchProposal)
        .where(MatchProposal.round_id == round_id)
        .where(MatchProposal.status == "proposed")
    ).all()
    programme = session.get(Programme, matching_round.programme_id)
    if groups.is_group_programme(programme):
        # Group mentoring: no offers to answer; the groups form and each mentee's mentorship
        # starts through the lifecycle.
        offered = groups.form_groups(
            session=session, matching_round=matching_round, proposals=proposed
        )
    else:
        offered = sum(
            1 for proposal in proposed if _offer(session, proposal, matching_round.respond_days)
        )
    figures.refresh(session=session, round_id=round_id)
    network_changed(session=session)  # offers reserve places: the matcher's view moved
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.ROUND_PUBLISHED,
        subject=audit.subject("round", round_id),
        details={"proposed": len(proposed), "offered": offered},
    )
    session.refresh(matching_round)
    return matching_round


UNMATCHED_PAGE = 50


def unmatched_of(
    *,
    session: Session,
    organiser: Member | None,
    round_id: int,
    offset: int = 0,
    limit: int = UNMATCHED_PAGE,
) -> list[tuple[Member | None, str]]:
    """One page of the round's mentees left without a mentor, each with why (organisers only).

    Paged in the database (mentee id order): a round of thousands loads only ``limit`` rows.
    """
    get_round(session=session, organiser=organiser, round_id=round_id)
    rows = figures.unmatched_mentees(
        session=session, round_id=round_id, offset=max(offset, 0), limit=max(limit, 0)
    )
    people = member_service.get_many(session=session, member_ids=[i for i, _ in rows])
    return [(people.get(i), why) for i, why in rows]


def unmatched_page(
    *, session: Session, organiser: Member | None, round_id: int, limit: int
) -> tuple[list[tuple[Member | None, str]], int]:
    """The first ``limit`` mentees left without a mentor (with why), and how many there are.

    Only the members shown are read: a page of a big round does not load every one of them.
    """
    shown = unmatched_of(session=session, organiser=organiser, round_id=round_id, limit=limit)
    return shown, figures.unmatched_count(session=session, round_id=round_id)


def unmatched_count(*, session: Session, organiser: Member | None, round_id: int) -> int:
    """How many of the round's mentees are left without a mentor (organisers only)."""
    get_round(session=session, organiser=organiser, round_id=round_id)
    return figures.unmatched_count(session=session, round_id=round_id)


def my_proposals(*, session: Session, member: Member | None) -> list[MatchProposal]:
    """Offers waiting for the member's answer, as mentee or mentor."""
    member = member_service.require_member(member)
    return list(
        session.exec(
            select(MatchProposal)
            .where(MatchProposal.status == "offered")
            .where((MatchProposal.mentee_id == member.id) | (MatchProposal.mentor_id == member.id))
            .order_by(col(MatchProposal.offered_at).desc())
        ).all()
    )


def get_proposal(*, session: Session, member: Member | None, proposal_id: int) -> MatchProposal:
    """One proposal, visible to its two members and to organisers."""
    member = member_service.require_member(member)
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None or (
        member.id not in (proposal.mentee_id, proposal.mentor_id)
        and not _organises_round(session, member, proposal.round_id)
    ):
        raise NotFound("No such proposal.", field="proposal_id")
    return proposal


def _organises_round(session: Session, member: Member, round_id: int) -> bool:
    """True when ``member`` organises the round's programme (its scope covers it)."""
    try:
        _, scope = chapters.require_scope(session=session, member=member)
    except Forbidden:  # not an organiser, or one still without a required second factor
        return False
    matching_round = session.get(MatchingRound, round_id)
    return matching_round is not None and chapters.covers_programme(
        session=session, scope=scope, programme_id=matching_round.programme_id
    )


@dataclass
class ProposalReview:
    """A proposed pair as an organiser reviews it: both profiles (never diversity data)."""

    proposal: MatchProposal
    mentee: member_service.ProfileView | None
    mentor: member_service.ProfileView | None


def review_proposal(
    *, session: Session, organiser: Member | None, round_id: int, proposal_id: int
) -> ProposalReview:
    """A proposed pair's two profiles side by side (organisers only); each profile an
    organiser opens this way is recorded as viewed, which its member can see."""
    organiser, _ = chapters.require_scope(session=session, member=organiser)
    get_round(session=session, organiser=organiser, round_id=round_id)
    proposal = get_proposal(session=session, member=organiser, proposal_id=proposal_id)
    if proposal.round_id != round_id:
        raise NotFound("No such proposal.", field="proposal_id")
    views: dict[str, member_service.ProfileView | None] = {}
    for side, member_id in (("mentee", proposal.mentee_id), ("mentor", proposal.mentor_id)):
        views[side] = None
        if member_id:
            views[side] = member_service.profile_view(
                session=session, member_id=member_id, viewer=organiser
            )
            audit.record(
                session,
                actor=organiser,
                action=audit.actions.MEMBER_VIEWED,
                subject=audit.subject("member", member_id),
                details={"round": round_id, "proposal": proposal.id},
            )
    return ProposalReview(proposal, views["mentee"], views["mentor"])


def respond_to_proposal(
    *, session: Session, member: Member | None, proposal_id: int, accept: bool, reason: str = ""
) -> MatchProposal:
    """One side's answer. Both accepting starts a mentorship; a decline is re-offered."""
    member = member_service.require_member(member)
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None or member.id not in (proposal.mentee_id, proposal.mentor_id):
        raise NotFound("No such proposal.", field="proposal_id")
    # An offer names both people.
    assert proposal.mentee_id is not None and proposal.mentor_id is not None
    if len(reason or "") > 1000:
        raise Invalid("Reason must be 1,000 characters or fewer.", field="reason")
    # The mentee's lock first, as on every path to a mentorship (see lifecycle.lock_mentee).
    lifecycle.lock_mentee(session=session, mentee_id=proposal.mentee_id)
    side = "mentee" if member.id == proposal.mentee_id else "mentor"
    answer = "accepted" if accept else "declined"
    column = getattr(MatchProposal, f"{side}_answer")
    recorded = session.exec(
        update(MatchProposal)
        .where(col(MatchProposal.id) == proposal.id)
        .where(col(MatchProposal.status) == "offered")
        .where(column.is_(None))
        .values({f"{side}_answer": answer, "answered_at": utcnow()})
    ).rowcount
    if not recorded:
        session.refresh(proposal)
        if proposal.status == "offered":
            raise Conflict("You have already answered this offer.")
        raise Conflict(f"This offer is {lifecycle.offer_state_words(proposal.status)}.")
    session.refresh(proposal)
    if not accept:
        _decline(session, proposal, member, reason)
    elif proposal.mentee_answer == "accepted" and proposal.mentor_answer == "accepted":
        try:
            lifecycle.start_mentorship(
                session=session,
                mentor_id=proposal.mentor_id,
                mentee_id=proposal.mentee_id,
                proposal=proposal,
            )
        except lifecycle.CapacityReached:
            # The mentor filled their places another way meanwhile (nothing of the mentorship
            # was written): the worker's re-offer step finds the mentee someone else.
            lifecycle.move_offer(
                session=session,
                proposal_id=proposal.id,
                to="declined",
                decline_reason="The mentor no longer has a free place.",
                reoffer_pending=True,
            )
            figures.mark_stale(session=session, round_id=proposal.round_id)
    session.flush()
    # Answered: the member's notifications asking for an answer are done.
    notifications.mark_read_about(
        session=session, member_id=member.id, link=f"/mentoring/proposals/{proposal.id}"
    )
    session.refresh(proposal)
    return proposal


def _decline(session: Session, proposal: MatchProposal, by: Member, reason: str) -> None:
    # Only marked here: the re-offer runs the matcher, so it is the worker's job
    # (``reoffer_pending``), never part of the member's own request.
    lifecycle.move_offer(
        session=session,
        proposal_id=proposal.id,
        to="declined",
        decline_reason=(reason or "").strip(),
        reoffer_pending=True,
    )
    other_id = proposal.mentor_id if by.id == proposal.mentee_id else proposal.mentee_id
    other = session.get(Member, other_id)
    if other is not None:
        notifications.notify_member(
            session=session,
            member=other,
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
    figures.mark_stale(session=session, round_id=proposal.round_id)
    network_changed(session=session)  # a declined offer frees the mentor's place


def _next_mentor(
    session: Session, proposal: MatchProposal, matching_round: MatchingRound
) -> tuple[int, float, str] | None:
    """The next best available mentor for the proposal's mentee (mentor id, score, reasons).

    The matcher runs with no transaction open, so the database stays free meanwhile.
    """
    from backend.matchmaking.rounds import run_round

    assert proposal.mentee_id is not None  # a re-offer is always for a mentee
    already = set(
        session.exec(
            select(MatchProposal.mentor_id)
            .where(MatchProposal.round_id == proposal.round_id)
            .where(MatchProposal.mentee_id == proposal.mentee_id)
        ).all()
    )
    frame = population.member_frame(
        session=session,
        mentee_ids=[proposal.mentee_id],
        places=_round_places(session, matching_round.programme_id),
        exclude_mentors={i for i in already if i is not None},
        programme_id=matching_round.programme_id,
    )
    weights = ScoreWeights.from_dict(json.loads(matching_round.weights))
    seed = matching_round.seed
    band_rule = _band_rule(session, matching_round.programme_id)
    db.commit_for_job(session)  # no transaction stays open while the matcher runs
    if frame.empty or not frame["seeking_mentor"].any():
        return None
    result = run_round(frame, weights=weights, seed=seed, band_rule=band_rule)
    row = result.matches.iloc[0] if len(result.matches) else None
    if row is None or row["mentor_id"] in ("", None):
        return None
    return int(row["mentor_id"]), float(row["score"]), str(row["reasons"])


def _propose(
    session: Session,
    matching_round: MatchingRound,
    replaces: MatchProposal,
    found: tuple[int, int, float, str],
) -> MatchProposal | None:
    """Offer a pair the matcher found, if the mentee is still waiting and the rules allow it."""
    mentee_id, mentor_id, score, reasons = found
    lifecycle.lock_mentee(session=session, mentee_id=mentee_id)
    waiting = (
        lifecycle.active_mentorship_of(
            session=session, mentee_id=mentee_id, programme_id=matching_round.programme_id
        )
        is None
    )
    if not waiting or pair_rules.pair_violation(
        session=session,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        band_rule=_band_rule(session, matching_round.programme_id),
        programme_id=matching_round.programme_id,
    ):
        return None
    new = MatchProposal(
        round_id=matching_round.id,
        mentee_id=mentee_id,
        mentor_id=mentor_id,
        score=score,
        reasons=reasons,
        replaces_id=replaces.id,
        status="proposed",
    )
    session.add(new)
    session.flush()
    if not _offer(session, new, matching_round.respond_days):
        return None
    return new


def reoffer(*, session: Session, proposal: MatchProposal) -> MatchProposal | None:
    """Offer the mentee of a closed proposal the next best available mentor, if any.

    Runs the matcher: call it from a job (``reoffer_pending``), not from a member's request.
    """
    matching_round = session.get(MatchingRound, proposal.round_id)
    if matching_round is None or proposal.mentee_id is None:
        return None
    mentee_id = proposal.mentee_id
    found = _next_mentor(session, proposal, matching_round)
    if found is None:
        return None
    return _propose(session, matching_round, proposal, (mentee_id, *found))


def offer_freed_place(*, session: Session, proposal: MatchProposal) -> MatchProposal | None:
    """Offer the place a closed proposal freed to the round's best waiting unmatched mentee.

    Only for a mentor who did not decline (the mentee declined, or the mentee let an offer the
    mentor had accepted lapse). Runs the matcher: a job's work, like ``reoffer``.
    """
    from backend.matchmaking.rounds import run_round

    matching_round = session.get(MatchingRound, proposal.round_id)
    mentor_id = proposal.mentor_id
    if matching_round is None or mentor_id is None or proposal.mentor_answer == "declined":
        return None
    if population.free_places(session=session).get(mentor_id, 0) <= 0:
        return None
    waiting = set(_round_mentees(session, matching_round))
    had_this_mentor = set(
        session.exec(
            select(MatchProposal.mentee_id)
            .where(MatchProposal.round_id == matching_round.id)
            .where(MatchProposal.mentor_id == mentor_id)
        ).all()
    )
    candidates = [
        mentee_id
        for mentee_id, _ in figures.unmatched_mentees(session=session, round_id=proposal.round_id)
        if mentee_id in waiting and mentee_id not in had_this_mentor
    ]
    if not candidates:
        return None
    frame = population.member_frame(
        session=session,
        mentee_ids=candidates,
        places={mentor_id: 1},
        programme_id=matching_round.programme_id,
    )
    weights = ScoreWeights.from_dict(json.loads(matching_round.weights))
    seed = matching_round.seed
    band_rule = _band_rule(session, matching_round.programme_id)
    db.commit_for_job(session)  # no transaction stays open while the matcher runs
    result = run_round(frame, weights=weights, seed=seed, band_rule=band_rule)
    chosen = result.matches[result.matches["mentor_id"] == str(mentor_id)]
    if chosen.empty:
        return None
    row = chosen.iloc[0]
    found = (int(row["mentee_id"]), mentor_id, float(row["score"]), str(row["reasons"]))
    return _propose(session, matching_round, proposal, found)


def _reoffer_one(session: Session, proposal: MatchProposal) -> int:
    """Both halves of a closed offer: the mentee's next mentor, and the mentor's freed place."""
    offered = 0
    # Declined, or withdrawn because the mentor paused: the mentee is owed another mentor.
    mentee_waits = (
        proposal.status in ("declined", "withdrawn") or proposal.mentee_answer == "accepted"
    )
    if mentee_waits:
        if reoffer(session=session, proposal=proposal) is not None:
            offered += 1
        else:
            _tell_no_other_mentor(session, proposal)
        db.commit_for_job(session)
    place_freed = proposal.status == "declined" or proposal.mentor_answer == "accepted"
    if place_freed and offer_freed_place(session=session, proposal=proposal) is not None:
        offered += 1
    return offered


REOFFER_BATCH = 50


def reoffer_pending(*, session: Session, limit: int = REOFFER_BATCH) -> int:
    """The worker's step: re-offer closed offers (declined, lapsed); returns the offers made.

    The mentee gets the next best free mentor, and a place the closed offer freed goes to the
    round's best waiting unmatched mentee (``offer_freed_place``).

    Then recomputes the figures of rounds marked stale by members' answers.

    Each proposal is claimed with a conditional UPDATE, so several workers can run at once,
    and committed on its own, so no transaction stays open while the matcher runs.
    """
    pending = session.exec(
        select(MatchProposal.id)
        .join(MatchingRound, col(MatchingRound.id) == col(MatchProposal.round_id))
        .where(col(MatchProposal.reoffer_pending).is_(True))
        .where(MatchingRound.status == "published")
        .order_by(col(MatchProposal.id))
        .limit(limit)
    ).all()
    db.commit_for_job(session)
    offered = 0
    for proposal_id in pending:
        claimed = session.exec(
            update(MatchProposal)
            .where(col(MatchProposal.id) == proposal_id)
            .where(col(MatchProposal.reoffer_pending).is_(True))
            .values(reoffer_pending=False)
        ).rowcount
        db.commit_for_job(session)  # the claim, seen by every other worker
        proposal = session.get(MatchProposal, proposal_id)
        if not claimed or proposal is None:
            continue
        try:
            offered += _reoffer_one(session, proposal)
        except Exception:
            # Put the claim back so the next pass retries; one bad row never stops the rest.
            db.rollback_for_job(session)
            log.exception("re-offer of proposal %s failed", proposal_id)
            session.execute(
                update(MatchProposal)
                .where(col(MatchProposal.id) == proposal_id)
                .values(reoffer_pending=True)
            )
            db.commit_for_job(session)
            continue
        figures.mark_stale(session=session, round_id=proposal.round_id)
        db.commit_for_job(session)
    # Figures of rounds that members' answers (or the re-offers above) changed, once per round.
    figures.refresh_stale(session=session)
    return offered


def _tell_no_other_mentor(session: Session, proposal: MatchProposal) -> None:
    mentee = session.get(Member, proposal.mentee_id) if proposal.mentee_id else None
    if mentee is None:
        return
    programme_id = _programme_id_of(session, proposal.round_id)
    if (
        lifecycle.active_mentorship_of(
            session=session, mentee_id=mentee.id, programme_id=programme_id
        )
        is not None
    ):
        return
    notifications.notify_member(
        session=session,
        member=mentee,
        kind="round",
        title="No other mentor is free in this round",
        body="We looked for another mentor for you in this matching round, but nobody with a "
        "free place fits. You can ask a mentor yourself: here are suggestions.",
        link="/mentoring/suggestions",
    )


OFFER_REMINDER_BEFORE = timedelta(days=2)


def remind_offers(*, session: Session, now: datetime | None = None) -> int:
    """Remind, once, whoever has not answered an offer that closes within two days.

    Not before half the time to answer has passed, so a short offer is not reminded at once.
    """
    now = now or utcnow()
    due = session.exec(
        select(MatchProposal)
        .where(MatchProposal.status == "offered")
        .where(col(MatchProposal.reminded_at).is_(None))
        .where(col(MatchProposal.respond_by).is_not(None))
        .where(col(MatchProposal.respond_by) <= now + OFFER_REMINDER_BEFORE)
        .where(col(MatchProposal.respond_by) > now)
    ).all()
    reminded = 0
    for proposal in due:
        offered_at = proposal.offered_at or now
        assert proposal.respond_by is not None  # the query keeps offers with a deadline
        if now - offered_at < (proposal.respond_by - offered_at) / 2:
            continue
        claimed = session.exec(
            update(MatchProposal)
            .where(col(MatchProposal.id) == proposal.id)
            .where(col(MatchProposal.reminded_at).is_(None))
            .values(reminded_at=now)
        ).rowcount
        if not claimed:
            continue
        reminded += 1
        closes = london.format_date(proposal.respond_by)
        mentee = session.get(Member, proposal.mentee_id)
        mentor = session.get(Member, proposal.mentor_id)
        if mentee is None or mentor is None:
            continue
        for member, other, answer in (
            (mentee, mentor, proposal.mentee_answer),
            (mentor, mentee, proposal.mentor_answer),
        ):
            if answer is None:
                notifications.notify_member(
                    session=session,
                    member=member,
                    kind="round",
                    title=f"Please answer: your proposed match with {other.name}",
                    body=f"The proposed match with {other.name} is waiting for your answer. It "
                    f"closes on {closes}: please accept or decline before then.",
                    link=f"/mentoring/proposals/{proposal.id}",
                )
    return reminded


def expire_offers(*, session: Session, now: datetime | None = None) -> int:
    """Remind offers about to close, then close those past their time; everyone is told.

    Both sides hear that the offer closed, and the round's organiser how many closed. Where
    the mentee had accepted (the mentor did not answer), the re-offer step looks for another
    mentor for them.
    """
    now = now or utcnow()
    remind_offers(session=session, now=now)
    due = session.exec(
        select(MatchProposal)
        .join(MatchingRound, col(MatchingRound.id) == col(MatchProposal.round_id))
        .where(MatchProposal.status == "offered")
        .where(func.coalesce(MatchProposal.respond_by, MatchingRound.respond_by) <= now)
    ).all()
    closed: Counter[int] = Counter()
    for proposal in due:
        mentee_waited = proposal.mentee_answer == "accepted"
        if not lifecycle.move_offer(
            session=session,
            proposal_id=proposal.id,
            to="expired",
            strict=False,
            # Whoever answered is offered again: the mentee another mentor, or the mentor's
            # place another mentee.
            reoffer_pending=mentee_waited or proposal.mentor_answer == "accepted",
        ):
            continue
        closed[proposal.round_id] += 1
        _tell_expired(session, proposal, mentee_waited=mentee_waited)
    for round_id, count in closed.items():
        matching_round = session.get(MatchingRound, round_id)
        organiser = (
            session.get(Member, matching_round.created_by_id)
            if matching_round is not None and matching_round.created_by_id
            else None
        )
        if matching_round is not None and organiser is not None:
            offers = "offer" if count == 1 else "offers"
            notifications.notify_member(
                session=session,
                member=organiser,
                kind="round",
                title=f"{count:,} {offers} in {matching_round.name[:100]} closed unanswered",
                body=f"{count:,} proposed {'match' if count == 1 else 'matches'} of the round "
                f"'{matching_round.name}' closed because nobody answered in time. Mentees who "
                "had accepted are being offered another mentor.",
                link=f"/organise/rounds/{round_id}",
            )
        figures.refresh(session=session, round_id=round_id)
    if closed:
        # A closed offer frees the mentor's place. Only then: this runs on every periodic
        # pass, and a version moved with nothing closed makes every process refit its
        # suggester (seconds at 10,000 members) on its next request.
        network_changed(session=session)
    session.flush()
    return sum(closed.values())


def _tell_expired(session: Session, proposal: MatchProposal, *, mentee_waited: bool) -> None:
    mentee = session.get(Member, proposal.mentee_id) if proposal.mentee_id else None
    mentor = session.get(Member, proposal.mentor_id) if proposal.mentor_id else None
    if mentee is None or mentor is None:
        return
    if mentee_waited:
        mentee_body = (
            f"{mentor.name} did not answer in time, so the proposed match has closed. We are "
            "looking for another mentor for you."
        )
    else:
        mentee_body = (
            f"The proposed match with {mentor.name} was not answered in time and has closed. "
            "You can still ask a mentor yourself: here are suggestions."
        )
    notifications.notify_member(
        session=session,
        member=mentee,
        kind="round",
        title=f"Your proposed match with {mentor.name} has closed",
        body=mentee_body,
        link="/mentoring/suggestions",
    )
    mentor_body = (
        f"{mentee.name} did not answer in time, so the proposed match has closed. Your place is "
        "free again."
        if proposal.mentor_answer == "accepted"
        else f"The proposed match with {mentee.name} was not answered in time and has closed."
    )
    notifications.notify_member(
        session=session,
        member=mentor,
        kind="round",
        title=f"The proposed match with {mentee.name} has closed",
        body=mentor_body,
        link="/mentoring",
    )


def export_csv(*, session: Session, organiser: Member | None, round_id: int) -> str:
    """The round as CSV, for organisers' records (member ids, names, score, reasons, status)."""
    proposals = proposals_of(session=session, organiser=organiser, round_id=round_id)
    ids = {p.mentee_id for p in proposals} | {p.mentor_id for p in proposals if p.mentor_id}
    people = member_service.get_many(session=session, member_ids=[i for i in ids if i])
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\n")
    writer.writerow(
        ["mentee_id", "mentee_name", "mentor_id", "mentor_name", "score", "reasons", "status"]
    )
    for p in proposals:
        mentee = people.get(p.mentee_id) if p.mentee_id else None
        mentor = people.get(p.mentor_id) if p.mentor_id else None
        writer.writerow(
            [
                (mentee.external_id or mentee.id) if mentee else "",
                mentee.name if mentee else "Former member",
                (mentor.external_id or mentor.id) if mentor else "",
                mentor.name if mentor else "",
                f"{p.score:.0f}" if p.mentor_id else "",
                pair_rules.about_the_mentee(p.reasons),
                p.status,
            ]
        )
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.ROUND_EXPORTED,
        subject=audit.subject("round", round_id),
        details={"rows": len(proposals)},
    )
    return out.getvalue()
