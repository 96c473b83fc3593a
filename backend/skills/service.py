"""Skills framework rules."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from backend.errors import Conflict, Invalid
from backend.skills.models import Skill
from vocabulary import SKILL_GROUPS, SKILLS

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ORGANISER_GROUP = "Added by organisers"


def list_skills(*, session: Session) -> list[Skill]:
    """Every skill, in framework order: the built-in groups first, then organisers' additions."""
    skills = list(session.exec(select(Skill)).all())
    order = {skill_id: index for index, (skill_id, _, _) in enumerate(SKILLS)}
    return sorted(skills, key=lambda s: (order.get(s.id, len(order)), s.name.casefold()))


def skill_ids(*, session: Session) -> set[str]:
    """The ids of every skill in the framework."""
    return set(session.exec(select(Skill.id)).all())


def grouped(*, session: Session) -> list[tuple[str, list[Skill]]]:
    """Skills grouped for checkboxes: (group name, skills) in framework order."""
    groups: dict[str, list[Skill]] = {group: [] for group in SKILL_GROUPS}
    for skill in list_skills(session=session):
        groups.setdefault(skill.group, []).append(skill)
    return [(group, skills) for group, skills in groups.items() if skills]


def validate_ids(*, session: Session, ids: list[str], field: str) -> list[str]:
    """Check that every id is a known skill; return them de-duplicated in the given order."""
    known = skill_ids(session=session)
    unknown = [skill_id for skill_id in ids if skill_id not in known]
    if unknown:
        raise Invalid(f"Unknown skill: {', '.join(sorted(set(unknown)))}.", field=field)
    return list(dict.fromkeys(ids))


def add_skill(*, session: Session, skill_id: str, name: str) -> Skill:
    """Add a skill to the framework (organisers); ids are stable lowercase slugs."""
    skill_id = skill_id.strip()
    name = " ".join(name.split())
    if not SLUG.match(skill_id) or not 2 <= len(skill_id) <= 60:
        raise Invalid(
            "Skill id must be 2 to 60 lowercase letters, digits and single hyphens, "
            "like 'clinical-coding'.",
            field="id",
        )
    if not name or len(name) > 120:
        raise Invalid("Skill name must be 1 to 120 characters.", field="name")
    if session.get(Skill, skill_id) is not None:
        raise Conflict(f"A skill with id '{skill_id}' already exists.", field="id")
    skill = Skill(id=skill_id, name=name, group=ORGANISER_GROUP, builtin=False)
    session.add(skill)
    session.flush()
    return skill
