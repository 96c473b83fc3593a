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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Float, Integer, and_, case, cast, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from backend import audit
from backend.chapters import service as chapters
from backend.db import is_sqlite, utcnow
from backend.insights import disclosure as dc
from backend.insights.disclosure import KEY_RANGE, CellKeys, Count, Ratio
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.mentoring.models import MentorRequest, Mentorship
from backend.organisations.models import ORGANISATION_TYPES, Organisation
from backend.privacy.models import DemographicRecord
from backend.rounds.models import MatchProposal
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

    def tables(self) -> list[Table]:
        """Every table on the dashboard, each breakdown included, in page order."""
        return [
            *(breakdown_table(b) for b in self.breakdowns),
            self.cross_organisation,
            self.supply_by_region,
            self.skills,
            self.shortfalls,
            self.trend,
        ]

    def table(self, key: str) -> Table | None:
        """One table by key (for CSV export)."""
        return next((t for t in self.tables() if t.key == key), None)


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


def counted_member(member: Any = Member, within: Any = None) -> Any:
    """Whom the figures count: active members whose email address is verified.

    Verified means the address's owner followed a link sent to it: the sign-up verification
    link, or the invitation link an imported member uses to set a first password. A member an
    organiser imports is not counted until then: an organiser's file alone cannot add people
    to the figures, and each record added costs a mailbox that answers.

    ``within`` (the ids of the members an organiser's scope covers, a subquery; None for
    the whole network) counts only those members.
    """
    counted = and_(col(member.is_active), col(member.email_verified_at).is_not(None))
    return counted if within is None else and_(counted, col(member.id).in_(within))


def _in_scope_mentorship(mentor: Any, mentee: Any, within: Any) -> Any:
    """A mentorship is in scope when either of its members is (every one without ``within``)."""
    if within is None:
        return true()
    return or_(col(mentor.id).in_(within), col(mentee.id).in_(within))


def _counted_mentorship(mentor: Any, mentee: Any, within: Any = None) -> Any:
    """A mentorship counts when each of its members (those not erased) is counted, and it is
    in scope (``_in_scope_mentorship``)."""
    return and_(
        or_(col(Mentorship.mentor_id).is_(None), counted_member(mentor)),
        or_(col(Mentorship.mentee_id).is_(None), counted_member(mentee)),
        _in_scope_mentorship(mentor, mentee, within),
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


def _member_frame(session: Session, *, first_month: int, within: Any = None) -> pd.DataFrame:
    """One row of small integers per counted member (``counted_member``): id, group codes,
    funnel flags, wait, months.

    The database does the joins, flags, date arithmetic and the coding of every group, so
    the rows hold only small integers (which Python shares rather than allocates) and 50,000
    of them load in tens of milliseconds; no value leaves this module except in aggregates.
    Months count from ``first_month`` (year * 12 + month - 1); -1 and below are earlier.
    """
    requests = (
        select(
            col(MentorRequest.mentee_id).label("mid"),
            func.min(MentorRequest.created_at).label("first_request"),
        )
        .group_by(col(MentorRequest.mentee_id))
        .subquery()
    )
    proposals = (
        select(
            col(MatchProposal.mentee_id).label("mid"),
            func.min(MatchProposal.offered_at).label("first_offer"),
        )
        .where(col(MatchProposal.offered_at).is_not(None))
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
        .group_by(col(Mentorship.mentee_id))
        .subquery()
    )
    as_mentor = (
        select(col(Mentorship.mentor_id).label("mid"))
        .where(col(Mentorship.mentor_id).is_not(None))
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
    sources = {
        "band": Member.band,
        "region": Member.region,
        "profession": Member.profession,
        "role_family": Member.role_family,
        "organisation_type": Organisation.type,
        "priority_access": case((col(Member.priority_access), "yes"), else_="no"),
        # Members without consent have no record: they join the unanswered, "not provided".
        "ethnicity": func.coalesce(DemographicRecord.ethnicity, NOT_PROVIDED),
        "gender": func.coalesce(DemographicRecord.gender, NOT_PROVIDED),
        "disability": func.coalesce(DemographicRecord.disability, NOT_PROVIDED),
        "age_band": func.coalesce(DemographicRecord.age_band, NOT_PROVIDED),
    }

    def month_of(column: Any) -> Any:
        return func.coalesce(_month_number(session, column) - first_month, NO_MONTH)

    statement = (
        select(
            col(Member.id).label("mid"),
            *(_code(sources[d.key], d.groups).label(d.key) for d in DIMENSIONS),
            case((col(Member.seeking_mentor), 1), else_=0).label("seeking_now"),
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
            month_of(Member.created_at).label("joined_month"),
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
        .where(counted_member(within=within))
    )
    columns, data = _integer_rows(session, statement)
    frame = pd.DataFrame(data, columns=columns)
    frame["joined"] = 1
    return frame


# Breakdowns -------------------------------------------------------------------------------


def _breakdown(frame: pd.DataFrame, dimension: Dimension, keys: CellKeys) -> Breakdown:
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
        *(label for _, label in STAGES),
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


def _cross_organisation(session: Session, keys: CellKeys, within: Any = None) -> Table:
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
        .where(
            counted_member(mentor),
            counted_member(mentee),
            _in_scope_mentorship(mentor, mentee, within),
        ),
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
    session: Session, frame: pd.DataFrame, keys: CellKeys, within: Any = None
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
        .where(counted_member(within=within), col(MentoringOffer.paused).is_(False), free > 0),
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
    session: Session, keys: CellKeys, within: Any = None
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
        .where(counted_member(within=within), counted == 1)
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


def _skills_tables(session: Session, keys: CellKeys, within: Any = None) -> tuple[Table, Table]:
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
    within: Any = None,
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
            _counted_mentorship(mentor, mentee, within),
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
    return Table(
        key="trend",
        title="Monthly trend (last 12 months)",
        summary=f"{joined.text} members joined in the last 12 months.",
        columns=["Month", "Joined", "First asked for a mentor", "Matched", "Completed"],
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
) -> Insights:
    """The dashboard for organisers; every figure protected (perturbed, 1-7 hidden, others x5).

    ``keys`` is the deployment's (``disclosure.default_cell_keys``) unless a test asks for
    another secret. A chapter organiser's dashboard counts only the members their chapters
    cover (and the mentorships with one of them); the disclosure control is the same.
    """
    _, scope = chapters.require_scope(session=session, member=organiser)
    within = chapters.member_ids_in(session=session, scope=scope)
    now = now or utcnow()
    keys = keys or dc.default_cell_keys()
    wanted = [d for d in DIMENSIONS if dimensions is None or d.key in dimensions]
    first_month, _ = _window(now, TREND_MONTHS)
    frame = _member_frame(session, first_month=first_month, within=within)
    frame["key"] = keys.record_keys("member", frame["mid"].to_numpy())
    skills, shortfalls = _skills_tables(session, keys, within)
    return Insights(
        generated_at=now,
        members=dc.publish(len(frame), dc.cell_key(frame["key"]), keys=keys),
        breakdowns=[_breakdown(frame, d, keys) for d in wanted],
        cross_organisation=_cross_organisation(session, keys, within),
        supply_by_region=_supply_by_region(session, frame, keys, within),
        skills=skills,
        shortfalls=shortfalls,
        trend=_trend(session, frame, now, keys, within=within),
    )


def export_table(*, session: Session, organiser: Member | None, key: str) -> Table | None:
    """One dashboard table to download (None when there is no table ``key``), suppressed as on
    the page; the download is recorded in the audit log."""
    table = insights(session=session, organiser=organiser).table(key)
    if table is not None:
        _audit_export(session, organiser, table)
    return table


def table_csv(*, session: Session, organiser: Member | None, table: Table) -> str:
    """A table of the dashboard as CSV (the GraphQL ``csv`` field); recorded as a download."""
    chapters.require_scope(session=session, member=organiser)
    _audit_export(session, organiser, table)
    return table.to_csv()


def _audit_export(session: Session, organiser: Member | None, table: Table) -> None:
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.INSIGHTS_EXPORTED,
        subject=audit.subject("insights", None),
        details={"table": table.key},
    )


def dimension(key: str) -> Dimension | None:
    """The fixed breakdown named ``key``, if it is one."""
    return next((d for d in DIMENSIONS if d.key == key), None)
