"""Widening-access parity per programme: do members with priority get in and get matched?

For each programme that takes applications, its mentee applicants split by the flag the
programme's matcher sees (``backend.privacy.widening.flag_condition`` with the categories
that count there): applied, accepted and matched (a mentorship in that programme). Each
programme is one small table under the dashboard's disclosure control (``protect_table``,
cell keys of the applications), with its total row, so no hidden cell can be recovered by
subtraction. The reason categories themselves never leave this module: only counts do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import and_, case, exists, select
from sqlmodel import Session, col

from backend.chapters.service import NETWORK, Scope
from backend.insights import disclosure as dc
from backend.insights.disclosure import CellKeys
from backend.insights.service import Table, _integer_rows, _keyed_counts, _pct, counted_member
from backend.members.models import Member
from backend.mentoring.models import Mentorship
from backend.privacy import widening
from backend.programmes.models import Programme, ProgrammeApplication

STAGES: tuple[tuple[str, str], ...] = (
    ("applied", "Applied"),
    ("accepted", "Accepted"),
    ("matched", "Matched"),
)
GROUPS: tuple[str, ...] = ("Priority access", "No priority access")
COLUMNS = [
    "Programme",
    "Group",
    *(label for _, label in STAGES),
    "Accepted of applied %",
    "Matched of applied %",
    "Relative likelihood of being matched",
    "95% interval",
]


def _applicants(session: Session, programme: Programme) -> Any:
    """(application id, flagged, accepted, matched) per counted mentee applicant, as integers."""
    flagged = widening.flag_condition(widening.counting_categories(programme))
    matched = exists().where(
        and_(
            col(Mentorship.mentee_id) == col(ProgrammeApplication.member_id),
            col(Mentorship.programme_id) == programme.id,
        )
    )
    _, rows = _integer_rows(
        session,
        select(
            col(ProgrammeApplication.id),
            case((flagged, 1), else_=0),
            case((col(ProgrammeApplication.status) == "accepted", 1), else_=0),
            case((matched, 1), else_=0),
        )
        .join(Member, col(Member.id) == col(ProgrammeApplication.member_id))
        .where(
            col(ProgrammeApplication.programme_id) == programme.id,
            col(ProgrammeApplication.role) == "mentee",
            counted_member(),
        )
        .order_by(col(ProgrammeApplication.id)),
    )
    return rows


def parity_table(
    session: Session,
    keys: CellKeys,
    *,
    scope: Scope = NETWORK,
    programme_id: int | None = None,
) -> Table:
    """Applied, accepted and matched, with and without priority, for each programme the
    organiser's ``scope`` covers (only ``programme_id`` when the view is one programme's)."""
    statement = (
        select(Programme)
        .where(col(Programme.is_default).is_(False))
        .where(col(Programme.status) != "draft")
        .order_by(col(Programme.name), col(Programme.id))
    )
    if programme_id is not None:
        statement = statement.where(col(Programme.id) == programme_id)
    if not scope.network:
        statement = statement.where(col(Programme.chapter_id).in_(sorted(scope.chapter_ids)))
    programmes = session.execute(statement).scalars().all()
    rows: list[list[str]] = []
    gaps: list[str] = []
    for programme in programmes:
        ids, flagged, accepted, matched = _applicants(session, programme).T
        counts, cell_keys = _keyed_counts(
            1 - flagged,  # group 0: with priority, 1: without
            len(GROUPS),
            [np.ones(len(ids)), accepted, matched],
            keys.record_keys("programme_application", ids),
        )
        table = dc.protect_table(counts, cell_keys, column_totals=True, keys=keys)
        (f_applied, _f_accepted, f_matched), (n_applied, _n_accepted, n_matched) = table.cells
        ratio = dc.relative_likelihood(f_matched, f_applied, n_matched, n_applied)
        likelihood = [f"{ratio.value:.2f}" if ratio else dc.HIDDEN, "1.00 (reference)"]
        interval = [f"{ratio.low:.2f} to {ratio.high:.2f}" if ratio else dc.HIDDEN, ""]
        for g, (group, cells) in enumerate(zip(GROUPS, table.cells, strict=True)):
            applied, taken, paired = cells
            rows.append(
                [
                    programme.name,
                    group,
                    applied.text,
                    taken.text,
                    paired.text,
                    _pct(dc.share(taken, applied)),
                    _pct(dc.share(paired, applied)),
                    likelihood[g],
                    interval[g],
                ]
            )
        total_applied, total_accepted, total_matched = table.column_totals
        rows.append(
            [
                programme.name,
                "Total",
                total_applied.text,
                total_accepted.text,
                total_matched.text,
                _pct(dc.share(total_accepted, total_applied)),
                _pct(dc.share(total_matched, total_applied)),
                "",
                "",
            ]
        )
        if ratio is not None and ratio.high < 1:
            gaps.append(f"{programme.name} ({ratio.value:.2f})")
    if not programmes:
        summary = "No programme takes applications yet."
    elif gaps:
        summary = (
            "Applicants with widening-access priority are clearly less likely to be matched "
            f"than those without in: {', '.join(gaps)}."
        )
    else:
        summary = (
            "No programme shows a clear gap in being matched between applicants with and "
            "without widening-access priority, or there are too few to say."
        )
    return Table(
        key="widening-parity",
        title="Widening-access parity by programme",
        summary=summary,
        columns=COLUMNS,
        rows=rows,
    )
