"""Member profiles, roles and mentoring offers: every rule about them lives here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, exists, or_
from sqlmodel import Session, col, select

from backend import audit
from backend.accounts import two_factor
from backend.accounts.models import AccessToken, UserSession
from backend.db import utcnow
from backend.errors import (
    Conflict,
    FieldErrors,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    NotVerified,
)
from backend.matchmaking.version import network_changed
from backend.members import validation as v
from backend.members.models import ROLES, Member, MemberRole, MemberSkill, MentoringOffer
from backend.organisations import service as organisation_service
from backend.skills import service as skill_service
from backend.skills.models import Skill


@dataclass
class ProfileUpdate:
    """Fields a member may change on their profile; None leaves a field as it is."""

    name: str | None = None
    job_title: str | None = None
    organisation: str | None = None
    region: str | None = None
    role_family: str | None = None
    band: str | None = None
    profession: str | None = None
    management_years: int | None = None
    bio: str | None = None
    goals: str | None = None
    skills_sought: list[str] | None = None
    meeting_format: str | None = None
    seeking_mentor: bool | None = None
    outside_organisation_only: bool | None = None
    contact_visibility: str | None = None


CAPACITY_WHOLE = "Capacity must be a whole number from 0 to 10."
CAPACITY_EMPTY = "Enter how many mentees you can take, from 0 to 10."


@dataclass
class OfferUpdate:
    """A member's mentoring offer (a command: the edge types it from the form or input)."""

    capacity: int
    paused: bool = False
    skills_offered: list[str] = field(default_factory=list)
    meeting_format: str | None = None
    note: str = ""


VERIFY_FIRST = (
    "Confirm your email address first: follow the link in the email we sent you, or ask for "
    "a new link."
)


def require_account(member: Member | None) -> Member:
    """The signed-in member, confirmed or not, or NotAuthenticated.

    Only for what an unconfirmed account may do: see and edit their own profile and offer,
    manage their own account (password, sessions, tokens they hold, the confirmation email)
    and exercise their data rights (diversity answers, download, erasure). Everything else
    calls ``require_member``.
    """
    if member is None:
        raise NotAuthenticated("Log in to do this.")
    return member


def require_verified(member: Member | None) -> Member:
    """The signed-in member once their email address is confirmed; NotVerified before that,
    NotAuthenticated when nobody is signed in. The one rule for unconfirmed accounts."""
    member = require_account(member)
    if not member.is_verified:
        raise NotVerified(VERIFY_FIRST)
    return member


def require_member(member: Member | None) -> Member:
    """A signed-in member with a confirmed email address (``require_verified``): what every
    service asks of its caller, unless it is one of ``require_account``'s few exceptions."""
    return require_verified(member)


def get(*, session: Session, member_id: int, viewer: Member | None) -> Member:
    """A member's profile, as ``viewer`` may see it (signed-in members only; anyone else's
    only once the viewer's email address is confirmed)."""
    viewer = require_account(viewer)
    if viewer.id != member_id:
        require_verified(viewer)
    member = session.get(Member, member_id)
    if member is None or not member.is_active:
        raise NotFound("No member with that id.")
    return member


def get_many(*, session: Session, member_ids: Sequence[int]) -> dict[int, Member]:
    """Members by id, in one query (for DataLoaders)."""
    if not member_ids:
        return {}
    rows = session.exec(select(Member).where(col(Member.id).in_(member_ids))).all()
    return {row.id: row for row in rows if row.id is not None}


def can_see_contact(*, member: Member, viewer: Member | None) -> bool:
    """Whether ``viewer`` may see ``member``'s email and organisation."""
    if viewer is None:
        return False
    if viewer.id == member.id:
        return True
    return member.contact_visibility == "members"


def contact_visible_to(viewer: Member) -> ColumnElement[bool]:
    """``can_see_contact`` as SQL over ``member`` rows: what a search of contact fields
    (organisation name and type) must carry, so no viewer matches what they cannot see."""
    return or_(col(Member.contact_visibility) == "members", col(Member.id) == viewer.id)


def can_see_account(*, member: Member, viewer: Member | None) -> bool:
    """Whether ``viewer`` may see ``member``'s account settings and tokens (only their own)."""
    return viewer is not None and viewer.id is not None and viewer.id == member.id


def with_accounts(*, session: Session, member_ids: Sequence[int]) -> set[int]:
    """Which of ``member_ids`` have an account: any way to sign in, now or before.

    A password, a confirmed email address, a session (signed in at least once) or a personal
    access token. Members imported and never signed in have none of these.
    """
    if not member_ids:
        return set()
    ids = list(member_ids)
    found = set(
        session.exec(
            select(Member.id).where(
                col(Member.id).in_(ids),
                or_(
                    col(Member.password_hash).is_not(None),
                    col(Member.email_verified_at).is_not(None),
                    exists().where(col(UserSession.member_id) == col(Member.id)),
                    exists().where(col(AccessToken.member_id) == col(Member.id)),
                ),
            )
        ).all()
    )
    return {member_id for member_id in found if member_id is not None}


def roles_of(*, session: Session, member_id: int) -> list[str]:
    """The member's roles: always 'member', plus organiser or admin where granted."""
    extra = session.exec(select(MemberRole.role).where(MemberRole.member_id == member_id)).all()
    return ["member", *sorted(extra)]


def roles_for(*, session: Session, member_ids: Sequence[int]) -> dict[int, list[str]]:
    """Roles for many members in one query."""
    result: dict[int, list[str]] = {member_id: ["member"] for member_id in member_ids}
    if member_ids:
        rows = session.exec(
            select(MemberRole).where(col(MemberRole.member_id).in_(member_ids))
        ).all()
        for row in sorted(rows, key=lambda r: r.role):
            result[row.member_id].append(row.role)
    return result


def _holds(*, session: Session, member: Member | None, role: str) -> bool:
    if member is None or member.id is None:
        return False
    roles = roles_of(session=session, member_id=member.id)
    return role in roles or (role == "organiser" and "admin" in roles)


def has_role(*, session: Session, member: Member | None, role: str) -> bool:
    """True when ``member`` holds ``role`` (admins hold every organiser power too).

    Where organisers and admins must have a second factor, the role's powers wait for one.
    """
    if not _holds(session=session, member=member, role=role):
        return False
    assert member is not None
    try:
        two_factor.require_for_staff(session=session, member=member)
    except two_factor.SecondFactorRequired:
        return False
    return True


def require_organiser(*, session: Session, member: Member | None) -> Member:
    """The member, if an organiser or admin; otherwise Forbidden (SecondFactorRequired for one
    without a second factor where the policy requires it)."""
    member = require_member(member)
    if not _holds(session=session, member=member, role="organiser"):
        raise Forbidden("Only network organisers can do this.")
    two_factor.require_for_staff(session=session, member=member)
    return member


def change_role(
    *,
    session: Session,
    admin: Member | None,
    current: UserSession | None,
    member_id: int,
    role: str,
    granted: bool,
    password: str = "",
) -> list[str]:
    """An admin gives or takes away a role (organiser or admin); the member's roles after.

    A step-up first: an admin with a second factor must have proved it in ``current`` (their
    session) within ``PEERBRIDGE_STEP_UP_MINUTES``; one without gives the password again.
    """
    admin = require_member(admin)
    if not _holds(session=session, member=admin, role="admin"):
        raise Forbidden("Only admins can change roles.")
    two_factor.require_for_staff(session=session, member=admin)
    if role not in ROLES:
        raise Invalid(f"'{role}' is not a role; use organiser or admin.", field="role")
    target = session.get(Member, member_id)
    if target is None or not target.is_active:
        raise NotFound("No member with that id.", field="member_id")
    if target.id == admin.id and role == "admin" and not granted:
        raise Conflict("You cannot take away your own admin role; ask another admin.")
    two_factor.require_step_up(session=session, member=admin, record=current, password=password)
    if granted:
        grant_role(session=session, member_id=member_id, role=role, by=admin)
    else:
        revoke_role(session=session, member_id=member_id, role=role, by=admin)
    return roles_of(session=session, member_id=member_id)


def grant_role(*, session: Session, member_id: int, role: str, by: Member | None = None) -> None:
    """Give a member an extra role (idempotent); a change is audited (``by`` None: the
    command line or the system)."""
    if session.get(MemberRole, (member_id, role)) is None:
        session.add(MemberRole(member_id=member_id, role=role))
        session.flush()
        _audit_role(session, audit.actions.ROLE_GRANTED, member_id=member_id, role=role, by=by)


def revoke_role(*, session: Session, member_id: int, role: str, by: Member | None = None) -> bool:
    """Take an extra role away (False when the member did not hold it); audited like a grant."""
    held = session.get(MemberRole, (member_id, role))
    if held is None:
        return False
    session.delete(held)
    session.flush()
    _audit_role(session, audit.actions.ROLE_REVOKED, member_id=member_id, role=role, by=by)
    return True


def _audit_role(session: Session, action: str, *, member_id: int, role: str, by: Member | None):
    audit.record(
        session,
        actor=by,
        action=action,
        subject=audit.subject("member", member_id),
        details={"role": role},
    )


def skills_of(*, session: Session, member_id: int) -> dict[str, list[str]]:
    """The member's skills: {'sought': [...], 'offered': [...]}."""
    return skills_for(session=session, member_ids=[member_id])[member_id]


def skills_for(*, session: Session, member_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """Skills for many members in one query."""
    result: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"sought": [], "offered": []})
    for member_id in member_ids:
        result[member_id] = {"sought": [], "offered": []}
    if member_ids:
        rows = session.exec(
            select(MemberSkill).where(col(MemberSkill.member_id).in_(member_ids))
        ).all()
        for row in sorted(rows, key=lambda r: r.skill_id):
            result[row.member_id][row.kind].append(row.skill_id)
    return dict(result)


def _replace_skills(*, session: Session, member_id: int, kind: str, ids: Iterable[str]) -> None:
    session.execute(
        delete(MemberSkill).where(
            col(MemberSkill.member_id) == member_id, col(MemberSkill.kind) == kind
        )
    )
    for skill_id in ids:
        session.add(MemberSkill(member_id=member_id, skill_id=skill_id, kind=kind))


def offer_of(*, session: Session, member_id: int) -> MentoringOffer:
    """The member's mentoring offer (capacity 0 when they have never set one)."""
    offer = session.get(MentoringOffer, member_id)
    return offer or MentoringOffer(member_id=member_id, capacity=0, paused=False)


def offers_for(*, session: Session, member_ids: Sequence[int]) -> dict[int, MentoringOffer]:
    """Mentoring offers for many members in one query."""
    rows = session.exec(
        select(MentoringOffer).where(col(MentoringOffer.member_id).in_(member_ids))
    ).all()
    found = {row.member_id: row for row in rows}
    return {
        member_id: found.get(member_id) or MentoringOffer(member_id=member_id, capacity=0)
        for member_id in member_ids
    }


def profile_problems(
    update: ProfileUpdate, *, session: Session, kept: Sequence[str] = ()
) -> dict[str, str]:
    """What is wrong with ``update``, by field (nothing is written); ``kept``: the skills
    sought the member already has (a retired one among them may stay)."""
    problems: dict[str, str] = {}
    checks = {
        "name": lambda x: v.line_problem(x, label="full name", maximum=v.MAX_NAME, required=True),
        "job_title": lambda x: v.line_problem(
            x, label="job title", maximum=v.MAX_JOB_TITLE, required=False
        ),
        "organisation": lambda x: v.line_problem(
            x, label="organisation", maximum=v.MAX_ORGANISATION, required=True
        ),
        "region": v.region_problem,
        "role_family": v.role_family_problem,
        "band": v.band_problem,
        "profession": v.profession_problem,
        "management_years": v.management_years_problem,
        "bio": lambda x: v.text_problem(x, label="bio", maximum=v.MAX_BIO, required=False),
        "goals": v.goals_problem,
        "meeting_format": v.meeting_format_problem,
        "contact_visibility": lambda x: v.choice_problem(
            x, label="contact visibility", allowed=("members", "nobody")
        ),
    }
    for name, check in checks.items():
        value = getattr(update, name)
        if value is not None:
            problem = check(value)
            if problem:
                problems[name] = problem
    if update.skills_sought is not None:
        unknown = skill_service.unknown_skills(
            session=session, skills=update.skills_sought, kept=kept
        )
        if unknown:
            problems["skills_sought"] = unknown
        elif len(set(update.skills_sought)) > 10:
            problems["skills_sought"] = "Choose at most 10 skills you want to develop."
    return problems


def update_profile(*, session: Session, member: Member | None, update: ProfileUpdate) -> Member:
    """Change the signed-in member's own profile; every problem is reported at once."""
    member = require_account(member)  # an unconfirmed account may edit its own profile
    problems = profile_problems(
        update, session=session, kept=skills_of(session=session, member_id=member.id)["sought"]
    )
    if problems:
        raise FieldErrors(problems)
    for name in (
        "name",
        "job_title",
        "region",
        "role_family",
        "band",
        "profession",
        "management_years",
        "bio",
        "goals",
        "meeting_format",
        "seeking_mentor",
        "outside_organisation_only",
        "contact_visibility",
    ):
        value = getattr(update, name)
        if value is not None:
            setattr(member, name, value.strip() if name in ("name", "job_title") else value)
    if update.organisation is not None:
        organisation = organisation_service.get_or_create(
            session=session, name=update.organisation, region=member.region
        )
        member.organisation_id = organisation.id
    if update.skills_sought is not None:
        _replace_skills(
            session=session,
            member_id=member.id,
            kind="sought",
            ids=dict.fromkeys(update.skills_sought),
        )
    member.updated_at = utcnow()
    session.add(member)
    network_changed(session=session)  # the matcher's view of the network moved
    session.flush()
    session.refresh(member)
    return member


def set_mentoring_offer(
    *, session: Session, member: Member | None, offer: OfferUpdate
) -> MentoringOffer:
    """Set how many mentees the signed-in member will take, which skills, and whether paused."""
    member = require_account(member)  # part of their own profile
    problems: dict[str, str] = {}
    if not 0 <= offer.capacity <= 10:
        problems["capacity"] = "Capacity must be from 0 (not mentoring) to 10 mentees at once."
    unknown = skill_service.unknown_skills(
        session=session,
        skills=offer.skills_offered,
        kept=skills_of(session=session, member_id=member.id)["offered"],
    )
    if unknown:
        problems["skills_offered"] = unknown
    elif offer.capacity and not offer.skills_offered:
        problems["skills_offered"] = "Choose at least one skill you can help mentees with."
    if offer.meeting_format is not None:
        problem = v.meeting_format_problem(offer.meeting_format)
        if problem:
            problems["meeting_format"] = problem
    note_problem = v.text_problem(offer.note, label="note", maximum=500, required=False)
    if note_problem:
        problems["note"] = note_problem
    if problems:
        raise FieldErrors(problems)
    record = session.get(MentoringOffer, member.id)
    if record is None:
        record = MentoringOffer(member_id=member.id)
    if offer.capacity < record.active_mentees:
        raise FieldErrors(
            {
                "capacity": f"You mentor {record.active_mentees} people now, so capacity cannot be "
                f"below {record.active_mentees}. Pause instead to stop new requests."
            }
        )
    record.capacity = offer.capacity
    record.paused = offer.paused
    record.note = offer.note.strip()
    record.updated_at = utcnow()
    session.add(record)
    _replace_skills(
        session=session,
        member_id=member.id,
        kind="offered",
        ids=dict.fromkeys(offer.skills_offered),
    )
    if offer.meeting_format is not None:
        member.meeting_format = offer.meeting_format
        session.add(member)
    from backend.mentoring import lifecycle

    session.flush()
    if offer.paused or offer.capacity == 0:
        from backend.mentoring import service as mentoring_service

        mentoring_service.release_open_requests(session=session, mentor=member)
    # Open round offers the places no longer cover (paused, or capacity lowered) close too.
    lifecycle.withdraw_uncovered_offers(session=session, mentor=member)
    network_changed(session=session)  # the matcher's view of the network moved
    session.flush()
    session.refresh(record)
    return record


# Profile pages --------------------------------------------------------------------------------

MAX_ID = 2**31 - 1  # ids beyond a PostgreSQL integer cannot exist; never send them to the database


@dataclass
class ProfileView:
    """A member's profile as one viewer may see it: contact details only where allowed."""

    member: Member
    organisation: str | None
    email: str | None
    skills_sought: list[Skill]
    skills_offered: list[Skill]
    offer: MentoringOffer
    is_own: bool


def profile_view(*, session: Session, member_id: int, viewer: Member | None) -> ProfileView:
    """What ``viewer`` may see of a member's profile (signed-in members only; see ``get``)."""
    viewer = require_account(viewer)
    if not 0 < member_id <= MAX_ID:
        raise NotFound("No member with that id.")
    member = get(session=session, member_id=member_id, viewer=viewer)
    contact = can_see_contact(member=member, viewer=viewer)
    names = {skill.id: skill for skill in skill_service.list_skills(session=session)}
    skills = skills_of(session=session, member_id=member_id)
    organisation = (
        organisation_service.get(session=session, organisation_id=member.organisation_id).name
        if contact
        else None
    )
    return ProfileView(
        member=member,
        organisation=organisation,
        email=member.email if contact else None,
        skills_sought=[names[s] for s in skills["sought"] if s in names],
        skills_offered=[names[s] for s in skills["offered"] if s in names],
        offer=offer_of(session=session, member_id=member_id),
        is_own=viewer.id == member.id,
    )
