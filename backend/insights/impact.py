"""The impact report for commissioners: what one programme, or the whole network, achieved.

A report is a list of sections, each made by one function of a ``ReportContext`` (``SECTIONS``):
adding a section is one entry. Every figure is published under the insights' disclosure
control (``backend.insights.disclosure``): counts perturbed by their cell key, then 1-7 shown
as ``*`` and others rounded to 5; a rate is hidden where a count behind it is; a sum (hours)
or a mean (a rating) is hidden where the people behind it are hidden or fewer than 8. The
page, the CSV and the PDF are all drawn from the one ``ImpactReport``, so they carry the same
figures.

Sections for other areas come in through ``Hooks`` (the leadership self-assessment's paired
change, survey results): until a hook is given, the section says "Not available yet" and
publishes nothing. Authorisation is the insights': organisers of the network or of the
programme's chapter, and admins; a chapter organiser counts only the members their chapters
cover, as on the dashboard.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from backend import audit
from backend import london as london_time
from backend.audit.service import Detail
from backend.chapters import service as chapter_service
from backend.chapters.service import Scope
from backend.db import utcnow
from backend.errors import Invalid
from backend.insights import disclosure as dc
from backend.insights import service as insights
from backend.insights import widening as widening_parity
from backend.insights.disclosure import CellKeys, Count
from backend.members.models import Member
from backend.mentoring.models import MentoringSession, MentorRequest, Mentorship, MentorshipFeedback
from backend.programmes import service as programme_service
from backend.programmes.models import Programme, ProgrammeApplication
from members_csv import safe_writer

NOT_AVAILABLE = "Not available yet"
NO_SURVEYS = "This programme has no published survey yet."
NO_NETWORK_SURVEYS = "Surveys belong to programmes: choose a programme to see its survey results."
CSV_COLUMNS = ("Section", "Measure", "Group", "Value")
RATING_LABELS = {1: "1 (poor)", 2: "2", 3: "3", 4: "4", 5: "5 (excellent)"}


# The start of a period given only an end: before the network began.
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    """Calendar days in London, both included."""

    start: date
    end: date

    @property
    def label(self) -> str:
        """The period in words ("up to ..." when it has no start of its own)."""
        end = london_time.format_date(self.end)
        if self.start <= EARLIEST:
            return f"up to {end}"
        return f"{london_time.format_date(self.start)} to {end}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants: from the start's midnight to the day after the end's."""
        return (
            london_time.london_to_utc(self.start, time(0)),
            london_time.london_to_utc(self.end + timedelta(days=1), time(0)),
        )


@dataclass(frozen=True)
class Figure:
    """One published figure: ``shown`` as the page, CSV and PDF give it; ``value`` its number
    (None when hidden, ``*``)."""

    measure: str
    shown: str
    value: float | None
    group: str = ""
    headline: bool = False  # in the summary list at the top
    charted: bool = False  # drawn as a bar in its section's chart

    @property
    def hidden(self) -> bool:
        """True when suppressed."""
        return self.shown == dc.HIDDEN

    @property
    def label(self) -> str:
        """The figure's name with its group, as a chart's bar or a summary row names it."""
        return f"{self.group}: {self.measure}" if self.group else self.measure

    @property
    def csv(self) -> str:
        """The value as written to CSV: a number without thousands separators or a leading
        ``+`` (a change of ``+0.42`` is written ``0.42``: a spreadsheet reads it as a number,
        where ``+0.42`` would be quote-prefixed as a possible formula and read as text)."""
        if self.value is None:
            return self.shown
        return self.shown.replace(",", "").removeprefix("+")


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, a sentence saying what it shows, its figures."""

    key: str
    title: str
    summary: str
    figures: list[Figure] = field(default_factory=list)
    available: bool = True  # False: "Not available yet" (a hook not wired)
    chart_title: str = ""  # a bar chart of the ``charted`` figures, when set

    @property
    def charted(self) -> list[Figure]:
        """The figures drawn in the section's chart."""
        return [f for f in self.figures if f.charted]


@dataclass(frozen=True)
class ImpactReport:
    """Everything the report shows, already protected, in section order."""

    generated_at: datetime
    programme_id: int | None
    programme_name: str
    chapter_id: int | None
    chapter_name: str
    period: Period | None
    sections: list[Section]

    @property
    def title(self) -> str:
        """What the report covers, in words."""
        what = self.programme_name or "the whole network"
        if self.chapter_name:
            what += f", members of the {self.chapter_name} chapter"
        if self.period is not None:
            what += f", {self.period.label}"
        return f"Impact report: {what}"

    def headline(self) -> list[Figure]:
        """The figures of the summary list at the top."""
        return [f for s in self.sections for f in s.figures if f.headline]

    def section(self, key: str) -> Section | None:
        """One section by key."""
        return next((s for s in self.sections if s.key == key), None)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """One row per figure (section, measure, group, value as shown); a section not
        available yet, or with no figures, is one row saying why."""
        out: list[tuple[str, str, str, str]] = []
        if self.period is not None:
            out.append(("Report", "Period", "", self.period.label))
        for section in self.sections:
            if not section.available or not section.figures:
                out.append((section.title, "", "", section.summary or NOT_AVAILABLE))
            out.extend((section.title, f.measure, f.group, f.csv) for f in section.figures)
        return out

    def to_csv(self) -> str:
        """The report as CSV, formula cells neutralised, suppressed exactly as shown."""
        out = io.StringIO()
        writer = safe_writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(self.rows())
        return out.getvalue()


# Hooks for other areas' sections -----------------------------------------------------------


@dataclass(frozen=True)
class DimensionChange:
    """The paired change in one leadership dimension (the self-assessment's ``paired_change``):
    people with a start and an end assessment, their mean change and its 95% interval.
    ``member_ids`` (of those people) give the count its cell key."""

    dimension: str
    pairs: int
    mean_change: float
    low: float
    high: float
    member_ids: Sequence[int] = ()


@dataclass(frozen=True)
class SurveyCount:
    """One answer's count for one question of a programme's survey, already published (the
    surveys' results function applies the same disclosure control)."""

    survey: str
    question: str
    answer: str
    count: Count


LeadershipSource = Callable[["ReportContext"], Sequence[DimensionChange]]
SurveySource = Callable[["ReportContext"], Sequence[SurveyCount]]


@dataclass(frozen=True)
class Hooks:
    """Functions from other areas that feed sections (None: that section is not available)."""

    leadership: LeadershipSource | None = None
    surveys: SurveySource | None = None


def leadership_from_self_assessments(context: ReportContext) -> list[DimensionChange]:
    """The self-assessments' true paired differences, for this report to publish: mentees who
    took the start and the end assessment of a mentorship in the programme (or in any
    programme the organiser's scope covers, for the network view)."""
    from backend.assessments import service as assessments

    changes = []
    for found in assessments.paired_differences(
        session=context.session, scope=context.scope, programme_id=context.within.programme_id
    ):
        n = len(found.differences)
        interval = assessments.paired_interval(found.differences) if n >= 2 else None
        changes.append(
            DimensionChange(
                dimension=found.name,
                pairs=n,
                mean_change=interval.mean if interval else 0.0,
                low=interval.low if interval else 0.0,
                high=interval.high if interval else 0.0,
                member_ids=found.member_ids,
            )
        )
    return changes


def surveys_of_programme(context: ReportContext) -> list[SurveyCount]:
    """Each answer's count in the programme's published and closed surveys, as the surveys
    publish them (a network view has no one survey: none)."""
    from backend.surveys import service as surveys

    if context.within.programme_id is None or context.organiser is None:
        return []
    return [
        SurveyCount(
            survey=results.survey.title,
            question=result.question.text,
            answer=line.label,
            count=line.count,
        )
        for results in surveys.programme_survey_results(
            session=context.session,
            organiser=context.organiser,
            programme_id=context.within.programme_id,
            keys=context.keys,
        )
        for result in results.questions
        for line in result.lines
    ]


DEFAULT_HOOKS = Hooks(leadership=leadership_from_self_assessments, surveys=surveys_of_programme)


@dataclass(frozen=True)
class ReportContext:
    """What a section function needs: the authorised view, the organiser's scope, the secret
    keys, the period and the hooks."""

    session: Session
    within: insights.Within  # programme and/or chapter; scope_chapter_ids for a chapter organiser
    scope: Scope
    keys: CellKeys
    period: Period | None
    hooks: Hooks
    organiser: Member | None = None


# Disclosure helpers ------------------------------------------------------------------------


def _key_sum(keys: Any) -> int:
    return dc.cell_key(np.asarray(keys, dtype=np.float64))


def _count_figure(measure: str, count: Count, **extra: Any) -> Figure:
    return Figure(measure=measure, shown=count.text, value=count.value, **extra)


def _publish(n: int, key: int, keys: CellKeys) -> Count:
    """A true count as the report publishes it: the insights' rule on the perturbed count,
    and hidden too when the true count is 1-7 (a perturbation never lifts a handful of people
    into view here). The same rule covers the people behind a sum or a mean, which is hidden
    with them."""
    if 0 < n < dc.SMALLEST_SHOWN:
        return Count(None)
    return dc.publish(n, key, keys=keys)


def _strict_column(true: list[int], cells: list[Count]) -> list[Count]:
    """A protected column (cells adding up to a shown total) with every true count of 1-7
    hidden as well; a lone hidden cell takes the smallest other shown one with it."""
    out = [
        Count(None) if 0 < n < dc.SMALLEST_SHOWN else c for n, c in zip(true, cells, strict=True)
    ]
    if sum(c.hidden for c in out) == 1:
        shown = [(c.value, i) for i, c in enumerate(out) if c.value]
        if shown:
            out[min(shown)[1]] = Count(None)
    return out


def _rate_figure(measure: str, part: Count, whole: Count, **extra: Any) -> Figure:
    share = dc.share(part, whole)
    return Figure(
        measure=measure,
        shown=dc.HIDDEN if share is None else f"{share:.1f}",
        value=share,
        **extra,
    )


def _behind(people: Count, value: float, shown: str) -> tuple[str, float | None]:
    """A sum or mean as shown: hidden where the people behind it are."""
    if people.value is None:
        return dc.HIDDEN, None
    return shown, value


# Participation: the funnel, over one programme or every programme ---------------------------

FRAME_COLUMNS = ("applied", "accepted", "matched", "active", "completed", "ended_early")
PARTICIPATION = (
    ("applied", "Applied"),
    ("accepted", "Accepted"),
    ("matched", "Matched"),
    ("active", "Mentorship active"),
    ("completed", "Completed"),
    ("ended_early", "Ended early"),
)


def _programmes(context: ReportContext) -> list[Programme]:
    session, within = context.session, context.within
    if within.programme_id is not None:
        programme = session.get(Programme, within.programme_id)
        return [programme] if programme is not None else []
    return list(session.execute(select(Programme).order_by(col(Programme.id))).scalars().all())


def _ended_early(session: Session, programme_id: int) -> set[int]:
    rows = session.execute(
        select(col(Mentorship.mentee_id)).where(
            col(Mentorship.programme_id) == programme_id,
            col(Mentorship.status) == "ended_early",
            col(Mentorship.mentee_id).is_not(None),
        )
    )
    return {int(mid) for (mid,) in rows}


def _cohort(session: Session, programme: Programme, period: Period) -> set[int]:
    """The people who joined a programme's funnel in the period: applied as a mentee (open
    mentoring: asked a mentor, or were matched)."""
    start, end = period.bounds()
    if programme.is_default:
        asked = select(col(MentorRequest.mentee_id)).where(
            col(MentorRequest.programme_id) == programme.id,
            col(MentorRequest.created_at) >= start,
            col(MentorRequest.created_at) < end,
        )
        matched = select(col(Mentorship.mentee_id)).where(
            col(Mentorship.programme_id) == programme.id,
            col(Mentorship.started_at) >= start,
            col(Mentorship.started_at) < end,
        )
        rows = session.execute(asked.union(matched))
    else:
        rows = session.execute(
            select(col(ProgrammeApplication.member_id)).where(
                col(ProgrammeApplication.programme_id) == programme.id,
                col(ProgrammeApplication.role) == "mentee",
                col(ProgrammeApplication.created_at) >= start,
                col(ProgrammeApplication.created_at) < end,
            )
        )
    return {int(mid) for (mid,) in rows if mid is not None}


def _funnel(context: ReportContext) -> pd.DataFrame:
    """One row per mentee applicant per programme (the insights funnel's frame), with ended
    early added: an applicant to two programmes counts in each."""
    frames = []
    dimension = insights.dimension("band")
    assert dimension is not None
    for programme in _programmes(context):
        within = replace(
            context.within,
            programme_id=programme.id,
            programme_name=programme.name,
            default=programme.is_default,
        )
        frame = insights._funnel_frame(context.session, within, dimension)
        if context.period is not None:
            frame = frame[frame["mid"].isin(_cohort(context.session, programme, context.period))]
        early = frame["mid"].isin(_ended_early(context.session, programme.id))
        frame = frame.assign(ended_early=(early.to_numpy() & (frame["matched"] == 1)).astype(int))
        frames.append(frame[["mid", *FRAME_COLUMNS]])
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=int) for c in ("mid", *FRAME_COLUMNS)})
    return pd.concat(frames, ignore_index=True)


def participation_section(context: ReportContext) -> Section:
    """Applied, accepted and matched; the matched by where their mentorship stands (active,
    else completed, else ended early: they add up to the matched, so that column is protected
    as one, with complementary suppression); the completion rate."""
    frame = _funnel(context)
    keys = context.keys
    record_keys = keys.record_keys("member", frame["mid"].to_numpy())
    counts: dict[str, Count] = {}
    for column in ("applied", "accepted"):
        flags = frame[column].to_numpy().astype(bool)
        counts[column] = _publish(int(flags.sum()), _key_sum(record_keys[flags]), keys)
    matched = frame["matched"].to_numpy() == 1
    active, completed = frame["active"].to_numpy() == 1, frame["completed"].to_numpy() == 1
    state = np.where(~matched, -1, np.where(active, 0, np.where(completed, 1, 2)))
    grid, cell_keys = insights._keyed_counts(state, 3, [np.ones(len(frame))], record_keys)
    table = dc.protect_table(grid, cell_keys, column_totals=True, keys=keys)
    stood = _strict_column([row[0] for row in grid], [cells[0] for cells in table.cells])
    total = int(matched.sum())
    counts["matched"] = Count(None) if 0 < total < dc.SMALLEST_SHOWN else table.column_totals[0]
    counts.update(zip(("active", "completed", "ended_early"), stood, strict=True))
    figures = [
        _count_figure(label, counts[key], headline=True, charted=True)
        for key, label in PARTICIPATION
    ]
    done, early = counts["completed"], counts["ended_early"]
    finished = (
        Count(None)
        if done.value is None or early.value is None
        else Count(done.value + early.value)
    )
    rate = _rate_figure(
        "Completion rate (completed of completed or ended early) %", done, finished, headline=True
    )
    figures.append(rate)
    summary = (
        f"{counts['applied'].text} applied as mentees and {counts['matched'].text} were matched; "
        + (
            f"{rate.shown}% of the mentorships that have finished were completed."
            if rate.value is not None
            else "too few mentorships have finished to give a completion rate."
        )
    )
    return Section(
        key="participation",
        title="Participation and completion",
        summary=summary,
        figures=figures,
        chart_title="Mentees at each stage",
    )


# Mentorship activity: sessions, hours and ratings ------------------------------------------


def _mentorships(context: ReportContext) -> Any:
    """The ids of the mentorships the view counts (a SELECT)."""
    mentor, mentee = aliased(Member), aliased(Member)
    return (
        select(col(Mentorship.id))
        .outerjoin(mentor, col(mentor.id) == col(Mentorship.mentor_id))
        .outerjoin(mentee, col(mentee.id) == col(Mentorship.mentee_id))
        .where(
            insights._counted_mentorship(mentor, mentee),
            insights._mentorship_within(context.session, context.within, mentor, mentee),
        )
    )


def sessions_section(context: ReportContext) -> Section:
    """Sessions held and hours of mentoring, and how many mentorships logged them."""
    statement = select(
        col(MentoringSession.id),
        col(MentoringSession.mentorship_id),
        col(MentoringSession.duration_minutes),
    ).where(col(MentoringSession.mentorship_id).in_(_mentorships(context)))
    if context.period is not None:
        statement = statement.where(
            col(MentoringSession.held_on) >= context.period.start,
            col(MentoringSession.held_on) <= context.period.end,
        )
    _, rows = insights._integer_rows(context.session, statement)
    ids, mentorship_ids, minutes = rows.T if len(rows) else (np.zeros(0),) * 3
    keys = context.keys
    sessions = _publish(len(ids), _key_sum(keys.record_keys("mentoring_session", ids)), keys)
    pairs = np.unique(mentorship_ids)
    people = _publish(len(pairs), _key_sum(keys.record_keys("mentorship", pairs)), keys)
    hours = float(minutes.sum()) / 60.0
    # Hours to the nearest 5, as counts are: one session more or less is not readable in it.
    rounded = float(dc.ROUND_TO * round(hours / dc.ROUND_TO))
    shown, value = (
        _behind(people, rounded, f"{rounded:,.0f}")
        if sessions.value is not None
        else (dc.HIDDEN, None)
    )
    if len(ids) == 0:
        shown, value = "0", 0.0
    figures = [
        _count_figure("Sessions held", sessions, headline=True),
        Figure("Hours of mentoring", shown, value, headline=True),
        _count_figure("Mentorships with a session logged", people),
    ]
    summary = (
        f"{sessions.text} mentoring sessions were logged, {shown} hours in all."
        if value is not None
        else f"{sessions.text} mentoring sessions were logged (too few to give the hours)."
    )
    return Section(key="sessions", title="Mentoring sessions", summary=summary, figures=figures)


def ratings_section(context: ReportContext) -> Section:
    """How mentees rated their mentorship at the end (1-5): the distribution and the mean."""
    statement = select(col(MentorshipFeedback.id), col(MentorshipFeedback.rating)).where(
        col(MentorshipFeedback.author_role) == "mentee",
        col(MentorshipFeedback.mentorship_id).in_(_mentorships(context)),
    )
    if context.period is not None:
        start, end = context.period.bounds()
        statement = statement.where(
            col(MentorshipFeedback.created_at) >= start, col(MentorshipFeedback.created_at) < end
        )
    _, rows = insights._integer_rows(context.session, statement)
    ids, ratings = rows.T if len(rows) else (np.zeros(0), np.zeros(0))
    keys = context.keys
    record_keys = keys.record_keys("mentorship_feedback", ids)
    codes = (ratings - 1).astype(int)
    grid, cell_keys = insights._keyed_counts(codes, 5, [np.ones(len(ids))], record_keys)
    table = dc.protect_table(grid, cell_keys, column_totals=True, keys=keys)
    distribution = _strict_column([row[0] for row in grid], [cells[0] for cells in table.cells])
    raters = _publish(len(ids), _key_sum(record_keys), keys)
    if table.column_totals[0].value is None:
        raters = Count(None)
    mean = float(ratings.mean()) if len(ids) else 0.0
    shown, value = _behind(raters, round(mean, 1), f"{mean:.1f}")
    if len(ids) == 0:
        shown, value = "", None
    figures = [
        _count_figure("Mentees who rated their mentorship", raters),
        *(
            _count_figure("Mentees rating", count, group=RATING_LABELS[r + 1], charted=True)
            for r, count in enumerate(distribution)
        ),
    ]
    if len(ids):
        figures.append(Figure("Mean rating (out of 5)", shown, value, headline=True))
    if not len(ids):
        summary = "No mentee has rated a mentorship at its end yet."
    elif value is None:
        summary = "Too few mentees have rated their mentorship to give the mean rating."
    else:
        summary = f"Mentees rated their mentorship {shown} out of 5 on average, at its end."
    return Section(
        key="ratings",
        title="Mentees' rating of their mentorship",
        summary=summary,
        figures=figures,
        chart_title="Mentees by the rating they gave (1 to 5)",
    )


# Widening access ---------------------------------------------------------------------------


def widening_section(context: ReportContext) -> Section:
    """Applied, accepted and matched with and without widening-access priority, per programme
    (the insights' parity table; a chapter's report takes its chapter's programmes)."""
    scope = context.scope
    if context.within.chapter_id is not None and context.within.programme_id is None:
        scope = Scope(chapter_ids=frozenset({context.within.chapter_id}))
    table = widening_parity.parity_table(
        context.session, context.keys, scope=scope, programme_id=context.within.programme_id
    )
    name, group = table.columns.index("Programme"), table.columns.index("Group")
    figures = []
    for row in table.rows:
        for c, measure in enumerate(table.columns):
            if c in (name, group) or row[c] == "":
                continue
            figures.append(
                Figure(
                    measure=measure,
                    shown=row[c],
                    value=insights.number_of(row[c]),
                    group=f"{row[name]}: {row[group]}",
                    charted=measure == "Matched of applied %" and row[group] != "Total",
                )
            )
    return Section(
        key="widening-access",
        title="Widening-access parity",
        summary=table.summary,
        figures=figures,
        chart_title="Applicants matched (% of those who applied), with and without priority",
    )


# Sections fed by other areas ---------------------------------------------------------------


def leadership_section(context: ReportContext) -> Section:
    """The Healthcare Leadership Model self-assessment: mean change per dimension from start
    to end, with its 95% paired interval, over people who took both."""
    title = "Leadership self-assessment change (per dimension, 95% interval)"
    source = context.hooks.leadership
    if source is None:
        return Section(
            key="leadership", title=title, summary=NOT_AVAILABLE, available=False, figures=[]
        )
    figures: list[Figure] = []
    for change in source(context):
        ids = np.asarray(list(change.member_ids), dtype=np.int64)
        people = _publish(
            change.pairs, _key_sum(context.keys.record_keys("member", ids)), context.keys
        )
        hidden = people.value is None or change.pairs == 0
        figures.append(
            _count_figure("People with a start and an end", people, group=change.dimension)
        )
        for measure, number in (
            ("Mean change", change.mean_change),
            ("95% interval, lower", change.low),
            ("95% interval, upper", change.high),
        ):
            figures.append(
                Figure(
                    measure=measure,
                    shown=dc.HIDDEN if hidden else f"{number:+.2f}",
                    value=None if hidden else round(number, 2),
                    group=change.dimension,
                    charted=measure == "Mean change",
                )
            )
    return Section(
        key="leadership",
        title=title,
        summary="The change in each dimension between the self-assessments taken at the start "
        "and the end of a mentorship (levels 1 to 4), where enough people took both.",
        figures=figures,
        chart_title="Mean change per dimension",
    )


def surveys_section(context: ReportContext) -> Section:
    """Programme survey results (counts per answer), as the surveys publish them."""
    source = context.hooks.surveys
    if source is None:
        return Section(
            key="surveys", title="Survey results", summary=NOT_AVAILABLE, available=False
        )
    figures = [
        _count_figure(item.answer, item.count, group=f"{item.survey}: {item.question}")
        for item in source(context)
    ]
    if figures:
        summary = "Answers to the programme's surveys, counted under the same protection."
    elif context.within.programme_id is None:
        summary = NO_NETWORK_SURVEYS
    else:
        summary = NO_SURVEYS
    return Section(key="surveys", title="Survey results", summary=summary, figures=figures)


SectionFunction = Callable[[ReportContext], Section]
SECTIONS: tuple[SectionFunction, ...] = (
    participation_section,
    sessions_section,
    ratings_section,
    widening_section,
    leadership_section,
    surveys_section,
)


# Entry point -------------------------------------------------------------------------------


def _audit(
    session: Session, organiser: Member, within: insights.Within, export: str | None
) -> None:
    details: dict[str, Detail] = {
        "programme_id": within.programme_id,
        "chapter_id": within.chapter_id,
    }
    if export is not None:
        details["format"] = export
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.IMPACT_EXPORTED if export else audit.actions.IMPACT_VIEWED,
        subject=audit.subject("insights", None),
        details=details,
    )


def period_of(start: date | None, end: date | None) -> Period | None:
    """The period between two optional London dates (both included): None when neither is
    given; an open start counts from the beginning, an open end up to today."""
    if start is None and end is None:
        return None
    return Period(start or EARLIEST, end or london_time.london_today())


EXPORTS = ("csv", "pdf")


def impact_report(
    session: Session,
    *,
    organiser: Member | None,
    programme_id: int | None = None,
    chapter_id: int | None = None,
    period: Period | None = None,
    export: str | None = None,
    hooks: Hooks | None = None,
    keys: CellKeys | None = None,
    now: datetime | None = None,
) -> ImpactReport:
    """The impact report of one programme (or of the whole network), for organisers who
    manage it and admins; recorded in the audit log (``export``: "csv" or "pdf" for a
    download).

    A programme outside the organiser's chapters is NotFound (as on the programmes pages); a
    chapter outside them Forbidden (as on the dashboard). A chapter organiser counts only the
    members their chapters cover.
    """
    member, scope = chapter_service.require_scope(session=session, member=organiser)
    if export is not None and export not in EXPORTS:
        raise Invalid("Choose CSV or PDF.", field="format")
    if period is not None and period.end < period.start:
        raise Invalid("The end of the period must be on or after its start.", field="period")
    if programme_id is not None:
        programme_service.get_organised(
            session=session, organiser=member, programme_id=programme_id
        )
    within = insights.resolve_within(
        session=session, organiser=member, programme_id=programme_id, chapter_id=chapter_id
    )
    if not scope.network:
        within = replace(within, scope_chapter_ids=scope.chapter_ids)
    _audit(session, member, within, export)
    context = ReportContext(
        session=session,
        within=within,
        scope=scope,
        keys=keys or dc.default_cell_keys(),
        period=period,
        hooks=hooks or DEFAULT_HOOKS,
        organiser=member,
    )
    return ImpactReport(
        generated_at=now or utcnow(),
        programme_id=within.programme_id,
        programme_name=within.programme_name,
        chapter_id=within.chapter_id,
        chapter_name=within.chapter_name,
        period=period,
        sections=[build(context) for build in SECTIONS],
    )
