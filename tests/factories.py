"""Factories for tests: one ``make_*`` per table, each callable with just a session.

Every factory writes a valid row (the database's own checks hold), fills what it needs that
was not given (``make_proposal(session)`` makes a round, its organiser, a mentee and a
mentor), commits, and returns the row. Most write rows directly, past the services (secrets
come from the accounts service, which owns their format), but keep the counters the services
keep: an open request takes one of the mentee's three slots, an active mentorship one of the
mentor's places, and a change the matcher sees moves the network version. Use a service
instead when the service's own rules are what is tested.

``FACTORIES`` names the factory for each table; tests/test_factories.py checks that every
table has one, and that each makes a row both databases accept.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from itertools import count
from typing import Any, NamedTuple

import pyotp
from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from backend import audit
from backend.accounts import passwords, two_factor
from backend.accounts import service as accounts
from backend.accounts.factor_models import (
    RecoveryCode,
    TotpCredential,
    WebauthnChallenge,
    WebauthnCredential,
)
from backend.accounts.models import AccessToken, EmailToken, LoginThrottle, UserSession
from backend.accounts.sso_models import AccountIdentity, SsoSignIn
from backend.assessments.models import DIMENSION_IDS, SelfAssessment, SelfAssessmentRating
from backend.audit.models import AuditEvent
from backend.chapters.models import Chapter, ChapterOrganisation, ChapterRegion, OrganiserScope
from backend.community.models import (
    Circle,
    CircleMember,
    Comment,
    CommunityPreference,
    Follow,
    PeerPairing,
    Post,
    PostSkill,
    Reaction,
    Report,
)
from backend.db import utcnow
from backend.events.models import Event, EventComment, EventLink, EventRsvp, EventSkill
from backend.matchmaking.models import MatchmakingState, SuggestionExposure
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members.import_models import MemberImport
from backend.members.models import Member, MemberRole, MemberSkill, MentoringOffer
from backend.mentoring.models import (
    CheckIn,
    GoalNote,
    GroupSession,
    GroupSessionAttendance,
    MentoringGroup,
    MentoringSession,
    MentorRequest,
    Mentorship,
    MentorshipFeedback,
    MentorshipGoal,
    SessionBooking,
    SessionTimeOption,
)
from backend.messaging.models import (
    Message,
    MessagePreference,
    MessageReadState,
    MessageReport,
    MessageThread,
)
from backend.notifications.models import Notification, NotificationPreference, OutboxEmail
from backend.opportunities.models import (
    Opportunity,
    OpportunityEligibility,
    OpportunitySave,
    OpportunitySkill,
)
from backend.organisations import service as organisation_service
from backend.organisations.models import OdsImportRejects, Organisation
from backend.periodic import PeriodicStep
from backend.privacy.models import (
    DEMOGRAPHICS_WORDING_VERSION,
    WIDENING_WORDING_VERSION,
    ConsentRecord,
    DemographicRecord,
    WideningAccessClaim,
)
from backend.programmes.models import (
    Programme,
    ProgrammeAnswer,
    ProgrammeApplication,
    ProgrammeQuestion,
)
from backend.programmes.service import default_programme_id
from backend.rounds.models import MatchingRound, MatchProposal
from backend.skills.models import Skill
from backend.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)

PASSWORD = "correct horse battery staple"
_numbers = count(1)
_hash_cache: dict[str, str] = {}


def _hash(password: str) -> str:
    # Argon2 at OWASP strength takes tens of milliseconds; tests reuse one hash per password.
    if password not in _hash_cache:
        _hash_cache[password] = passwords.hash_password(password)
    return _hash_cache[password]


def _save(session: Session, row: SQLModel, *, matching: bool = False) -> Any:
    """Write ``row`` and commit; ``matching``: the matcher's view of the network moved.

    The row is refreshed before the commit, so it holds the database's defaults and no
    transaction is left open (on SQLite an open one would hold the write lock).
    """
    session.add(row)
    session.flush()
    if matching:
        network_changed(session=session)
    session.refresh(row)
    session.commit()
    return row


# Organisations, skills and members ------------------------------------------------------------


def make_organisation(
    session: Session,
    *,
    name: str | None = None,
    type: str = "acute-trust",
    region: str | None = "North East and Yorkshire",
    ods_code: str | None = None,
    status: str = "other",
) -> Organisation:
    """An organisation (the one of that name, if it exists already); ``status="register"``
    (with an ``ods_code``, perhaps) for one of the register."""
    organisation = organisation_service.get_or_create(
        session=session, name=name or f"Test Trust {next(_numbers)}", type=type, region=region
    )
    if ods_code is not None or status != organisation.status:
        organisation.ods_code = ods_code or organisation.ods_code
        organisation.status = status
        session.add(organisation)
    session.flush()
    session.refresh(organisation)
    session.commit()
    return organisation


def make_skill(
    session: Session, *, id: str | None = None, name: str | None = None, group: str = "Local"
) -> Skill:
    """A local skill beside the seeded framework."""
    number = next(_numbers)
    return _save(
        session,
        Skill(id=id or f"local-skill-{number}", name=name or f"Local skill {number}", group=group),
    )


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
    """A member with sensible defaults: verified, with a password, in a Leeds trust."""
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
    return _save(session, member, matching=True)


def make_organiser(session: Session, **fields: object) -> Member:
    """A verified member with the organiser role."""
    return make_member(session, roles=("organiser",), **fields)  # type: ignore[arg-type]


def make_mentor(
    session: Session,
    *,
    capacity: int = 2,
    band: str = "8a",
    organisation: str = "Mentor Trust",
    skills_offered: tuple[str, ...] = ("quality-improvement", "team-leadership"),
    **fields: object,
) -> Member:
    """A senior member in another trust offering places and skills."""
    return make_member(
        session,
        capacity=capacity,
        band=band,
        organisation=organisation,
        skills_offered=skills_offered,
        **fields,  # type: ignore[arg-type]
    )


def make_mentee(
    session: Session,
    *,
    band: str = "4",
    organisation: str = "Mentee Trust",
    skills_sought: tuple[str, ...] = ("quality-improvement",),
    goals: str = "Lead a quality improvement project",
    **fields: object,
) -> Member:
    """A member seeking a mentor, with a skill and goals."""
    return make_member(
        session,
        band=band,
        organisation=organisation,
        skills_sought=skills_sought,
        goals=goals,
        seeking_mentor=True,
        **fields,  # type: ignore[arg-type]
    )


def make_member_skill(
    session: Session,
    *,
    member: Member | None = None,
    skill_id: str = "quality-improvement",
    kind: str = "sought",
) -> MemberSkill:
    """A skill a member seeks (or, with ``kind="offered"``, offers)."""
    member = member or make_member(session)
    return _save(
        session, MemberSkill(member_id=member.id, skill_id=skill_id, kind=kind), matching=True
    )


def make_member_role(
    session: Session, *, member: Member | None = None, role: str = "organiser"
) -> MemberRole:
    """An extra role for a member."""
    member = member or make_member(session)
    return _save(session, MemberRole(member_id=member.id, role=role))  # type: ignore[arg-type]


def make_offer(
    session: Session,
    *,
    member: Member | None = None,
    capacity: int = 2,
    paused: bool = False,
    note: str = "",
) -> MentoringOffer:
    """A member's mentoring places (``make_member(capacity=...)`` makes one with the member)."""
    member = member or make_member(session, band="8a")
    offer = MentoringOffer(member_id=member.id, capacity=capacity, paused=paused, note=note)  # type: ignore[arg-type]
    return _save(session, offer, matching=True)


# Mentoring -----------------------------------------------------------------------------------


def make_request(
    session: Session,
    *,
    mentee: Member | None = None,
    mentor: Member | None = None,
    message: str = "Could you mentor me?",
    status: str = "open",
    skills: Iterable[str] = (),
    created_at: datetime | None = None,
    expires_at: datetime | None = None,
    **fields: object,
) -> MentorRequest:
    """A mentor request, by default open for 14 days; an open one takes a mentee's slot."""
    mentee = mentee or make_mentee(session)
    mentor = mentor or make_mentor(session)
    created_at = created_at or utcnow()
    fields.setdefault("programme_id", default_programme_id(session=session))
    request = MentorRequest(
        mentee_id=mentee.id,  # type: ignore[arg-type]
        mentor_id=mentor.id,  # type: ignore[arg-type]
        message=message,
        status=status,
        skills=";".join(skills),
        created_at=created_at,
        expires_at=expires_at or created_at + timedelta(days=14),
        **fields,  # type: ignore[arg-type]
    )
    if status == "open":
        session.execute(
            update(Member)
            .where(Member.id == mentee.id)  # type: ignore[arg-type]
            .values(open_requests=Member.open_requests + 1)
        )
    return _save(session, request)


class _Gone:
    """Stands for a member who has since been erased (the row's column is empty)."""

    id = None


GONE: Any = _Gone()


def make_mentorship(
    session: Session,
    *,
    mentor: Member | None = None,
    mentee: Member | None = None,
    status: str = "active",
    started_at: datetime | None = None,
    **fields: object,
) -> Mentorship:
    """A mentorship; an active one takes one of the mentor's places (if they offer any).

    ``mentor=GONE`` (or ``mentee=GONE``): that side has since been erased.
    """
    mentor = mentor or make_mentor(session)
    mentee = mentee or make_mentee(session)
    fields.setdefault("programme_id", default_programme_id(session=session))
    mentorship = Mentorship(
        mentor_id=mentor.id,
        mentee_id=mentee.id,
        status=status,
        started_at=started_at or utcnow(),
        **fields,  # type: ignore[arg-type]
    )
    if status == "active" and mentor.id is not None:
        session.execute(
            update(MentoringOffer)
            .where(MentoringOffer.member_id == mentor.id)  # type: ignore[arg-type]
            .values(active_mentees=MentoringOffer.active_mentees + 1)
        )
    return _save(session, mentorship, matching=True)


def make_mentoring_session(
    session: Session,
    *,
    mentorship: Mentorship | None = None,
    held_on: date | None = None,
    duration_minutes: int = 60,
    notes: str = "",
) -> MentoringSession:
    """A meeting of a mentorship, logged by the mentee, held yesterday."""
    mentorship = mentorship or make_mentorship(session)
    return _save(
        session,
        MentoringSession(
            mentorship_id=mentorship.id,  # type: ignore[arg-type]
            held_on=held_on or utcnow().date() - timedelta(days=1),
            duration_minutes=duration_minutes,
            notes=notes,
            logged_by_id=mentorship.mentee_id,
        ),
    )


def make_feedback(
    session: Session,
    *,
    mentorship: Mentorship | None = None,
    author_role: str = "mentee",
    rating: int = 4,
    text: str = "",
) -> MentorshipFeedback:
    """One side's rating at the end of a (by default completed) mentorship."""
    mentorship = mentorship or make_mentorship(session, status="completed", ended_at=utcnow())
    feedback = MentorshipFeedback(
        mentorship_id=mentorship.id,  # type: ignore[arg-type]
        author_role=author_role,
        rating=rating,
        text=text,
    )
    return _save(session, feedback)


# Rounds --------------------------------------------------------------------------------------


def make_round(
    session: Session,
    *,
    organiser: Member | None = None,
    name: str = "Spring round",
    status: str = "ready",
    **fields: object,
) -> MatchingRound:
    """A matching round, by default run and ready for review; a published one has dates."""
    organiser = organiser or make_organiser(session, band="8c", organisation="Organiser Trust")
    values: dict[str, Any] = {"progress": 1.0} if status in ("ready", "published") else {}
    if status == "published":
        now = utcnow()
        values.update(published_at=now, respond_by=now + timedelta(days=7))
    values.update(fields)
    values.setdefault("programme_id", default_programme_id(session=session))
    matching_round = MatchingRound(name=name, created_by_id=organiser.id, status=status, **values)
    return _save(session, matching_round)


def make_proposal(
    session: Session,
    *,
    matching_round: MatchingRound | None = None,
    mentee: Member | None = None,
    mentor: Member | None = None,
    score: float = 80.0,
    reasons: str = "shares your skills",
    status: str = "proposed",
    **fields: object,
) -> MatchProposal:
    """A proposed pair in a round; an offered one has been offered now."""
    matching_round = matching_round or make_round(
        session, status="published" if status == "offered" else "ready"
    )
    mentee = mentee or make_mentee(session)
    if status != "unmatched":
        mentor = mentor or make_mentor(session)
    values: dict[str, Any] = {"offered_at": utcnow()} if status == "offered" else {}
    values.update(fields)
    proposal = MatchProposal(
        round_id=matching_round.id,  # type: ignore[arg-type]
        mentee_id=mentee.id,
        mentor_id=mentor.id if mentor is not None else None,
        score=score,
        reasons=reasons,
        status=status,
        **values,
    )
    return _save(session, proposal, matching=status == "offered")


class RoundNetwork(NamedTuple):
    """An organiser, mentors with places and mentees seeking a mentor, in other trusts."""

    organiser: Member
    mentors: list[Member]
    mentees: list[Member]


def make_round_network(
    session: Session,
    *,
    mentor_bands: tuple[str, ...] = ("7", "8a", "8b"),
    mentees: int = 4,
    capacity: int = 1,
) -> RoundNetwork:
    """The network the round tests share: by default three mentors with one place each (bands
    7, 8a, 8b, each in a trust of their own) and four band-4 mentees in one trust, all after
    quality improvement, which every mentor offers."""
    organiser = make_organiser(session, name="Olu Organiser", band="8b")
    mentor_rows = [
        make_mentor(
            session,
            name=f"Mentor {band}",
            band=band,
            organisation=f"Mentor Trust {i}",
            capacity=capacity,
            skills_offered=("quality-improvement", "budget-management"),
        )
        for i, band in enumerate(mentor_bands)
    ]
    mentee_rows = [make_mentee(session, name=f"Mentee {i}") for i in range(mentees)]
    return RoundNetwork(organiser, mentor_rows, mentee_rows)


# Community ---------------------------------------------------------------------------------


def make_circle(
    session: Session,
    *,
    name: str = "Circle 1",
    members: Iterable[Member] = (),
    created_by: Member | None = None,
) -> Circle:
    """A peer circle holding ``members``."""
    circle = _save(session, Circle(name=name, created_by_id=created_by.id if created_by else None))
    for member in members:
        session.add(CircleMember(circle_id=circle.id, member_id=member.id))  # type: ignore[arg-type]
    session.commit()
    return circle


def make_circle_member(
    session: Session, *, circle: Circle | None = None, member: Member | None = None
) -> CircleMember:
    """A member's place in a circle."""
    circle = circle or make_circle(session)
    member = member or make_member(session)
    return _save(session, CircleMember(circle_id=circle.id, member_id=member.id))  # type: ignore[arg-type]


def make_post(
    session: Session,
    *,
    author: Member | None = None,
    title: str | None = None,
    body: str = "Share the rota early and ask the team.",
    skills: Iterable[str] = (),
    circle: Circle | None = None,
    **fields: object,
) -> Post:
    """A visible post in the feed (or in ``circle``), tagged with ``skills``."""
    author = author or make_member(session)
    post = _save(
        session,
        Post(
            author_id=author.id,  # type: ignore[arg-type]
            title=title or f"What I learnt, part {next(_numbers)}",
            body=body,
            circle_id=circle.id if circle else None,
            **fields,  # type: ignore[arg-type]
        ),
    )
    for skill_id in skills:
        session.add(PostSkill(post_id=post.id, skill_id=skill_id))  # type: ignore[arg-type]
    session.commit()
    return post


def make_post_skill(
    session: Session, *, post: Post | None = None, skill_id: str = "team-leadership"
) -> PostSkill:
    """A skill tag on a post."""
    post = post or make_post(session)
    return _save(session, PostSkill(post_id=post.id, skill_id=skill_id))  # type: ignore[arg-type]


def make_comment(
    session: Session,
    *,
    post: Post | None = None,
    author: Member | None = None,
    body: str = "Thank you, this is really useful.",
    **fields: object,
) -> Comment:
    """A visible reply to a post."""
    post = post or make_post(session)
    author = author or make_member(session)
    comment = Comment(post_id=post.id, author_id=author.id, body=body, **fields)  # type: ignore[arg-type]
    return _save(session, comment)


def make_reaction(
    session: Session, *, post: Post | None = None, member: Member | None = None
) -> Reaction:
    """A member found a post useful."""
    post = post or make_post(session)
    member = member or make_member(session)
    return _save(session, Reaction(post_id=post.id, member_id=member.id))  # type: ignore[arg-type]


def make_follow(
    session: Session, *, follower: Member | None = None, followed: Member | None = None
) -> Follow:
    """A member follows another."""
    follower = follower or make_member(session)
    followed = followed or make_member(session)
    return _save(session, Follow(follower_id=follower.id, followed_id=followed.id))  # type: ignore[arg-type]


def make_report(
    session: Session,
    *,
    reporter: Member | None = None,
    post: Post | None = None,
    comment: Comment | None = None,
    reason: str = "Names a patient.",
    **fields: object,
) -> Report:
    """An open report of a comment if one is given, else of a post (made if not given)."""
    reporter = reporter or make_member(session)
    if comment is None:
        post = post or make_post(session)
    report = Report(
        reporter_id=reporter.id,
        post_id=post.id if comment is None and post is not None else None,
        comment_id=comment.id if comment is not None else None,
        reason=reason,
        **fields,  # type: ignore[arg-type]
    )
    return _save(session, report)


def make_community_preference(
    session: Session,
    *,
    member: Member | None = None,
    circles: bool = True,
    peer_connect: bool = True,
) -> CommunityPreference:
    """What a member opted in to (by default both circles and peer connect)."""
    member = member or make_member(session)
    preference = CommunityPreference(
        member_id=member.id,  # type: ignore[arg-type]
        circles=circles,
        peer_connect=peer_connect,
    )
    return _save(session, preference)


def make_peer_pairing(
    session: Session,
    *,
    first: Member | None = None,
    second: Member | None = None,
    period: str | None = None,
) -> PeerPairing:
    """Two members paired by peer connect (this month by default), stored lower id first."""
    first = first or make_member(session)
    second = second or make_member(session)
    a, b = sorted((first.id, second.id))  # type: ignore[type-var]
    pairing = PeerPairing(period=period or utcnow().strftime("%Y-%m"), member_a_id=a, member_b_id=b)
    return _save(session, pairing)


# Notifications -------------------------------------------------------------------------------


def make_notification(
    session: Session,
    *,
    member: Member | None = None,
    kind: str = "mentorship",
    title: str = "Your mentorship started",
    body: str = "",
    link: str = "",
    read: bool = False,
    **fields: object,
) -> Notification:
    """An in-app notification, unread unless ``read``."""
    member = member or make_member(session)
    notification = Notification(
        member_id=member.id,  # type: ignore[arg-type]
        kind=kind,
        title=title,
        body=body,
        link=link,
        read_at=utcnow() if read else None,
        **fields,  # type: ignore[arg-type]
    )
    return _save(session, notification)


def make_notification_preference(
    session: Session,
    *,
    member: Member | None = None,
    kind: str = "mentorship",
    mode: str = "digest",
) -> NotificationPreference:
    """How a member wants one kind of notification emailed."""
    member = member or make_member(session)
    preference = NotificationPreference(member_id=member.id, kind=kind, mode=mode)  # type: ignore[arg-type]
    return _save(session, preference)


def make_outbox_email(
    session: Session,
    *,
    to: str = "someone@example.nhs.uk",
    subject: str = "Hello",
    body: str = "Hello from peerbridge.",
    kind: str = "account",
    sent: bool = False,
    **fields: object,
) -> OutboxEmail:
    """An email in the outbox, due now (or already sent)."""
    email = OutboxEmail(
        to_address=to,
        subject=subject,
        body_text=body,
        kind=kind,
        sent_at=utcnow() if sent else None,
        **fields,  # type: ignore[arg-type]
    )
    return _save(session, email)


# Accounts ------------------------------------------------------------------------------------


def make_user_session(
    session: Session,
    *,
    member: Member | None = None,
    expires_in: timedelta = timedelta(days=14),
    user_agent: str = "",
) -> tuple[UserSession, str]:
    """A live browser session: the row and the cookie token that opens it."""
    member = member or make_member(session)
    token = accounts.start_session(session=session, member_id=member.id, user_agent=user_agent)
    record = session.get(UserSession, accounts.token_hash(token))
    record.expires_at = utcnow() + expires_in  # type: ignore[union-attr]
    return _save(session, record), token


def make_email_token(
    session: Session,
    *,
    member: Member | None = None,
    purpose: str = "verify",
    expires_in: timedelta = timedelta(days=2),
) -> tuple[EmailToken, str]:
    """A one-time email link's row and its token."""
    member = member or make_member(session, verified=purpose != "verify")
    token = secrets.token_urlsafe(32)
    record = EmailToken(
        member_id=member.id,  # type: ignore[arg-type]
        purpose=purpose,
        token_hash=accounts.token_hash(token),
        expires_at=utcnow() + expires_in,
    )
    return _save(session, record), token


def make_access_token(
    session: Session, *, member: Member | None = None, name: str = "Reporting script"
) -> tuple[AccessToken, str]:
    """A personal access token's row and its secret (``Authorization: Bearer <secret>``)."""
    member = member or make_member(session)
    record, secret = accounts.create_access_token(session=session, member=member, name=name)
    session.commit()
    return record, secret


def make_login_throttle(
    session: Session,
    *,
    email: str = "someone@example.nhs.uk",
    failures: int = 5,
    blocked_for: timedelta | None = timedelta(minutes=15),
) -> LoginThrottle:
    """Failed log-ins against an address, blocked for a while by default."""
    throttle = LoginThrottle(
        key=email.casefold(),
        failures=failures,
        blocked_until=utcnow() + blocked_for if blocked_for else None,
    )
    return _save(session, throttle)


def make_account_identity(
    session: Session,
    *,
    member: Member | None = None,
    issuer: str = "https://login.microsoftonline.com/test-tenant/v2.0",
    subject: str | None = None,
) -> AccountIdentity:
    """A member's link to an account at an OpenID provider (single sign-on)."""
    member = member or make_member(session)
    identity = AccountIdentity(
        member_id=member.id,  # type: ignore[arg-type]
        issuer=issuer,
        subject=subject or f"subject-{next(_numbers)}",
    )
    return _save(session, identity)


def make_sso_sign_in(
    session: Session, *, expires_in: timedelta = timedelta(minutes=10)
) -> tuple[SsoSignIn, str]:
    """A single sign-on under way: the row and the state the browser holds."""
    state = secrets.token_urlsafe(32)
    record = SsoSignIn(
        id=accounts.token_hash(state),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        expires_at=utcnow() + expires_in,
    )
    return _save(session, record), state


def make_totp_credential(
    session: Session, *, member: Member | None = None, confirmed: bool = True
) -> tuple[TotpCredential, str]:
    """A member's authenticator app, set up through the service (confirmed with the code of
    the step before now, so the current code is still unused); the row and its secret."""
    member = member or make_member(session)
    setup = two_factor.start_totp_setup(session=session, member=member)
    if confirmed:
        code = pyotp.TOTP(setup.secret).generate_otp(int(time.time()) // 30 - 1)
        two_factor.confirm_totp_setup(session=session, member=member, code=code)
    row = session.get(TotpCredential, member.id)
    assert row is not None
    return row, setup.secret


def make_recovery_code(
    session: Session, *, member: Member | None = None, used: bool = False
) -> tuple[RecoveryCode, str]:
    """One recovery code, stored as the service stores it (a keyed hash); the row and the code."""
    member = member or make_member(session)
    raw = "".join(secrets.choice(two_factor.RECOVERY_ALPHABET) for _ in range(10))
    record = RecoveryCode(
        member_id=member.id,
        code_hash=two_factor.keyed_hash(raw),
        used_at=utcnow() if used else None,
    )
    return _save(session, record), f"{raw[:5]}-{raw[5:]}"


def make_webauthn_credential(
    session: Session, *, member: Member | None = None, name: str = "Work laptop"
) -> WebauthnCredential:
    """A registered passkey's row (a random credential id and key: only a browser's
    authenticator makes real ones, as tests/browser/test_passkeys.py does)."""
    member = member or make_member(session)
    record = WebauthnCredential(
        member_id=member.id,
        name=name,
        credential_id=secrets.token_urlsafe(32),
        public_key=secrets.token_urlsafe(77),
    )
    return _save(session, record)


def make_webauthn_challenge(
    session: Session, *, member: Member | None = None, purpose: str = "register"
) -> WebauthnChallenge:
    """A challenge handed out for a passkey ceremony, bound to a session of the member."""
    member = member or make_member(session)
    user_session, _ = make_user_session(session, member=member)
    record = WebauthnChallenge(
        challenge=secrets.token_urlsafe(32),
        purpose=purpose,
        session_id=user_session.id,
        member_id=member.id,
        expires_at=utcnow() + timedelta(minutes=5),
    )
    return _save(session, record)


# Imports, privacy and the matcher's shared state -----------------------------------------------


def make_member_import(
    session: Session,
    *,
    created_by: Member | None = None,
    data: bytes | None = b"email,name\n",
    mode: str = "partial",
    status: str = "queued",
    **fields: object,
) -> MemberImport:
    """An upload of the members CSV, queued by an organiser."""
    created_by = created_by or make_organiser(session)
    record = MemberImport(
        created_by_id=created_by.id,
        data=data,
        size_bytes=len(data or b""),
        filename="members.csv",
        mode=mode,
        status=status,
        **fields,  # type: ignore[arg-type]
    )
    return _save(session, record)


def make_consent(
    session: Session, *, member: Member | None = None, source: str = "self", **fields: object
) -> ConsentRecord:
    """A live consent to the current wording of the diversity questions."""
    member = member or make_member(session)
    consent = ConsentRecord(
        member_id=member.id,  # type: ignore[arg-type]
        wording_version=DEMOGRAPHICS_WORDING_VERSION,
        source=source,
        **fields,  # type: ignore[arg-type]
    )
    return _save(session, consent)


def make_widening_claim(
    session: Session,
    *,
    member: Member | None = None,
    category: str = "first-in-family-into-management",
    **fields: object,
) -> WideningAccessClaim:
    """A member's own widening-access claim, consented to the current wording."""
    member = member or make_member(session)
    values: dict[str, Any] = {"wording_version": WIDENING_WORDING_VERSION, **fields}
    claim = WideningAccessClaim(member_id=member.id, category=category, **values)
    return _save(session, claim, matching=True)


def make_demographics(
    session: Session,
    *,
    member: Member | None = None,
    ethnicity: str | None = "white",
    gender: str | None = None,
    disability: str | None = None,
    age_band: str | None = None,
) -> DemographicRecord:
    """A member's diversity answers, with the live consent they rest on."""
    member = member or make_member(session)
    consent = make_consent(session, member=member)
    record = DemographicRecord(
        member_id=member.id,  # type: ignore[arg-type]
        consent_id=consent.id,  # type: ignore[arg-type]
        ethnicity=ethnicity,
        gender=gender,
        disability=disability,
        age_band=age_band,
    )
    return _save(session, record)


def make_matchmaking_state(session: Session, *, version: int = 1) -> MatchmakingState:
    """The network-version row (one at most); ``network_changed`` moves it as services do."""
    existing = session.get(MatchmakingState, 1)
    if existing is not None:
        existing.version = version
        return _save(session, existing)
    return _save(session, MatchmakingState(token=secrets.token_hex(16), version=version))


def make_periodic_step(
    session: Session, *, name: str = "check_ins_sent", ago: timedelta = timedelta(0)
) -> PeriodicStep:
    """When a throttled step of the periodic pass last ran: ``ago`` before now (its row is
    moved if the pass has made it already)."""
    step = session.get(PeriodicStep, name) or PeriodicStep(name=name, last_run_at=utcnow())
    step.last_run_at = utcnow() - ago
    return _save(session, step)


def make_exposure(
    session: Session, *, mentor: Member | None = None, offers: float = 1.0, at_request: int = 0
) -> SuggestionExposure:
    """The suggester's memory of having shown ``mentor`` ``offers`` times."""
    mentor = mentor or make_mentor(session)
    exposure = SuggestionExposure(mentor_id=mentor.id, offers=offers, at_request=at_request)  # type: ignore[arg-type]
    return _save(session, exposure)


def make_audit_event(
    session: Session,
    *,
    actor: Member | None = None,
    action: str = "round.created",
    subject: tuple[str, int | None] | None = None,
    **details: int | str | bool | None,
) -> AuditEvent:
    """An event in the audit log, by ``actor`` (None: the system), as ``record`` writes it."""
    about = audit.subject(*subject) if subject else None
    return audit.record(session, actor=actor, action=action, subject=about, details=details)


# Which factory makes a row of each table (tests/test_factories.py holds it complete).
def make_chapter(
    session: Session,
    *,
    name: str | None = None,
    kind: str = "region",
    regions: Iterable[str] = ("North West",),
    organisations: Iterable[Organisation] = (),
) -> Chapter:
    """A chapter covering ``regions`` (and ``organisations``)."""
    name = name or f"Chapter {next(_numbers)}"
    chapter = _save(session, Chapter(name=name, key=" ".join(name.split()).casefold(), kind=kind))
    for region in regions:
        session.add(ChapterRegion(chapter_id=chapter.id, region=region))
    for organisation in organisations:
        session.add(ChapterOrganisation(chapter_id=chapter.id, organisation_id=organisation.id))
    session.flush()
    return chapter


def make_chapter_region(session: Session, **fields: object) -> ChapterRegion:
    """One region of a (new) chapter."""
    chapter = make_chapter(session, regions=())
    return _save(session, ChapterRegion(chapter_id=chapter.id, region="London", **fields))  # type: ignore[arg-type]


def make_chapter_organisation(session: Session, **fields: object) -> ChapterOrganisation:
    """One organisation of a (new) chapter."""
    chapter = make_chapter(session, regions=(), kind="integrated-care-system")
    organisation = make_organisation(session)
    row = ChapterOrganisation(chapter_id=chapter.id, organisation_id=organisation.id, **fields)  # type: ignore[arg-type]
    return _save(session, row)


def make_organiser_scope(
    session: Session, *, member: Member | None = None, chapter: Chapter | None = None
) -> OrganiserScope:
    """``member`` (a new member by default) made an organiser of ``chapter``."""
    member = member or make_member(session)
    chapter = chapter or make_chapter(session)
    return _save(session, OrganiserScope(member_id=member.id, chapter_id=chapter.id))  # type: ignore[arg-type]


def make_programme(
    session: Session,
    *,
    name: str | None = None,
    status: str = "published",
    **fields: object,
) -> Programme:
    """A programme, published by default, open to anyone unless eligibility is given."""
    values: dict[str, Any] = {"name": name or f"Programme {next(_numbers)}", "status": status}
    for key in (
        "eligible_bands",
        "eligible_regions",
        "eligible_role_families",
        "eligible_professions",
        "widening_categories",
    ):
        if key in fields and not isinstance(fields[key], str):
            fields[key] = json.dumps(list(fields[key]))  # type: ignore[call-overload]
    values.update(fields)
    return _save(session, Programme(**values))


def make_programme_question(
    session: Session, *, programme: Programme | None = None, **fields: object
) -> ProgrammeQuestion:
    """A short-text question on ``programme``'s application form."""
    programme = programme or make_programme(session)
    values: dict[str, Any] = {"text": "Why do you want to join?", "kind": "short-text"}
    values.update(fields)
    return _save(session, ProgrammeQuestion(programme_id=programme.id, **values))


def make_programme_application(
    session: Session,
    *,
    programme: Programme | None = None,
    member: Member | None = None,
    **fields: object,
) -> ProgrammeApplication:
    """``member`` applies to ``programme`` as a mentee (submitted by default)."""
    programme = programme or make_programme(session)
    member = member or make_mentee(session)
    row = ProgrammeApplication(programme_id=programme.id, member_id=member.id, **fields)  # type: ignore[arg-type]
    return _save(session, row)


def make_programme_answer(session: Session, **fields: object) -> ProgrammeAnswer:
    """An answer to a new question of a new application."""
    application = make_programme_application(session)
    programme = session.get(Programme, application.programme_id)
    question = make_programme_question(session, programme=programme)
    values: dict[str, Any] = {"value": "To lead a team"}
    values.update(fields)
    return _save(
        session,
        ProgrammeAnswer(application_id=application.id, question_id=question.id, **values),
    )


def make_survey(
    session: Session,
    *,
    programme: Programme | None = None,
    stage: str = "end",
    status: str = "published",
    **fields: object,
) -> Survey:
    """A survey of ``programme`` (a new one by default), published a week ago by default."""
    programme = programme or make_programme(session)
    values: dict[str, Any] = {"title": "How did it go?", "stage": stage, "status": status}
    if status != "draft":
        values["published_at"] = utcnow() - timedelta(days=7)
    values.update(fields)
    return _save(session, Survey(programme_id=programme.id, **values))


def make_survey_question(
    session: Session, *, survey: Survey | None = None, **fields: object
) -> SurveyQuestion:
    """An agreement-scale question of ``survey``."""
    survey = survey or make_survey(session)
    values: dict[str, Any] = {"text": "The mentorship helped me.", "kind": "agreement"}
    if isinstance(fields.get("choices"), list | tuple):
        fields["choices"] = json.dumps(list(fields["choices"]))  # type: ignore[arg-type]
    values.update(fields)
    return _save(session, SurveyQuestion(survey_id=survey.id, **values))


def make_survey_invitation(
    session: Session,
    *,
    survey: Survey | None = None,
    mentorship: Mentorship | None = None,
    member: Member | None = None,
    sent: bool = True,
) -> SurveyInvitation:
    """``member`` (the mentee by default) invited to ``survey`` about ``mentorship``."""
    mentorship = mentorship or make_mentorship(session, status="completed", ended_at=utcnow())
    survey = survey or make_survey(
        session, programme=session.get(Programme, mentorship.programme_id)
    )
    member_id = member.id if member is not None else mentorship.mentee_id
    return _save(
        session,
        SurveyInvitation(
            survey_id=survey.id,
            mentorship_id=mentorship.id,
            member_id=member_id,
            sent_at=utcnow() if sent else None,
        ),
    )


def make_survey_response(
    session: Session, *, invitation: SurveyInvitation | None = None, **fields: object
) -> SurveyResponse:
    """A response to ``invitation`` (a new one by default), as the mentee unless told."""
    invitation = invitation or make_survey_invitation(session)
    values: dict[str, Any] = {"role": "mentee"}
    values.update(fields)
    return _save(
        session,
        SurveyResponse(
            survey_id=invitation.survey_id,
            mentorship_id=invitation.mentorship_id,
            member_id=invitation.member_id,
            **values,
        ),
    )


def make_survey_answer(
    session: Session,
    *,
    response: SurveyResponse | None = None,
    question: SurveyQuestion | None = None,
    value: str = "4",
    shareable: bool = False,
) -> SurveyAnswer:
    """One answer of ``response`` to ``question``."""
    response = response or make_survey_response(session)
    if question is None:
        question = make_survey_question(session, survey=session.get(Survey, response.survey_id))
    return _save(
        session,
        SurveyAnswer(
            response_id=response.id, question_id=question.id, value=value, shareable=shareable
        ),
    )


# Goals and check-ins -----------------------------------------------------------------------------


def make_mentorship_goal(
    session: Session, *, mentorship: Mentorship | None = None, **fields: object
) -> MentorshipGoal:
    """An open goal of ``mentorship`` (a new one by default), set by the mentee."""
    mentorship = mentorship or make_mentorship(session)
    values: dict[str, Any] = {
        "title": "Lead a budget review",
        "measure": "The review is signed off",
        "created_by_id": mentorship.mentee_id,
    }
    values.update(fields)
    return _save(session, MentorshipGoal(mentorship_id=mentorship.id, **values))


def make_goal_note(
    session: Session, *, goal: MentorshipGoal | None = None, **fields: object
) -> GoalNote:
    """A progress note on ``goal`` by whoever set it."""
    goal = goal or make_mentorship_goal(session)
    values: dict[str, Any] = {"text": "First draft shared.", "author_id": goal.created_by_id}
    values.update(fields)
    return _save(session, GoalNote(goal_id=goal.id, **values))


def make_check_in(
    session: Session, *, mentorship: Mentorship | None = None, **fields: object
) -> CheckIn:
    """The mentee's first monthly check-in of ``mentorship``, not yet answered."""
    mentorship = mentorship or make_mentorship(session)
    values: dict[str, Any] = {"member_id": mentorship.mentee_id, "role": "mentee", "period": 1}
    values.update(fields)
    return _save(session, CheckIn(mentorship_id=mentorship.id, **values))


# Booked sessions and mentoring groups -----------------------------------------------------------


def make_session_booking(
    session: Session, *, mentorship: Mentorship | None = None, **fields: object
) -> SessionBooking:
    """A session booked by the mentee for a week from now, an hour long, by video."""
    mentorship = mentorship or make_mentorship(session)
    values: dict[str, Any] = {
        "proposed_by_id": mentorship.mentee_id,
        "status": "booked",
        "starts_at": utcnow() + timedelta(days=7),
        "duration_minutes": 60,
        "format": "video",
        "booked_at": utcnow(),
    }
    values.update(fields)
    return _save(session, SessionBooking(mentorship_id=mentorship.id, **values))


def make_session_time_option(
    session: Session, *, booking: SessionBooking | None = None, **fields: object
) -> SessionTimeOption:
    """One proposed time of ``booking`` (a proposed booking by default)."""
    booking = booking or make_session_booking(session, status="proposed", starts_at=None)
    values: dict[str, Any] = {
        "starts_at": utcnow() + timedelta(days=3),
        "duration_minutes": 60,
        "format": "phone",
    }
    values.update(fields)
    return _save(session, SessionTimeOption(booking_id=booking.id, **values))


def make_mentoring_group(
    session: Session,
    *,
    programme: Programme | None = None,
    mentor: Member | None = None,
    **fields: object,
) -> MentoringGroup:
    """An active group of a group mentoring programme (a new one by default)."""
    programme = programme or make_programme(session, type="group", group_size=4)
    mentor = mentor or make_mentor(session)
    values: dict[str, Any] = {"name": f"Group {next(_numbers)}"}
    values.update(fields)
    return _save(session, MentoringGroup(programme_id=programme.id, mentor_id=mentor.id, **values))


def make_group_session(
    session: Session, *, group: MentoringGroup | None = None, **fields: object
) -> GroupSession:
    """A meeting of ``group``, held yesterday, logged by its mentor."""
    group = group or make_mentoring_group(session)
    values: dict[str, Any] = {
        "held_on": utcnow().date() - timedelta(days=1),
        "duration_minutes": 60,
        "logged_by_id": group.mentor_id,
    }
    values.update(fields)
    return _save(session, GroupSession(group_id=group.id, **values))


def make_group_session_attendance(
    session: Session, *, group_session: GroupSession | None = None, member: Member | None = None
) -> GroupSessionAttendance:
    """``member`` (a new mentee by default) came to ``group_session``."""
    group_session = group_session or make_group_session(session)
    member = member or make_mentee(session)
    return _save(session, GroupSessionAttendance(session_id=group_session.id, member_id=member.id))


# Self-assessment --------------------------------------------------------------------------------


def make_self_assessment(
    session: Session,
    *,
    member: Member | None = None,
    mentorship: Mentorship | None = None,
    occasion: str | None = None,
    levels: dict[str, int] | int | None = 2,
    **fields: object,
) -> SelfAssessment:
    """A sitting of the self-assessment; ``levels``: one level for all nine dimensions, or a
    level by dimension (the rest at 2), or None for a sitting with no levels yet."""
    if member is None:
        member = make_member(session) if mentorship is None else None
    member_id = member.id if member is not None else mentorship.mentee_id  # type: ignore[union-attr]
    occasion = occasion or ("start" if mentorship is not None else "own_choice")
    assessment = SelfAssessment(
        member_id=member_id,  # type: ignore[arg-type]
        mentorship_id=mentorship.id if mentorship is not None else None,
        occasion=occasion,
        **fields,  # type: ignore[arg-type]
    )
    _save(session, assessment)
    if levels is not None:
        given = levels if isinstance(levels, dict) else dict.fromkeys(DIMENSION_IDS, levels)
        for dimension in DIMENSION_IDS:
            session.add(
                SelfAssessmentRating(
                    assessment_id=assessment.id,
                    dimension=dimension,
                    level=given.get(dimension, 2),
                )
            )
        session.commit()
    return assessment


def make_self_assessment_rating(
    session: Session,
    *,
    assessment: SelfAssessment | None = None,
    dimension: str = DIMENSION_IDS[0],
    level: int = 2,
) -> SelfAssessmentRating:
    """One level of a sitting (a sitting with no levels is made when none is given)."""
    assessment = assessment or make_self_assessment(session, levels=None)
    return _save(
        session,
        SelfAssessmentRating(assessment_id=assessment.id, dimension=dimension, level=level),
    )


# Messages -------------------------------------------------------------------------------------


def make_message_thread(
    session: Session, *, mentorship: Mentorship | None = None, circle: Circle | None = None
) -> MessageThread:
    """The conversation of ``circle`` if given, else of a mentorship (made if not given)."""
    if circle is not None:
        return _save(session, MessageThread(circle_id=circle.id))
    mentorship = mentorship or make_mentorship(session)
    return _save(session, MessageThread(mentorship_id=mentorship.id))


def make_message(
    session: Session,
    *,
    thread: MessageThread | None = None,
    author: Member | None = None,
    body: str = "Shall we meet on Tuesday?",
    **fields: object,
) -> Message:
    """A message in ``thread`` (a mentorship's, made if not given), by its mentee by default."""
    thread = thread or make_message_thread(session)
    if author is None and thread.mentorship_id is not None:
        mentorship = session.get(Mentorship, thread.mentorship_id)
        author = session.get(Member, mentorship.mentee_id) if mentorship else None
    author = author or make_member(session)
    message = Message(thread_id=thread.id, author_id=author.id, body=body, **fields)  # type: ignore[arg-type]
    thread.last_message_at = message.created_at
    session.add(thread)
    return _save(session, message)


def make_message_read_state(
    session: Session,
    *,
    thread: MessageThread | None = None,
    member: Member | None = None,
    last_read_message_id: int = 0,
) -> MessageReadState:
    """How far ``member`` has read ``thread``."""
    thread = thread or make_message_thread(session)
    member = member or make_member(session)
    return _save(
        session,
        MessageReadState(
            thread_id=thread.id, member_id=member.id, last_read_message_id=last_read_message_id
        ),
    )


def make_message_preference(
    session: Session, *, member: Member | None = None, show_text_in_emails: bool = True
) -> MessagePreference:
    """A member's choice about message text in emails."""
    member = member or make_member(session)
    return _save(
        session, MessagePreference(member_id=member.id, show_text_in_emails=show_text_in_emails)
    )


def make_message_report(
    session: Session,
    *,
    message: Message | None = None,
    reporter: Member | None = None,
    reason: str = "Rude and threatening.",
) -> MessageReport:
    """An open report of ``message`` (made if not given)."""
    message = message or make_message(session)
    reporter = reporter or make_member(session)
    return _save(
        session, MessageReport(message_id=message.id, reporter_id=reporter.id, reason=reason)
    )


def make_ods_import_rejects(session: Session, **fields: object) -> OdsImportRejects:
    """The rejected rows of an ODS import, as the import keeps them for download."""
    values: dict[str, object] = {
        "rejected_rows": 1,
        "rejects_csv": "line,problem\r\n3,The row has no name (the second column).\r\n",
    }
    return _save(session, OdsImportRejects(**{**values, **fields}))  # type: ignore[arg-type]


def make_opportunity(
    session: Session,
    *,
    skills: tuple[str, ...] = ("quality-improvement",),
    bands: tuple[str, ...] = (),
    regions: tuple[str, ...] = (),
    posted_by: Member | None = None,
    **fields: object,
) -> Opportunity:
    """An open, network-wide course developing ``skills``, closing in 30 days, open to
    ``bands`` and ``regions`` (empty: to all)."""
    number = next(_numbers)
    values: dict[str, object] = {
        "kind": "course",
        "title": f"Test opportunity {number}",
        "provider": "NHS Leadership Academy",
        "format": "online",
        "closes_on": date.today() + timedelta(days=30),
        "posted_by_id": posted_by.id if posted_by is not None else None,
    }
    opportunity = Opportunity(**{**values, **fields})  # type: ignore[arg-type]
    session.add(opportunity)
    session.flush()
    for skill_id in skills:
        session.add(OpportunitySkill(opportunity_id=opportunity.id, skill_id=skill_id))
    for dimension, given in (("band", bands), ("region", regions)):
        for value in given:
            session.add(
                OpportunityEligibility(
                    opportunity_id=opportunity.id, dimension=dimension, value=value
                )
            )
    return _save(session, opportunity)


def make_opportunity_skill(
    session: Session, *, opportunity: Opportunity | None = None, skill_id: str = "budget-management"
) -> OpportunitySkill:
    """A skill an opportunity (made if not given, with no skills) develops."""
    opportunity = opportunity or make_opportunity(session, skills=())
    return _save(session, OpportunitySkill(opportunity_id=opportunity.id, skill_id=skill_id))


def make_opportunity_eligibility(
    session: Session,
    *,
    opportunity: Opportunity | None = None,
    dimension: str = "band",
    value: str = "4",
) -> OpportunityEligibility:
    """One value a member may hold to apply for an opportunity (made if not given)."""
    opportunity = opportunity or make_opportunity(session)
    return _save(
        session,
        OpportunityEligibility(opportunity_id=opportunity.id, dimension=dimension, value=value),
    )


def make_opportunity_save(
    session: Session,
    *,
    opportunity: Opportunity | None = None,
    member: Member | None = None,
    saved: bool = True,
    interested: bool = False,
    **fields: object,
) -> OpportunitySave:
    """A member's marks on an opportunity (both made if not given): saved by default."""
    opportunity = opportunity or make_opportunity(session)
    member = member or make_member(session)
    return _save(
        session,
        OpportunitySave(
            opportunity_id=opportunity.id,
            member_id=member.id,
            saved=saved,
            interested=interested,
            saved_at=utcnow() if saved else None,
            interested_at=utcnow() if interested else None,
            **fields,  # type: ignore[arg-type]
        ),
    )


def make_event(session: Session, *, organiser: Member | None = None, **fields: object) -> Event:
    """A network-wide webinar a week from now, 20 places, organised by a new organiser."""
    organiser = organiser or make_organiser(session)
    starts = utcnow() + timedelta(days=7)
    values: dict[str, Any] = {
        "kind": "webinar",
        "title": f"Event {next(_numbers)}",
        "description": "An hour on getting started with quality improvement.",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=1),
        "video_link": "https://meet.example.org/event",
        "capacity": 20,
        "organiser_id": organiser.id,
    }
    values.update(fields)
    return _save(session, Event(**values))


def make_event_rsvp(
    session: Session, *, event: Event | None = None, member: Member | None = None, **fields: object
) -> EventRsvp:
    """``member`` going to ``event`` (the place counted on the event)."""
    event = event or make_event(session)
    member = member or make_member(session)
    values: dict[str, Any] = {"status": "going"}
    values.update(fields)
    if values["status"] == "going":
        event.places_taken += 1
        session.add(event)
    return _save(session, EventRsvp(event_id=event.id, member_id=member.id, **values))


def make_event_skill(
    session: Session, *, event: Event | None = None, skill_id: str = "quality-improvement"
) -> EventSkill:
    """A skill an event (made if not given) develops."""
    event = event or make_event(session)
    return _save(session, EventSkill(event_id=event.id, skill_id=skill_id))


def make_event_link(session: Session, *, event: Event | None = None, **fields: object) -> EventLink:
    """A slides link on ``event``."""
    event = event or make_event(session)
    values: dict[str, Any] = {"title": "Slides", "url": "https://slides.example.org/deck"}
    values.update(fields)
    return _save(session, EventLink(event_id=event.id, **values))


def make_event_comment(
    session: Session, *, event: Event | None = None, member: Member | None = None, **fields: object
) -> EventComment:
    """A comment in ``event``'s discussion."""
    event = event or make_event(session)
    member = member or make_member(session)
    values: dict[str, Any] = {"body": "Thank you, the slides on run charts were really useful."}
    values.update(fields)
    return _save(session, EventComment(event_id=event.id, member_id=member.id, **values))


FACTORIES: dict[str, Callable[..., object]] = {
    "opportunity": make_opportunity,
    "opportunity_skill": make_opportunity_skill,
    "opportunity_eligibility": make_opportunity_eligibility,
    "opportunity_save": make_opportunity_save,
    "event": make_event,
    "event_rsvp": make_event_rsvp,
    "event_link": make_event_link,
    "event_skill": make_event_skill,
    "event_comment": make_event_comment,
    "organisation_import_rejects": make_ods_import_rejects,
    "survey": make_survey,
    "survey_question": make_survey_question,
    "survey_invitation": make_survey_invitation,
    "survey_response": make_survey_response,
    "survey_answer": make_survey_answer,
    "chapter": make_chapter,
    "chapter_region": make_chapter_region,
    "chapter_organisation": make_chapter_organisation,
    "organiser_scope": make_organiser_scope,
    "programme": make_programme,
    "programme_question": make_programme_question,
    "programme_application": make_programme_application,
    "programme_answer": make_programme_answer,
    "organisation": make_organisation,
    "skill": make_skill,
    "member": make_member,
    "member_skill": make_member_skill,
    "member_role": make_member_role,
    "mentoring_offer": make_offer,
    "mentor_request": make_request,
    "mentorship": make_mentorship,
    "mentoring_session": make_mentoring_session,
    "mentorship_feedback": make_feedback,
    "matching_round": make_round,
    "match_proposal": make_proposal,
    "community_circle": make_circle,
    "community_circle_member": make_circle_member,
    "community_post": make_post,
    "community_post_skill": make_post_skill,
    "community_comment": make_comment,
    "community_reaction": make_reaction,
    "community_follow": make_follow,
    "community_report": make_report,
    "community_preference": make_community_preference,
    "community_peer_pairing": make_peer_pairing,
    "notification": make_notification,
    "notification_preference": make_notification_preference,
    "outbox_email": make_outbox_email,
    "user_session": make_user_session,
    "email_token": make_email_token,
    "access_token": make_access_token,
    "login_throttle": make_login_throttle,
    "account_identity": make_account_identity,
    "sso_sign_in": make_sso_sign_in,
    "member_import": make_member_import,
    "consent_record": make_consent,
    "demographic_record": make_demographics,
    "widening_access_claim": make_widening_claim,
    "self_assessment": make_self_assessment,
    "session_booking": make_session_booking,
    "mentorship_goal": make_mentorship_goal,
    "goal_note": make_goal_note,
    "check_in": make_check_in,
    "session_time_option": make_session_time_option,
    "mentoring_group": make_mentoring_group,
    "group_session": make_group_session,
    "group_session_attendance": make_group_session_attendance,
    "self_assessment_rating": make_self_assessment_rating,
    "matchmaking_state": make_matchmaking_state,
    "periodic_step": make_periodic_step,
    "suggestion_exposure": make_exposure,
    "audit_event": make_audit_event,
    "totp_credential": make_totp_credential,
    "recovery_code": make_recovery_code,
    "webauthn_credential": make_webauthn_credential,
    "webauthn_challenge": make_webauthn_challenge,
    "message_thread": make_message_thread,
    "message": make_message,
    "message_read_state": make_message_read_state,
    "message_preference": make_message_preference,
    "message_report": make_message_report,
}


def audit_events(session: Session, action: str, *, end_read: bool = False) -> list[AuditEvent]:
    """The audit log's events of ``action``, oldest first; ``end_read`` then rolls back, so a
    page test's open read does not hold the database while the app writes."""
    found = list(
        session.exec(
            select(AuditEvent).where(AuditEvent.action == action).order_by(col(AuditEvent.id))
        ).all()
    )
    if end_read:
        session.rollback()
    return found
