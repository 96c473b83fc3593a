"""Skills framework rules."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from backend.skills.models import Skill
from vocabulary import SKILL_GROUPS, SKILLS


def list_skills(*, session: Session, retired: bool = True) -> list[Skill]:
    """Every skill, in framework order: the built-in groups first, then organisers' additions.

    With ``retired`` False, only the skills members can still choose (for choice lists).
    """
    statement = select(Skill)
    if not retired:
        statement = statement.where(col(Skill.retired_at).is_(None))
    skills = list(session.exec(statement).all())
    order = {skill_id: index for index, (skill_id, _, _) in enumerate(SKILLS)}
    return sorted(skills, key=lambda s: (order.get(s.id, len(order)), s.name.casefold()))


def skill_ids(*, session: Session) -> set[str]:
    """The ids of every skill in the framework."""
    return set(session.exec(select(Skill.id)).all())


def choosable_ids(*, session: Session) -> set[str]:
    """The ids of the skills a member may choose now: the framework's, retired ones left out."""
    return set(session.exec(select(Skill.id).where(col(Skill.retired_at).is_(None))).all())


def retired_names(*, session: Session) -> dict[str, str]:
    """Each retired skill's id and name (for messages naming what is no longer a choice)."""
    rows = session.exec(
        select(Skill.id, Skill.name).where(col(Skill.retired_at).is_not(None))
    ).all()
    return dict(rows)


def unknown_skills(
    *, session: Session, skills: Iterable[str], kept: Iterable[str] = ()
) -> str | None:
    """The problem with ``skills`` that are not in the framework ("Unknown skill: a, b.", up to
    five ids, each cut to 60 characters) or retired (unless in ``kept``: a retired skill the
    record already has may stay), or ``None`` when every one can be chosen."""
    wanted = set(skills)
    unknown = sorted(wanted - skill_ids(session=session))
    if unknown:
        return f"Unknown skill: {', '.join(s[:60] for s in unknown[:5])}."
    retired = session.exec(
        select(Skill.name)
        .where(col(Skill.id).in_(sorted(wanted - set(kept))))
        .where(col(Skill.retired_at).is_not(None))
        .order_by(col(Skill.name))
    ).all()
    if retired:
        return f"No longer in the skills framework: {', '.join(list(retired)[:5])}."
    return None


def grouped(*, session: Session, held: Iterable[str] = ()) -> list[tuple[str, list[Skill]]]:
    """Skills grouped for checkboxes: (group name, skills) in framework order.

    Retired skills are left out, except those in ``held`` (the record's own): they stay as
    boxes, so saving a form keeps them unless the member unticks them.
    """
    keep = set(held)
    groups: dict[str, list[Skill]] = {group: [] for group in SKILL_GROUPS}
    for skill in list_skills(session=session):
        if skill.retired_at is not None and skill.id not in keep:
            continue
        groups.setdefault(skill.group, []).append(skill)
    return [(group, skills) for group, skills in groups.items() if skills]
