"""The matcher's view of the network: a member frame built from the database.

The frame follows the contract of ``members_csv.records_to_frame`` (one row per member,
no demographic data: the matcher never reads it). ``member_id`` holds the database id as text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

import pandas as pd
from sqlalchemy import func
from sqlmodel import Session, select

from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.mentoring.models import Mentorship
from backend.organisations.models import Organisation
from backend.rounds.models import MatchProposal

FRAME_COLUMNS = (
    "member_id",
    "organisation_key",
    "region",
    "role_family",
    "band",
    "profession",
    "management_years",
    "line_manager_id",
    "seeking_mentor",
    "mentor_capacity",
    "skills_sought",
    "skills_offered",
    "goals",
    "bio",
    "meeting_format",
    "outside_organisation_only",
    "priority_access",
)


def free_places(*, session: Session) -> dict[int, int]:
    """Free mentoring places per mentor: capacity less active mentees and open offers."""
    offers = session.exec(
        select(MentoringOffer)
        .where(MentoringOffer.capacity > 0)
        .where(MentoringOffer.paused.is_(False))  # type: ignore[attr-defined]
    ).all()
    reserved = dict(
        session.exec(
            select(MatchProposal.mentor_id, func.count())
            .where(MatchProposal.status == "offered")
            .group_by(MatchProposal.mentor_id)
        ).all()
    )
    places = {
        offer.member_id: offer.capacity - offer.active_mentees - reserved.get(offer.member_id, 0)
        for offer in offers
    }
    return {member_id: free for member_id, free in places.items() if free > 0}


def mentees_waiting(*, session: Session) -> list[int]:
    """Members seeking a mentor who have none and no offer waiting for them."""
    busy = select(Mentorship.mentee_id).where(Mentorship.status == "active")
    offered = select(MatchProposal.mentee_id).where(MatchProposal.status == "offered")
    return list(
        session.exec(
            select(Member.id)
            .where(Member.is_active)
            .where(Member.seeking_mentor)
            .where(Member.id.not_in(busy))  # type: ignore[union-attr]
            .where(Member.id.not_in(offered))  # type: ignore[union-attr]
            .order_by(Member.id)
        ).all()
    )


def member_frame(
    *,
    session: Session,
    mentee_ids: Collection[int],
    places: dict[int, int] | None = None,
    exclude_mentors: Collection[int] = (),
) -> pd.DataFrame:
    """A frame of the given mentees and every mentor with a free place.

    Mentees are marked ``seeking_mentor``; mentors carry their free places as capacity. A
    member can be both (a band 6 who mentors a band 4 and seeks a band 8 mentor).
    """
    places = dict(places if places is not None else free_places(session=session))
    for member_id in exclude_mentors:
        places.pop(member_id, None)
    wanted = set(mentee_ids) | set(places)
    if not wanted:
        return pd.DataFrame({column: [] for column in FRAME_COLUMNS})
    rows = session.exec(
        select(Member, Organisation.key)
        .join(Organisation, Organisation.id == Member.organisation_id)  # type: ignore[arg-type]
        .where(Member.id.in_(wanted))  # type: ignore[union-attr]
        .where(Member.is_active)
        .order_by(Member.id)
    ).all()
    skills: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"sought": [], "offered": []})
    for skill in session.exec(
        select(MemberSkill).where(MemberSkill.member_id.in_(wanted))  # type: ignore[attr-defined]
    ).all():
        skills[skill.member_id][skill.kind].append(skill.skill_id)
    mentees = set(mentee_ids)
    # Line managers outside the frame still matter for chains: carry the whole chain's links.
    managers = dict(session.exec(select(Member.id, Member.line_manager_id)).all())
    records = []
    for member, org_key in rows:
        records.append(
            {
                "member_id": str(member.id),
                "organisation_key": org_key,
                "region": member.region,
                "role_family": member.role_family,
                "band": member.band,
                "profession": member.profession,
                "management_years": member.management_years,
                "line_manager_id": str(member.line_manager_id) if member.line_manager_id else None,
                "seeking_mentor": member.id in mentees,
                "mentor_capacity": places.get(member.id, 0),  # type: ignore[arg-type]
                "skills_sought": tuple(sorted(skills[member.id]["sought"])),  # type: ignore[index]
                "skills_offered": tuple(sorted(skills[member.id]["offered"])),  # type: ignore[index]
                "goals": member.goals,
                "bio": member.bio,
                "meeting_format": member.meeting_format,
                "outside_organisation_only": member.outside_organisation_only,
                "priority_access": member.priority_access,
            }
        )
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
