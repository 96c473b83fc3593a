"""Peer circles (action learning sets): forming them, their members, leaving and moving.

A circle keeps the promises its page makes: four to six members, their bands at most
``MAX_BAND_SPREAD`` apart, each from a different organisation. Forming hands the waiting
members and the circles with room to the matcher's optimiser (``matching.circles.plan``, a
mixed-integer programme with those rules as hard constraints): it tops up existing circles
first, then forms new ones, and whoever cannot be placed without breaking a rule keeps waiting
(and is told so on the circles page) until enough people like them join. Interests (skills
sought and offered, goals, as the matcher's ``PersonFeatures`` see them) only decide who sits
with whom among the placements that keep the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from backend import audit
from backend.chapters import service as chapters
from backend.community.models import Circle, CircleMember, CommunityPreference
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.matchmaking.circles import MAX_SIZE, plan_circles
from backend.members import service as member_service
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.notifications.models import Notification
from backend.organisations.models import Organisation


def preferences_of(*, session: Session, member_id: int) -> CommunityPreference:
    """The member's opt-ins (both off when never set)."""
    found = session.get(CommunityPreference, member_id)
    return found or CommunityPreference(member_id=member_id)


def set_preferences(
    *,
    session: Session,
    member: Member | None,
    circles: bool | None = None,
    peer_connect: bool | None = None,
) -> CommunityPreference:
    """Opt in or out of a peer circle and of monthly peer connect pairings."""
    member = member_service.require_member(member)
    record = session.get(CommunityPreference, member.id)
    if record is None:
        record = CommunityPreference(member_id=member.id)
    if circles is not None:
        record.circles = circles
    if peer_connect is not None:
        record.peer_connect = peer_connect
    record.updated_at = utcnow()
    session.add(record)
    session.flush()
    session.refresh(record)
    return record


def circle_of(*, session: Session, member_id: int) -> Circle | None:
    """The member's circle, if any."""
    return session.exec(
        select(Circle)
        .join(CircleMember, col(CircleMember.circle_id) == col(Circle.id))
        .where(CircleMember.member_id == member_id)
    ).first()


def waiting_member_ids(*, session: Session, scope: chapters.Scope | None = None) -> list[int]:
    """Active members who opted in to a circle and are not in one yet (those ``scope``
    covers, when given)."""
    statement = (
        select(Member.id)
        .join(CommunityPreference, col(CommunityPreference.member_id) == col(Member.id))
        .where(col(CommunityPreference.circles).is_(True))
        .where(Member.is_active)
        .where(~col(Member.id).in_(select(col(CircleMember.member_id))))
    )
    if scope is not None:
        statement = statement.where(chapters.members_in(session=session, scope=scope))
    return list(session.exec(statement.order_by(col(Member.id))).all())


@dataclass
class Formed:
    """What forming did: the new circles, the circles topped up, and who is still waiting."""

    new: list[Circle] = field(default_factory=list)
    topped_up: dict[int, int] = field(default_factory=dict)  # circle id: members added
    placed: int = 0
    waiting: int = 0


def _open_circle_ids(session: Session, scope: chapters.Scope) -> list[int]:
    """The active circles ``scope`` covers that have room."""
    statement = (
        select(col(Circle.id))
        .join(CircleMember, col(CircleMember.circle_id) == col(Circle.id))
        .where(Circle.status == "active")
        .group_by(col(Circle.id))
        .having(func.count(col(CircleMember.member_id)) < MAX_SIZE)
    )
    if not scope.network:
        statement = statement.where(col(Circle.id).in_(_circles_in(session, scope)))
    return [int(i) for i in session.exec(statement).all()]


def form(*, session: Session, organiser: Member | None) -> Formed:
    """Organisers: top up circles with room, then form new circles, from everyone waiting.

    Every circle keeps its rules (4-6 members, bands at most two apart, one per organisation);
    whoever cannot be placed without breaking one keeps waiting. Members placed are told. A
    chapter organiser places the waiting members their chapters cover, in circles they cover.
    """
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    ids = waiting_member_ids(session=session, scope=scope)
    if not ids:
        raise Invalid("Nobody is waiting for a circle.")
    result = plan_circles(
        session=session, member_ids=ids, circle_ids=_open_circle_ids(session, scope)
    )
    members = {m.id: m for m in session.exec(select(Member).where(col(Member.id).in_(ids))).all()}
    formed = Formed(waiting=len(result.waiting))
    for circle_id, added in sorted(result.top_ups.items()):
        circle = session.get(Circle, circle_id)
        if circle is None:  # pragma: no cover - read in this transaction a moment ago
            continue
        formed.topped_up[circle_id] = len(added)
        size = session.exec(
            select(func.count())
            .select_from(CircleMember)
            .where(CircleMember.circle_id == circle_id)
        ).one()
        for member_id in added:
            session.add(CircleMember(circle_id=circle_id, member_id=member_id))
            _tell_placed(session, members[member_id], circle, peers=size + len(added) - 1)
    number = session.exec(select(func.count()).select_from(Circle)).one()
    for group in result.new_circles:
        number += 1
        circle = Circle(name=f"Peer circle {number}", created_by_id=organiser.id)
        session.add(circle)
        session.flush()
        formed.new.append(circle)
        for member_id in group:
            session.add(CircleMember(circle_id=circle.id, member_id=member_id))
            _tell_placed(session, members[member_id], circle, peers=len(group) - 1)
    formed.placed = len(ids) - formed.waiting
    _tell_still_waiting(session, [members[i] for i in result.waiting])
    session.flush()
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.CIRCLES_FORMED,
        details={
            "circles": len(formed.new),
            "topped_up": len(formed.topped_up),
            "members": formed.placed,
            "waiting": formed.waiting,
        },
    )
    return formed


def _tell_placed(session: Session, member: Member, circle: Circle, *, peers: int) -> None:
    notifications.notify_member(
        session=session,
        member=member,
        kind="community",
        title=f"You are in {circle.name}",
        body=f"You have joined {circle.name} with {peers} peers from other organisations. "
        "Say hello in the circle's discussion.",
        link=f"/circles/{circle.id}",
    )


STILL_WAITING = "Still waiting for a peer circle"


def _tell_still_waiting(session: Session, waiting: list[Member]) -> None:
    """Tell those left waiting why, once for each time they opt in (not at every forming)."""
    if not waiting:
        return
    told = set(
        session.exec(
            select(Notification.member_id)
            .join(
                CommunityPreference,
                col(CommunityPreference.member_id) == col(Notification.member_id),
            )
            .where(col(Notification.member_id).in_([m.id for m in waiting]))
            .where(Notification.title == STILL_WAITING)
            .where(col(Notification.created_at) >= col(CommunityPreference.updated_at))
        ).all()
    )
    for member in waiting:
        if member.id in told:
            continue
        notifications.notify_member(
            session=session,
            member=member,
            kind="community",
            title=STILL_WAITING,
            body="Circles were formed today, but none could take you yet without breaking a "
            "circle's rules: 4 to 6 members at bands no more than 2 apart, each from a "
            "different organisation. You stay on the list, and you will be told as soon as a "
            "circle takes you.",
            link="/circles",
        )


def is_waiting(*, session: Session, member_id: int) -> bool:
    """True while the member has opted in to a circle and is not in one yet."""
    return (
        preferences_of(session=session, member_id=member_id).circles
        and circle_of(session=session, member_id=member_id) is None
    )


@dataclass
class CircleView:
    """A circle with its members, for its page."""

    circle: Circle
    members: list[Member]
    organisations: dict[int, str]
    is_member: bool


def get(*, session: Session, viewer: Member | None, circle_id: int) -> CircleView:
    """A circle's page: its members and organisers only."""
    from backend.community import service as community

    viewer = member_service.require_member(viewer)
    circle = session.get(Circle, circle_id) if 0 < circle_id <= 2**31 - 1 else None
    if circle is None or not community.can_see_circle(
        session=session, viewer=viewer, circle_id=circle_id
    ):
        raise NotFound("No circle with that id.")
    rows = session.exec(
        select(Member, Organisation.name)
        .join(CircleMember, col(CircleMember.member_id) == col(Member.id))
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        .where(CircleMember.circle_id == circle_id)
        .order_by(Member.name)
    ).all()
    return CircleView(
        circle=circle,
        members=[m for m, _ in rows],
        # An organisation shows only where the member shares contact details.
        organisations={
            m.id: name
            for m, name in rows
            if member_service.can_see_contact(member=m, viewer=viewer)
        },
        is_member=any(m.id == viewer.id for m, _ in rows),
    )


def list_circles(*, session: Session, organiser: Member | None) -> list[tuple[Circle, int]]:
    """Organisers: every circle with its size (a chapter organiser: the circles with a
    member their chapters cover)."""
    _, scope = chapters.require_scope(session=session, member=organiser)
    statement = (
        select(Circle, func.count(col(CircleMember.member_id)))
        .join(CircleMember, col(CircleMember.circle_id) == col(Circle.id), isouter=True)
        .group_by(col(Circle.id))
        .order_by(col(Circle.id))
    )
    if not scope.network:
        statement = statement.where(col(Circle.id).in_(_circles_in(session, scope)))
    return list(session.exec(statement).all())


def _circles_in(session: Session, scope: chapters.Scope):
    """The ids of the circles with at least one member ``scope`` covers (a subquery)."""
    return (
        select(col(CircleMember.circle_id))
        .join(Member, col(Member.id) == col(CircleMember.member_id))
        .where(chapters.members_in(session=session, scope=scope))
    )


def covers_circle(*, session: Session, scope: chapters.Scope, circle_id: int) -> bool:
    """True when ``scope`` covers the circle: the network, or a chapter covering one of its
    members."""
    if scope.network:
        return True
    if not scope.chapter_ids:
        return False
    found = session.exec(
        _circles_in(session, scope).where(col(CircleMember.circle_id) == circle_id)
    )
    return found.first() is not None


@dataclass
class Organising:
    """The organisers' part of the circles page, for one organiser's scope."""

    circles: list[tuple[Circle, int]]  # the circles their scope covers, with their sizes
    waiting: int  # members their scope covers waiting for a circle
    network: bool  # peer connect pairs the whole network, so only its organisers run it


def organising(*, session: Session, member: Member | None) -> Organising | None:
    """What the circles page offers ``member`` as an organiser: the network's organisers see
    and act on every circle, a chapter organiser on those of their chapters' members; None
    for a member who organises nothing."""
    if not chapters.scope_of(session=session, member=member).is_organiser:
        return None
    _, scope = chapters.require_scope(session=session, member=member)
    return Organising(
        circles=list_circles(session=session, organiser=member),
        waiting=len(waiting_member_ids(session=session, scope=scope)),
        network=scope.network,
    )


def leave(*, session: Session, member: Member | None) -> None:
    """Leave your circle (and stop waiting for another until you opt in again)."""
    member = member_service.require_member(member)
    removed = session.exec(
        delete(CircleMember).where(col(CircleMember.member_id) == member.id)
    ).rowcount
    if not removed:
        raise Conflict("You are not in a circle.")
    record = session.get(CommunityPreference, member.id)
    if record is not None:
        record.circles = False
        session.add(record)
    session.flush()


def move(*, session: Session, organiser: Member | None, member_id: int, circle_id: int) -> None:
    """Organisers: put a member in another circle (or in one, if they had none)."""
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    member = session.get(Member, member_id) if 0 < member_id <= 2**31 - 1 else None
    if (
        member is None
        or not member.is_active
        or not chapters.covers_member(session=session, scope=scope, member=member)
    ):
        raise NotFound("No member with that id.", field="member_id")
    circle = session.get(Circle, circle_id) if 0 < circle_id <= 2**31 - 1 else None
    if circle is None or circle.status != "active":
        raise NotFound("No circle with that id.", field="circle_id")
    if not covers_circle(session=session, scope=scope, circle_id=circle_id):
        raise NotFound("No circle with that id.", field="circle_id")
    session.execute(delete(CircleMember).where(col(CircleMember.member_id) == member_id))
    session.add(CircleMember(circle_id=circle_id, member_id=member_id))
    notifications.notify(
        session=session,
        member_id=member_id,
        email=member.email,
        kind="community",
        title=f"You are now in {circle.name}",
        body=f"An organiser moved you to {circle.name}.",
        link=f"/circles/{circle_id}",
    )
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.CIRCLE_MEMBER_MOVED,
        subject=audit.subject("member", member_id),
        details={"circle": circle_id},
    )
