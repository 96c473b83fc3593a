"""Consent, demographics, and a member's own data: record, withdraw, export, erase.

Demographics are special-category data (UK GDPR art. 9) held for equality monitoring only
(DPA 2018 sch. 1 para. 8): stored apart from the profile, only with a live consent record,
never read by the matcher, and read in bulk only by the insights service, which publishes
aggregates under disclosure control.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend import audit
from backend.accounts import service as accounts
from backend.accounts import two_factor
from backend.accounts.models import UserSession
from backend.assessments import service as self_assessment
from backend.db import utcnow
from backend.errors import FieldErrors, Invalid
from backend.events import service as event_service
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members.models import Member, MemberRole, MemberSkill, MentoringOffer
from backend.mentoring import bookings, lifecycle
from backend.mentoring import goals as goal_service
from backend.mentoring.models import (
    GroupSession,
    GroupSessionAttendance,
    MentoringGroup,
    MentoringSession,
    MentorRequest,
    Mentorship,
    MentorshipFeedback,
    SessionBooking,
)
from backend.messaging import service as messaging
from backend.notifications import service as notifications
from backend.notifications.models import Notification, NotificationPreference, OutboxEmail
from backend.opportunities import service as opportunities
from backend.organisations.models import Organisation
from backend.privacy import scrub
from backend.privacy.models import (
    DEMOGRAPHICS_WORDING_VERSION,
    ConsentRecord,
    DemographicRecord,
    WideningAccessClaim,
)
from backend.programmes.models import ProgrammeAnswer, ProgrammeApplication
from backend.rounds.models import MatchProposal
from backend.surveys import service as surveys
from vocabulary import AGE_BANDS, DISABILITY_ANSWERS, ETHNICITIES, GENDERS

QUESTIONS: dict[str, tuple[str, ...]] = {
    "ethnicity": ETHNICITIES,
    "gender": GENDERS,
    "disability": DISABILITY_ANSWERS,
    "age_band": AGE_BANDS,
}
FORMER_MEMBER = "former member"


@dataclass
class DemographicAnswers:
    """Answers to the four diversity questions; None means not answered."""

    ethnicity: str | None = None
    gender: str | None = None
    disability: str | None = None
    age_band: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        """The answers keyed by question."""
        return {
            "ethnicity": self.ethnicity,
            "gender": self.gender,
            "disability": self.disability,
            "age_band": self.age_band,
        }


@dataclass
class MyDemographics:
    """What the member sees of their own diversity data: answers and every consent record."""

    record: DemographicRecord | None
    consents: list[ConsentRecord]

    @property
    def live_consent(self) -> ConsentRecord | None:
        """The consent currently in force, if any."""
        return next((c for c in self.consents if c.withdrawn_at is None), None)


def validate_answers(answers: DemographicAnswers) -> DemographicAnswers:
    """The answers, or FieldErrors naming each unknown value (blank means not answered)."""
    problems: dict[str, str] = {}
    clean: dict[str, str | None] = {}
    for question, value in answers.as_dict().items():
        value = (value or "").strip() or None
        if value is not None and value not in QUESTIONS[question]:
            problems[question] = "Choose one of the options given."
        clean[question] = value
    if problems:
        raise FieldErrors(problems)
    return DemographicAnswers(**clean)


def _live_consent(session: Session, member_id: int) -> ConsentRecord | None:
    return session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.member_id == member_id)
        .where(ConsentRecord.purpose == "demographics")
        .where(col(ConsentRecord.withdrawn_at).is_(None))
    ).first()


def _store(
    session: Session,
    *,
    member_id: int,
    answers: DemographicAnswers,
    source: str,
    recorded_by_id: int | None = None,
) -> DemographicRecord:
    # A live consent to the current wording is kept; consent to older wording is closed and
    # a new one opened, so every record says exactly which words the member agreed to.
    consent = _live_consent(session, member_id)
    if consent is not None and consent.wording_version != DEMOGRAPHICS_WORDING_VERSION:
        consent.withdrawn_at = utcnow()
        session.add(consent)
        session.flush()
        consent = None
    if consent is None:
        consent = ConsentRecord(
            member_id=member_id,
            wording_version=DEMOGRAPHICS_WORDING_VERSION,
            source=source,
            recorded_by_id=recorded_by_id,
        )
        session.add(consent)
        session.flush()
    record = session.get(DemographicRecord, member_id)
    if record is None:
        record = DemographicRecord(member_id=member_id, consent_id=consent.id)
    record.consent_id = consent.id
    for question, value in answers.as_dict().items():
        setattr(record, question, value)
    record.updated_at = utcnow()
    session.add(record)
    session.flush()
    return record


def record_demographics(
    *, session: Session, member: Member | None, answers: DemographicAnswers, consent: bool
) -> DemographicRecord:
    """Save the member's answers with a consent record; consent must be given explicitly."""
    member = member_service.require_account(member)  # their own data rights, confirmed or not
    if not consent:
        raise Invalid("Tick the box to agree before we can keep your answers.", field="consent")
    clean = validate_answers(answers)
    record = _store(session, member_id=member.id, answers=clean, source="self")
    session.flush()
    return record


_CHUNK = 500


HAS_ACCOUNT = (
    "Diversity answers not used: this member has an account, so only they can give or change "
    "their answers."
)
WITHDREW = (
    "Diversity answers not used: this member withdrew their consent, and only they can give "
    "it again."
)


@dataclass
class ImportedDemographics:
    """What an import did with the diversity answers it carried."""

    stored: int = 0
    # Members whose answers were left alone, with why (the member's own choice rules).
    skipped: dict[int, str] = field(default_factory=dict)


def members_own_consent(*, session: Session, member_ids: Sequence[int]) -> dict[int, str]:
    """Members whose diversity answers an import may never create or change, with why.

    Consent is the member's: once they have an account (a password, a confirmed email, a
    session or an access token: any way of signing in), only they answer, and a withdrawal
    stands until they consent again. The rest (imported, never signed in) may be given an
    organiser's answers, as the members CSV allows.
    """
    found: dict[int, str] = {}
    ids = sorted(set(member_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for member_id in member_service.with_accounts(session=session, member_ids=chunk):
            found[member_id] = HAS_ACCOUNT
        rest = [member_id for member_id in chunk if member_id not in found]
        if not rest:
            continue
        # Answered themselves once (an account since removed?), or withdrew: theirs to change.
        history = session.execute(
            sa_select(
                col(ConsentRecord.member_id),
                col(ConsentRecord.source),
                col(ConsentRecord.withdrawn_at),
            ).where(col(ConsentRecord.member_id).in_(rest))
        ).all()
        live = {member_id for member_id, _source, withdrawn in history if withdrawn is None}
        for member_id, source, withdrawn in history:
            if source == "self":
                found[member_id] = HAS_ACCOUNT
            elif withdrawn is not None and member_id not in live:
                found.setdefault(member_id, WITHDREW)
    return found


def record_imported_many(
    *,
    session: Session,
    answers: dict[int, DemographicAnswers],
    organiser_id: int | None,
) -> ImportedDemographics:
    """Store answers given with consent on imported rows, in bulk (no commit: the import's).

    Never for a member whose consent is their own (``members_own_consent``): their answers
    and consent records are left exactly as they are, and the result says who and why.
    Each other member gets a consent record saying it came on an organiser's list, with the
    current wording version; a live consent to the same wording is kept.
    """
    outcome = ImportedDemographics()
    if not answers:
        return outcome
    outcome.skipped = members_own_consent(session=session, member_ids=list(answers))
    answers = {m: a for m, a in answers.items() if m not in outcome.skipped}
    outcome.stored = len(answers)
    if not answers:
        return outcome
    member_ids = sorted(answers)
    live: dict[int, tuple[int, str]] = {}
    for start in range(0, len(member_ids), _CHUNK):
        for consent_id, member_id, version in session.execute(
            sa_select(
                col(ConsentRecord.id),
                col(ConsentRecord.member_id),
                col(ConsentRecord.wording_version),
            )
            .where(col(ConsentRecord.member_id).in_(member_ids[start : start + _CHUNK]))
            .where(col(ConsentRecord.withdrawn_at).is_(None))
        ).all():
            live[member_id] = (consent_id, version)
    now = utcnow()
    stale = [cid for cid, version in live.values() if version != DEMOGRAPHICS_WORDING_VERSION]
    if stale:
        session.execute(
            update(ConsentRecord),
            [{"id": cid, "withdrawn_at": now} for cid in stale],
        )
    fresh = [m for m in member_ids if live.get(m, (0, ""))[1] != DEMOGRAPHICS_WORDING_VERSION]
    if fresh:
        session.execute(
            insert(ConsentRecord),
            [
                {
                    "member_id": m,
                    "purpose": "demographics",
                    "wording_version": DEMOGRAPHICS_WORDING_VERSION,
                    "source": "import",
                    "recorded_by_id": organiser_id,
                    "given_at": now,
                }
                for m in fresh
            ],
        )
    consent_of: dict[int, int] = {}
    for start in range(0, len(member_ids), _CHUNK):
        consent_of.update(
            {
                member_id: consent_id
                for consent_id, member_id in session.execute(
                    sa_select(col(ConsentRecord.id), col(ConsentRecord.member_id))
                    .where(col(ConsentRecord.member_id).in_(member_ids[start : start + _CHUNK]))
                    .where(col(ConsentRecord.withdrawn_at).is_(None))
                ).all()
            }
        )
        session.execute(
            delete(DemographicRecord).where(
                col(DemographicRecord.member_id).in_(member_ids[start : start + _CHUNK])
            )
        )
    session.execute(
        insert(DemographicRecord),
        [
            {
                "member_id": m,
                "consent_id": consent_of[m],
                **validate_answers(answers[m]).as_dict(),
                "updated_at": now,
            }
            for m in member_ids
        ],
    )
    return outcome


def withdraw_demographics(*, session: Session, member: Member | None) -> bool:
    """Delete the member's answers and close their consent; True if anything was held."""
    member = member_service.require_account(member)  # their own data rights, confirmed or not
    deleted = session.exec(
        delete(DemographicRecord).where(col(DemographicRecord.member_id) == member.id)
    ).rowcount
    closed = session.exec(
        update(ConsentRecord)
        .where(col(ConsentRecord.member_id) == member.id)
        .where(col(ConsentRecord.withdrawn_at).is_(None))
        .values(withdrawn_at=utcnow())
    ).rowcount
    session.flush()
    return bool(deleted or closed)


def my_demographics(*, session: Session, member: Member | None) -> MyDemographics:
    """The member's own answers and consent history (nobody else's, ever)."""
    member = member_service.require_account(member)  # their own data rights, confirmed or not
    consents = session.exec(
        select(ConsentRecord)
        .where(ConsentRecord.member_id == member.id)
        .order_by(col(ConsentRecord.given_at).desc(), col(ConsentRecord.id).desc())
    ).all()
    return MyDemographics(record=session.get(DemographicRecord, member.id), consents=list(consents))


def consent_description(*, session: Session, consent: ConsentRecord) -> str:
    """How the consent was given, in words ("imported by organiser <name>" for imports)."""
    if consent.source == "import":
        organiser = session.get(Member, consent.recorded_by_id) if consent.recorded_by_id else None
        who = organiser.name if organiser is not None else FORMER_MEMBER
        return f"Given on a members list imported by organiser {who}"
    return "Given by you on the diversity page"


# Export ---------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(model: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: _plain(v) for k, v in model.model_dump().items() if k not in skip}


def _programme_applications(session: Session, member_id: int) -> list[dict[str, Any]]:
    """The member's applications to programmes, each with their answers."""
    applications = session.exec(
        select(ProgrammeApplication)
        .where(ProgrammeApplication.member_id == member_id)
        .order_by(col(ProgrammeApplication.id))
    ).all()
    ids = [a.id for a in applications]
    answers = (
        session.exec(
            select(ProgrammeAnswer)
            .where(col(ProgrammeAnswer.application_id).in_(ids))
            .order_by(col(ProgrammeAnswer.application_id), col(ProgrammeAnswer.question_id))
        ).all()
        if ids
        else []
    )
    return [
        {**_row(a), "answers": [_row(x) for x in answers if x.application_id == a.id]}
        for a in applications
    ]


def _bookings_export(session: Session, mentorship_ids: list[int]) -> list[dict[str, Any]]:
    """The sessions the member's mentorships proposed or booked, each with its times."""
    if not mentorship_ids:
        return []
    rows = session.exec(
        select(SessionBooking)
        .where(col(SessionBooking.mentorship_id).in_(mentorship_ids))
        .order_by(col(SessionBooking.id))
    ).all()
    options = bookings.options_for(session=session, booking_ids=[b.id for b in rows])
    return [{**_row(b), "times": [_row(o) for o in options[b.id]]} for b in rows]


def export_my_data(*, session: Session, member: Member | None) -> dict[str, Any]:
    """Everything held about the member, as JSON-ready data (no password hash, no tokens)."""
    member = member_service.require_account(member)  # their own data rights, confirmed or not
    member_id = member.id
    organisation = session.get(Organisation, member.organisation_id)
    mentorships = session.exec(
        select(Mentorship)
        .where(or_(col(Mentorship.mentor_id) == member_id, col(Mentorship.mentee_id) == member_id))
        .order_by(col(Mentorship.id))
    ).all()
    mentorship_ids = [m.id for m in mentorships]
    sessions = (
        session.exec(
            select(MentoringSession)
            .where(col(MentoringSession.mentorship_id).in_(mentorship_ids))
            .order_by(col(MentoringSession.held_on), col(MentoringSession.id))
        ).all()
        if mentorship_ids
        else []
    )
    feedback = (
        session.exec(
            select(MentorshipFeedback)
            .where(col(MentorshipFeedback.mentorship_id).in_(mentorship_ids))
            .order_by(col(MentorshipFeedback.id))
        ).all()
        if mentorship_ids
        else []
    )
    # Feedback is the author's own words: a member gets only what they wrote.
    roles_in = {m.id: ("mentor" if m.mentor_id == member_id else "mentee") for m in mentorships}
    own_feedback = [f for f in feedback if roles_in.get(f.mentorship_id) == f.author_role]
    requests = session.exec(
        select(MentorRequest)
        .where(
            or_(
                col(MentorRequest.mentee_id) == member_id, col(MentorRequest.mentor_id) == member_id
            )
        )
        .order_by(col(MentorRequest.id))
    ).all()
    offer = session.get(MentoringOffer, member_id)
    group_ids = sorted(
        {m.group_id for m in mentorships if m.group_id is not None}
        | set(
            session.exec(
                select(MentoringGroup.id).where(MentoringGroup.mentor_id == member_id)
            ).all()
        )
    )
    mine = my_demographics(session=session, member=member)
    widening_claim = session.get(WideningAccessClaim, member_id)
    audit.record(
        session,
        actor=member,
        action=audit.actions.MEMBER_DATA_EXPORTED,
        subject=audit.subject("member", member_id),
    )
    return {
        "format": "peerbridge-my-data/1",
        "exported_at": utcnow().isoformat(),
        "profile": _row(member, skip=("password_hash", "open_requests")),
        "organisation": _row(organisation) if organisation else None,
        "roles": member_service.roles_of(session=session, member_id=member_id),
        "skills": [
            _row(s)
            for s in session.exec(
                select(MemberSkill)
                .where(MemberSkill.member_id == member_id)
                .order_by(MemberSkill.kind, MemberSkill.skill_id)
            ).all()
        ],
        "mentoring_offer": _row(offer) if offer else None,
        "mentor_requests": [_row(r, skip=("idempotency_key",)) for r in requests],
        "mentorships": [_row(m) for m in mentorships],
        "mentoring_sessions": [_row(s) for s in sessions],
        "session_bookings": _bookings_export(session, mentorship_ids),
        "feedback_given": [_row(f) for f in own_feedback],
        **_group_data(session, member_id, group_ids),
        "match_proposals": [
            _row(p)
            for p in session.exec(
                select(MatchProposal)
                .where(
                    or_(
                        col(MatchProposal.mentee_id) == member_id,
                        col(MatchProposal.mentor_id) == member_id,
                    )
                )
                .order_by(col(MatchProposal.id))
            ).all()
        ],
        "programme_applications": _programme_applications(session, member_id),
        "notifications": [
            _row(n)
            for n in session.exec(
                select(Notification)
                .where(Notification.member_id == member_id)
                .order_by(col(Notification.id))
            ).all()
        ],
        "notification_preferences": [
            _row(p)
            for p in session.exec(
                select(NotificationPreference).where(NotificationPreference.member_id == member_id)
            ).all()
        ],
        "consent_records": [_row(c) for c in mine.consents],
        "demographics": _row(mine.record, skip=("member_id",)) if mine.record else None,
        "widening_access": (
            _row(widening_claim, skip=("member_id",)) if widening_claim is not None else None
        ),
        "community": _community_data(session, member_id),
        "survey_responses": surveys.export_for(session=session, member_id=member_id),
        "self_assessments": self_assessment.export_rows(session=session, member_id=member_id),
        "opportunity_marks": opportunities.export_rows(session=session, member_id=member_id),
        # Goals and notes of their mentorships (shared with the partner), their own check-ins.
        **goal_service.export_for(
            session=session, member_id=member_id, mentorship_ids=mentorship_ids
        ),
        "messages": messaging.export_for(session=session, member_id=member_id),
        **event_service.export_for(session=session, member_id=member_id),
    }


def _group_data(session: Session, member_id: int, group_ids: list[int]) -> dict[str, Any]:
    """The mentoring groups the member mentors or belongs to, their group sessions (notes are
    shared with the group) and the sessions the member attended."""
    if not group_ids:
        return {"mentoring_groups": [], "group_sessions": [], "group_sessions_attended": []}
    return {
        "mentoring_groups": [
            _row(g)
            for g in session.exec(
                select(MentoringGroup)
                .where(col(MentoringGroup.id).in_(group_ids))
                .order_by(col(MentoringGroup.id))
            ).all()
        ],
        "group_sessions": [
            _row(g)
            for g in session.exec(
                select(GroupSession)
                .where(col(GroupSession.group_id).in_(group_ids))
                .order_by(col(GroupSession.held_on), col(GroupSession.id))
            ).all()
        ],
        "group_sessions_attended": list(
            session.exec(
                select(GroupSessionAttendance.session_id)
                .where(GroupSessionAttendance.member_id == member_id)
                .order_by(col(GroupSessionAttendance.session_id))
            ).all()
        ),
    }


def _community_data(session: Session, member_id: int) -> dict[str, Any]:
    """The member's posts, comments, reactions, follows, reports, circle and pairings."""
    from backend.community import models as community

    def rows(model: Any, *conditions: Any) -> list[dict[str, Any]]:
        return [
            _row(r)
            for r in session.exec(select(model).where(or_(*conditions)).order_by(model.id)).all()
        ]

    def keyed(model: Any, column: Any) -> list[dict[str, Any]]:
        return [_row(r) for r in session.exec(select(model).where(column == member_id)).all()]

    return {
        "posts": rows(community.Post, community.Post.author_id == member_id),
        "comments": rows(community.Comment, community.Comment.author_id == member_id),
        "reactions": keyed(community.Reaction, community.Reaction.member_id),
        "following": keyed(community.Follow, community.Follow.follower_id),
        "followers": keyed(community.Follow, community.Follow.followed_id),
        "reports_made": rows(community.Report, community.Report.reporter_id == member_id),
        "circle": keyed(community.CircleMember, community.CircleMember.member_id),
        "preferences": keyed(
            community.CommunityPreference, community.CommunityPreference.member_id
        ),
        "peer_pairings": rows(
            community.PeerPairing,
            community.PeerPairing.member_a_id == member_id,
            community.PeerPairing.member_b_id == member_id,
        ),
    }


# Erasure --------------------------------------------------------------------------------------


def erase_my_account(
    *,
    session: Session,
    member: Member | None,
    password: str,
    confirm: bool,
    current: UserSession | None = None,
) -> None:
    """Delete the member and every row about them; partners then see "former member".

    Rows the member shares with others (mentorships, session notes) stay for the partner
    with the member's reference set NULL; their email and name are scrubbed from every text
    column that could quote them (notifications, queued emails, shared notes).

    A step-up first: a member with a second factor must have proved it in ``current`` (their
    session) within ``PEERBRIDGE_STEP_UP_MINUTES``; one without gives the password again.
    """
    member = member_service.require_account(member)  # their own data rights, confirmed or not
    problems: dict[str, str] = {}
    if not confirm:
        problems["confirm"] = "Tick the box to confirm that you want your account erased."
    problems.update(
        two_factor.step_up_problems(
            session=session, member=member, record=current, password=password
        )
    )
    if problems:
        raise FieldErrors(problems)
    member_id = member.id
    email, name = member.email, member.name
    now = utcnow()
    # Active mentorships end now; the mentor's place is freed by the same conditional counter
    # the mentoring service keeps, so capacity stays right.
    active = session.exec(
        select(Mentorship)
        .where(Mentorship.status == "active")
        .where(or_(col(Mentorship.mentor_id) == member_id, col(Mentorship.mentee_id) == member_id))
    ).all()
    for mentorship in active:
        # Their booked sessions leave the partner's calendar (METHOD:CANCEL), kindly worded.
        bookings.close_for_ended_mentorship(
            session=session, mentorship_id=mentorship.id, by=f"The {FORMER_MEMBER}"
        )
        # A group member's mentorship held a place in the group, not one of the mentor's.
        holds_place = mentorship.group_id is None
        if holds_place and mentorship.mentor_id is not None and mentorship.mentor_id != member_id:
            session.execute(
                update(MentoringOffer)
                .where(col(MentoringOffer.member_id) == mentorship.mentor_id)
                .where(col(MentoringOffer.active_mentees) > 0)
                .values(active_mentees=MentoringOffer.active_mentees - 1)
            )
        mentorship.status = "ended_early"
        mentorship.ended_at = now
        mentorship.end_reason = f"The {FORMER_MEMBER} left the network."
        session.add(mentorship)
    # A group whose last active member (or whose mentor) left closes, as in the lifecycle.
    if any(m.group_id is not None for m in active):
        session.flush()
        for group_id in sorted({m.group_id for m in active if m.group_id is not None}):
            lifecycle.close_group_if_done(session=session, group_id=group_id)
    # Mentees whose open requests to this member disappear get their counters re-derived.
    waiting = list(
        session.exec(
            select(MentorRequest.mentee_id)
            .where(MentorRequest.mentor_id == member_id)
            .where(MentorRequest.status == "open")
        ).all()
    )
    session.flush()
    surveys.erase_for(session=session, member_id=member_id)
    self_assessment.erase_for(session=session, member_id=member_id)
    event_service.erase_for(session=session, member_id=member_id)
    # Their messages keep their place in the other side's thread, with the text gone.
    messaging.erase_author(session=session, member_id=member_id)
    session.execute(delete(DemographicRecord).where(col(DemographicRecord.member_id) == member_id))
    session.execute(
        delete(WideningAccessClaim).where(col(WideningAccessClaim.member_id) == member_id)
    )
    session.execute(delete(ConsentRecord).where(col(ConsentRecord.member_id) == member_id))
    session.execute(delete(MemberRole).where(col(MemberRole.member_id) == member_id))
    accounts.forget_throttles(session=session, email=email)
    session.execute(
        delete(OutboxEmail).where(func.lower(OutboxEmail.to_address) == email.strip().lower())
    )
    # Members this one line-managed lose the link (the FK does that too; explicit for clarity).
    session.execute(
        update(Member).where(col(Member.line_manager_id) == member_id).values(line_manager_id=None)
    )
    session.execute(delete(Member).where(col(Member.id) == member_id))
    for mentee_id in set(waiting):
        open_count = (
            sa_select(func.count())
            .select_from(MentorRequest)
            .where(col(MentorRequest.mentee_id) == mentee_id)
            .where(col(MentorRequest.status) == "open")
            .scalar_subquery()
        )
        session.execute(
            update(Member).where(col(Member.id) == mentee_id).values(open_requests=open_count)
        )
    session.flush()
    person = scrub.Person(email=email, name=name)
    scrubber = scrub.Scrubber(person, protected=scrub.protected_names(session, person))
    from backend.models import metadata

    scrub.scrub_tables(session, scrubber, metadata.sorted_tables)
    scrub.optimise_search_index(session)
    audit.record(
        session,
        actor=member_id,
        action=audit.actions.MEMBER_ERASED,
        subject=audit.subject("member", member_id),
    )
    network_changed(session=session)  # the matcher's view of the network moved
    session.flush()
    if member in session:
        session.expunge(member)
    # Development's mail folder is not in the transaction: its files go once the rows have.
    notifications.forget_mail_files(naming=scrubber.names)
