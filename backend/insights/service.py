"""Organiser insights: participation, diversity and supply figures, all under disclosure control.

Only organisers may ask, and only for a fixed set of breakdowns (one dimension at a time over
the whole active membership), so no two views differ by an arbitrary filter. Only verified
members are counted (``counted_member``): an address confirmed by its owner, so records an
organiser imports count only once the people behind them accept the invitation. Every count
carries its cell key (the sum of its records' keys) into ``disclosure``. Figures are
computed in one pass: the database aggregates per member (GROUP BY subqueries joined to the
member table), and pandas groups the resulting frame per dimension, vectorised. Individual
rows never leave this module: only ``disclosure``-protected counts do.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Float, Integer, and_, case, cast, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from backend import audit
from backend.chapters import service as chapter_scopes
from backend.chapters import service as chapter_service
from backend.chapters.models import Chapter
from backend.db import is_sqlite, utcnow
from backend.errors import Forbidden, Invalid, NotFound
from backend.insights import disclosure as dc
from backend.insights.disclosure import KEY_RANGE, CellKeys, Count, Ratio
from backend.members import service as member_service
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.mentoring.models import MentorRequest, Mentorship
from backend.organisations.models import ORGANISATION_TYPES, Organisation
from backend.privacy import widening
from backend.privacy.models import DemographicRecord
from backend.programmes.models import Programme, ProgrammeApplication
from backend.rounds.models import MatchingRound, MatchProposal
from members_csv import safe_writer
from vocabulary import (
    AGE_BANDS,
    BANDS,
    DISABILITY_ANSWERS,
    ETHNICITIES,
    GENDERS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    SKILL_NAMES,
    humanise,
)

NOT_PROVIDED = "not-provided"
STAGES: tuple[tuple[str, str], ...] = (
    ("joined", "Joined"),
    ("sought", "Asked for a mentor"),
    ("matched", "Matched"),
    ("active", "Mentorship active"),
    ("completed", "Completed"),
)
COUNT_COLUMNS: tuple[str, ...] = (*(key for key, _ in STAGES), "mentors")
TREND_MONTHS = 12


def in_sentence(title: str) -> str:
    """A dimension title inside a sentence: lower case, but names stay as written."""
    return title if title.split()[0] in {"Agenda", "NHS"} else title[:1].lower() + title[1:]


@dataclass(frozen=True)
class Dimension:
    """One fixed breakdown: a member attribute and its groups, in display order."""

    key: str
    title: str
    groups: tuple[str, ...]
    demographic: bool = False
    reference: str | None = None  # None: the group with most members asking for a mentor


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("ethnicity", "Ethnicity", (*ETHNICITIES, NOT_PROVIDED), True, "white"),
    Dimension("gender", "Gender", (*GENDERS, NOT_PROVIDED), True),
    Dimension("disability", "Disability", (*DISABILITY_ANSWERS, NOT_PROVIDED), True, "no"),
    Dimension("age_band", "Age band", (*AGE_BANDS, NOT_PROVIDED), True),
    Dimension("band", "Agenda for Change band", BANDS),
    Dimension("region", "NHS England region", REGIONS),
    Dimension("profession", "Profession", PROFESSIONS),
    Dimension("role_family", "Role family", ROLE_FAMILIES),
    Dimension("organisation_type", "Organisation type", ORGANISATION_TYPES),
    Dimension("priority_access", "Priority access", ("yes", "no"), reference="no"),
)
DIMENSION_KEYS: tuple[str, ...] = tuple(d.key for d in DIMENSIONS)


def group_label(dimension: str, group: str) -> str:
    """A group as people read it."""
    if group == NOT_PROVIDED:
        return "Not provided"
    if dimension == "band":
        return group if group == "VSM" else f"Band {group}"
    if dimension == "priority_access":
        return "Priority access" if group == "yes" else "No priority access"
    return humanise(group)


@dataclass(frozen=True)
class GroupRow:
    """One group of a breakdown: published counts and the figures derived from them."""

    group: str
    label: str
    counts: dict[str, Count]
    share_of_members: float | None
    share_of_mentees: float | None
    share_of_mentors: float | None
    match_rate: float | None
    relative_likelihood: Ratio | None
    median_days_to_match: int | None


@dataclass(frozen=True)
class Breakdown:
    """The funnel, shares, relative likelihood and time to match for one dimension."""

    dimension: str
    title: str
    reference_group: str
    rows: list[GroupRow]
    totals: dict[str, Count]
    summary: str
    # The stages' headings (a programme's view counts its people, not the network's joiners).
    stage_labels: tuple[str, ...] = tuple(label for _, label in STAGES)


@dataclass(frozen=True)
class Table:
    """A published table as shown: column headings and rows of display texts."""

    key: str
    title: str
    summary: str
    columns: list[str]
    rows: list[list[str]]

    def to_csv(self) -> str:
        """The table as CSV, suppressed exactly as shown on the page."""
        out = io.StringIO()
        writer = safe_writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow([cell.replace(",", "") if _is_number(cell) else cell for cell in row])
        return out.getvalue()


def number_of(text: str) -> float | None:
    """A figure's shown text as a number (None for ``*`` or any other text)."""
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).lstrip("-").isdigit()


@dataclass(frozen=True)
class Insights:
    """Everything the dashboard shows, already protected."""

    generated_at: datetime
    members: Count
    breakdowns: list[Breakdown]
    cross_organisation: Table
    supply_by_region: Table
    skills: Table
    shortfalls: Table
    trend: Table
    within: Within | None = None  # the filter, when the view is filtered
    widening_parity: Table | None = None  # backend/insights/widening.py

    def tables(self) -> list[Table]:
        """Every table on the dashboard, each breakdown included, in page order."""
        return [
            *(breakdown_table(b) for b in self.breakdowns),
            self.cross_organisation,
            self.supply_by_region,
            self.skills,
            self.shortfalls,
            self.trend,
            *([self.widening_parity] if self.widening_parity is not None else []),
        ]

    def table(self, key: str) -> Table | None:
        """One table by key (for CSV export)."""
        return next((t for t in self.tables() if t.key == key), None)


# Filtered views: one programme and/or one chapter ----------------------------------------


@dataclass(frozen=True)
class Within:
    """A filtered view: one programme's people and mentorships, and/or one chapter's members.

    A programme other than the default counts the members who applied to it or took part in
    one of its mentorships; its mentoring figures count its mentorships only. The default
    programme (the open mentoring) counts every member as before, with its own requests,
    rounds and mentorships. A chapter counts the members it covers (region or organisation).
    """

    programme_id: int | None = None
    programme_name: str = ""
    default: bool = False
    chapter_id: int | None = None
    chapter_name: str = ""
    # A chapter organiser's scope: only the members their chapters cover are counted, whatever
    # the filter (None: a network organiser or admin, who sees everyone).
    scope_chapter_ids: frozenset[int] | None = None

    @property
    def by_application(self) -> bool:
        """True for a programme that people join by applying (not the default programme)."""
        return self.programme_id is not None and not self.default


PROGRAMME_STAGE_LABELS: tuple[str, ...] = (
    "Applied or took part",
    "Applied as mentee or asked for a mentor",
    "Matched",
    "Mentorship active",
    "Completed",
)


def _members_within(session: Session, within: Within | None) -> Any:
    """The ids of the members a filtered view counts (a SELECT), or None for everyone."""
    conditions = []
    if within is not None and within.scope_chapter_ids is not None:
        scope = chapter_service.Scope(chapter_ids=within.scope_chapter_ids)
        conditions.append(chapter_service.members_in(session=session, scope=scope))
    if within is not None and within.chapter_id is not None:
        scope = chapter_service.Scope(chapter_ids=frozenset({within.chapter_id}))
        conditions.append(chapter_service.members_in(session=session, scope=scope))
    if within is not None and within.by_application:
        pid = within.programme_id
        applicants = select(col(ProgrammeApplication.member_id)).where(
            col(ProgrammeApplication.programme_id) == pid
        )
        mentees = select(col(Mentorship.mentee_id)).where(col(Mentorship.programme_id) == pid)
        mentors = select(col(Mentorship.mentor_id)).where(
            col(Mentorship.programme_id) == pid, col(Mentorship.mentor_id).is_not(None)
        )
        conditions.append(
            or_(
                col(Member.id).in_(applicants),
                col(Member.id).in_(mentees),
                col(Member.id).in_(mentors),
            )
        )
    if not conditions:
        return None
    return select(col(Member.id)).where(*conditions)


def _in_programme(column: Any, within: Within | None) -> list[Any]:
    """``column == programme`` for a programme's view (nothing otherwise), for ``where``."""
    if within is None or within.programme_id is None:
        return []
    return [column == within.programme_id]


def _mentorship_within(session: Session, within: Within | None, mentor: Any, mentee: Any) -> Any:
    """Conditions on a mentorship for a filtered view: of the programme, with a member
    (either side) the view counts."""
    conditions = _in_programme(col(Mentorship.programme_id), within)
    ids = _members_within(session, within)
    if ids is not None:
        conditions.append(or_(col(mentor.id).in_(ids), col(mentee.id).in_(ids)))
    return and_(true(), *conditions)


def _member_in(session: Session, within: Within | None) -> list[Any]:
    """``Member`` is one the filtered view counts (nothing for the whole network)."""
    ids = _members_within(session, within)
    return [] if ids is None else [col(Member.id).in_(ids)]


# Member-level frame (never leaves this module) ---------------------------------------------


def _epoch_days(session: Session, column: Any) -> Any:
    """A timestamp as fractional days, in SQL (so rows carry numbers, not datetimes)."""
    if is_sqlite(session):
        return func.julianday(column)
    return cast(func.extract("epoch", column), Float) / 86400.0


def _month(session: Session, column: Any) -> Any:
    """A timestamp's UTC month as 'YYYY-MM', in SQL."""
    if is_sqlite(session):
        # Stored as ISO text in UTC ("2026-11-25 20:31:14..."): the first 7 characters.
        return func.substr(column, 1, 7)
    return func.to_char(func.timezone("UTC", column), "YYYY-MM")


def _month_number(session: Session, column: Any) -> Any:
    """A timestamp's UTC month as year * 12 + month - 1, in SQL."""
    if is_sqlite(session):
        year = cast(func.substr(column, 1, 4), Integer)
        month = cast(func.substr(column, 6, 2), Integer)
    else:
        utc = func.timezone("UTC", column)
        year = cast(func.extract("year", utc), Integer)
        month = cast(func.extract("month", utc), Integer)
    return year * 12 + month - 1


def _whole_days(session: Session, days: Any) -> Any:
    """Days rounded down to a whole number, alike on both databases."""
    # SQLite's CAST truncates (the same as rounding down for waits, which are not negative);
    # PostgreSQL's rounds to nearest, so it is floored first.
    return cast(days if is_sqlite(session) else func.floor(days), Integer)


def _earliest(a: Any, b: Any) -> Any:
    return case((a.is_(None), b), (b.is_(None), a), (a < b, a), else_=b)


def _code(column: Any, groups: tuple[str, ...]) -> Any:
    """The position of ``column``'s value among ``groups`` (-1 if none), in SQL."""
    return case({group: index for index, group in enumerate(groups)}, value=column, else_=-1)


NO_MONTH = -10_000


def counted_member(member: Any = Member) -> Any:
    """Whom the figures count: active members whose email address is verified.

    Verified means the address's owner followed a link sent to it: the sign-up verification
    link, or the invitation link an imported member uses to set a first password. A member an
    organiser imports is not counted until then: an organiser's file alone cannot add people
    to the figures, and each record added costs a mailbox that answers.
    """
    return and_(col(member.is_active), col(member.email_verified_at).is_not(None))


def _counted_mentorship(mentor: Any, mentee: Any) -> Any:
    """A mentorship counts when each of its members (those not erased) is counted."""
    return and_(
        or_(col(Mentorship.mentor_id).is_(None), counted_member(mentor)),
        or_(col(Mentorship.mentee_id).is_(None), counted_member(mentee)),
    )


def _cell_keys(sums: Any) -> Any:
    """Sums of record keys (float64 from ``bincount``, exact below 2**53) as cell keys."""
    return np.mod(np.rint(np.asarray(sums, dtype=np.float64)).astype(np.int64), KEY_RANGE)


def _keyed_counts(
    codes: Any, size: int, flags: list[Any], keys: Any
) -> tuple[list[list[int]], list[list[int]]]:
    """Counts and cell keys of ``size`` groups (rows) by flag (columns), by ``bincount``."""
    known = codes >= 0
    counts = [np.bincount(codes[known], weights=f[known], minlength=size) for f in flags]
    sums = [np.bincount(codes[known], weights=(f * keys)[known], minlength=size) for f in flags]
    return (
        np.stack(counts, axis=1).astype(int).tolist(),
        _cell_keys(np.stack(sums, axis=1)).tolist(),
    )


def _integer_rows(session: Session, statement: Any) -> tuple[list[str], np.ndarray]:
    """A statement's rows of integers as an array, and its column names.

    Plain integers need no per-row processing: the driver's tuples are read directly.
    """
    result = session.connection().execute(statement)
    columns = list(result.keys())
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return columns, np.array(rows, dtype=np.int64).reshape(len(rows), len(columns))


def _member_frame(
    session: Session, *, first_month: int, within: Within | None = None
) -> pd.DataFrame:
    """One row of small integers per counted member (``counted_member``): id, group codes,
    funnel flags, wait, months.

    The database does the joins, flags, date arithmetic and the coding of every group, so
    the rows hold only small integers (which Python shares rather than allocates) and 50,000
    of them load in tens of milliseconds; no value leaves this module except in aggregates.
    Months count from ``first_month`` (year * 12 + month - 1); -1 and below are earlier.
    ``within``: a filtered view (``Within``): its members, and its programme's requests,
    rounds and mentorships only.
    """
    proposal_rounds = select(col(MatchingRound.id)).where(
        *_in_programme(col(MatchingRound.programme_id), within)
    )
    requests = (
        select(
            col(MentorRequest.mentee_id).label("mid"),
            func.min(MentorRequest.created_at).label("first_request"),
        )
        .where(*_in_programme(col(MentorRequest.programme_id), within))
        .group_by(col(MentorRequest.mentee_id))
        .subquery()
    )
    proposals = (
        select(
            col(MatchProposal.mentee_id).label("mid"),
            func.min(MatchProposal.offered_at).label("first_offer"),
        )
        .where(col(MatchProposal.offered_at).is_not(None))
        .where(
            *(
                [col(MatchProposal.round_id).in_(proposal_rounds)]
                if within is not None and within.programme_id is not None
                else []
            )
        )
        .group_by(col(MatchProposal.mentee_id))
        .subquery()
    )
    as_mentee = (
        select(
            col(Mentorship.mentee_id).label("mid"),
            func.min(Mentorship.started_at).label("first_match"),
            func.max(case((col(Mentorship.status) == "active", 1), else_=0)).label("active"),
            func.max(case((col(Mentorship.status) == "completed", 1), else_=0)).label("completed"),
        )
        .where(*_in_programme(col(Mentorship.programme_id), within))
        .group_by(col(Mentorship.mentee_id))
        .subquery()
    )
    as_mentor = (
        select(col(Mentorship.mentor_id).label("mid"))
        .where(col(Mentorship.mentor_id).is_not(None))
        .where(*_in_programme(col(Mentorship.programme_id), within))
        .group_by(col(Mentorship.mentor_id))
        .subquery()
    )
    first_match = as_mentee.c.first_match
    asked = _earliest(requests.c.first_request, proposals.c.first_offer)
    sought = or_(
        col(Member.seeking_mentor),
        requests.c.first_request.is_not(None),
        proposals.c.first_offer.is_not(None),
        first_match.is_not(None),
    )
    offering = and_(col(MentoringOffer.capacity) > 0, col(MentoringOffer.paused).is_(False))
    seeking_now: Any = col(Member.seeking_mentor)
    joined_at: Any = Member.created_at
    applications = None
    if within is not None and within.by_application:
        # A programme joined by applying: asking is applying as a mentee (or a request or an
        # offered match in it); mentors are those accepted as mentors or who mentored in it.
        applications = _applications_of(within.programme_id)
        asked = _earliest(applications.c.first_applied, asked)
        sought = or_(
            applications.c.mentee == 1,
            requests.c.first_request.is_not(None),
            proposals.c.first_offer.is_not(None),
            first_match.is_not(None),
        )
        offering = applications.c.mentor == 1
        seeking_now = applications.c.waiting == 1
        joined_at = func.coalesce(applications.c.first_applied, Member.created_at)
    # Members without consent have no demographic record: "not provided".
    sources = _group_sources(session, within.programme_id if within is not None else None)

    def month_of(column: Any) -> Any:
        return func.coalesce(_month_number(session, column) - first_month, NO_MONTH)

    statement = (
        select(
            col(Member.id).label("mid"),
            *(_code(sources[d.key], d.groups).label(d.key) for d in DIMENSIONS),
            case((seeking_now, 1), else_=0).label("seeking_now"),
            case((sought, 1), else_=0).label("sought"),
            case((first_match.is_not(None), 1), else_=0).label("matched"),
            func.coalesce(as_mentee.c.active, 0).label("active"),
            func.coalesce(as_mentee.c.completed, 0).label("completed"),
            case((or_(as_mentor.c.mid.is_not(None), offering), 1), else_=0).label("mentors"),
            # Whole days from first asking (or joining) to the first match; -1 if unmatched.
            func.coalesce(
                _whole_days(
                    session,
                    _epoch_days(session, first_match)
                    - _epoch_days(session, func.coalesce(asked, Member.created_at)),
                ),
                -1,
            ).label("days_to_match"),
            month_of(joined_at).label("joined_month"),
            month_of(asked).label("asked_month"),
            month_of(first_match).label("matched_month"),
        )
        .select_from(Member)
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        .outerjoin(DemographicRecord, col(DemographicRecord.member_id) == col(Member.id))
        .outerjoin(requests, requests.c.mid == Member.id)
        .outerjoin(proposals, proposals.c.mid == Member.id)
        .outerjoin(as_mentee, as_mentee.c.mid == Member.id)
        .outerjoin(as_mentor, as_mentor.c.mid == Member.id)
        .outerjoin(MentoringOffer, col(MentoringOffer.member_id) == col(Member.id))
        .where(counted_member())
    )
    if applications is not None:
        statement = statement.outerjoin(applications, applications.c.mid == Member.id)
    members = _members_within(session, within)
    if members is not None:
        statement = statement.where(col(Member.id).in_(members))
    columns, data = _integer_rows(session, statement)
    frame = pd.DataFrame(data, columns=columns)
    frame["joined"] = 1
    return frame


WAITING_STATUSES = ("submitted", "waitlisted", "accepted")


def _applications_of(programme_id: int | None) -> Any:
    """Per member, their applications to one programme: when they first applied as a mentee,
    whether they applied as a mentee, were accepted as a mentor, and wait for a mentor."""
    mentee = col(ProgrammeApplication.role) == "mentee"
    return (
        select(
            col(ProgrammeApplication.member_id).label("mid"),
            func.min(case((mentee, ProgrammeApplication.created_at), else_=None)).label(
                "first_applied"
            ),
            func.max(case((mentee, 1), else_=0)).label("mentee"),
            func.max(
                case(
                    (
                        and_(
                            col(ProgrammeApplication.role) == "mentor",
                            col(ProgrammeApplication.status) == "accepted",
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("mentor"),
            func.max(
                case(
                    (and_(mentee, col(ProgrammeApplication.status).in_(WAITING_STATUSES)), 1),
                    else_=0,
                )
            ).label("waiting"),
        )
        .where(col(ProgrammeApplication.programme_id) == programme_id)
        .group_by(col(ProgrammeApplication.member_id))
        .subquery()
    )


# Breakdowns -------------------------------------------------------------------------------


def _breakdown(
    frame: pd.DataFrame,
    dimension: Dimension,
    keys: CellKeys,
    stage_labels: tuple[str, ...] | None = None,
) -> Breakdown:
    # Groups come coded from the database; two bincounts per stage, no per-row Python.
    codes = frame[dimension.key].to_numpy()
    grid, cell_keys = _keyed_counts(
        codes,
        len(dimension.groups),
        [frame[c].to_numpy() for c in COUNT_COLUMNS],
        frame["key"].to_numpy(),
    )
    matched = frame["matched"].to_numpy() == 1
    days = frame["days_to_match"].to_numpy().clip(min=0)
    medians = {
        group: float(np.median(days[matched & (codes == g)]))
        for g, group in enumerate(dimension.groups)
        if (matched & (codes == g)).any()
    }
    table = dc.protect_table(grid, cell_keys, column_totals=True, keys=keys)
    totals = dict(zip(COUNT_COLUMNS, table.column_totals, strict=True))
    published = [dict(zip(COUNT_COLUMNS, row, strict=True)) for row in table.cells]
    reference = (
        dimension.reference
        or max(
            zip(dimension.groups, published, strict=True),
            key=lambda item: item[1]["sought"].value or 0,
        )[0]
    )
    ref = published[dimension.groups.index(reference)]
    rows: list[GroupRow] = []
    for group, counts in zip(dimension.groups, published, strict=True):
        median = medians.get(group)
        rows.append(
            GroupRow(
                group=group,
                label=group_label(dimension.key, group),
                counts=counts,
                share_of_members=dc.share(counts["joined"], totals["joined"]),
                share_of_mentees=dc.share(counts["matched"], totals["matched"]),
                share_of_mentors=dc.share(counts["mentors"], totals["mentors"]),
                match_rate=dc.share(counts["matched"], counts["sought"]),
                relative_likelihood=(
                    None
                    if group == reference
                    else dc.relative_likelihood(
                        counts["matched"], counts["sought"], ref["matched"], ref["sought"]
                    )
                ),
                # A median speaks for one person's wait: shown only beside a visible count.
                median_days_to_match=(
                    None
                    if counts["matched"].value in (None, 0) or median is None
                    else round(float(median))
                ),
            )
        )
    return Breakdown(
        dimension=dimension.key,
        title=dimension.title,
        reference_group=reference,
        rows=rows,
        totals=totals,
        summary=_breakdown_summary(dimension, rows, reference),
        **({"stage_labels": stage_labels} if stage_labels else {}),
    )


def _likelihood(row: GroupRow) -> float:
    assert row.relative_likelihood is not None  # only rows with a ratio are compared
    return row.relative_likelihood.value


def _breakdown_summary(dimension: Dimension, rows: list[GroupRow], reference: str) -> str:
    rated = [r for r in rows if r.relative_likelihood is not None]
    # Summaries name a real group where one is shown, not "not provided" or "prefer not to say".
    named = [r for r in rated if r.group not in (NOT_PROVIDED, "prefer-not-to-say")]
    rated = named or rated
    ref_label = group_label(dimension.key, reference)
    if not rated:
        return (
            f"{dimension.title}: too few members in most groups to compare likelihood of being "
            f"matched with {ref_label} (figures are suppressed to protect individuals)."
        )
    low = min(rated, key=_likelihood)
    ratio = low.relative_likelihood
    assert ratio is not None
    clear = ratio.high < 1
    return (
        f"{dimension.title}: lowest relative likelihood of being matched is {low.label} at "
        f"{ratio.value:.2f} times that of {ref_label} (95% interval {ratio.low:.2f} to "
        f"{ratio.high:.2f}{', a clear gap' if clear else ''})."
    )


def breakdown_table(breakdown: Breakdown) -> Table:
    """A breakdown as a published table (the page's data table and its CSV)."""
    columns = [
        breakdown.title,
        *breakdown.stage_labels,
        "Mentors",
        "Share of members %",
        "Share of mentees %",
        "Share of mentors %",
        "Matched of those asking %",
        "Relative likelihood of being matched",
        "95% interval",
        "Median days to match",
    ]
    rows = []
    for row in breakdown.rows:
        ratio = row.relative_likelihood
        is_ref = row.group == breakdown.reference_group
        rows.append(
            [
                row.label,
                *(row.counts[key].text for key in COUNT_COLUMNS),
                _pct(row.share_of_members),
                _pct(row.share_of_mentees),
                _pct(row.share_of_mentors),
                _pct(row.match_rate),
                "1.00 (reference)" if is_ref else (f"{ratio.value:.2f}" if ratio else dc.HIDDEN),
                "" if is_ref else (f"{ratio.low:.2f} to {ratio.high:.2f}" if ratio else dc.HIDDEN),
                dc.HIDDEN if row.median_days_to_match is None else str(row.median_days_to_match),
            ]
        )
    rows.append(
        [
            "Total",
            *(breakdown.totals[key].text for key in COUNT_COLUMNS),
            "100",
            "",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    return Table(
        key=f"by-{breakdown.dimension.replace('_', '-')}",
        title=f"Participation by {in_sentence(breakdown.title)}",
        summary=breakdown.summary,
        columns=columns,
        rows=rows,
    )


def _pct(value: float | None) -> str:
    return dc.HIDDEN if value is None else f"{value:.1f}"


# Other tables ----------------------------------------------------------------------------


def _cross_organisation(session: Session, keys: CellKeys, within: Within | None = None) -> Table:
    mentor = aliased(Member)
    mentee = aliased(Member)
    # One row per mentorship (its id keys the record): whether it crosses organisations.
    _, rows = _integer_rows(
        session,
        select(
            col(Mentorship.id),
            case((col(mentor.organisation_id) != col(mentee.organisation_id), 1), else_=0),
        )
        .join(mentor, col(mentor.id) == col(Mentorship.mentor_id))
        .join(mentee, col(mentee.id) == col(Mentorship.mentee_id))
        .where(counted_member(mentor), counted_member(mentee))
        .where(_mentorship_within(session, within, mentor, mentee)),
    )
    ids, cross = rows.T
    counts, cell_keys = _keyed_counts(
        1 - cross,  # group 0: across organisations, 1: within one
        2,
        [np.ones(len(ids))],
        keys.record_keys("mentorship", ids),
    )
    table = dc.protect_table(counts, cell_keys, column_totals=True, keys=keys)
    shown_cross, shown_same = table.cells[0][0], table.cells[1][0]
    shown_total = table.column_totals[0]
    pct = dc.share(shown_cross, shown_total)
    summary = (
        "Too few matches yet to show how many cross organisations."
        if pct is None
        else f"{pct:.1f}% of matches pair a mentor and mentee from different organisations."
    )
    return Table(
        key="cross-organisation",
        title="Matches across organisations",
        summary=summary,
        columns=["Matches", "Count", "Share %"],
        rows=[
            ["Across organisations", shown_cross.text, _pct(pct)],
            ["Within one organisation", shown_same.text, _pct(dc.share(shown_same, shown_total))],
            ["Total", shown_total.text, "100"],
        ],
    )


def _supply_by_region(
    session: Session, frame: pd.DataFrame, keys: CellKeys, within: Within | None = None
) -> Table:
    waiting = ((frame["seeking_now"].to_numpy() == 1) & (frame["active"].to_numpy() == 0)).astype(
        np.float64
    )
    region = frame["region"].to_numpy()
    seeking, seeking_keys = _keyed_counts(region, len(REGIONS), [waiting], frame["key"].to_numpy())
    free = col(MentoringOffer.capacity) - col(MentoringOffer.active_mentees)
    # One row per mentor with a free place. Each free place is a record of its own (the
    # mentor's n-th free place, kind "place:n"), so the places column is a count like the rest.
    _, data = _integer_rows(
        session,
        select(col(Member.id), _code(col(Member.region), REGIONS), free)
        .join(Member, col(Member.id) == col(MentoringOffer.member_id))
        .where(counted_member(), col(MentoringOffer.paused).is_(False), free > 0)
        .where(*_member_in(session, within)),
    )
    ids, mentor_region, places = data.T
    mentors, mentor_keys = _keyed_counts(
        mentor_region, len(REGIONS), [np.ones(len(ids))], keys.record_keys("member", ids)
    )
    place_counts, _ = _keyed_counts(mentor_region, len(REGIONS), [places], np.zeros(len(ids)))
    place_keys = np.zeros(len(REGIONS))
    for n in range(int(places.max()) if len(places) else 0):
        has = places > n
        place_keys += np.bincount(
            mentor_region[has].clip(min=0),
            weights=keys.record_keys(f"place:{n}", ids[has]) * (mentor_region[has] >= 0),
            minlength=len(REGIONS),
        )
    counts = [[seeking[i][0], mentors[i][0], place_counts[i][0]] for i in range(len(REGIONS))]
    cell_keys = [
        [seeking_keys[i][0], mentor_keys[i][0], int(_cell_keys(place_keys[i]))]
        for i in range(len(REGIONS))
    ]
    table = dc.protect_table(counts, cell_keys, column_totals=True, keys=keys)
    out = [[r, *(c.text for c in cells)] for r, cells in zip(REGIONS, table.cells, strict=True)]
    out.append(["Total", *(c.text for c in table.column_totals)])
    short = [
        r
        for r, cells in zip(REGIONS, table.cells, strict=True)
        if cells[0].value is not None
        and cells[2].value is not None
        and cells[0].value > cells[2].value
    ]
    summary = (
        "Every region has at least as many free mentoring places as members waiting, or too "
        "few to say."
        if not short
        else f"Regions with more members waiting than free places: {', '.join(short)}."
    )
    return Table(
        key="supply-by-region",
        title="Mentoring supply and demand by region",
        summary=summary,
        columns=["Region", "Members seeking a mentor", "Mentors with a free place", "Free places"],
        rows=out,
    )


def _skill_counts(
    session: Session, keys: CellKeys, within: Within | None = None
) -> tuple[list[str], dict[str, list[list[int]]], dict[str, list[list[int]]]]:
    """Members by region (rows) and skill (columns), for skills sought and offered.

    One pass over member skills: sought counts members seeking a mentor, offered counts
    mentors with capacity who are not paused. The database codes kind, region and skill as
    small integers; one bincount each gives the counts and the cell keys.
    """
    counted = case(
        (and_(col(MemberSkill.kind) == "sought", col(Member.seeking_mentor)), 1),
        (
            and_(
                col(MemberSkill.kind) == "offered",
                col(MentoringOffer.capacity) > 0,
                col(MentoringOffer.paused).is_(False),
            ),
            1,
        ),
        else_=0,
    )
    skills = sorted(SKILL_NAMES)
    kinds = ("sought", "offered")
    statement = (
        select(
            col(Member.id),
            _code(col(MemberSkill.kind), kinds),
            _code(col(Member.region), REGIONS),
            _code(col(MemberSkill.skill_id), tuple(skills)),
        )
        .join(Member, col(Member.id) == col(MemberSkill.member_id))
        .outerjoin(MentoringOffer, col(MentoringOffer.member_id) == col(Member.id))
        .where(counted_member(), counted == 1)
        .where(*_member_in(session, within))
    )
    _, data = _integer_rows(session, statement)
    ids, kind, region, skill = data.T
    known = (kind >= 0) & (region >= 0) & (skill >= 0)
    cell = np.where(known, (kind * len(REGIONS) + region) * len(skills) + skill, -1)
    size = len(kinds) * len(REGIONS) * len(skills)
    flat, flat_keys = _keyed_counts(
        cell, size, [np.ones(len(data))], keys.record_keys("member", ids)
    )
    counts: dict[str, list[list[int]]] = {}
    cell_keys: dict[str, list[list[int]]] = {}
    for k, name in enumerate(kinds):
        for target, source in ((counts, flat), (cell_keys, flat_keys)):
            target[name] = [
                [source[(k * len(REGIONS) + r) * len(skills) + i][0] for i in range(len(skills))]
                for r in range(len(REGIONS))
            ]
    return skills, counts, cell_keys


def _skills_tables(
    session: Session, keys: CellKeys, within: Within | None = None
) -> tuple[Table, Table]:
    skills, grids, cell_keys = _skill_counts(session, keys, within)
    # Regions partition members, so each skill's column adds up to its national figure.
    sought = dc.protect_table(grids["sought"], cell_keys["sought"], column_totals=True, keys=keys)
    offered = dc.protect_table(
        grids["offered"], cell_keys["offered"], column_totals=True, keys=keys
    )
    national = sorted(
        zip(skills, sought.column_totals, offered.column_totals, strict=True),
        key=lambda item: -((item[1].value or 0) - (item[2].value or 0)),
    )
    skill_rows = [[SKILL_NAMES[s], a.text, b.text, _gap(a, b)] for s, a, b in national]
    top = next(
        (row for row in skill_rows if row[3] not in (dc.HIDDEN, "0") and int(row[3]) > 0), None
    )
    skills_table = Table(
        key="skills",
        title="Skills sought against skills offered",
        summary=(
            f"The largest shortfall of mentors is in {top[0]} ({top[3]} more seekers than mentors)."
            if top
            else "No skill has more seekers than mentors, or too few to say."
        ),
        columns=["Skill", "Sought by members seeking a mentor", "Offered by mentors", "Shortfall"],
        rows=skill_rows,
    )
    short_rows = []
    for r, region in enumerate(REGIONS):
        gaps = []
        for i, skill in enumerate(skills):
            a, b = sought.cells[r][i], offered.cells[r][i]
            if a.value is not None and b.value is not None and a.value > b.value:
                gaps.append((a.value - b.value, SKILL_NAMES[skill]))
        gaps.sort(reverse=True)
        short_rows.append(
            [region, "; ".join(f"{name} ({gap})" for gap, name in gaps[:3]) or "None shown"]
        )
    shortfalls = Table(
        key="shortfalls",
        title="Where the network lacks mentors",
        summary="The three skills per region with most more seekers than mentors (published "
        "counts; cells with hidden counts are left out).",
        columns=["Region", "Skills short of mentors (shortfall)"],
        rows=short_rows,
    )
    return skills_table, shortfalls


def _gap(a: Count, b: Count) -> str:
    if a.value is None or b.value is None:
        return dc.HIDDEN
    return str(a.value - b.value)


def _window(now: datetime, months: int) -> tuple[int, datetime]:
    """The first month of the trend window (as year * 12 + month - 1) and its first instant."""
    first = (now.year * 12 + now.month - 1) - (months - 1)
    start = now.replace(
        year=first // 12, month=first % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return first, start


def _trend(
    session: Session,
    frame: pd.DataFrame,
    now: datetime,
    keys: CellKeys,
    months: int = TREND_MONTHS,
    within: Within | None = None,
) -> Table:
    first_month, start = _window(now, months)
    labels = pd.period_range(start=start.strftime("%Y-%m"), periods=months, freq="M")
    mentor, mentee = aliased(Member), aliased(Member)
    # One row per mentorship completed in the window: its id (the record) and its month.
    _, completed = _integer_rows(
        session,
        select(col(Mentorship.id), _month_number(session, Mentorship.ended_at) - first_month)
        .outerjoin(mentor, col(mentor.id) == col(Mentorship.mentor_id))
        .outerjoin(mentee, col(mentee.id) == col(Mentorship.mentee_id))
        .where(
            col(Mentorship.status) == "completed",
            col(Mentorship.ended_at) >= start,
            _counted_mentorship(mentor, mentee),
            _mentorship_within(session, within, mentor, mentee),
        ),
    )
    member_keys = frame["key"].to_numpy()

    def per_month(codes: Any, record_keys: Any) -> tuple[list[int], list[int]]:
        codes = np.where((codes >= 0) & (codes < months), codes, -1)
        counts, cell_keys = _keyed_counts(codes, months, [np.ones(len(codes))], record_keys)
        return [row[0] for row in counts], [row[0] for row in cell_keys]

    series = [
        per_month(frame[column].to_numpy(), member_keys)
        for column in ("joined_month", "asked_month", "matched_month")
    ]
    series.append(per_month(completed[:, 1], keys.record_keys("mentorship", completed[:, 0])))
    grid = [list(row) for row in zip(*(c for c, _ in series), strict=True)]
    cell_keys = [list(row) for row in zip(*(k for _, k in series), strict=True)]
    table = dc.protect_table(grid, cell_keys, column_totals=True, keys=keys)
    rows = [
        [p.strftime("%B %Y"), *(c.text for c in cells)]
        for p, cells in zip(labels, table.cells, strict=True)
    ]
    rows.append(["Total", *(c.text for c in table.column_totals)])
    joined = table.column_totals[0]
    applied = within is not None and within.by_application
    return Table(
        key="trend",
        title="Monthly trend (last 12 months)",
        summary=(
            f"{joined.text} members first applied to the programme in the last 12 months."
            if applied
            else f"{joined.text} members joined in the last 12 months."
        ),
        columns=[
            "Month",
            "First applied" if applied else "Joined",
            "First asked for a mentor",
            "Matched",
            "Completed",
        ],
        rows=rows,
    )


# Entry point -----------------------------------------------------------------------------


def insights(
    *,
    session: Session,
    organiser: Member | None,
    dimensions: list[str] | None = None,
    now: datetime | None = None,
    keys: CellKeys | None = None,
    programme_id: int | None = None,
    chapter_id: int | None = None,
    audited: bool = True,
) -> Insights:
    """The dashboard for organisers; every figure protected (perturbed, 1-7 hidden, others x5).

    ``keys`` is the deployment's (``disclosure.default_cell_keys``) unless a test asks for
    another secret. ``programme_id`` and ``chapter_id`` filter the view (``Within``): only
    organisers who manage the programme, and whose scope covers the chapter, may ask; a
    filtered view is recorded in the audit log (``audited``: False for a CSV, which records
    its own download).
    """
    within = None
    _, scope = chapter_service.require_scope(session=session, member=organiser)
    if programme_id is not None or chapter_id is not None:
        within = resolve_within(
            session=session, organiser=organiser, programme_id=programme_id, chapter_id=chapter_id
        )
        if audited:
            _audit_view(session, organiser, within)
    if not scope.network:
        # A chapter organiser counts only the members their chapters cover, filtered or not.
        within = replace(within or Within(), scope_chapter_ids=scope.chapter_ids)
    now = now or utcnow()
    keys = keys or dc.default_cell_keys()
    wanted = [d for d in DIMENSIONS if dimensions is None or d.key in dimensions]
    first_month, _ = _window(now, TREND_MONTHS)
    frame = _member_frame(session, first_month=first_month, within=within)
    frame["key"] = keys.record_keys("member", frame["mid"].to_numpy())
    skills, shortfalls = _skills_tables(session, keys, within)
    labels = PROGRAMME_STAGE_LABELS if within is not None and within.by_application else None
    from backend.insights import widening as widening_parity  # it builds on this module

    return Insights(
        generated_at=now,
        members=dc.publish(len(frame), dc.cell_key(frame["key"]), keys=keys),
        breakdowns=[_breakdown(frame, d, keys, labels) for d in wanted],
        cross_organisation=_cross_organisation(session, keys, within),
        supply_by_region=_supply_by_region(session, frame, keys, within),
        skills=skills,
        shortfalls=shortfalls,
        trend=_trend(session, frame, now, keys, within=within),
        within=within,
        widening_parity=widening_parity.parity_table(
            session,
            keys,
            scope=chapter_scopes.scope_of(session=session, member=organiser),
            programme_id=within.programme_id if within is not None else None,
        ),
    )


def export_table(
    *,
    session: Session,
    organiser: Member | None,
    key: str,
    programme_id: int | None = None,
    chapter_id: int | None = None,
) -> Table | None:
    """One dashboard table to download (None when there is no table ``key``), suppressed as on
    the page; the download is recorded in the audit log. With ``programme_id`` or
    ``chapter_id``, the table of that filtered view (and the programme's funnel tables,
    ``funnel-by-<dimension>``)."""
    funnel_prefix = "funnel-by-"
    if key.startswith(funnel_prefix) and programme_id is not None:
        wanted = dimension(key.removeprefix(funnel_prefix).replace("-", "_"))
        if wanted is None:
            return None
        report = programme_funnel(
            session=session,
            organiser=organiser,
            programme_id=programme_id,
            dimension_key=wanted.key,
            chapter_id=chapter_id,
            audited=False,
        )
        table: Table | None = report.table()
    elif key == "mentorship-health" and programme_id is not None:
        from backend.insights import health

        table = health.programme_health(
            session=session, organiser=organiser, programme_id=programme_id
        ).table()
    else:
        table = insights(
            session=session,
            organiser=organiser,
            programme_id=programme_id,
            chapter_id=chapter_id,
            audited=False,
        ).table(key)
    if table is not None:
        _audit_export(session, organiser, table, programme_id=programme_id, chapter_id=chapter_id)
    return table


def table_csv(
    *,
    session: Session,
    organiser: Member | None,
    table: Table,
    within: Within | None = None,
) -> str:
    """A table of the dashboard as CSV (the GraphQL ``csv`` field); recorded as a download.

    ``within``: the filtered view the table came from (authorised again here).
    """
    if within is None:
        member_service.require_organiser(session=session, member=organiser)
        _audit_export(session, organiser, table)
    else:
        resolve_within(
            session=session,
            organiser=organiser,
            programme_id=within.programme_id,
            chapter_id=within.chapter_id,
        )
        _audit_export(
            session,
            organiser,
            table,
            programme_id=within.programme_id,
            chapter_id=within.chapter_id,
        )
    return table.to_csv()


def _audit_export(
    session: Session,
    organiser: Member | None,
    table: Table,
    *,
    programme_id: int | None = None,
    chapter_id: int | None = None,
) -> None:
    details: dict[str, Any] = {"table": table.key}
    if programme_id is not None or chapter_id is not None:
        details.update(programme_id=programme_id, chapter_id=chapter_id)
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.INSIGHTS_EXPORTED,
        subject=audit.subject("insights", None),
        details=details,
    )


def dimension(key: str) -> Dimension | None:
    """The fixed breakdown named ``key``, if it is one."""
    return next((d for d in DIMENSIONS if d.key == key), None)


# Programme and chapter filters -----------------------------------------------------------


def resolve_within(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int | None = None,
    chapter_id: int | None = None,
) -> Within:
    """The filtered view asked for, if ``organiser`` may see it.

    A programme: only organisers who manage it (their scope covers its chapter; a network-wide
    programme, the default included, is the network organisers'). A chapter: only one in the
    organiser's scope. Forbidden otherwise; NotFound for an id that does not exist (for a
    chapter organiser, Forbidden: they learn nothing of other chapters' ids).
    """
    member, scope = chapter_service.require_scope(session=session, member=organiser)
    programme_name, default = "", False
    if programme_id is not None:
        programme = session.get(Programme, programme_id)
        if programme is None:
            if scope.network:
                raise NotFound("There is no programme with that id.", field="programme_id")
            raise Forbidden(chapter_service.OUTSIDE_SCOPE)
        chapter_service.require_chapter(
            session=session, member=member, chapter_id=programme.chapter_id
        )
        programme_name, default = programme.name, programme.is_default
    chapter_name = ""
    if chapter_id is not None:
        if not scope.covers_chapter(chapter_id):
            raise Forbidden(chapter_service.OUTSIDE_SCOPE)
        chapter = session.get(Chapter, chapter_id)
        if chapter is None:
            raise NotFound("There is no chapter with that id.", field="chapter_id")
        chapter_name = chapter.name
    return Within(
        programme_id=programme_id,
        programme_name=programme_name,
        default=default,
        chapter_id=chapter_id,
        chapter_name=chapter_name,
    )


def _audit_view(
    session: Session, organiser: Member | None, within: Within, **extra: str | None
) -> None:
    """A filtered view of the insights, recorded (ids only)."""
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.INSIGHTS_VIEWED,
        subject=audit.subject("insights", None),
        details={"programme_id": within.programme_id, "chapter_id": within.chapter_id, **extra},
    )


@dataclass(frozen=True)
class FilterOptions:
    """What an organiser may filter the dashboard by: programmes they manage, chapters in
    their scope (each by name)."""

    programmes: list[Programme]
    chapters: list[Chapter]
    network: bool = False  # a network organiser (may see the unfiltered dashboard)


def filter_options(*, session: Session, organiser: Member | None) -> FilterOptions:
    """The programmes ``organiser`` manages (the default first) and the chapters they
    organise, for the dashboard's filter form."""
    _, scope = chapter_service.require_scope(session=session, member=organiser)
    programmes = select(Programme).order_by(
        col(Programme.is_default).desc(), col(Programme.name), col(Programme.id)
    )
    chapters = select(Chapter).order_by(col(Chapter.name), col(Chapter.id))
    if not scope.network:
        ids = sorted(scope.chapter_ids)
        programmes = programmes.where(col(Programme.chapter_id).in_(ids))
        chapters = chapters.where(col(Chapter.id).in_(ids))
    return FilterOptions(
        programmes=list(session.execute(programmes).scalars().all()),
        chapters=list(session.execute(chapters).scalars().all()),
        network=scope.network,
    )


def parse_filter_id(raw: str | None, *, field: str, what: str) -> int | None:
    """A filter's id from a form or query string ("" or None: no filter)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) == 0:
        raise Invalid(f"Choose a {what} from the list.", field=field)
    return int(text)


# The applications funnel of one programme ------------------------------------------------

FUNNEL_STAGES: tuple[tuple[str, str], ...] = (
    ("applied", "Applied"),
    ("accepted", "Accepted"),
    ("matched", "Matched"),
    ("active", "Mentorship active"),
    ("completed", "Completed"),
)
FUNNEL_COLUMNS: tuple[str, ...] = tuple(key for key, _ in FUNNEL_STAGES)
# Conversion shares: (stage, of stage, heading).
CONVERSIONS: tuple[tuple[str, str, str], ...] = (
    ("accepted", "applied", "Accepted of applied %"),
    ("matched", "accepted", "Matched of accepted %"),
    ("active", "matched", "Active of matched %"),
    ("completed", "matched", "Completed of matched %"),
)


@dataclass(frozen=True)
class FunnelRow:
    """One group of a programme's funnel: published counts and conversion shares."""

    group: str
    label: str
    counts: dict[str, Count]
    conversions: dict[str, float | None]  # keyed by the later stage; None where hidden


@dataclass(frozen=True)
class Funnel:
    """A programme's applications funnel by one dimension, every count protected."""

    programme_id: int
    programme_name: str
    default: bool
    dimension: str
    title: str
    rows: list[FunnelRow]
    totals: dict[str, Count]
    total_conversions: dict[str, float | None]
    summary: str

    def table(self) -> Table:
        """The funnel as a published table (the page's table and its CSV)."""
        columns = [
            self.title,
            *(label for _, label in FUNNEL_STAGES),
            *(heading for _, _, heading in CONVERSIONS),
        ]

        def line(
            label: str, counts: dict[str, Count], shares: dict[str, float | None]
        ) -> list[str]:
            return [
                label,
                *(counts[key].text for key in FUNNEL_COLUMNS),
                *(_pct(shares[stage]) for stage, _, _ in CONVERSIONS),
            ]

        rows = [line(row.label, row.counts, row.conversions) for row in self.rows]
        rows.append(line("Total", self.totals, self.total_conversions))
        return Table(
            key=f"funnel-by-{self.dimension.replace('_', '-')}",
            title=f"Applications funnel by {in_sentence(self.title)}",
            summary=self.summary,
            columns=columns,
            rows=rows,
        )


def _conversions(counts: dict[str, Count]) -> dict[str, float | None]:
    """Each stage as a share of the stage before it, from the published counts only."""
    return {stage: dc.share(counts[stage], counts[base]) for stage, base, _ in CONVERSIONS}


def _funnel_frame(session: Session, within: Within, wanted: Dimension) -> pd.DataFrame:
    """One row per counted mentee applicant of a programme: id, group code, stage flags.

    The default programme has no applications: its applicants are the members who asked for
    a mentor in it (``_member_frame``'s "asked"), all of them accepted (open mentoring has no
    decision), matched when they had a mentorship in it.
    """
    if within.default:
        frame = _member_frame(session, first_month=0, within=within)
        applied = frame["sought"].to_numpy()
        return pd.DataFrame(
            {
                "mid": frame["mid"],
                "code": frame[wanted.key],
                "applied": applied,
                "accepted": applied,
                "matched": frame["matched"] * applied,
                "active": frame["active"] * applied,
                "completed": frame["completed"] * applied,
            }
        )
    pid = within.programme_id
    mentorships = (
        select(
            col(Mentorship.mentee_id).label("mid"),
            func.max(case((col(Mentorship.status) == "active", 1), else_=0)).label("active"),
            func.max(case((col(Mentorship.status) == "completed", 1), else_=0)).label("completed"),
        )
        .where(col(Mentorship.programme_id) == pid)
        .group_by(col(Mentorship.mentee_id))
        .subquery()
    )
    accepted = col(ProgrammeApplication.status) == "accepted"
    matched = and_(accepted, mentorships.c.mid.is_not(None))
    statement = (
        select(
            col(Member.id).label("mid"),
            _code(_group_sources(session, pid)[wanted.key], wanted.groups).label("code"),
            case((accepted, 1), else_=0).label("accepted"),
            case((matched, 1), else_=0).label("matched"),
            case((and_(matched, mentorships.c.active == 1), 1), else_=0).label("active"),
            case((and_(matched, mentorships.c.completed == 1), 1), else_=0).label("completed"),
        )
        .select_from(ProgrammeApplication)
        .join(Member, col(Member.id) == col(ProgrammeApplication.member_id))
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        .outerjoin(DemographicRecord, col(DemographicRecord.member_id) == col(Member.id))
        .outerjoin(mentorships, mentorships.c.mid == Member.id)
        .where(
            col(ProgrammeApplication.programme_id) == pid,
            col(ProgrammeApplication.role) == "mentee",
            counted_member(),
            *_member_in(session, within),
        )
    )
    columns, data = _integer_rows(session, statement)
    frame = pd.DataFrame(data, columns=columns)
    frame["applied"] = 1
    return frame


def _group_sources(session: Session, programme_id: int | None = None) -> dict[str, Any]:
    """Each dimension's value per member, in SQL (over Member, Organisation and
    DemographicRecord joined as in ``_member_frame``). Priority access is the flag as the
    programme's matcher sees it (organiser-set, or claimed in a category that counts there)."""
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    counting = widening.counting_categories(programme)
    return {
        "band": Member.band,
        "region": Member.region,
        "profession": Member.profession,
        "role_family": Member.role_family,
        "organisation_type": Organisation.type,
        "priority_access": case((widening.flag_condition(counting), "yes"), else_="no"),
        "ethnicity": func.coalesce(DemographicRecord.ethnicity, NOT_PROVIDED),
        "gender": func.coalesce(DemographicRecord.gender, NOT_PROVIDED),
        "disability": func.coalesce(DemographicRecord.disability, NOT_PROVIDED),
        "age_band": func.coalesce(DemographicRecord.age_band, NOT_PROVIDED),
    }


def programme_funnel(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int,
    dimension_key: str,
    chapter_id: int | None = None,
    keys: CellKeys | None = None,
    audited: bool = True,
) -> Funnel:
    """A programme's applications funnel (applied, accepted, matched, active, completed) by
    one dimension, for organisers who manage the programme.

    Applied: every mentee application (whatever became of it); accepted: accepted now;
    matched: an accepted applicant with a mentorship in the programme (any status); active
    and completed: such a mentorship active now, or completed. Every count goes through the
    same disclosure control as the dashboard (perturbed, 1-7 hidden, others to 5,
    complementary suppression down each column); conversion shares use the published counts
    and are hidden where either is.
    """
    wanted = dimension(dimension_key)
    if wanted is None:
        raise Invalid("Choose one of the breakdowns.", field="dimension")
    within = resolve_within(
        session=session, organiser=organiser, programme_id=programme_id, chapter_id=chapter_id
    )
    if audited:
        _audit_view(session, organiser, within, dimension=wanted.key.replace("_", "-"))
    keys = keys or dc.default_cell_keys()
    frame = _funnel_frame(session, within, wanted)
    grid, cell_keys = _keyed_counts(
        frame["code"].to_numpy(),
        len(wanted.groups),
        [frame[c].to_numpy().astype(np.float64) for c in FUNNEL_COLUMNS],
        keys.record_keys("member", frame["mid"].to_numpy()),
    )
    table = dc.protect_table(grid, cell_keys, column_totals=True, keys=keys)
    totals = dict(zip(FUNNEL_COLUMNS, table.column_totals, strict=True))
    rows = [
        FunnelRow(
            group=group,
            label=group_label(wanted.key, group),
            counts=(counts := dict(zip(FUNNEL_COLUMNS, cells, strict=True))),
            conversions=_conversions(counts),
        )
        for group, cells in zip(wanted.groups, table.cells, strict=True)
    ]
    total_conversions = _conversions(totals)
    matched_share = total_conversions["matched"]
    summary = f"{totals['applied'].text} applied and {totals['matched'].text} were matched" + (
        f" ({matched_share:.1f}% of those accepted)."
        if matched_share is not None
        else " (too few to give a share)."
    )
    return Funnel(
        programme_id=programme_id,
        programme_name=within.programme_name,
        default=within.default,
        dimension=wanted.key,
        title=wanted.title,
        rows=rows,
        totals=totals,
        total_conversions=total_conversions,
        summary=summary,
    )
