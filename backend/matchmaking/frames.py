"""The matcher's view of the network: member frames built from the database with column selects.

A frame follows the contract of ``members_csv.records_to_frame`` (one row per member, no
demographic data: the matcher never reads it). ``member_id`` holds the database id as text.
Rows come from plain column selects (tuples, not ORM objects): at 50,000 members that is the
difference between a second and a tenth of one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import pandas as pd
from sqlalchemy import and_, func
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.mentoring.models import Mentorship
from backend.organisations.models import Organisation
from backend.privacy import widening
from backend.rounds.models import MatchProposal
from backend.skills.models import Skill
from matching.features import FRAME_COLUMNS

# Above this many ids one scan of the table beats a long IN list (and SQLite's variable cap).
IN_LIST_LIMIT = 500

_PROFILE = (
    col(Member.id),
    col(Organisation.key),
    col(Member.region),
    col(Member.role_family),
    col(Member.band),
    col(Member.profession),
    col(Member.management_years),
    col(Member.line_manager_id),
    col(Member.seeking_mentor),
    col(Member.goals),
    col(Member.bio),
    col(Member.meeting_format),
    col(Member.outside_organisation_only),
    col(Member.priority_access),
)


def taking_part() -> Any:
    """Who the matcher may see (rounds, proposals, suggestions): members who have joined and
    are not suspended. Joined means the address's owner confirmed it (the sign-up link, or
    the invitation link with which an imported member sets a first password): a row an
    organiser imported is nobody's mentor or mentee until its person accepts."""
    return and_(col(Member.is_active), col(Member.email_verified_at).is_not(None))


def free_places(*, session: Session) -> dict[int, int]:
    """Free mentoring places per mentor taking part: capacity less active mentees and open
    offers."""
    offers = session.exec(
        select(MentoringOffer.member_id, MentoringOffer.capacity, MentoringOffer.active_mentees)
        .join(Member, col(Member.id) == col(MentoringOffer.member_id))
        .where(taking_part())
        .where(MentoringOffer.capacity > 0)
        .where(col(MentoringOffer.paused).is_(False))
    ).all()
    reserved = dict(
        session.exec(
            select(MatchProposal.mentor_id, func.count())
            .where(MatchProposal.status == "offered")
            .group_by(col(MatchProposal.mentor_id))
        ).all()
    )
    places = {
        member_id: capacity - active - reserved.get(member_id, 0)
        for member_id, capacity, active in offers
    }
    return {member_id: free for member_id, free in places.items() if free > 0}


def mentees_waiting(
    *,
    session: Session,
    programme_id: int | None = None,
    among: Collection[int] | None = None,
) -> list[int]:
    """Members taking part who wait for a mentor in a programme: no mentor in it, no offer
    waiting.

    ``programme_id`` None is the default programme. Without ``among``, the waiting are the
    members seeking a mentor (the open mentoring); with it, only those members, seeking or not
    (a programme's accepted mentee applicants asked by applying). A mentor in another
    programme does not count, nor an offer in another programme; an open offer in this
    programme does (one open offer per mentee per programme, a unique index: the mentee
    answers one offer at a time in each programme).
    """
    if programme_id is None:
        from backend.programmes import service as programmes

        programme_id = programmes.default_programme_id(session=session)
    busy = (
        select(Mentorship.mentee_id)
        .where(Mentorship.status == "active")
        .where(Mentorship.programme_id == programme_id)
    )
    offered = (
        select(MatchProposal.mentee_id)
        .where(MatchProposal.status == "offered")
        .where(MatchProposal.programme_id == programme_id)
    )
    statement = (
        select(Member.id)
        .where(taking_part())
        .where(col(Member.id).not_in(busy))
        .where(col(Member.id).not_in(offered))
        .order_by(col(Member.id))
    )
    if among is None:
        return list(session.exec(statement.where(Member.seeking_mentor)).all())
    wanted = set(among)
    if not wanted:
        return []
    if len(wanted) <= IN_LIST_LIMIT:
        statement = statement.where(col(Member.id).in_(sorted(wanted)))
    return [i for i in session.exec(statement).all() if i in wanted]


def member_frame(
    *,
    session: Session,
    mentee_ids: Collection[int],
    places: dict[int, int] | None = None,
    exclude_mentors: Collection[int] = (),
    programme_id: int | None = None,
) -> pd.DataFrame:
    """A frame of the given mentees and every mentor with a free place.

    Mentees are marked ``seeking_mentor``; mentors carry their free places as capacity. A
    member can be both (a band 6 who mentors a band 4 and seeks a band 8 mentor).
    ``priority_access`` is the widening-access flag in ``programme_id`` (None: the default
    programme), from ``widening.flags_for``: a yes/no, never the member's reason.
    """
    places = dict(places if places is not None else free_places(session=session))
    for member_id in exclude_mentors:
        places.pop(member_id, None)
    mentees = set(mentee_ids)
    wanted = mentees | set(places)
    if not wanted:
        return pd.DataFrame({column: [] for column in FRAME_COLUMNS})
    rows = _profiles(session, wanted)
    return _frame(
        session,
        rows,
        wanted,
        seeking=lambda member_id, _: member_id in mentees,
        places=places,
        programme_id=programme_id,
    )


def network_frame(*, session: Session) -> pd.DataFrame:
    """Every active member, seeking as their profile says, mentors with their free places.

    The frame a suggester is fitted on once per network version: any member can ask for
    suggestions, and every line-management chain is complete.
    """
    places = free_places(session=session)
    rows = _profiles(session, None)
    if not rows:
        return pd.DataFrame({column: [] for column in FRAME_COLUMNS})
    return _frame(session, rows, None, seeking=lambda _, seeking: bool(seeking), places=places)


def _profiles(session: Session, wanted: set[int] | None) -> list[tuple[Any, ...]]:
    statement = (
        # sqlalchemy's select: sqlmodel's is typed for at most four columns
        select_columns(*_PROFILE)
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        # Every active member's profile (line managers in chains, say); only those taking
        # part are waiting or have free places, so only they are ever proposed or suggested.
        .where(col(Member.is_active))
        .order_by(col(Member.id))
    )
    if wanted is not None and len(wanted) <= IN_LIST_LIMIT:
        statement = statement.where(col(Member.id).in_(wanted))
    rows = session.execute(statement).all()
    if wanted is not None and len(wanted) > IN_LIST_LIMIT:
        rows = [row for row in rows if row[0] in wanted]
    return list(rows)


def _skills(session: Session, wanted: set[int] | None) -> dict[tuple[int, str], tuple[str, ...]]:
    # Retired skills stay on profiles but no longer count towards suggestions or rounds.
    statement = (
        select(MemberSkill.member_id, MemberSkill.kind, MemberSkill.skill_id)
        .join(Skill, col(Skill.id) == col(MemberSkill.skill_id))
        .where(col(Skill.retired_at).is_(None))
    )
    if wanted is not None and len(wanted) <= IN_LIST_LIMIT:
        statement = statement.where(col(MemberSkill.member_id).in_(wanted))
    grouped: dict[tuple[int, str], list[str]] = {}
    for member_id, kind, skill_id in session.exec(statement):
        grouped.setdefault((member_id, kind), []).append(skill_id)
    return {key: tuple(sorted(ids)) for key, ids in grouped.items()}


def _frame(
    session: Session,
    rows: list[tuple[Any, ...]],
    wanted: set[int] | None,
    *,
    seeking: Callable[[int, bool], bool],
    places: dict[int, int],
    programme_id: int | None = None,
) -> pd.DataFrame:
    skills = _skills(session, wanted)
    # The flag only: organiser-set, or a claim whose category counts in the programme.
    flagged = widening.flags_for(session=session, member_ids=wanted, programme_id=programme_id)
    # Line managers outside the frame still matter for chains: carry the whole chain's links.
    managers = dict(session.exec(select(Member.id, Member.line_manager_id)).all())
    empty: tuple[str, ...] = ()
    records = [
        (
            str(member_id),
            org_key,
            region,
            role_family,
            band,
            profession,
            years,
            None,  # line_manager_id: filled in by _add_chain_links
            seeking(member_id, seeks),
            places.get(member_id, 0),
            skills.get((member_id, "sought"), empty),
            skills.get((member_id, "offered"), empty),
            goals,
            meeting_format,
            outside,
            member_id in flagged,
            bio,
        )
        for (
            member_id,
            org_key,
            region,
            role_family,
            band,
            profession,
            years,
            _manager,
            seeks,
            goals,
            bio,
            meeting_format,
            outside,
            _organiser_set,
        ) in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(FRAME_COLUMNS))
    _add_chain_links(frame, managers)
    return frame


def _add_chain_links(frame: pd.DataFrame, managers: dict[int, int | None]) -> None:
    # The matcher follows line_manager_id within the frame. When a manager between two framed
    # members is not in the frame, link each member to its nearest framed ancestor instead.
    present = {int(x) for x in frame["member_id"]}
    nearest: list[str | None] = []
    for member_id in frame["member_id"]:
        current = managers.get(int(member_id))
        seen: set[int] = set()
        while current is not None and current not in present and current not in seen:
            seen.add(current)
            current = managers.get(current)
        nearest.append(str(current) if current is not None and current in present else None)
    frame["line_manager_id"] = nearest


def profile_of(*, session: Session, member_id: int) -> dict[str, object] | None:
    """One active member's frame row as a mapping, line manager as stored (or ``None``)."""
    rows = _profiles(session, {member_id})
    if not rows:
        return None
    skills = _skills(session, {member_id})
    (
        _,
        org_key,
        region,
        role_family,
        band,
        profession,
        years,
        manager,
        seeks,
        goals,
        bio,
        meeting_format,
        outside,
        _organiser_set,
    ) = rows[0]
    return {
        "member_id": str(member_id),
        "organisation_key": org_key,
        "region": region,
        "role_family": role_family,
        "band": band,
        "profession": profession,
        "management_years": years,
        "line_manager_id": None if manager is None else str(manager),
        "seeking_mentor": bool(seeks),
        "mentor_capacity": 0,
        "skills_sought": skills.get((member_id, "sought"), ()),
        "skills_offered": skills.get((member_id, "offered"), ()),
        "goals": goals,
        "bio": bio,
        "meeting_format": meeting_format,
        "outside_organisation_only": outside,
        "priority_access": member_id in widening.flags_for(session=session, member_ids={member_id}),
    }
