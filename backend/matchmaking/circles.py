"""Peer circles through the matcher's optimiser.

The rules (sizes 4-6, bands at most ``MAX_BAND_SPREAD`` apart, one member per organisation)
and the optimiser live once, in ``matching.circles``; this module reads the waiting members
and the circles with room in the shape it expects, with the members' interests (skills sought
and offered, goals, as the matcher's ``PersonFeatures`` see them) to seat like with like.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

import numpy as np
from sqlmodel import Session, col, select

from backend.community.models import CircleMember
from backend.matchmaking.features import interest_vectors
from backend.members.models import Member
from backend.organisations.models import Organisation
from matching.circles import MAX_BAND_SPREAD as MAX_BAND_SPREAD
from matching.circles import MAX_SIZE as MAX_SIZE
from matching.circles import MIN_SIZE as MIN_SIZE
from matching.circles import OpenCircle, Plan, Waiting, plan
from vocabulary import BAND_RANK

__all__ = ["MAX_BAND_SPREAD", "MAX_SIZE", "MIN_SIZE", "Plan", "plan_circles"]


def _people(session: Session, member_ids: list[int]) -> list[Waiting]:
    rows = session.exec(
        select(Member.id, Member.band, Organisation.id)
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        .where(col(Member.id).in_(member_ids))
        .order_by(col(Member.id))
    ).all()
    ids = [int(member_id) for member_id, _, _ in rows]
    vectors = interest_vectors(session=session, member_ids=ids) if ids else None
    if vectors is not None and len(vectors):
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return [
        Waiting(
            person_id=int(member_id),
            band_rank=BAND_RANK[band],
            organisation=int(organisation_id),
            interests=tuple(float(x) for x in vectors[i]) if vectors is not None else (),
        )
        for i, (member_id, band, organisation_id) in enumerate(rows)
    ]


def _open_circles(session: Session, circle_ids: Collection[int]) -> list[OpenCircle]:
    if not circle_ids:
        return []
    members: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for circle_id, band, organisation_id in session.exec(
        select(CircleMember.circle_id, Member.band, Member.organisation_id)
        .join(Member, col(Member.id) == col(CircleMember.member_id))
        .where(col(CircleMember.circle_id).in_(list(circle_ids)))
        .order_by(col(CircleMember.circle_id), col(Member.id))
    ).all():
        members[int(circle_id)].append((BAND_RANK[band], int(organisation_id)))
    return [
        OpenCircle(
            circle_id=circle_id,
            band_ranks=tuple(b for b, _ in members[circle_id]),
            organisations=tuple(o for _, o in members[circle_id]),
        )
        for circle_id in sorted(circle_ids)
        if 0 < len(members[circle_id]) < MAX_SIZE
    ]


def plan_circles(
    *, session: Session, member_ids: list[int], circle_ids: Collection[int] = ()
) -> Plan:
    """Who tops up which of ``circle_ids``, the new circles and who keeps waiting."""
    return plan(_people(session, member_ids), _open_circles(session, circle_ids))
