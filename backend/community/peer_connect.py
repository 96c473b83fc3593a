"""Peer connect: a monthly pairing of opted-in members with a peer they have not met here.

A pair must be at similar bands (at most one band apart), from different organisations, and
never paired before (a unique constraint holds that). Pairing is a greedy maximum matching:
the members with the fewest possible peers choose first, each taking the candidate who shares
the most skills (then the closest band), so as few people as possible go without. It runs once
a month, from the job runner (``run_if_due``) or by an organiser; a second run in the same
month pairs only those not yet paired that month.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from backend import audit
from backend.chapters import service as chapters
from backend.community.models import CommunityPreference, PeerPairing
from backend.db import utcnow
from backend.members import service as member_service
from backend.members.models import Member, MemberSkill
from backend.notifications import service as notifications
from vocabulary import BAND_RANK

MAX_BAND_GAP = 1


def period_of(moment: datetime) -> str:
    """The pairing period of a moment: its year and month, 'YYYY-MM'."""
    return moment.strftime("%Y-%m")


def period_name(period: str) -> str:
    """A pairing period as people read it: '2026-12' is 'December 2026'."""
    try:
        return datetime.strptime(period, "%Y-%m").strftime("%B %Y")
    except ValueError:
        return period


@dataclass(frozen=True)
class Candidate:
    """One opted-in member as pairing sees them."""

    member_id: int
    organisation_id: int
    band_rank: int
    skills: frozenset[str]


def pair_up(
    candidates: list[Candidate], met: set[tuple[int, int]], *, seed: int = 0
) -> list[tuple[int, int]]:
    """Pairs (lower id first) of candidates who may meet: bands within one, other organisation,
    not met before; as many pairs as the greedy can find."""

    def allowed(a: Candidate, b: Candidate) -> bool:
        return (
            a.member_id != b.member_id
            and a.organisation_id != b.organisation_id
            and abs(a.band_rank - b.band_rank) <= MAX_BAND_GAP
            and (min(a.member_id, b.member_id), max(a.member_id, b.member_id)) not in met
        )

    options: dict[int, list[Candidate]] = defaultdict(list)
    for a in candidates:
        for b in candidates:
            if allowed(a, b):
                options[a.member_id].append(b)
    rng = random.Random(seed)
    order = sorted(candidates, key=lambda c: (len(options[c.member_id]), rng.random()))
    taken: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for person in order:
        if person.member_id in taken:
            continue
        free = [b for b in options[person.member_id] if b.member_id not in taken]
        if not free:
            continue
        best = max(
            free,
            key=lambda b: (
                len(person.skills & b.skills),
                -abs(person.band_rank - b.band_rank),
                -len([x for x in options[b.member_id] if x.member_id not in taken]),
                rng.random(),
            ),
        )
        taken |= {person.member_id, best.member_id}
        pairs.append((min(person.member_id, best.member_id), max(person.member_id, best.member_id)))
    return pairs


def _candidates(session: Session, period: str) -> list[Candidate]:
    already = (
        select(PeerPairing.member_a_id)
        .where(PeerPairing.period == period)
        .union(select(PeerPairing.member_b_id).where(PeerPairing.period == period))
    )
    members = session.exec(
        select(Member)
        .join(CommunityPreference, col(CommunityPreference.member_id) == col(Member.id))
        .where(col(CommunityPreference.peer_connect).is_(True))
        .where(Member.is_active)
        .where(col(Member.email_verified_at).is_not(None))
        .where(col(Member.id).not_in(already))
        .order_by(col(Member.id))
    ).all()
    skills: dict[int, set[str]] = defaultdict(set)
    ids = [m.id for m in members]
    if ids:
        for row in session.exec(
            select(MemberSkill).where(col(MemberSkill.member_id).in_(ids))
        ).all():
            skills[row.member_id].add(row.skill_id)
    return [
        Candidate(m.id, m.organisation_id, BAND_RANK.get(m.band, 0), frozenset(skills[m.id]))
        for m in members
    ]


def _met(session: Session, ids: list[int]) -> set[tuple[int, int]]:
    if not ids:
        return set()
    rows = session.exec(
        select(PeerPairing.member_a_id, PeerPairing.member_b_id).where(
            or_(col(PeerPairing.member_a_id).in_(ids), col(PeerPairing.member_b_id).in_(ids))
        )
    ).all()
    return {(a, b) for a, b in rows}


def run_pairing(
    *, session: Session, now: datetime | None = None, seed: int = 0
) -> list[PeerPairing]:
    """Pair this month's opted-in members who are not paired yet; both are notified."""
    period = period_of(now or utcnow())
    candidates = _candidates(session, period)
    pairs = pair_up(candidates, _met(session, [c.member_id for c in candidates]), seed=seed)
    members = member_service.get_many(session=session, member_ids=[i for p in pairs for i in p])
    made = []
    for a, b in pairs:
        pairing = PeerPairing(period=period, member_a_id=a, member_b_id=b)
        session.add(pairing)
        made.append(pairing)
        for me, peer in ((members[a], members[b]), (members[b], members[a])):
            notifications.notify_member(
                session=session,
                member=me,
                kind="community",
                title=f"Peer connect: meet {peer.name}",
                body=f"This month you are paired with {peer.name}"
                f"{', ' + peer.job_title if peer.job_title else ''}. Say hello and arrange a "
                "half-hour conversation.",
                link=f"/members/{peer.id}",
            )
    session.flush()
    return made


def trigger(*, session: Session, organiser: Member | None) -> list[PeerPairing]:
    """Network organisers: run this month's pairing now (it pairs the whole network, so a
    chapter organiser cannot)."""
    organiser = chapters.require_network(session=session, member=organiser)
    made = run_pairing(session=session)
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.PEER_PAIRING_RUN,
        details={"pairs": len(made)},
    )
    return made


def run_if_due(*, session: Session, now: datetime | None = None) -> int:
    """For the job runner: pair this month once (no pairing yet this month); returns pairs made."""
    period = period_of(now or utcnow())
    done = session.exec(select(PeerPairing.id).where(PeerPairing.period == period)).first()
    if done is not None:
        return 0
    return len(run_pairing(session=session, now=now))


def pairings_of(*, session: Session, member_id: int) -> list[tuple[PeerPairing, Member | None]]:
    """The member's pairings, newest first, with the peer of each."""
    rows = session.exec(
        select(PeerPairing)
        .where(
            or_(
                col(PeerPairing.member_a_id) == member_id, col(PeerPairing.member_b_id) == member_id
            )
        )
        .order_by(col(PeerPairing.id).desc())
    ).all()
    peers = member_service.get_many(
        session=session,
        member_ids=[r.member_b_id if r.member_a_id == member_id else r.member_a_id for r in rows],
    )
    return [
        (r, peers.get(r.member_b_id if r.member_a_id == member_id else r.member_a_id)) for r in rows
    ]
