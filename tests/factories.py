"""Small factories for tests: a member, an organiser, a mentor, in one call each."""

from __future__ import annotations

from itertools import count

from sqlmodel import Session

from backend.accounts import passwords
from backend.db import utcnow
from backend.members import service as member_service
from backend.members.models import Member, MemberSkill, MentoringOffer
from backend.organisations import service as organisation_service

PASSWORD = "correct horse battery staple"
_numbers = count(1)
_hash_cache: dict[str, str] = {}


def _hash(password: str) -> str:
    # Argon2 at OWASP strength takes tens of milliseconds; tests reuse one hash per password.
    if password not in _hash_cache:
        _hash_cache[password] = passwords.hash_password(password)
    return _hash_cache[password]


def make_member(
    session: Session,
    *,
    name: str | None = None,
    email: str | None = None,
    organisation: str = "Leeds Teaching Hospitals NHS Trust",
    region: str = "North East and Yorkshire",
    band: str = "5",
    role_family: str = "operational-management",
    profession: str = "non-clinical",
    verified: bool = True,
    password: str | None = PASSWORD,
    skills_sought: tuple[str, ...] = (),
    skills_offered: tuple[str, ...] = (),
    capacity: int | None = None,
    roles: tuple[str, ...] = (),
    **fields: object,
) -> Member:
    """Create and commit a member with sensible defaults."""
    number = next(_numbers)
    org = organisation_service.get_or_create(session=session, name=organisation, region=region)
    member = Member(
        email=(email or f"member{number}@example.nhs.uk").lower(),
        name=name or f"Test Member {number}",
        password_hash=_hash(password) if password else None,
        email_verified_at=utcnow() if verified else None,
        organisation_id=org.id,  # type: ignore[arg-type]
        region=region,
        band=band,
        role_family=role_family,
        profession=profession,
        **fields,  # type: ignore[arg-type]
    )
    session.add(member)
    session.flush()
    for skill_id in skills_sought:
        session.add(MemberSkill(member_id=member.id, skill_id=skill_id, kind="sought"))  # type: ignore[arg-type]
    for skill_id in skills_offered:
        session.add(MemberSkill(member_id=member.id, skill_id=skill_id, kind="offered"))  # type: ignore[arg-type]
    if capacity is not None:
        session.add(MentoringOffer(member_id=member.id, capacity=capacity))  # type: ignore[arg-type]
    for role in roles:
        member_service.grant_role(session=session, member_id=member.id, role=role)  # type: ignore[arg-type]
    session.commit()
    session.refresh(member)
    return member


def make_organiser(session: Session, **fields: object) -> Member:
    """A verified member with the organiser role."""
    return make_member(session, roles=("organiser",), **fields)  # type: ignore[arg-type]
