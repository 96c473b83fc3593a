"""Reach, for organisers: who development opportunities and events reach (members with an
open opportunity they can see and apply for, who save one or say they are interested, who are
going to an event and who attended one) by band, region and widening-access flag, and supply
of opportunities against demand (members seeking the skill) by skill, in one region or all.

Every count of members goes through the insights' disclosure control (perturbed, rounded to
5, 1 to 7 hidden as ``*``, and what a total would give away hidden with it). Counts of
opportunities are not about people and are shown as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import case, exists, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from backend import london
from backend.chapters import service as chapter_service
from backend.chapters.models import ChapterOrganisation, ChapterRegion
from backend.db import utcnow
from backend.errors import Invalid
from backend.events.models import Event, EventRsvp
from backend.insights import disclosure as dc
from backend.insights.service import Table, counted_member
from backend.members.models import Member, MemberSkill
from backend.opportunities.models import (
    ELIGIBILITY_DIMENSIONS,
    Opportunity,
    OpportunityEligibility,
    OpportunitySave,
    OpportunitySkill,
)
from backend.privacy import widening
from backend.programmes.models import ProgrammeApplication
from backend.skills import service as skill_service
from vocabulary import BANDS, REGIONS

COLUMNS = (
    "Members",
    "Opportunities open to them",
    "Saved an opportunity",
    "Said they are interested",
    "Events open to them",
    "Going to an event",
    "Attended an event",
)
FIRST_FLAG = 4  # the data's columns: id, band, region, widening flag, then one per COLUMNS[1:]


def _took_up(flag: str) -> Any:
    return exists().where(
        col(OpportunitySave.member_id) == col(Member.id), col(getattr(OpportunitySave, flag))
    )


def _at_events(condition: Any) -> Any:
    return exists().where(col(EventRsvp.member_id) == col(Member.id), condition)


def _chapters_covering_member() -> Any:
    """The chapters covering the member's row (by region or organisation), correlated to it
    by name: auto-correlation reaches only the enclosing select, and this sits deeper."""
    return (
        sa_select(col(ChapterRegion.chapter_id))
        .where(col(ChapterRegion.region) == col(Member.region))
        .correlate(Member)
        .union(
            sa_select(col(ChapterOrganisation.chapter_id))
            .where(col(ChapterOrganisation.organisation_id) == col(Member.organisation_id))
            .correlate(Member)
        )
    )


def _events_open_to_member(now: datetime) -> Any:
    """True for a member in the audience of an event still to come (the events page's rule:
    its chapter covers them, its programme accepted them, their band within its range)."""
    rank = {band: k for k, band in enumerate(BANDS)}
    member_rank = case(rank, value=col(Member.band), else_=-1)
    accepted = (
        sa_select(col(ProgrammeApplication.programme_id))
        .where(col(ProgrammeApplication.member_id) == col(Member.id))
        .where(col(ProgrammeApplication.status) == "accepted")
        .correlate(Member)
    )
    return exists().where(
        col(Event.status) == "scheduled",
        col(Event.ends_at) > now,
        or_(
            col(Event.chapter_id).is_(None), col(Event.chapter_id).in_(_chapters_covering_member())
        ),
        or_(col(Event.programme_id).is_(None), col(Event.programme_id).in_(accepted)),
        or_(
            col(Event.band_min).is_(None),
            member_rank >= case(rank, value=col(Event.band_min), else_=-1),
        ),
        or_(
            col(Event.band_max).is_(None),
            member_rank <= case(rank, value=col(Event.band_max), else_=-1),
        ),
    )


def _open_to_member(today: date) -> Any:
    """True for a member with an open opportunity they can see (the network's, their
    organisation's or a chapter covering them) whose eligibility includes them."""
    chapters_covering = _chapters_covering_member()
    fits = []
    for dimension in ELIGIBILITY_DIMENSIONS:
        rule = aliased(OpportunityEligibility)
        ruled = sa_select(col(rule.opportunity_id)).where(
            col(rule.opportunity_id) == col(Opportunity.id), col(rule.dimension) == dimension
        )
        fits.append(
            or_(
                ~ruled.exists(),
                ruled.where(col(rule.value) == getattr(Member, dimension))
                .correlate(Member)
                .exists(),
            )
        )
    return exists().where(
        col(Opportunity.withdrawn_at).is_(None),
        col(Opportunity.closes_on) >= today,
        or_(
            col(Opportunity.chapter_id).is_(None) & col(Opportunity.organisation_id).is_(None),
            col(Opportunity.organisation_id) == col(Member.organisation_id),
            col(Opportunity.chapter_id).in_(chapters_covering),
        ),
        *fits,
    )


def _members(
    session: Session, scope: chapter_service.Scope, today: date, now: datetime
) -> np.ndarray:
    """Rows of (id, band code, region code, widening flag, then a 0/1 per COLUMNS[1:]) per
    counted member in scope."""
    rows = session.execute(
        sa_select(
            col(Member.id),
            col(Member.band),
            col(Member.region),
            widening.flag_condition(()),
            _open_to_member(today),
            _took_up("saved"),
            _took_up("interested"),
            _events_open_to_member(now),
            _at_events(col(EventRsvp.status) == "going"),
            _at_events(col(EventRsvp.attended).is_(True)),
        )
        .where(counted_member())
        .where(chapter_service.members_in(session=session, scope=scope))
    ).all()
    band_code = {b: k for k, b in enumerate(BANDS)}
    region_code = {r: k for k, r in enumerate(REGIONS)}
    return np.array(
        [
            (i, band_code.get(b, -1), region_code.get(r, -1), *(int(bool(f)) for f in flags))
            for i, b, r, *flags in rows
        ],
        dtype=np.int64,
    ).reshape(-1, FIRST_FLAG + len(COLUMNS) - 1)


def _take_up_table(
    data: np.ndarray,
    column: int,
    labels: Sequence[str],
    keys: dc.CellKeys,
    *,
    key: str,
    title: str,
    heading: str,
) -> Table:
    ids = data[:, 0]
    codes = data[:, column]
    record = keys.record_keys("member", ids) if len(ids) else np.zeros(0)
    flags = [np.ones(len(ids))] + [
        data[:, FIRST_FLAG + k].astype(float) for k in range(len(COLUMNS) - 1)
    ]
    counts, cell_keys = [], []
    for g in range(len(labels)):
        mine = codes == g
        counts.append([int(f[mine].sum()) for f in flags])
        cell_keys.append([dc.cell_key(record[mine & (f > 0)]) for f in flags])
    table = dc.protect_table(counts, cell_keys, column_totals=True, keys=keys)
    rows = [
        [label, *(c.text for c in cells)] for label, cells in zip(labels, table.cells, strict=True)
    ]
    rows.append(["Total", *(c.text for c in table.column_totals)])
    return Table(
        key=key,
        title=title,
        summary=_summary(labels, table),
        columns=[heading, *COLUMNS],
        rows=rows,
    )


def _summary(labels: Sequence[str], table: dc.ProtectedTable) -> str:
    reached = [
        label
        for label, cells in zip(labels, table.cells, strict=True)
        if any(cell.value for cell in cells[2:])
    ]
    if not reached:
        return "No group has taken up opportunities or events in numbers large enough to show yet."
    return "Groups where take-up shows: " + ", ".join(reached) + "."


def _open_to(region: str | None, today: date) -> Any:
    statement = (
        select(OpportunitySkill.skill_id, col(Opportunity.id))
        .join(Opportunity, col(Opportunity.id) == col(OpportunitySkill.opportunity_id))
        .where(col(Opportunity.withdrawn_at).is_(None))
        .where(col(Opportunity.closes_on) >= today)
    )
    if region is not None:
        limited = select(OpportunityEligibility.opportunity_id).where(
            OpportunityEligibility.dimension == "region"
        )
        allowed = limited.where(OpportunityEligibility.value == region)
        statement = statement.where(
            or_(col(Opportunity.id).not_in(limited), col(Opportunity.id).in_(allowed))
        )
    return statement


def _supply_and_demand(
    session: Session,
    scope: chapter_service.Scope,
    keys: dc.CellKeys,
    region: str | None,
    today: date,
) -> Table:
    skills = skill_service.list_skills(session=session, retired=False)
    supply: dict[str, int] = {}
    for skill_id, _id in session.exec(_open_to(region, today)).all():
        supply[skill_id] = supply.get(skill_id, 0) + 1
    seekers = select(col(MemberSkill.skill_id), col(Member.id)).join(
        Member, col(Member.id) == col(MemberSkill.member_id)
    )
    seekers = (
        seekers.where(MemberSkill.kind == "sought")
        .where(counted_member())
        .where(chapter_service.members_in(session=session, scope=scope))
    )
    if region is not None:
        seekers = seekers.where(Member.region == region)
    demand: dict[str, list[int]] = {}
    for skill_id, member_id in session.exec(seekers).all():
        demand.setdefault(skill_id, []).append(member_id)
    counts = [[len(demand.get(s.id, []))] for s in skills]
    cell_keys = [[dc.cell_key(keys.record_keys("member", demand.get(s.id, [])))] for s in skills]
    protected = dc.protect_table(counts, cell_keys, column_totals=False, keys=keys)
    rows = [
        [s.name, str(supply.get(s.id, 0)), cells[0].text]
        for s, cells in zip(skills, protected.cells, strict=True)
    ]
    gaps = [
        s.name
        for s, cells in zip(skills, protected.cells, strict=True)
        if supply.get(s.id, 0) == 0 and cells[0].value
    ]
    where = f"in {region}" if region else "across the network"
    summary = (
        f"Skills members seek {where} with no open opportunity: {', '.join(gaps)}."
        if gaps
        else f"Every skill members seek {where} in numbers large enough to show has an open "
        "opportunity."
    )
    return Table(
        key="supply-and-demand",
        title=f"Opportunities against demand by skill ({region or 'all regions'})",
        summary=summary,
        columns=["Skill", "Open opportunities", "Members seeking it"],
        rows=rows,
    )


def reach(
    *,
    session: Session,
    member: Member | None,
    region: str | None = None,
    keys: dc.CellKeys | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> list[Table]:
    """The reach tables for an organiser, over the members their scope covers."""
    _, scope = chapter_service.require_scope(session=session, member=member)
    if region is not None and region not in REGIONS:
        raise Invalid("Choose a region from the list.", field="region")
    keys = keys or dc.default_cell_keys()
    today = today or london.london_today()
    data = _members(session, scope, today, now or utcnow())
    return [
        _take_up_table(
            data, 1, list(BANDS), keys, key="by-band", title="Take-up by band", heading="Band"
        ),
        _take_up_table(
            data,
            2,
            list(REGIONS),
            keys,
            key="by-region",
            title="Take-up by region",
            heading="Region",
        ),
        _take_up_table(
            data,
            3,
            ["Not flagged", "Widening access"],
            keys,
            key="by-widening-access",
            title="Take-up by widening-access flag",
            heading="Widening access",
        ),
        _supply_and_demand(session, scope, keys, region, today),
    ]
