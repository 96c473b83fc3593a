"""Skills framework rules."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from backend.skills.models import Skill
from vocabulary import SKILL_GROUPS, SKILLS


def list_skills(*, session: Session) -> list[Skill]:
    """Every skill, in framework order: the built-in groups first, then organisers' additions."""
    skills = list(session.exec(select(Skill)).all())
    order = {skill_id: index for index, (skill_id, _, _) in enumerate(SKILLS)}
    return sorted(skills, key=lambda s: (order.get(s.id, len(order)), s.name.casefold()))


def skill_ids(*, session: Session) -> set[str]:
    """The ids of every skill in the framework."""
    return set(session.exec(select(Skill.id)).all())


def unknown_skills(*, session: Session, skills: Iterable[str]) -> str | None:
    """The problem with ``skills`` that are not in the framework ("Unknown skill: a, b.", up to
    five ids, each cut to 60 characters), or ``None`` when every one is known."""
    unknown = sorted(set(skills) - skill_ids(session=session))
    return f"Unknown skill: {', '.join(s[:60] for s in unknown[:5])}." if unknown else None


def grouped(*, session: Session) -> list[tuple[str, list[Skill]]]:
    """Skills grouped for checkboxes: (group name, skills) in framework order."""
    groups: dict[str, list[Skill]] = {group: [] for group in SKILL_GROUPS}
    for skill in list_skills(session=session):
        groups.setdefault(skill.group, []).append(skill)
    return [(group, skills) for group, skills in groups.items() if skills]
