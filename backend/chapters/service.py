"""Organiser scopes: what an organiser may see and act on (the network, or some chapters).

An admin, and a member holding the ``organiser`` role, act on the whole network. A member with
``organiser_scope`` rows acts only within those chapters: the members the chapters cover (by
region or organisation), the chapters' programmes and their rounds, moderation of those
members' posts, and insights over those members. Every organiser-facing service asks
``require_scope`` and filters with the helpers here, so authorisation lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from backend.accounts import two_factor
from backend.chapters.models import Chapter, ChapterOrganisation, ChapterRegion, OrganiserScope
from backend.errors import Forbidden
from backend.members import service as member_service
from backend.members.models import Member

OUTSIDE_SCOPE = "This is outside the chapters you organise."


@dataclass(frozen=True)
class Scope:
    """What one member may organise: everything (``network``), or these chapters only."""

    network: bool = False
    chapter_ids: frozenset[int] = frozenset()

    @property
    def is_organiser(self) -> bool:
        """True when the member organises anything at all."""
        return self.network or bool(self.chapter_ids)

    def covers_chapter(self, chapter_id: int | None) -> bool:
        """True for a thing of ``chapter_id`` (None: network-wide, organised by the network)."""
        if self.network:
            return True
        return chapter_id is not None and chapter_id in self.chapter_ids


NONE = Scope()
NETWORK = Scope(network=True)


def scope_of(*, session: Session, member: Member | None) -> Scope:
    """The member's organiser scope (empty for a member who organises nothing)."""
    if member is None or member.id is None or not member.is_active:
        return NONE
    roles = member_service.roles_of(session=session, member_id=member.id)
    if "admin" in roles or "organiser" in roles:
        return NETWORK
    chapter_ids = session.exec(
        select(OrganiserScope.chapter_id).where(OrganiserScope.member_id == member.id)
    ).all()
    return Scope(chapter_ids=frozenset(chapter_ids))


def require_scope(*, session: Session, member: Member | None) -> tuple[Member, Scope]:
    """The member and their scope, if they organise the network or a chapter; otherwise
    Forbidden (SecondFactorRequired where staff must have a second factor and they have none).
    """
    member = member_service.require_member(member)
    scope = scope_of(session=session, member=member)
    if not scope.is_organiser:
        raise Forbidden("Only network organisers can do this.")
    two_factor.require_for_staff(session=session, member=member)
    return member, scope


def require_chapter(*, session: Session, member: Member | None, chapter_id: int | None) -> Member:
    """The member, if their scope covers ``chapter_id`` (None: the whole network)."""
    member, scope = require_scope(session=session, member=member)
    if not scope.covers_chapter(chapter_id):
        raise Forbidden(OUTSIDE_SCOPE)
    return member


def members_in(*, session: Session, scope: Scope) -> ColumnElement[bool]:
    """A condition on ``Member`` true for the members ``scope`` covers.

    A chapter covers a member whose region is one of its regions or whose organisation is one
    of its organisations. The network scope covers everyone (the condition is always true).
    """
    if scope.network:
        return col(Member.id).is_not(None)
    if not scope.chapter_ids:
        return false()
    ids = sorted(scope.chapter_ids)
    regions = select(ChapterRegion.region).where(col(ChapterRegion.chapter_id).in_(ids))
    organisations = select(ChapterOrganisation.organisation_id).where(
        col(ChapterOrganisation.chapter_id).in_(ids)
    )
    return or_(col(Member.region).in_(regions), col(Member.organisation_id).in_(organisations))


def covers_member(*, session: Session, scope: Scope, member: Member) -> bool:
    """True when ``scope`` covers ``member``."""
    if scope.network:
        return True
    if not scope.chapter_ids or member.id is None:
        return False
    found = session.exec(
        select(Member.id)
        .where(Member.id == member.id)
        .where(members_in(session=session, scope=scope))
    ).first()
    return found is not None


def chapters_of(*, session: Session, member: Member) -> list[Chapter]:
    """The chapters that cover ``member`` (by region or organisation), by name."""
    by_region = select(ChapterRegion.chapter_id).where(ChapterRegion.region == member.region)
    by_organisation = select(ChapterOrganisation.chapter_id).where(
        ChapterOrganisation.organisation_id == member.organisation_id
    )
    return list(
        session.exec(
            select(Chapter)
            .where(or_(col(Chapter.id).in_(by_region), col(Chapter.id).in_(by_organisation)))
            .order_by(col(Chapter.name), col(Chapter.id))
        ).all()
    )


def chapter_ids_of(*, session: Session, members: Iterable[Member]) -> dict[int, set[int]]:
    """For each member id, the ids of the chapters that cover them (in two queries)."""
    people = [m for m in members if m.id is not None]
    regions: dict[str, set[int]] = {}
    for chapter_id, region in session.exec(
        select(ChapterRegion.chapter_id, ChapterRegion.region)
    ).all():
        regions.setdefault(region, set()).add(chapter_id)
    organisation_ids = sorted({m.organisation_id for m in people})
    by_organisation: dict[int, set[int]] = {}
    if organisation_ids:
        for chapter_id, organisation_id in session.exec(
            select(ChapterOrganisation.chapter_id, ChapterOrganisation.organisation_id).where(
                col(ChapterOrganisation.organisation_id).in_(organisation_ids)
            )
        ).all():
            by_organisation.setdefault(organisation_id, set()).add(chapter_id)
    return {
        m.id: regions.get(m.region, set()) | by_organisation.get(m.organisation_id, set())
        for m in people
        if m.id is not None
    }
