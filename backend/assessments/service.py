"""The Healthcare Leadership Model self-assessment: taking it, reading one's own, the skills it
suggests, and (for impact reports) the paired change of many members under disclosure control.

Only the member reads their own sittings: every read here is of the signed-in member's rows,
and the one aggregate (``paired_change``) publishes counts through the insights' disclosure
control and hides every figure behind a hidden count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from backend.assessments.models import (
    DIMENSION_IDS,
    DIMENSION_NAMES,
    DIMENSIONS,
    LEVELS,
    OCCASIONS,
    SelfAssessment,
    SelfAssessmentRating,
)
from backend.chapters import service as chapter_service
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Invalid, NotFound
from backend.insights import disclosure
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring.models import Mentorship
from backend.skills.models import Skill

TOP_LEVEL = LEVELS[-1].value
MAX_SUGGESTED = 3


@dataclass(frozen=True)
class TakeAssessment:
    """A sitting as the member gave it (a command): levels by dimension id, and why."""

    ratings: Mapping[str, int | None]
    occasion: str = "own_choice"
    mentorship_id: int | None = None


@dataclass(frozen=True)
class AssessmentView:
    """One sitting with its nine levels, as its member reads it."""

    id: int
    occasion: str
    mentorship_id: int | None
    taken_at: datetime
    ratings: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SuggestedSkill:
    """A dimension rated among the member's lowest, offered as a skill to seek."""

    id: str
    name: str
    level: int
    already_sought: bool


# Taking it ------------------------------------------------------------------------------------


def rating_problems(ratings: Mapping[str, int | None]) -> dict[str, str]:
    """What is wrong with ``ratings``, by field: each missing dimension by its id, an unknown
    dimension or a level outside 1-4 (nothing is written)."""
    problems: dict[str, str] = {}
    unknown = sorted(str(d)[:60] for d in ratings if d not in DIMENSION_NAMES)
    if unknown:
        problems["ratings"] = "Unknown dimension: " + ", ".join(unknown[:5]) + "."
    for dimension in DIMENSIONS:
        level = ratings.get(dimension.id)
        if level is None:
            problems[dimension.id] = f"Choose a level for {dimension.name.lower()}."
        elif not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 4:
            problems[dimension.id] = (
                f"Choose a level from 1 (essential) to 4 (exemplary) for {dimension.name.lower()}."
            )
    return problems


def _mentorship_for(
    session: Session, member: Member, mentorship_id: int | None, occasion: str
) -> Mentorship | None:
    if occasion == "own_choice":
        if mentorship_id is not None:
            raise Invalid(
                "An assessment taken when you choose is not tied to a mentorship: choose the "
                "start or the end of the mentorship instead.",
                field="mentorship_id",
            )
        return None
    if mentorship_id is None:
        raise Invalid(
            f"Say which mentorship this assessment is the {occasion} of.", field="mentorship_id"
        )
    mentorship = session.get(Mentorship, mentorship_id)
    if mentorship is None or member.id not in (mentorship.mentor_id, mentorship.mentee_id):
        raise NotFound("No such mentorship.", field="mentorship_id")
    if occasion == "start" and mentorship.status != "active":
        raise Conflict(
            "This mentorship has ended: take the end assessment instead.", field="occasion"
        )
    if occasion == "end" and mentorship.status == "active":
        raise Conflict("Take the end assessment once the mentorship has ended.", field="occasion")
    return mentorship


def take(*, session: Session, member: Member | None, sitting: TakeAssessment) -> AssessmentView:
    """Record a sitting of the self-assessment; every problem is reported at once, and
    nothing is written when any is found (a start or end is taken once per mentorship)."""
    member = member_service.require_member(member)
    if sitting.occasion not in OCCASIONS:
        raise Invalid("Occasion must be start, end or own choice.", field="occasion")
    problems = rating_problems(sitting.ratings)
    if problems:
        raise FieldErrors(problems)
    mentorship = _mentorship_for(session, member, sitting.mentorship_id, sitting.occasion)
    duplicate = Conflict(
        f"You have already taken the {sitting.occasion} assessment for this mentorship.",
        field="occasion",
    )
    if mentorship is not None:
        taken = session.exec(
            select(SelfAssessment.id)
            .where(SelfAssessment.member_id == member.id)
            .where(SelfAssessment.mentorship_id == mentorship.id)
            .where(SelfAssessment.occasion == sitting.occasion)
        ).first()
        if taken is not None:
            raise duplicate
    assessment = SelfAssessment(
        member_id=member.id,
        mentorship_id=mentorship.id if mentorship is not None else None,
        occasion=sitting.occasion,
        taken_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(assessment)
            session.flush()
            for dimension in DIMENSION_IDS:
                level = sitting.ratings[dimension]
                assert level is not None  # rating_problems refused a missing one
                session.add(
                    SelfAssessmentRating(
                        assessment_id=assessment.id, dimension=dimension, level=level
                    )
                )
            session.flush()
    except IntegrityError as error:
        # The unique index: a double submit of the same start or end got there first.
        raise duplicate from error
    return _views(session, [assessment])[0]


# Reading one's own ----------------------------------------------------------------------------


def _views(session: Session, assessments: Sequence[SelfAssessment]) -> list[AssessmentView]:
    ids = [a.id for a in assessments]
    levels: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for row in session.exec(
            select(SelfAssessmentRating).where(col(SelfAssessmentRating.assessment_id).in_(ids))
        ).all():
            levels[row.assessment_id][row.dimension] = row.level
    return [
        AssessmentView(
            id=a.id,
            occasion=a.occasion,
            mentorship_id=a.mentorship_id,
            taken_at=a.taken_at,
            ratings={d: levels[a.id][d] for d in DIMENSION_IDS if d in levels[a.id]},
        )
        for a in assessments
    ]


def my_assessments(*, session: Session, member: Member | None) -> list[AssessmentView]:
    """The signed-in member's own sittings, oldest first (nobody else's, ever)."""
    member = member_service.require_member(member)
    rows = session.exec(
        select(SelfAssessment)
        .where(SelfAssessment.member_id == member.id)
        .order_by(col(SelfAssessment.taken_at), col(SelfAssessment.id))
    ).all()
    return _views(session, rows)


def taken_for(*, session: Session, member: Member | None, mentorship_id: int) -> set[str]:
    """Which of start and end the member has taken for one of their mentorships."""
    if member is None or member.id is None:
        return set()
    return set(
        session.exec(
            select(SelfAssessment.occasion)
            .where(SelfAssessment.member_id == member.id)
            .where(SelfAssessment.mentorship_id == mentorship_id)
        ).all()
    )


@dataclass(frozen=True)
class Comparison:
    """The two sittings a chart compares: start and end of one mentorship, else the first and
    the latest (``before`` is None when there is only one sitting)."""

    before: AssessmentView | None
    after: AssessmentView
    before_label: str
    after_label: str


def comparison(assessments: Sequence[AssessmentView]) -> Comparison | None:
    """Which sittings to chart: the latest end with its mentorship's start, else the first
    against the latest; None with no sitting at all."""
    if not assessments:
        return None
    latest = assessments[-1]
    if latest.occasion == "end":
        start = next(
            (
                a
                for a in assessments
                if a.occasion == "start" and a.mentorship_id == latest.mentorship_id
            ),
            None,
        )
        if start is not None:
            return Comparison(start, latest, "Start", "End")
    if len(assessments) == 1:
        return Comparison(None, latest, "", "Latest")
    return Comparison(assessments[0], latest, "First", "Latest")


# Suggested skills -----------------------------------------------------------------------------


def lowest_dimensions(ratings: Mapping[str, int]) -> list[str]:
    """The two lowest-rated dimensions (three when the third ties the second), in the model's
    order within a level; a dimension rated exemplary is never suggested."""
    order = {d: i for i, d in enumerate(DIMENSION_IDS)}
    candidates = sorted(
        (d for d in DIMENSION_IDS if d in ratings and ratings[d] < TOP_LEVEL),
        key=lambda d: (ratings[d], order[d]),
    )
    chosen = candidates[:2]
    if len(candidates) > 2 and ratings[candidates[2]] == ratings[candidates[1]]:
        chosen.append(candidates[2])
    return chosen[:MAX_SUGGESTED]


def suggested_skills(*, session: Session, member: Member | None) -> list[SuggestedSkill]:
    """Skills to seek from the member's latest sitting (none before the first), each marked
    if already on their profile; a skill retired from the framework is left out."""
    member = member_service.require_member(member)
    latest = session.exec(
        select(SelfAssessment)
        .where(SelfAssessment.member_id == member.id)
        .order_by(col(SelfAssessment.taken_at).desc(), col(SelfAssessment.id).desc())
    ).first()
    if latest is None:
        return []
    ratings = _views(session, [latest])[0].ratings
    lowest = lowest_dimensions(ratings)
    live = set(
        session.exec(
            select(Skill.id).where(col(Skill.id).in_(lowest)).where(col(Skill.retired_at).is_(None))
        ).all()
    )
    sought = set(member_service.skills_of(session=session, member_id=member.id)["sought"])
    return [
        SuggestedSkill(id=d, name=DIMENSION_NAMES[d], level=ratings[d], already_sought=d in sought)
        for d in lowest
        if d in live
    ]


def add_suggested_skills(*, session: Session, member: Member | None) -> list[str]:
    """Add the suggested skills the member does not yet seek to their profile (only when they
    ask: taking the assessment never changes the profile); returns the ids added."""
    member = member_service.require_member(member)
    new = [s.id for s in suggested_skills(session=session, member=member) if not s.already_sought]
    if not new:
        return []
    sought = member_service.skills_of(session=session, member_id=member.id)["sought"]
    member_service.update_profile(
        session=session,
        member=member,
        update=member_service.ProfileUpdate(skills_sought=[*sought, *new]),
    )
    return new


# Privacy --------------------------------------------------------------------------------------


def export_rows(*, session: Session, member_id: int) -> list[dict[str, Any]]:
    """The member's sittings for their data export, each with its levels by dimension."""
    rows = session.exec(
        select(SelfAssessment)
        .where(SelfAssessment.member_id == member_id)
        .order_by(col(SelfAssessment.id))
    ).all()
    return [
        {
            "id": view.id,
            "occasion": view.occasion,
            "mentorship_id": view.mentorship_id,
            "taken_at": view.taken_at.isoformat(),
            "ratings": view.ratings,
        }
        for view in _views(session, rows)
    ]


def erase_for(*, session: Session, member_id: int) -> None:
    """Delete every sitting of the member (their levels first; the foreign keys agree)."""
    ids = select(SelfAssessment.id).where(SelfAssessment.member_id == member_id)
    session.execute(
        delete(SelfAssessmentRating).where(col(SelfAssessmentRating.assessment_id).in_(ids))
    )
    session.execute(delete(SelfAssessment).where(col(SelfAssessment.member_id) == member_id))


# Paired change, for impact reports ------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A mean change with its 95% paired t-interval."""

    mean: float
    low: float
    high: float


def paired_interval(differences: Sequence[float]) -> Interval:
    """Mean of paired differences and its 95% t-interval: mean +- t(0.975, n-1) * s / sqrt(n),
    with s the sample standard deviation (n - 1 in the denominator). Needs two or more."""
    from scipy.stats import t

    n = len(differences)
    if n < 2:
        raise ValueError("a paired interval needs at least two pairs")
    mean = sum(differences) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    half = float(t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return Interval(mean=mean, low=mean - half, high=mean + half)


@dataclass(frozen=True)
class DimensionChange:
    """One dimension's change from start to end: pairs as published, and (unless hidden) the
    mean change in levels with its 95% interval, rounded to two places."""

    dimension: str
    name: str
    pairs: disclosure.Count
    mean_change: float | None
    low: float | None
    high: float | None

    @property
    def hidden(self) -> bool:
        """True when the figures are suppressed (too few pairs to publish)."""
        return self.mean_change is None


@dataclass(frozen=True)
class PairedDifferences:
    """One dimension's raw paired differences (end minus start) and whose they are: for a
    caller that applies its own disclosure control (the impact report)."""

    dimension: str
    name: str
    assessment_ids: list[int]  # the start sittings (their cell keys)
    member_ids: list[int]
    differences: list[float]


def paired_differences(
    *,
    session: Session,
    scope: chapter_service.Scope,
    mentorship_ids: Sequence[int] | None = None,
    programme_id: int | None = None,
    role: str | None = "mentee",
) -> list[PairedDifferences]:
    """Per dimension, the true differences between the start and the end assessment of the
    same member and mentorship, within ``scope``. Unpublished: never show these as they are."""
    start = aliased(SelfAssessment)
    end = aliased(SelfAssessment)
    statement = (
        select(col(start.id), col(end.id), col(start.member_id))
        .join(
            end,
            (col(end.member_id) == col(start.member_id))
            & (col(end.mentorship_id) == col(start.mentorship_id))
            & (col(end.occasion) == "end"),
        )
        .join(Mentorship, col(Mentorship.id) == col(start.mentorship_id))
        .where(col(start.occasion) == "start")
        .where(chapter_service.programmes_in(scope=scope, programme_id=Mentorship.programme_id))
    )
    if role == "mentee":
        statement = statement.where(col(Mentorship.mentee_id) == col(start.member_id))
    elif role == "mentor":
        statement = statement.where(col(Mentorship.mentor_id) == col(start.member_id))
    if mentorship_ids is not None:
        statement = statement.where(col(Mentorship.id).in_(list(mentorship_ids)))
    if programme_id is not None:
        statement = statement.where(col(Mentorship.programme_id) == programme_id)
    pairs = [(int(a), int(b), int(m)) for a, b, m in session.execute(statement).all()]
    levels: dict[int, dict[str, int]] = {}
    wanted = sorted({i for a, b, _ in pairs for i in (a, b)})
    for chunk in range(0, len(wanted), 1000):
        for row in session.exec(
            select(SelfAssessmentRating).where(
                col(SelfAssessmentRating.assessment_id).in_(wanted[chunk : chunk + 1000])
            )
        ).all():
            levels.setdefault(row.assessment_id, {})[row.dimension] = row.level
    result = []
    for dimension in DIMENSIONS:
        found = PairedDifferences(dimension.id, dimension.name, [], [], [])
        for start_id, end_id, member_id in pairs:
            before = levels.get(start_id, {}).get(dimension.id)
            after = levels.get(end_id, {}).get(dimension.id)
            if before is not None and after is not None:
                found.assessment_ids.append(start_id)
                found.member_ids.append(member_id)
                found.differences.append(float(after - before))
        result.append(found)
    return result


def paired_change(
    *,
    session: Session,
    scope: chapter_service.Scope,
    mentorship_ids: Sequence[int] | None = None,
    programme_id: int | None = None,
    role: str | None = "mentee",
    keys: disclosure.CellKeys | None = None,
) -> list[DimensionChange]:
    """Per dimension: how many members took both the start and the end assessment of the
    same mentorship, their mean change (end minus start, in levels) and its 95% paired
    t-interval, within ``scope`` (the caller has checked the organiser holds it).

    Disclosure control as the insights: the number of pairs is published through
    ``disclosure.publish`` (perturbed, 1-7 shown as ``*``, else rounded to 5); the mean and
    interval are shown only where that count is shown AND there are at least 8 true pairs, so
    no figure ever rests on fewer than 8 people. ``role`` "mentee" counts mentees only (the
    default, as commissioners ask), "mentor" mentors only, None both.
    """
    keys = keys or disclosure.default_cell_keys()
    result = []
    for found in paired_differences(
        session=session,
        scope=scope,
        mentorship_ids=mentorship_ids,
        programme_id=programme_id,
        role=role,
    ):
        ids, differences = found.assessment_ids, found.differences
        key = disclosure.cell_key(keys.record_keys("self_assessment_pair", ids))
        # The brief's rule on the true count too: 1-7 pairs are never published.
        few = 0 < len(ids) < disclosure.SMALLEST_SHOWN
        count = disclosure.Count(None) if few else disclosure.publish(len(ids), key, keys=keys)
        shown = not count.hidden and len(ids) >= disclosure.SMALLEST_SHOWN
        interval = paired_interval(differences) if shown else None
        result.append(
            DimensionChange(
                dimension=found.dimension,
                name=found.name,
                pairs=count,
                mean_change=round(interval.mean, 2) if interval else None,
                low=round(interval.low, 2) if interval else None,
                high=round(interval.high, 2) if interval else None,
            )
        )
    return result
