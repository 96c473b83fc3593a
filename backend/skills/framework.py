"""Admins keep the skills framework: add a skill, rename one, retire one. A retired skill stays
on the records that name it (profiles, requests, posts) but leaves the choices and the
suggestions (``backend.skills.service``, ``backend.matchmaking.frames``). Each change is
audited with the skill's id."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import Session, col, select

from backend import audit
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.matchmaking.version import network_changed
from backend.members import console
from backend.members import validation as v
from backend.members.models import Member
from backend.skills.models import Skill
from vocabulary import SKILL_GROUPS

MAX_NAME = 120
MAX_ID = 40  # an audit detail code holds at most 40 characters


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:MAX_ID].strip("-")


def _name(session: Session, name: str, *, other_than: str | None = None) -> str:
    name = " ".join((name or "").split())
    problem = v.line_problem(name, label="skill name", maximum=MAX_NAME, required=True)
    if problem:
        raise Invalid(problem, field="name")
    if len(_slug(name)) < 2:
        raise Invalid("A skill name needs at least two letters or digits.", field="name")
    same = session.exec(
        select(Skill.id).where(func.lower(col(Skill.name)) == name.casefold())
    ).first()
    if same is not None and same != other_than:
        raise Conflict("A skill with that name is already in the framework.")
    return name


def _skill(session: Session, skill_id: str) -> Skill:
    skill = session.get(Skill, skill_id) if 0 < len(skill_id) <= 60 else None
    if skill is None:
        raise NotFound("No skill with that id.", field="skill_id")
    return skill


def _record(session: Session, admin: Member, action: str, skill: Skill) -> None:
    audit.record(session, actor=admin, action=action, details={"skill": skill.id})


def add_skill(*, session: Session, admin: Member | None, name: str, group: str) -> Skill:
    """Add a skill to one of the framework's groups; its id is made from the name."""
    admin = console.require_admin(session=session, member=admin)
    if group not in SKILL_GROUPS:
        raise Invalid("Choose one of the framework's groups.", field="group")
    name = _name(session, name)
    skill_id = _slug(name)
    if session.get(Skill, skill_id) is not None:
        raise Conflict("A skill with that name is already in the framework.")
    skill = Skill(id=skill_id, name=name, group=group, builtin=False)
    session.add(skill)
    session.flush()
    _record(session, admin, audit.actions.SKILL_ADDED, skill)
    return skill


def rename_skill(*, session: Session, admin: Member | None, skill_id: str, name: str) -> Skill:
    """Give a skill a new name (its id, and so every record naming it, stays)."""
    admin = console.require_admin(session=session, member=admin)
    skill = _skill(session, skill_id)
    skill.name = _name(session, name, other_than=skill.id)
    session.add(skill)
    session.flush()
    _record(session, admin, audit.actions.SKILL_RENAMED, skill)
    return skill


def retire_skill(*, session: Session, admin: Member | None, skill_id: str) -> Skill:
    """Retire a skill: kept where it is named, no longer chosen anew nor used to suggest."""
    admin = console.require_admin(session=session, member=admin)
    skill = _skill(session, skill_id)
    if skill.retired_at is not None:
        raise Conflict("This skill is already retired.")
    skill.retired_at = utcnow()
    session.add(skill)
    network_changed(session=session)  # suggestions are scored without it from now on
    session.flush()
    _record(session, admin, audit.actions.SKILL_RETIRED, skill)
    return skill
