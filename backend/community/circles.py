"""Peer circles (action learning sets): forming them, their members, leaving and moving.

Forming is a pure function (``form_groups``) over people and their interest vectors, so it can
be property-tested on random populations; ``form`` feeds it from the database using the
matcher's ``PersonFeatures`` (skills sought and offered, goals text) as interest vectors.

The algorithm, in three steps:

1. Sizes: ``k = ceil(n / 6)`` circles of balanced size (they differ by at most one), which
   keeps every circle within 4-6 whenever that is possible (every n >= 4 except 7; 7 makes
   one circle of 7, and fewer than 4 make one small circle: nobody willing is left out).
2. Seats: people sorted by band are cut into consecutive runs of those sizes, so each circle
   starts at similar bands. Organisation clashes are then repaired by swaps with the member
   of another circle nearest in band; if a clash remains that could be avoided (no
   organisation has more people than there are circles), seats are dealt round-robin by
   organisation instead, which never puts two of one organisation together.
3. Polish: swaps between circles that bring bands closer and interests together, never
   adding an organisation clash.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from backend import audit
from backend.chapters import service as chapters
from backend.community.models import Circle, CircleMember, CommunityPreference
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.matchmaking.features import interest_vectors
from backend.members import service as member_service
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.organisations.models import Organisation
from vocabulary import BAND_RANK

MIN_SIZE = 4
MAX_SIZE = 6
BAND_WEIGHT = 1.0
INTEREST_WEIGHT = 0.5
POLISH_ROUNDS = 4


@dataclass(frozen=True)
class Person:
    """What forming needs to know about one willing member."""

    member_id: int
    organisation: str
    band_rank: int


def circle_sizes(n: int) -> list[int]:
    """Balanced sizes for ``n`` people: 4-6 each whenever possible, nobody left out."""
    if n <= 0:
        return []
    k = max(math.ceil(n / MAX_SIZE), 1)
    if n // k < MIN_SIZE:
        k = max(n // MIN_SIZE, 1)
    base, extra = divmod(n, k)
    return [base + 1 if i < extra else base for i in range(k)]


def _clashes(group: list[int], orgs: Sequence[str]) -> int:
    counts = Counter(orgs[i] for i in group)
    return sum(c - 1 for c in counts.values())


def _total_clashes(groups: list[list[int]], orgs: Sequence[str]) -> int:
    return sum(_clashes(g, orgs) for g in groups)


def _repair(groups: list[list[int]], orgs: Sequence[str], bands: np.ndarray) -> None:
    """Swap clashing members with members of other circles, nearest band first."""
    for _ in range(len(orgs) * 2):
        moved = False
        for gi, group in enumerate(groups):
            counts = Counter(orgs[i] for i in group)
            clashing = [i for i in group if counts[orgs[i]] > 1]
            if not clashing:
                continue
            best: tuple[float, int, int, int] | None = None
            for x in clashing:
                rest_g = {orgs[i] for i in group if i != x}
                for hi, other in enumerate(groups):
                    if hi == gi:
                        continue
                    for y in other:
                        if orgs[y] in rest_g:
                            continue
                        rest_h = Counter(orgs[i] for i in other if i != y)
                        if rest_h[orgs[x]] > 0:
                            continue
                        cost = abs(float(bands[x] - bands[y]))
                        if best is None or cost < best[0]:
                            best = (cost, x, hi, y)
            if best is not None:
                _, x, hi, y = best
                group[group.index(x)] = y
                groups[hi][groups[hi].index(y)] = x
                moved = True
        if not moved:
            return


def _round_robin(sizes: list[int], orgs: Sequence[str], bands: np.ndarray) -> list[list[int]]:
    """Deal people grouped by organisation (largest first) across circles in turn."""
    counts = Counter(orgs)
    order = sorted(range(len(orgs)), key=lambda i: (-counts[orgs[i]], orgs[i], bands[i]))
    groups: list[list[int]] = [[] for _ in sizes]
    slot = 0
    for person in order:
        while len(groups[slot % len(sizes)]) >= sizes[slot % len(sizes)]:
            slot += 1
        groups[slot % len(sizes)].append(person)
        slot += 1
    return groups


def _cost(group: list[int], bands: np.ndarray, interests: np.ndarray) -> float:
    """Lower is better: spread of bands, less the shared interest within the circle."""
    b = bands[group]
    spread = float(((b - b.mean()) ** 2).sum())
    vectors = interests[group]
    total = vectors.sum(axis=0)
    shared = (float(total @ total) - float((vectors * vectors).sum())) / 2
    return BAND_WEIGHT * spread - INTEREST_WEIGHT * shared


def _polish(
    groups: list[list[int]], orgs: Sequence[str], bands: np.ndarray, interests: np.ndarray
) -> None:
    """Swaps between circles that lower the cost and add no organisation clash."""
    for _ in range(POLISH_ROUNDS):
        improved = False
        for gi in range(len(groups)):
            for hi in range(gi + 1, len(groups)):
                g, h = groups[gi], groups[hi]
                before = _cost(g, bands, interests) + _cost(h, bands, interests)
                clashes = _clashes(g, orgs) + _clashes(h, orgs)
                for a in range(len(g)):
                    for b in range(len(h)):
                        x, y = g[a], h[b]
                        if orgs[x] == orgs[y]:
                            continue
                        g[a], h[b] = y, x
                        after = _cost(g, bands, interests) + _cost(h, bands, interests)
                        if after < before - 1e-9 and _clashes(g, orgs) + _clashes(h, orgs) <= (
                            clashes
                        ):
                            before = after
                            clashes = _clashes(g, orgs) + _clashes(h, orgs)
                            improved = True
                        else:
                            g[a], h[b] = x, y
        if not improved:
            return


def form_groups(people: Sequence[Person], interests: np.ndarray | None = None) -> list[list[int]]:
    """Indices of ``people`` in circles: balanced 4-6, similar bands, mixed organisations."""
    n = len(people)
    sizes = circle_sizes(n)
    if not sizes:
        return []
    orgs = [p.organisation for p in people]
    bands = np.array([p.band_rank for p in people], dtype=np.float64)
    if interests is None or len(interests) != n:
        interests = np.zeros((n, 1))
    norms = np.linalg.norm(interests, axis=1, keepdims=True)
    interests = np.divide(interests, norms, out=np.zeros_like(interests), where=norms > 0)
    order = sorted(range(n), key=lambda i: (bands[i], orgs[i], people[i].member_id))
    groups: list[list[int]] = []
    start = 0
    for size in sizes:
        groups.append(order[start : start + size])
        start += size
    _repair(groups, orgs, bands)
    avoidable = max(Counter(orgs).values()) <= len(sizes)
    if avoidable and _total_clashes(groups, orgs) > 0:
        groups = _round_robin(sizes, orgs, bands)
    _polish(groups, orgs, bands, interests)
    return [sorted(g, key=lambda i: (bands[i], people[i].member_id)) for g in groups]


# The database side ----------------------------------------------------------------------------


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


def _interests(session: Session, member_ids: list[int]) -> np.ndarray | None:
    """Skills sought and offered and goals, as the matcher's PersonFeatures see them."""
    return interest_vectors(session=session, member_ids=member_ids)


def form(*, session: Session, organiser: Member | None) -> list[Circle]:
    """Organisers: put every waiting willing member into a new circle; members are told.

    A chapter organiser forms circles of the waiting members their chapters cover only.
    """
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    ids = waiting_member_ids(session=session, scope=scope)
    if not ids:
        raise Invalid("Nobody is waiting for a circle.")
    rows = session.exec(
        select(Member, Organisation.key)
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        .where(col(Member.id).in_(ids))
        .order_by(col(Member.id))
    ).all()
    members = {m.id: m for m, _ in rows}
    people = [Person(m.id, key, BAND_RANK.get(m.band, 0)) for m, key in rows]
    groups = form_groups(people, _interests(session, [p.member_id for p in people]))
    existing = session.exec(select(func.count()).select_from(Circle)).one()
    circles = []
    for number, group in enumerate(groups, start=existing + 1):
        circle = Circle(name=f"Peer circle {number}", created_by_id=organiser.id)
        session.add(circle)
        session.flush()
        circles.append(circle)
        for index in group:
            member = members[people[index].member_id]
            session.add(CircleMember(circle_id=circle.id, member_id=member.id))
            notifications.notify_member(
                session=session,
                member=member,
                kind="community",
                title=f"You are in {circle.name}",
                body=f"You have joined {circle.name} with {len(group) - 1} peers from other "
                "organisations. Say hello in the circle's discussion.",
                link=f"/circles/{circle.id}",
            )
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.CIRCLES_FORMED,
        details={"circles": len(circles), "members": len(people)},
    )
    return circles


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
