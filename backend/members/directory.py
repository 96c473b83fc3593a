"""The member directory: signed-in members search profiles by text and filters.

One SELECT per page: every filter is a condition on ``member`` (joined to its organisation
and mentoring offer), skills are EXISTS subqueries, and the order (name, id) is total, so
offset pages never skip or repeat a member.

Text is found with the full-text index of each database (PostgreSQL: the GIN index of
``member_fts_document``, one ``tsvector`` per member, migrations 0010 and 0014; SQLite: the
FTS5 table ``member_fts``, migrations 0005 and 0014; both kept in step by triggers): every word
of the search must begin a word in the name, job title, organisation or bio. The index narrows
the rows quickly; an escaped, case-insensitive LIKE on the same columns then keeps the exact
meaning of each term (so "50_50" or "100%" match only themselves). Terms with no letters or
digits (say "%") are matched by the LIKE alone.

Visibility: a viewer can match only what they may see. Name, job title, bio, region, band,
role family, profession, meeting format, skills and mentoring offer are visible to every
signed-in member; the organisation (its name and its type) only where
``member_service.can_see_contact`` allows. So a hidden organisation's words sit apart in the
documents (PostgreSQL: weight B, the rest weight A; SQLite: column ``hidden_organisation``)
and are matched only in the viewer's own row, and the organisation filters and LIKE carry
``member_service.contact_visible_to``. ``FILTER_VISIBILITY`` says which each filter needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Integer,
    TextClause,
    and_,
    bindparam,
    column,
    exists,
    or_,
    text,
)
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import Session, col, select

from backend.db import is_sqlite
from backend.errors import FieldErrors
from backend.members import service as member_service
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.organisations.models import ORGANISATION_TYPES, Organisation
from vocabulary import BANDS, MEETING_FORMATS, REGIONS, ROLE_FAMILIES

MAX_LIMIT = 100
MAX_OFFSET = 10_000  # deeper than anyone pages; refuse rather than scan the whole table
MAX_TEXT = 200
MAX_TERMS = 8
MAX_SKILL_ID = 60
ESCAPE = "\\"
WORD = re.compile(r"[^\W_]+")
PLAIN_WORD = re.compile(r"[A-Za-z0-9]+")
MAX_WORDS = 16
# The FTS5 columns every signed-in member may match (not hidden_organisation; migration 0014).
SQLITE_SHARED_COLUMNS = "name job_title organisation bio"


# What each filter (and the text) can match, and so whose visibility choice it must honour:
# "public" fields every signed-in member sees; "contact" ones only where can_see_contact allows.
FILTER_VISIBILITY: dict[str, str] = {
    "text": "contact",  # name, job title and bio are public; the organisation's name is contact
    "skill_offered": "public",
    "skill_sought": "public",
    "region": "public",
    "band": "public",
    "role_family": "public",
    "organisation_type": "contact",
    "meeting_format": "public",
    "mentors_with_free_capacity": "public",
    "exclude_self": "public",
}


@dataclass(frozen=True)
class DirectoryFilter:
    """What to search the directory for; empty fields do not filter."""

    text: str = ""
    skill_offered: str | None = None
    skill_sought: str | None = None
    region: str | None = None
    band: str | None = None
    role_family: str | None = None
    organisation_type: str | None = None
    meeting_format: str | None = None
    mentors_with_free_capacity: bool = False
    exclude_self: bool = False


def escape_like(term: str) -> str:
    """``term`` with LIKE wildcards escaped, so '%' and '_' match themselves."""
    return term.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def _problems(search: DirectoryFilter, *, offset: int, limit: int) -> dict[str, str]:
    problems: dict[str, str] = {}
    choices = {
        "region": (search.region, REGIONS),
        "band": (search.band, BANDS),
        "role_family": (search.role_family, ROLE_FAMILIES),
        "organisation_type": (search.organisation_type, ORGANISATION_TYPES),
        "meeting_format": (search.meeting_format, MEETING_FORMATS),
    }
    for name, (value, allowed) in choices.items():
        if value is not None and value not in allowed:
            problems[name] = f"'{str(value)[:60]}' is not a known {name.replace('_', ' ')}."
    if len(search.text or "") > MAX_TEXT:
        problems["text"] = f"Search text must be {MAX_TEXT} characters or fewer."
    for name in ("skill_offered", "skill_sought"):
        value = getattr(search, name)
        if value is not None and len(value) > MAX_SKILL_ID:
            problems[name] = "That is not a skill id."
    if not 1 <= limit <= MAX_LIMIT:
        problems["limit"] = f"Page size must be from 1 to {MAX_LIMIT}."
    if not 0 <= offset <= MAX_OFFSET:
        problems["offset"] = f"Narrow the search: pages stop after {MAX_OFFSET:,} members."
    return problems


def _words(text: str) -> list[str]:
    """The words of a search, lower-cased, as the full-text indexes split them."""
    return [word.lower() for word in WORD.findall(text)][:MAX_WORDS]


def _like_condition(terms: list[str], *, viewer: Member) -> ColumnElement[bool]:
    public = (col(Member.name), col(Member.job_title), col(Member.bio))
    visible = member_service.contact_visible_to(viewer)

    def like(column: Mapped[str], term: str) -> ColumnElement[bool]:
        return column.ilike(f"%{escape_like(term)}%", escape=ESCAPE)

    return and_(
        *(
            or_(
                *(like(column, term) for column in public),
                and_(visible, like(col(Organisation.name), term)),
            )
            for term in terms
        )
    )


SQLITE_MATCH = "SELECT rowid FROM member_fts WHERE member_fts MATCH :fts_query"
SQLITE_MATCH_OWN = (
    f"{SQLITE_MATCH} UNION ALL "  # noqa: S608 (constants only; values are bound)
    "SELECT rowid FROM member_fts WHERE member_fts MATCH :fts_own AND rowid = :fts_own_id"
)
PG_MATCH = (
    "SELECT member_fts_document.member_id FROM member_fts_document "
    "WHERE member_fts_document.document @@ to_tsquery('simple'::regconfig, :fts_query)"
)
PG_MATCH_OWN = (
    f"{PG_MATCH} UNION ALL SELECT member_fts_document.member_id FROM member_fts_document "  # noqa: S608
    "WHERE member_fts_document.member_id = :fts_own_id "
    "AND member_fts_document.document @@ to_tsquery('simple'::regconfig, :fts_own)"
)


def _full_text_condition(
    words: list[str], *, sqlite: bool, own_id: int | None
) -> ColumnElement[bool] | TextClause:
    """Every word begins a word the viewer may see in the member's document (index-backed).

    ``own_id``: the viewer's id when their own organisation is hidden from others, so their
    own row alone is also matched on it (they can see it).
    """
    params: list[BindParameter[str | int]]
    if sqlite:
        every = " AND ".join(f'"{word}"*' for word in words)
        params = [bindparam("fts_query", f"{{{SQLITE_SHARED_COLUMNS}}} : ({every})")]
        if own_id is not None:
            params += [bindparam("fts_own", every), bindparam("fts_own_id", own_id)]
        matches = text(SQLITE_MATCH if own_id is None else SQLITE_MATCH_OWN).bindparams(*params)
        return col(Member.id).in_(matches.columns(column("rowid", Integer)))
    # One match on one GIN index: each member's document (name, job title, organisation name,
    # bio) is a row of member_fts_document, kept by triggers (migrations 0010, 0014), as FTS5
    # keeps member_fts; what every member may see has weight A, a hidden organisation B.
    # ANY(ARRAY(...)) is computed once and then read through the primary key (as
    # member.id IN (...), the planner may scan every member for a hash join).
    params = [bindparam("fts_query", " & ".join(f"{word}:*A" for word in words))]
    if own_id is not None:
        every = " & ".join(f"{word}:*" for word in words)
        params += [bindparam("fts_own", every), bindparam("fts_own_id", own_id)]
    match = PG_MATCH if own_id is None else PG_MATCH_OWN
    return text(f"member.id = ANY(ARRAY({match}))").bindparams(*params)


def _text_condition(
    text_: str, *, viewer: Member, sqlite: bool = False
) -> ColumnElement[bool] | TextClause | None:
    """Every word must appear in the name, job title, organisation name (if visible) or bio."""
    terms = text_.split()[:MAX_TERMS]
    if not terms:
        return None
    words = _words(" ".join(terms))
    if not words:
        return _like_condition(terms, viewer=viewer)
    own_id = viewer.id if viewer.contact_visibility != "members" else None
    if not sqlite:
        # On PostgreSQL ('simple': lower-cased, no accent folding) a plain ASCII word matching
        # a word start is also a substring, so the LIKE adds nothing for it; and over every
        # member (bio included) it costs more than the whole index search.
        terms = [term for term in terms if not PLAIN_WORD.fullmatch(term)]
        if not terms:
            return _full_text_condition(words, sqlite=sqlite, own_id=own_id)
    return and_(
        _full_text_condition(words, sqlite=sqlite, own_id=own_id),
        _like_condition(terms, viewer=viewer),
    )


def _has_skill(skill_id: str, kind: str) -> ColumnElement[bool]:
    return exists().where(
        col(MemberSkill.member_id) == col(Member.id),
        col(MemberSkill.skill_id) == skill_id,
        col(MemberSkill.kind) == kind,
    )


def search(
    *,
    session: Session,
    viewer: Member | None,
    filter: DirectoryFilter,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Member], bool]:
    """A page of active members matching ``filter`` by (name, id), and whether more follow."""
    viewer = member_service.require_member(viewer)
    problems = _problems(filter, offset=offset, limit=limit)
    if problems:
        raise FieldErrors(problems)
    statement = (
        select(Member)
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        .where(Member.is_active)
    )
    condition = _text_condition(filter.text or "", viewer=viewer, sqlite=is_sqlite(session))
    if condition is not None:
        statement = statement.where(condition)
    if filter.skill_offered:
        statement = statement.where(_has_skill(filter.skill_offered, "offered"))
    if filter.skill_sought:
        statement = statement.where(_has_skill(filter.skill_sought, "sought"))
    if filter.region is not None:
        statement = statement.where(Member.region == filter.region)
    if filter.band is not None:
        statement = statement.where(Member.band == filter.band)
    if filter.role_family is not None:
        statement = statement.where(Member.role_family == filter.role_family)
    if filter.organisation_type is not None:
        statement = statement.where(
            Organisation.type == filter.organisation_type,
            member_service.contact_visible_to(viewer),
        )
    if filter.meeting_format is not None:
        # A member happy to meet either way suits someone asking for remote or in person.
        statement = statement.where(
            col(Member.meeting_format).in_({filter.meeting_format, "either"})
        )
    if filter.mentors_with_free_capacity:
        statement = statement.join(
            MentoringOffer,
            col(MentoringOffer.member_id) == col(Member.id),
        ).where(
            MentoringOffer.capacity > MentoringOffer.active_mentees,
            col(MentoringOffer.paused).is_(False),
        )
    if filter.exclude_self:
        statement = statement.where(Member.id != viewer.id)
    rows = session.exec(
        statement.order_by(col(Member.name), col(Member.id)).offset(offset).limit(limit + 1)
    ).all()
    return list(rows[:limit]), len(rows) > limit
