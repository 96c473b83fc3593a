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
import pandas as pd
from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend import london
from backend.chapters import service as chapter_service
from backend.db import utcnow
from backend.errors import Invalid
from backend.events import service as events
from backend.events.models import Event, EventRsvp
from backend.insights import disclosure as dc
from backend.insights.service import Table, counted_member
from backend.matchmaking import opportunities as seam
from backend.members.models import Member, MemberSkill
from backend.opportunities.models import (
    Opportunity,
    OpportunityEligibility,
    OpportunitySave,
    OpportunitySkill,
)
from backend.privacy import widening
from backend.programmes.models import ProgrammeApplication
from backend.skills import service as skill_service
from vocabulary import BAND_RANK, BANDS, REGIONS

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


PEOPLE = ("id", "band", "region", "role_family", "profession", "organisation_id", "flag")


def _member_ids(session: Session, statement: Any) -> np.ndarray:
    return np.fromiter((int(i) for i in session.execute(statement).scalars()), dtype=np.int64)


def _open_opportunity(
    session: Session, people: pd.DataFrame, covering: dict[int, np.ndarray], today: date
) -> np.ndarray:
    """True where the member has an open opportunity they can see (the network's, their
    organisation's or a chapter's covering them) whose eligibility includes them."""
    found = session.exec(
        select(Opportunity.id, Opportunity.chapter_id, Opportunity.organisation_id)
        .where(col(Opportunity.withdrawn_at).is_(None))
        .where(col(Opportunity.closes_on) >= today)
    ).all()
    rules: dict[int, dict[str, list[str]]] = {}
    if found:
        for opportunity_id, dimension, value in session.exec(
            select(
                OpportunityEligibility.opportunity_id,
                OpportunityEligibility.dimension,
                OpportunityEligibility.value,
            ).where(col(OpportunityEligibility.opportunity_id).in_([o for o, _, _ in found]))
        ).all():
            rules.setdefault(opportunity_id, {}).setdefault(dimension, []).append(value)
    nobody = np.zeros(len(people), dtype=bool)
    reached = nobody.copy()
    organisation_ids = people["organisation_id"].to_numpy()
    for opportunity_id, chapter_id, organisation_id in found:
        if chapter_id is None and organisation_id is None:
            sees = ~nobody
        else:
            sees = nobody.copy()
            if organisation_id is not None:
                sees |= organisation_ids == organisation_id
            if chapter_id is not None:
                sees |= covering.get(chapter_id, nobody)
        reached |= sees & seam.eligible_rows(rules.get(opportunity_id, {}), people)
    return reached


def _open_event(
    session: Session, people: pd.DataFrame, covering: dict[int, np.ndarray], now: datetime
) -> np.ndarray:
    """True where the member is in the audience of an event still to come (the events page's
    rule, ``events.Belongings``)."""
    upcoming = session.exec(
        select(Event).where(col(Event.status) == "scheduled").where(col(Event.ends_at) > now)
    ).all()
    programme_ids = sorted({e.programme_id for e in upcoming if e.programme_id is not None})
    accepted: dict[int, list[int]] = {}
    if programme_ids:
        for programme_id, member_id in session.exec(
            select(ProgrammeApplication.programme_id, ProgrammeApplication.member_id)
            .where(col(ProgrammeApplication.programme_id).in_(programme_ids))
            .where(col(ProgrammeApplication.status) == "accepted")
        ).all():
            accepted.setdefault(programme_id, []).append(member_id)
    ids = people["id"].to_numpy()
    belongings = events.Belongings(
        band_ranks=people["band"].map(BAND_RANK).fillna(-1).to_numpy(dtype=np.int64),
        chapters=covering,
        programmes={p: np.isin(ids, members) for p, members in accepted.items()},
    )
    reached = np.zeros(len(people), dtype=bool)
    for event in upcoming:
        reached |= belongings.includes(event)
    return reached


def _members(
    session: Session, scope: chapter_service.Scope, today: date, now: datetime
) -> np.ndarray:
    """Rows of (id, band code, region code, widening flag, then a 0/1 per COLUMNS[1:]) per
    counted member in scope.

    One query for the members; the few open opportunities and events to come are then read
    whole and checked against everyone at once, column by column, with the pages' own rules
    (the matcher's eligibility, the events' audience): no per-member subquery."""
    rows = session.execute(
        sa_select(
            col(Member.id),
            col(Member.band),
            col(Member.region),
            col(Member.role_family),
            col(Member.profession),
            col(Member.organisation_id),
            widening.flag_condition(()),
        )
        .where(counted_member())
        .where(chapter_service.members_in(session=session, scope=scope))
        .order_by(col(Member.id))
    ).all()
    people = pd.DataFrame([tuple(r) for r in rows], columns=list(PEOPLE))
    ids = people["id"].to_numpy(dtype=np.int64)
    covering = chapter_service.covering_columns(
        session=session, regions=people["region"], organisation_ids=people["organisation_id"]
    )
    saves = sa_select(col(OpportunitySave.member_id)).distinct()
    rsvps = sa_select(col(EventRsvp.member_id)).distinct()
    flags = [
        _open_opportunity(session, people, covering, today),
        np.isin(ids, _member_ids(session, saves.where(col(OpportunitySave.saved)))),
        np.isin(ids, _member_ids(session, saves.where(col(OpportunitySave.interested)))),
        _open_event(session, people, covering, now),
        np.isin(ids, _member_ids(session, rsvps.where(col(EventRsvp.status) == "going"))),
        np.isin(ids, _member_ids(session, rsvps.where(col(EventRsvp.attended).is_(True)))),
    ]
    band_code = {b: k for k, b in enumerate(BANDS)}
    region_code = {r: k for k, r in enumerate(REGIONS)}
    columns = [
        ids,
        people["band"].map(band_code).fillna(-1).to_numpy(dtype=np.int64),
        people["region"].map(region_code).fillna(-1).to_numpy(dtype=np.int64),
        people["flag"].fillna(False).astype(bool).to_numpy(dtype=np.int64),
        *(f.astype(np.int64) for f in flags),
    ]
    return np.column_stack(columns).reshape(-1, FIRST_FLAG + len(COLUMNS) - 1)


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
