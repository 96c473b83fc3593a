"""Widening access as self-service: a member's own claim, and the yes/no flag others see.

A member asks for widening-access priority with a reason category (first in family into
management, bands 2-4, from an under-represented group, ...) and explicit consent. The
category is theirs alone: organisers see only counts under disclosure control, and the
matcher and programme eligibility see only a flag (``flags_for``, ``is_widening_access``).
A programme chooses which categories count (``programme.widening_categories``; [] counts
every one); the organiser-set ``Member.priority_access`` counts everywhere.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import case, delete, exists, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from backend.db import utcnow
from backend.errors import FieldErrors, NotFound
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members.models import Member
from backend.privacy.models import WIDENING_WORDING_VERSION, WideningAccessClaim
from backend.programmes.models import Programme
from backend.rounds.models import MatchingRound
from backend.sqltypes import table_of
from vocabulary import WIDENING_CATEGORIES

# Above this many ids one scan beats a long IN list (and SQLite's variable cap).
_IN_LIST_LIMIT = 500

CATEGORY_LABELS: dict[str, str] = {
    "first-in-family-into-management": "First in my family to go into management",
    "bands-2-to-4": "I work at Agenda for Change band 2, 3 or 4",
    "under-represented-ethnic-group": "From an ethnic group under-represented in management",
    "disabled": "Disabled, or living with a long-term condition",
    "lgbtq-plus": "LGBTQ+",
    "career-break-or-caring": "Returning from a career break, or with caring responsibilities",
    "other-under-represented-group": "From another group under-represented in management",
}


def category_label(category: str) -> str:
    """A category as the member reads it."""
    return CATEGORY_LABELS.get(category, category)


def _member(member: Member | None) -> Member:
    return member_service.require_account(member)  # their own data rights, confirmed or not


def my_widening_access(*, session: Session, member: Member | None) -> WideningAccessClaim | None:
    """The member's own claim (nobody else's, ever), or None."""
    member = _member(member)
    return session.get(WideningAccessClaim, member.id)


def set_widening_access(
    *, session: Session, member: Member | None, category: str | None, consent: bool
) -> WideningAccessClaim:
    """Ask for (or change the reason of) widening-access priority; consent must be explicit.

    Consent to older wording is renewed with the current version and time.
    """
    member = _member(member)
    category = (category or "").strip()
    problems: dict[str, str] = {}
    if category not in WIDENING_CATEGORIES:
        problems["category"] = (
            "Choose the reason that fits you best."
            if not category
            else "Choose one of the reasons given."
        )
    if not consent:
        problems["consent"] = "Tick the box to agree before we can keep your reason."
    if problems:
        raise FieldErrors(problems)
    now = utcnow()
    # One statement, so a double submission (or two racing ones) leaves one row. Consent to
    # the same wording stands; consent to older wording is renewed with today's.
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(WideningAccessClaim).values(
        member_id=member.id,
        category=category,
        wording_version=WIDENING_WORDING_VERSION,
        consented_at=now,
        created_at=now,
        updated_at=now,
    )
    table = table_of(WideningAccessClaim)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["member_id"],
            set_={
                "category": statement.excluded.category,
                "updated_at": statement.excluded.updated_at,
                "wording_version": statement.excluded.wording_version,
                "consented_at": case(
                    (
                        table.c.wording_version == statement.excluded.wording_version,
                        table.c.consented_at,
                    ),
                    else_=statement.excluded.consented_at,
                ),
            },
        )
    )
    session.flush()
    claim = session.get(WideningAccessClaim, member.id, populate_existing=True)
    assert claim is not None  # just written
    network_changed(session=session)  # the matcher's flag may have moved
    return claim


def withdraw_widening_access(*, session: Session, member: Member | None) -> bool:
    """Delete the member's claim, category and consent; True if one was held."""
    member = _member(member)
    deleted = session.exec(
        delete(WideningAccessClaim).where(col(WideningAccessClaim.member_id) == member.id)
    ).rowcount
    session.flush()
    if deleted:
        network_changed(session=session)
    return bool(deleted)


# The flag --------------------------------------------------------------------------------


def counting_categories(programme: Programme | None) -> tuple[str, ...]:
    """The categories that count in ``programme`` (every one for None or an empty list)."""
    chosen = programme.widening_category_list if programme is not None else []
    return tuple(c for c in WIDENING_CATEGORIES if not chosen or c in chosen)


def _programme(session: Session, programme_id: int | None) -> Programme | None:
    if programme_id is None:
        return None
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("There is no programme with that id.")
    return programme


def flag_condition(categories: Sequence[str], member: Any = Member) -> Any:
    """SQL: ``member`` (the Member entity or an alias in the query) has priority where these
    categories count: organiser-set ``priority_access``, or a claim in one of them.

    The insights use it so that they count exactly what ``flags_for`` says; it never yields
    a category.
    """
    if not categories:
        return col(member.priority_access)
    claimed = exists().where(
        col(WideningAccessClaim.member_id) == col(member.id),
        col(WideningAccessClaim.category).in_(list(categories)),
    )
    return or_(col(member.priority_access), claimed)


def flags_for(
    *,
    session: Session,
    member_ids: Collection[int] | None,
    programme_id: int | None = None,
) -> set[int]:
    """The members (of ``member_ids``; None: of everyone) with widening-access priority in a
    programme: organiser-set ``priority_access`` or a claim whose category counts there.

    ``programme_id`` None is the open mentoring of the default programme: every category.
    """
    categories = counting_categories(_programme(session, programme_id))
    wanted = None if member_ids is None else set(member_ids)
    if wanted is not None and not wanted:
        return set()
    organiser_set = sa_select(col(Member.id)).where(col(Member.priority_access))
    claimed = sa_select(col(WideningAccessClaim.member_id)).where(
        col(WideningAccessClaim.category).in_(list(categories))
    )
    if wanted is not None and len(wanted) <= _IN_LIST_LIMIT:
        organiser_set = organiser_set.where(col(Member.id).in_(wanted))
        claimed = claimed.where(col(WideningAccessClaim.member_id).in_(wanted))
    found = set(session.execute(organiser_set).scalars())
    if categories:
        found |= set(session.execute(claimed).scalars())
    return found if wanted is None else found & wanted


def is_widening_access(session: Session, member: Member, programme: Programme | None) -> bool:
    """Whether ``member`` has widening-access priority in ``programme`` (None: the default).

    For programme eligibility (``widening_access_only`` admits only these members); the
    answer is a flag, never the member's reason.
    """
    if member.priority_access:
        return True
    claim = session.get(WideningAccessClaim, member.id)
    return claim is not None and claim.category in counting_categories(programme)


def round_programme(*, session: Session, round_id: int) -> Programme | None:
    """The programme a matching round runs in (None if the round is gone)."""
    matching_round = session.get(MatchingRound, round_id)
    return None if matching_round is None else session.get(Programme, matching_round.programme_id)
