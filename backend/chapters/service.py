"""Organiser scopes: what an organiser may see and act on (the network, or some chapters).

An admin, and a member holding the ``organiser`` role, act on the whole network. A member with
``organiser_scope`` rows acts only within those chapters: the members the chapters cover (by
region or organisation), the chapters' programmes and their rounds, moderation of those
members' posts, and insights over those members. Every organiser-facing service asks
``require_scope`` and filters with the helpers here, so authorisation lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, false, func, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from backend import audit
from backend.accounts import two_factor
from backend.accounts.models import UserSession
from backend.chapters.models import (
    CHAPTER_KINDS,
    Chapter,
    ChapterOrganisation,
    ChapterRegion,
    OrganiserScope,
)
from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.members import console
from backend.members import service as member_service
from backend.members.models import Member
from backend.organisations.models import Organisation
from backend.text import text_problem
from vocabulary import REGIONS

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


def _places(
    session: Session, organisation_ids: Sequence[int] | None = None
) -> tuple[list[tuple[int, str]], list[tuple[int, int]]]:
    """What chapters cover: (chapter id, region) rows, and (chapter id, organisation id) rows
    (only those organisations', if given). A chapter covers a member in either."""
    regions = list(session.exec(select(ChapterRegion.chapter_id, ChapterRegion.region)).all())
    if organisation_ids is not None and not organisation_ids:
        return regions, []  # no organisations asked about: no query
    organisations = select(ChapterOrganisation.chapter_id, ChapterOrganisation.organisation_id)
    if organisation_ids is not None:
        organisations = organisations.where(
            col(ChapterOrganisation.organisation_id).in_(list(organisation_ids))
        )
    return regions, list(session.exec(organisations).all())


def chapter_ids_of(*, session: Session, members: Iterable[Member]) -> dict[int, set[int]]:
    """For each member id, the ids of the chapters that cover them (in two queries)."""
    people = [m for m in members if m.id is not None]
    organisation_ids = sorted({m.organisation_id for m in people})
    region_rows, organisation_rows = _places(session, organisation_ids)
    regions: dict[str, set[int]] = {}
    for chapter_id, region in region_rows:
        regions.setdefault(region, set()).add(chapter_id)
    by_organisation: dict[int, set[int]] = {}
    for chapter_id, organisation_id in organisation_rows:
        by_organisation.setdefault(organisation_id, set()).add(chapter_id)
    return {
        m.id: regions.get(m.region, set()) | by_organisation.get(m.organisation_id, set())
        for m in people
        if m.id is not None
    }


def covering_columns(
    *, session: Session, regions: pd.Series, organisation_ids: pd.Series
) -> dict[int, np.ndarray]:
    """``chapter_ids_of`` for a whole population at once, as columns: for each chapter, True
    where it covers the member whose region and organisation are at that position."""
    region_rows, organisation_rows = _places(session)
    chapter_regions: dict[int, list[str]] = {}
    for chapter_id, region in region_rows:
        chapter_regions.setdefault(chapter_id, []).append(region)
    chapter_organisations: dict[int, list[int]] = {}
    for chapter_id, organisation_id in organisation_rows:
        chapter_organisations.setdefault(chapter_id, []).append(organisation_id)
    return {
        chapter_id: regions.isin(chapter_regions.get(chapter_id, [])).to_numpy()
        | organisation_ids.isin(chapter_organisations.get(chapter_id, [])).to_numpy()
        for chapter_id in chapter_regions.keys() | chapter_organisations.keys()
    }


# Filters for organiser features ------------------------------------------------------------


def member_ids_in(*, session: Session, scope: Scope) -> SelectOfScalar[int] | None:
    """The ids of the members ``scope`` covers, as a subquery for ``col(x).in_(...)``;
    None for the network scope (no filter: everyone is covered)."""
    if scope.network:
        return None
    # Never correlated: the caller's query usually reads the member table too.
    return select(col(Member.id)).where(members_in(session=session, scope=scope)).correlate(None)


def programmes_in(*, scope: Scope, programme_id: Any) -> ColumnElement[bool]:
    """A condition on a ``programme_id`` column: true for the programmes ``scope`` covers.

    A chapter organiser covers their chapters' programmes only; network-wide programmes
    (``chapter_id`` None, the default programme among them) are the network organisers'.
    """
    from backend.programmes.models import Programme

    if scope.network:
        return true()
    if not scope.chapter_ids:
        return false()
    return col(programme_id).in_(
        select(col(Programme.id)).where(col(Programme.chapter_id).in_(sorted(scope.chapter_ids)))
    )


def covers_programme(*, session: Session, scope: Scope, programme_id: int | None) -> bool:
    """True when ``scope`` covers the programme (a missing one is network-wide)."""
    from backend.programmes.models import Programme

    if scope.network:
        return True
    programme = session.get(Programme, programme_id) if programme_id is not None else None
    return programme is not None and scope.covers_chapter(programme.chapter_id)


def require_network(*, session: Session, member: Member | None) -> Member:
    """The member, if they organise the whole network (network organisers and admins); a
    chapter organiser is refused (Forbidden) as anyone else is."""
    member, scope = require_scope(session=session, member=member)
    if not scope.network:
        raise Forbidden("Only network organisers can do this.")
    return member


# Chapter management (admins) ---------------------------------------------------------------

MAX_NAME = 200
MAX_DESCRIPTION = 1000
KIND_LABELS: dict[str, str] = {
    "region": "Region",
    "integrated-care-system": "Integrated care system",
}


@dataclass(frozen=True)
class ChapterSettings:
    """What an admin sets on a chapter: its name, kind, description and coverage."""

    name: str
    kind: str = "region"
    description: str = ""
    regions: Sequence[str] = ()
    organisation_ids: Sequence[int] = ()


@dataclass
class ChapterSummary:
    """A chapter with its coverage, organisers and how many active members it covers."""

    chapter: Chapter
    regions: list[str]
    organisations: list[Organisation]
    organisers: list[Member]
    members: int
    programmes: int


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def chapter_problems(*, session: Session, settings: ChapterSettings) -> dict[str, str]:
    """Every problem of the settings at once (field to message); empty when they are right."""
    problems: dict[str, str] = {}
    name = " ".join((settings.name or "").split())
    problem = text_problem(name, label="chapter name", maximum=MAX_NAME, one_line=True)
    if problem:
        problems["name"] = problem
    elif not name:
        problems["name"] = "Enter a name for the chapter."
    if settings.kind not in CHAPTER_KINDS:
        problems["kind"] = "Choose whether the chapter is a region or an integrated care system."
    problem = text_problem(settings.description or "", label="description", maximum=MAX_DESCRIPTION)
    if problem:
        problems["description"] = problem
    unknown = [r for r in settings.regions if r not in REGIONS]
    if unknown:
        problems["regions"] = f"'{unknown[0][:60]}' is not an NHS England region."
    ids = sorted(set(settings.organisation_ids))
    if any(not 0 < i <= 2**31 - 1 for i in ids):
        problems["organisation_ids"] = "Choose organisations from the list."
    elif ids:
        found = set(
            session.exec(select(col(Organisation.id)).where(col(Organisation.id).in_(ids))).all()
        )
        if set(ids) - found:
            problems["organisation_ids"] = "Choose organisations from the list."
    covers_nothing = not settings.regions and not ids
    if covers_nothing and "organisation_ids" not in problems:
        problems["regions"] = "Choose at least one region or organisation the chapter covers."
    return problems


def _check(session: Session, settings: ChapterSettings, *, other_than: int | None) -> str:
    problems = chapter_problems(session=session, settings=settings)
    if problems:
        raise FieldErrors(problems)
    name = " ".join(settings.name.split())
    same = session.exec(select(Chapter.id).where(Chapter.key == _fold(name))).first()
    if same is not None and same != other_than:
        raise Conflict("A chapter with that name already exists.", field="name")
    return name


def _set_coverage(session: Session, chapter_id: int, settings: ChapterSettings) -> None:
    session.execute(delete(ChapterRegion).where(col(ChapterRegion.chapter_id) == chapter_id))
    session.execute(
        delete(ChapterOrganisation).where(col(ChapterOrganisation.chapter_id) == chapter_id)
    )
    for region in sorted(set(settings.regions)):
        session.add(ChapterRegion(chapter_id=chapter_id, region=region))
    for organisation_id in sorted(set(settings.organisation_ids)):
        session.add(ChapterOrganisation(chapter_id=chapter_id, organisation_id=organisation_id))
    session.flush()


def _record(session: Session, admin: Member, action: str, chapter: Chapter, **details: Any):
    audit.record(
        session,
        actor=admin,
        action=action,
        subject=audit.subject("chapter", chapter.id),
        details=details,  # codes and numbers only: the name is on the chapter's page
    )


def _chapter(session: Session, chapter_id: int) -> Chapter:
    chapter = session.get(Chapter, chapter_id) if 0 < chapter_id <= 2**31 - 1 else None
    if chapter is None:
        raise NotFound("No chapter with that id.", field="chapter_id")
    return chapter


def _summaries(session: Session, chapters: list[Chapter]) -> list[ChapterSummary]:
    from backend.programmes.models import Programme

    ids = [c.id for c in chapters]
    if not ids:
        return []
    regions: dict[int, list[str]] = {}
    for chapter_id, region in session.exec(
        select(ChapterRegion.chapter_id, ChapterRegion.region)
        .where(col(ChapterRegion.chapter_id).in_(ids))
        .order_by(col(ChapterRegion.region))
    ).all():
        regions.setdefault(chapter_id, []).append(region)
    organisations: dict[int, list[Organisation]] = {}
    for chapter_id, organisation in session.exec(
        select(ChapterOrganisation.chapter_id, Organisation)
        .join(Organisation, col(Organisation.id) == col(ChapterOrganisation.organisation_id))
        .where(col(ChapterOrganisation.chapter_id).in_(ids))
        .order_by(col(Organisation.name))
    ).all():
        organisations.setdefault(chapter_id, []).append(organisation)
    organisers: dict[int, list[Member]] = {}
    for chapter_id, member in session.exec(
        select(OrganiserScope.chapter_id, Member)
        .join(Member, col(Member.id) == col(OrganiserScope.member_id))
        .where(col(OrganiserScope.chapter_id).in_(ids))
        .order_by(col(Member.name), col(Member.id))
    ).all():
        organisers.setdefault(chapter_id, []).append(member)
    programmes = dict(
        session.exec(
            select(Programme.chapter_id, func.count())
            .where(col(Programme.chapter_id).in_(ids))
            .group_by(col(Programme.chapter_id))
        ).all()
    )
    summaries = []
    for chapter in chapters:
        members = session.exec(
            select(func.count())
            .select_from(Member)
            .where(col(Member.is_active))
            .where(members_in(session=session, scope=Scope(chapter_ids=frozenset({chapter.id}))))
        ).one()
        summaries.append(
            ChapterSummary(
                chapter=chapter,
                regions=regions.get(chapter.id, []),
                organisations=organisations.get(chapter.id, []),
                organisers=organisers.get(chapter.id, []),
                members=int(members),
                programmes=int(programmes.get(chapter.id, 0)),
            )
        )
    return summaries


def list_chapters(*, session: Session, admin: Member | None) -> list[ChapterSummary]:
    """Every chapter by name, with coverage, organisers and member counts (admins only)."""
    console.require_admin(session=session, member=admin)
    chapters = list(session.exec(select(Chapter).order_by(col(Chapter.name), col(Chapter.id))))
    return _summaries(session, chapters)


def get_chapter(*, session: Session, admin: Member | None, chapter_id: int) -> ChapterSummary:
    """One chapter (admins only); NotFound for an unknown id."""
    console.require_admin(session=session, member=admin)
    return _summaries(session, [_chapter(session, chapter_id)])[0]


def create_chapter(*, session: Session, admin: Member | None, settings: ChapterSettings) -> Chapter:
    """A new chapter covering regions and/or organisations (admins only); audited."""
    admin = console.require_admin(session=session, member=admin)
    name = _check(session, settings, other_than=None)
    chapter = Chapter(
        name=name,
        key=_fold(name),
        kind=settings.kind,
        description=(settings.description or "").strip(),
    )
    session.add(chapter)
    session.flush()
    _set_coverage(session, chapter.id, settings)
    _record(
        session,
        admin,
        audit.actions.CHAPTER_CREATED,
        chapter,
        regions=len(set(settings.regions)),
        organisations=len(set(settings.organisation_ids)),
    )
    return chapter


def update_chapter(
    *, session: Session, admin: Member | None, chapter_id: int, settings: ChapterSettings
) -> Chapter:
    """Rename a chapter or change its kind, description and coverage (admins only); audited.

    Its members follow the coverage at once (membership is derived, never stored).
    """
    admin = console.require_admin(session=session, member=admin)
    chapter = _chapter(session, chapter_id)
    name = _check(session, settings, other_than=chapter.id)
    chapter.name, chapter.key = name, _fold(name)
    chapter.kind = settings.kind
    chapter.description = (settings.description or "").strip()
    session.add(chapter)
    session.flush()
    _set_coverage(session, chapter.id, settings)
    _record(
        session,
        admin,
        audit.actions.CHAPTER_UPDATED,
        chapter,
        regions=len(set(settings.regions)),
        organisations=len(set(settings.organisation_ids)),
    )
    session.refresh(chapter)
    return chapter


def delete_chapter(*, session: Session, admin: Member | None, chapter_id: int) -> None:
    """Delete a chapter no programme uses (admins only); its organisers' scopes go with it."""
    from backend.programmes.models import Programme

    admin = console.require_admin(session=session, member=admin)
    chapter = _chapter(session, chapter_id)
    used = session.exec(
        select(func.count()).select_from(Programme).where(Programme.chapter_id == chapter.id)
    ).one()
    if used:
        raise Conflict(
            f"{chapter.name} runs {used} programme{'s' if used != 1 else ''}: move "
            f"{'them' if used != 1 else 'it'} to another chapter or the network first.",
            field="chapter_id",
        )
    _record(session, admin, audit.actions.CHAPTER_DELETED, chapter)
    session.execute(delete(OrganiserScope).where(col(OrganiserScope.chapter_id) == chapter.id))
    session.execute(delete(ChapterRegion).where(col(ChapterRegion.chapter_id) == chapter.id))
    session.execute(
        delete(ChapterOrganisation).where(col(ChapterOrganisation.chapter_id) == chapter.id)
    )
    session.delete(chapter)
    session.flush()


def all_chapters(*, session: Session) -> list[Chapter]:
    """Every chapter by name (for choosing one; no permission needed to list names)."""
    return list(session.exec(select(Chapter).order_by(col(Chapter.name), col(Chapter.id))))


# Organiser scopes (admins grant and revoke) -------------------------------------------------


def organiser_scopes_of(*, session: Session, admin: Member | None, member_id: int) -> list[Chapter]:
    """The chapters ``member_id`` organises, by name (admins only)."""
    console.require_admin(session=session, member=admin)
    return _scopes(session, member_id)


def _scopes(session: Session, member_id: int) -> list[Chapter]:
    return list(
        session.exec(
            select(Chapter)
            .join(OrganiserScope, col(OrganiserScope.chapter_id) == col(Chapter.id))
            .where(OrganiserScope.member_id == member_id)
            .order_by(col(Chapter.name), col(Chapter.id))
        ).all()
    )


def change_scope(
    *,
    session: Session,
    admin: Member | None,
    current: UserSession | None,
    member_id: int,
    chapter_id: int,
    granted: bool,
    password: str = "",
) -> list[Chapter]:
    """An admin makes a member an organiser of a chapter, or stops it; the member's chapters
    after. Behind the same step-up as a role change (``member_service.change_role``): a fresh
    second factor in ``current``, or the password. Audited with who did it."""
    admin = console.require_admin(session=session, member=admin)
    target = session.get(Member, member_id) if 0 < member_id <= 2**31 - 1 else None
    if target is None or not target.is_active:
        raise NotFound("No member with that id.", field="member_id")
    chapter = _chapter(session, chapter_id)
    two_factor.require_step_up(session=session, member=admin, record=current, password=password)
    held = session.get(OrganiserScope, (member_id, chapter.id))
    if granted and held is None:
        session.add(
            OrganiserScope(member_id=member_id, chapter_id=chapter.id, granted_by_id=admin.id)
        )
        session.flush()
        _audit_scope(session, admin, audit.actions.SCOPE_GRANTED, member_id, chapter)
    elif not granted and held is not None:
        session.delete(held)
        session.flush()
        _audit_scope(session, admin, audit.actions.SCOPE_REVOKED, member_id, chapter)
    return _scopes(session, member_id)


def _audit_scope(session: Session, by: Member, action: str, member_id: int, chapter: Chapter):
    audit.record(
        session,
        actor=by,
        action=action,
        subject=audit.subject("member", member_id),
        details={"chapter": chapter.id},
    )
