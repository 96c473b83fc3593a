"""The matcher's hard rules for one pair of members in the database.

The rules themselves live once, in ``matching.rules``; this module only reads the two members
(and their line-management chains, in one query) in the shape the matcher expects.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Integer, Select, literal_column, select
from sqlmodel import Session, col

from backend.members.models import Member, MentoringOffer
from backend.organisations.models import Organisation
from matching import rules
from matching.rules import VIOLATION_BAND as VIOLATION_BAND
from matching.rules import VIOLATION_CHAIN as VIOLATION_CHAIN
from matching.rules import VIOLATION_NOT_FLAGGED as VIOLATION_NOT_FLAGGED
from matching.rules import VIOLATION_NOT_OFFERING as VIOLATION_NOT_OFFERING
from matching.rules import VIOLATION_NOT_SENIOR_LEADER as VIOLATION_NOT_SENIOR_LEADER
from matching.rules import VIOLATION_OWN_ORGANISATION as VIOLATION_OWN_ORGANISATION
from matching.rules import VIOLATION_SELF as VIOLATION_SELF
from matching.rules import about_the_mentee as about_the_mentee

CHAIN_DEPTH_LIMIT = 50


def chain_links(*, session: Session, member_ids: Collection[int]) -> dict[str, str | None]:
    """Line-manager links of the given members and everyone above them, in one query."""
    if not member_ids:
        return {}
    start: Select[int, int | None, int] = select(
        col(Member.id).label("id"),
        col(Member.line_manager_id).label("manager"),
        literal_column("1", Integer).label("depth"),
    ).where(col(Member.id).in_(list(member_ids)))
    chain = start.cte("chain", recursive=True)
    step = (
        select(
            col(Member.id),
            col(Member.line_manager_id),
            (chain.c.depth + 1).label("depth"),
        )
        .join(chain, col(Member.id) == chain.c.manager)
        .where(chain.c.depth < CHAIN_DEPTH_LIMIT)
    )
    chain = chain.union(step)  # UNION (not ALL): a cycle in bad data stops, not loops
    rows = session.execute(select(chain.c.id, chain.c.manager)).all()
    return {str(i): (str(m) if m is not None else None) for i, m in rows}


def _rows(session: Session, member_ids: Collection[int]) -> dict[int, dict[str, object]]:
    found = session.execute(
        select(
            col(Member.id),
            col(Member.band),
            col(Member.line_manager_id),
            col(Member.outside_organisation_only),
            col(Organisation.key),
            col(MentoringOffer.capacity),
        )
        .join(Organisation, col(Organisation.id) == col(Member.organisation_id))
        .outerjoin(MentoringOffer, col(MentoringOffer.member_id) == col(Member.id))
        .where(col(Member.id).in_(list(member_ids)))
    ).all()
    return {
        member_id: {
            "member_id": str(member_id),
            "organisation_key": org_key,
            "band": band,
            "line_manager_id": str(manager) if manager is not None else None,
            # The rule is "offers mentoring"; free places are the caller's separate check.
            "mentor_capacity": capacity or 0,
            "outside_organisation_only": bool(outside),
        }
        for member_id, band, manager, outside, org_key, capacity in found
    }


def band_rule_of(programme_type: str | None) -> str:
    """The matcher's band rule for a programme type: reciprocal mentoring has its own; one-to-one
    and group mentoring keep the mentor above the mentee."""
    return "reciprocal" if programme_type == "reciprocal" else "senior"


def pair_violation(
    *,
    session: Session,
    mentee_id: int,
    mentor_id: int,
    band_rule: str = "senior",
    programme_id: int | None = None,
) -> str | None:
    """The hard rule the pair breaks (``matching.rules.VIOLATION_*``), or None when allowed.

    ``band_rule`` is the programme type's (``band_rule_of``); the reciprocal rule reads the
    mentee's widening-access flag in ``programme_id`` (the flag only, never its reason).
    """
    rows = _rows(session, {mentee_id, mentor_id})
    if mentee_id not in rows or mentor_id not in rows:
        return "a member of this pair no longer exists"
    if band_rule == "reciprocal":
        from backend.privacy import widening

        flagged = widening.flags_for(
            session=session, member_ids={mentee_id}, programme_id=programme_id
        )
        rows[mentee_id]["priority_access"] = mentee_id in flagged
    return rules.pair_violation(
        rows[mentee_id],
        rows[mentor_id],
        managers=chain_links(session=session, member_ids={mentee_id, mentor_id}),
        band_rule=band_rule,
    )
