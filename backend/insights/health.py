"""Relationship health figures per programme, for organisers who manage it.

Active pairs, the share with a session in the last ``mentorship_quiet_weeks`` weeks, pairs
needing attention, mentorships ended early by reason category, and the mean check-in score.
Every count goes through the insights' disclosure control (perturbed, 1-7 as ``*``, others to
the nearest 5; the categories with complementary suppression down their column); the share and
the mean are computed only where the counts behind them are published. No check-in's words
are read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from backend.db import utcnow
from backend.insights import disclosure as dc
from backend.insights import service as insights
from backend.insights.disclosure import CellKeys, Count
from backend.london import london_today
from backend.members.models import Member
from backend.mentoring import health
from backend.mentoring.models import END_CATEGORIES, CheckIn, Mentorship
from backend.settings import get_settings

CATEGORY_LABELS: dict[str, str] = {
    "goals_met_early": "Goals met early",
    "no_time": "No time",
    "not_a_good_fit": "Not a good fit",
    "changed_job": "Changed job or left the NHS",
    "mentor_unavailable": "Mentor unavailable",
    "other": "Other",
}
NOT_RECORDED = "not_recorded"
CHECK_IN_MONTHS = 3  # the mean score is of the answers given in this many months


@dataclass(frozen=True)
class HealthFigures:
    """A programme's relationship health, every count published under disclosure control."""

    programme_id: int
    programme_name: str
    weeks: int
    active: Count
    with_recent_session: Count
    recent_share: float | None
    needing_attention: Count
    ended_early: Count
    ended_early_by_category: dict[str, Count]  # END_CATEGORIES and NOT_RECORDED
    check_in_answers: Count
    mean_check_in_score: float | None

    def table(self) -> insights.Table:
        """The figures as a published table (the insights page shows it, and the CSV)."""
        share = "*" if self.recent_share is None else f"{self.recent_share:.1f}"
        mean = "*" if self.mean_check_in_score is None else f"{self.mean_check_in_score:.1f}"
        rows = [
            ["Active pairs", self.active.text],
            [f"With a session in the last {self.weeks} weeks", self.with_recent_session.text],
            [f"Share with a session in the last {self.weeks} weeks %", share],
            ["Needing attention", self.needing_attention.text],
            ["Ended early", self.ended_early.text],
            *(
                [f"Ended early: {CATEGORY_LABELS.get(key, 'Reason not recorded')}", count.text]
                for key, count in self.ended_early_by_category.items()
            ),
            [f"Check-in answers in the last {CHECK_IN_MONTHS} months", self.check_in_answers.text],
            ["Mean check-in score (1 to 5)", mean],
        ]
        summary = (
            f"{self.active.text} active pairs; {share}% had a session in the last "
            f"{self.weeks} weeks; {self.needing_attention.text} need attention."
        )
        return insights.Table(
            key="mentorship-health",
            title="Relationship health",
            summary=summary,
            columns=["Measure", "Figure"],
            rows=rows,
        )


def _count(ids: list[int], kind: str, keys: CellKeys) -> Count:
    return dc.publish(len(ids), dc.cell_key(keys.record_keys(kind, ids)), keys=keys)


def programme_health(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int,
    now: datetime | None = None,
    keys: CellKeys | None = None,
) -> HealthFigures:
    """The relationship health of one programme, for organisers who manage it (Forbidden
    for others, NotFound for no such programme)."""
    within = insights.resolve_within(
        session=session, organiser=organiser, programme_id=programme_id
    )
    now = now or utcnow()
    keys = keys or dc.default_cell_keys()
    weeks = get_settings().mentorship_quiet_weeks
    rows = session.exec(
        select(Mentorship.id, Mentorship.status, Mentorship.end_category).where(
            col(Mentorship.programme_id) == programme_id
        )
    ).all()
    active_ids = [i for i, status, _ in rows if status == "active"]
    last = health.last_session_many(session=session, mentorship_ids=active_ids)
    since = london_today(now) - timedelta(weeks=weeks)
    recent_ids = [i for i in active_ids if i in last and last[i] > since]
    attention_ids = [
        item.mentorship_id
        for item in health.needing_attention(
            session=session, organiser=organiser, programme_id=programme_id, now=now
        )
    ]
    active = _count(active_ids, "mentorship", keys)
    recent = _count(recent_ids, "mentorship", keys)
    # Ended early, one row per category, protected down the column with its total.
    categories = [*END_CATEGORIES, NOT_RECORDED]
    by_category: dict[str, list[int]] = {c: [] for c in categories}
    for mentorship_id, status, category in rows:
        if status == "ended_early":
            by_category[category or NOT_RECORDED].append(mentorship_id)
    grid = [[len(by_category[c])] for c in categories]
    cell_keys = [[dc.cell_key(keys.record_keys("mentorship", by_category[c]))] for c in categories]
    protected = dc.protect_table(grid, cell_keys, column_totals=True, keys=keys)
    answers = session.exec(
        select(CheckIn.id, CheckIn.score)
        .join(Mentorship, col(Mentorship.id) == col(CheckIn.mentorship_id))
        .where(col(Mentorship.programme_id) == programme_id)
        .where(col(CheckIn.answered_at) >= now - timedelta(days=30 * CHECK_IN_MONTHS))
        .where(col(CheckIn.score).is_not(None))
    ).all()
    answer_count = _count([i for i, _ in answers], "check_in", keys)
    mean = None
    if not answer_count.hidden and answers:
        mean = round(sum(score for _, score in answers if score is not None) / len(answers), 1)
    return HealthFigures(
        programme_id=programme_id,
        programme_name=within.programme_name,
        weeks=weeks,
        active=active,
        with_recent_session=recent,
        recent_share=dc.share(recent, active),
        needing_attention=_count(attention_ids, "mentorship", keys),
        ended_early=protected.column_totals[0],
        ended_early_by_category={
            c: cells[0] for c, cells in zip(categories, protected.cells, strict=True)
        },
        check_in_answers=answer_count,
        mean_check_in_score=mean,
    )
