"""Surveys: organisers build them per programme and stage; members answer; organisers read
results under disclosure control. Also the organisers' view of end-of-mentorship feedback.

Authorisation lives here: an organiser acts only on surveys of programmes their scope covers
(``programmes.get_organised``: NotFound for any other); a member answers only surveys they were
invited to, about their own mentorship, once each.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import audit, db
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, NotFound
from backend.insights import disclosure as dc
from backend.insights.disclosure import CellKeys, Count
from backend.members import service as member_service
from backend.members.models import Member
from backend.mentoring.models import Mentorship, MentorshipFeedback
from backend.notifications import service as notifications
from backend.programmes import service as programmes
from backend.programmes.models import Programme
from backend.surveys.models import (
    SURVEY_QUESTION_KINDS,
    SURVEY_STAGES,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from backend.text import text_problem

log = logging.getLogger("peerbridge.surveys")

STAGE_LABELS = {
    "start": "Start of each mentorship",
    "middle": "Half-way through each mentorship",
    "end": "End of each mentorship",
}
STATUS_LABELS = {"draft": "Draft", "published": "Published", "closed": "Closed"}
KIND_LABELS = {
    "agreement": "Agreement scale (strongly disagree to strongly agree)",
    "recommend": "Likelihood to recommend (0 to 10)",
    "choice": "Single choice (one of the options)",
    "text": "Free text",
}
AGREEMENT = (
    ("1", "Strongly disagree"),
    ("2", "Disagree"),
    ("3", "Neither agree nor disagree"),
    ("4", "Agree"),
    ("5", "Strongly agree"),
)
RECOMMEND = tuple((str(n), str(n)) for n in range(11))
NPS_GROUPS = ("Detractors (0 to 6)", "Passives (7 or 8)", "Promoters (9 or 10)")
SHARE_LABEL = "Organisers may read this answer (without your name)"

TITLE_MAX = 200
INTRODUCTION_MAX = 2000
QUESTION_MAX = 500
HINT_MAX = 500
CHOICE_MAX = 200
MAX_CHOICES = 20
MAX_QUESTIONS = 30
ANSWER_MAX = 4000

# When each stage is due for a mentorship; a survey published later reaches only the
# mentorships whose moment came at most GRACE before it was published (never old history).
START_AFTER = timedelta(days=7)
DAYS_PER_MONTH = 365.25 / 12
GRACE = timedelta(days=14)

FROZEN = "The survey is published: its questions can no longer change."


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# Commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveySettings:
    """A new survey: the stage it is for, its title and an optional introduction."""

    stage: str
    title: str
    introduction: str = ""


@dataclass(frozen=True)
class QuestionSettings:
    """One question to add: its kind, words, whether it must be answered, and options."""

    kind: str
    text: str
    hint: str = ""
    required: bool = True
    choices: Sequence[str] = ()


@dataclass(frozen=True)
class GivenAnswers:
    """A member's answers: question id to the value, and the free-text answers they share."""

    values: Mapping[int, str]
    shared: frozenset[int] = frozenset()


# Organisers: building surveys -------------------------------------------------------------


def _programme(session: Session, organiser: Member | None, programme_id: int) -> Programme:
    return programmes.get_organised(session=session, organiser=organiser, programme_id=programme_id)


def surveys_of(*, session: Session, organiser: Member | None, programme_id: int) -> list[Survey]:
    """The programme's surveys, by stage then newest first (organisers in scope)."""
    programme = _programme(session, organiser, programme_id)
    rows = session.exec(
        select(Survey)
        .where(Survey.programme_id == programme.id)
        .order_by(col(Survey.created_at).desc(), col(Survey.id).desc())
    ).all()
    return sorted(rows, key=lambda s: SURVEY_STAGES.index(s.stage))


def get_survey(*, session: Session, organiser: Member | None, survey_id: int) -> Survey:
    """A survey of a programme the organiser manages; NotFound for any other."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        member_service.require_member(organiser)
        raise NotFound("There is no such survey.")
    try:
        _programme(session, organiser, survey.programme_id)
    except NotFound as error:
        raise NotFound("There is no such survey.") from error
    return survey


def questions_of(*, session: Session, survey_id: int) -> list[SurveyQuestion]:
    """A survey's questions, in order."""
    return list(
        session.exec(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey_id)
            .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
        ).all()
    )


def questions_for(
    *, session: Session, survey_ids: Iterable[int]
) -> dict[int, list[SurveyQuestion]]:
    """The questions of many surveys in one query, in order, by survey id."""
    wanted = sorted(set(survey_ids))
    found: dict[int, list[SurveyQuestion]] = {i: [] for i in wanted}
    if wanted:
        for question in session.exec(
            select(SurveyQuestion)
            .where(col(SurveyQuestion.survey_id).in_(wanted))
            .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
        ).all():
            found[question.survey_id].append(question)
    return found


def _text_problem(value: str, label: str, limit: int, *, required: bool) -> str | None:
    if required and not value.strip():
        return f"Enter the {label}."
    return text_problem(value, label=label, maximum=limit)


def survey_problems(settings: SurveySettings) -> dict[str, str]:
    """What is wrong with a new survey's settings, by field."""
    problems: dict[str, str] = {}
    if settings.stage not in SURVEY_STAGES:
        problems["stage"] = "Choose when the survey is sent: start, middle or end."
    for name, value, label, limit, required in (
        ("title", settings.title, "title", TITLE_MAX, True),
        ("introduction", settings.introduction, "introduction", INTRODUCTION_MAX, False),
    ):
        problem = _text_problem(value, label, limit, required=required)
        if problem:
            problems[name] = problem
    return problems


def _record(session: Session, organiser: Member, action: str, survey: Survey, **details: Any):
    audit.record(
        session,
        actor=organiser,
        action=action,
        subject=audit.subject("survey", survey.id),
        details={"programme_id": survey.programme_id, **details},
    )


def create_survey(
    *, session: Session, organiser: Member | None, programme_id: int, settings: SurveySettings
) -> Survey:
    """A new draft survey of the programme."""
    organiser = member_service.require_member(organiser)
    programme = _programme(session, organiser, programme_id)
    problems = survey_problems(settings)
    if problems:
        raise FieldErrors(problems)
    survey = Survey(
        programme_id=programme.id,
        stage=settings.stage,
        title=settings.title.strip(),
        introduction=settings.introduction.strip(),
        created_by_id=organiser.id,
    )
    session.add(survey)
    session.flush()
    _record(session, organiser, audit.actions.SURVEY_CREATED, survey)
    return survey


def question_problems(question: QuestionSettings) -> dict[str, str]:
    """What is wrong with a question, by field (``kind``, ``text``, ``hint``, ``choices``)."""
    problems: dict[str, str] = {}
    if question.kind not in SURVEY_QUESTION_KINDS:
        problems["kind"] = "Choose the kind of question."
    for name, value, label, limit, required in (
        ("text", question.text, "question", QUESTION_MAX, True),
        ("hint", question.hint, "hint", HINT_MAX, False),
    ):
        problem = _text_problem(value, label, limit, required=required)
        if problem:
            problems[name] = problem
    choices = [c.strip() for c in question.choices if c.strip()]
    if question.kind == "choice":
        if len(choices) < 2:
            problems["choices"] = "Give at least 2 options, one a line."
        elif len(choices) > MAX_CHOICES:
            problems["choices"] = f"Give at most {MAX_CHOICES} options."
        elif len({c.casefold() for c in choices}) < len(choices):
            problems["choices"] = "Each option must be different."
        elif any(len(c) > CHOICE_MAX for c in choices):
            problems["choices"] = f"Each option must be {CHOICE_MAX} characters or fewer."
        elif any(text_problem(c, label="option", one_line=True) for c in choices):
            problems["choices"] = next(
                p for c in choices if (p := text_problem(c, label="option", one_line=True))
            )
    elif choices:
        problems["choices"] = "Only single-choice questions have options."
    return problems


def _add(session: Session, survey: Survey, question: QuestionSettings, position: int):
    row = SurveyQuestion(
        survey_id=survey.id,
        position=position,
        kind=question.kind,
        text=question.text.strip(),
        hint=question.hint.strip(),
        required=question.required,
        choices=json.dumps([c.strip() for c in question.choices if c.strip()]),
    )
    session.add(row)
    return row


def add_question(
    *, session: Session, organiser: Member | None, survey_id: int, question: QuestionSettings
) -> SurveyQuestion:
    """Add a question at the end of a draft survey."""
    organiser = member_service.require_member(organiser)
    survey = get_survey(session=session, organiser=organiser, survey_id=survey_id)
    if survey.status != "draft":
        raise Conflict(FROZEN)
    problems = question_problems(question)
    if problems:
        raise FieldErrors(problems)
    existing = questions_of(session=session, survey_id=survey.id)
    if len(existing) >= MAX_QUESTIONS:
        raise Conflict(f"A survey has at most {MAX_QUESTIONS} questions.", field="text")
    row = _add(session, survey, question, max((q.position for q in existing), default=0) + 1)
    session.flush()
    _record(session, organiser, audit.actions.SURVEY_QUESTION_ADDED, survey, question_id=row.id)
    return row


def remove_question(
    *, session: Session, organiser: Member | None, survey_id: int, question_id: int
) -> None:
    """Take a question out of a draft survey."""
    survey = get_survey(session=session, organiser=organiser, survey_id=survey_id)
    if survey.status != "draft":
        raise Conflict(FROZEN)
    question = session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey.id:
        raise NotFound("There is no such question in this survey.")
    session.delete(question)
    session.flush()


def publish_survey(*, session: Session, organiser: Member | None, survey_id: int) -> Survey:
    """Publish a draft: from now its questions are frozen and members are invited."""
    organiser = member_service.require_member(organiser)
    survey = get_survey(session=session, organiser=organiser, survey_id=survey_id)
    if survey.status != "draft":
        raise Conflict("Only a draft survey can be published.")
    if not questions_of(session=session, survey_id=survey.id):
        raise Conflict("Add at least one question before publishing.", field="text")
    now = utcnow()
    try:
        with session.begin_nested():
            moved = session.exec(
                update(Survey)
                .where(col(Survey.id) == survey.id)
                .where(col(Survey.status) == "draft")
                .values(status="published", published_at=now)
            ).rowcount
    except IntegrityError as error:
        raise Conflict(
            f"This programme already has a published survey for the "
            f"{survey.stage} of mentorships. Close it before publishing another."
        ) from error
    if not moved:
        raise Conflict("Only a draft survey can be published.")
    session.refresh(survey)
    _record(session, organiser, audit.actions.SURVEY_PUBLISHED, survey)
    return survey


def close_survey(*, session: Session, organiser: Member | None, survey_id: int) -> Survey:
    """Close a published survey: no more invitations or answers; results stay."""
    organiser = member_service.require_member(organiser)
    survey = get_survey(session=session, organiser=organiser, survey_id=survey_id)
    moved = session.exec(
        update(Survey)
        .where(col(Survey.id) == survey.id)
        .where(col(Survey.status) == "published")
        .values(status="closed", closed_at=utcnow())
    ).rowcount
    if not moved:
        raise Conflict("Only a published survey can be closed.")
    session.refresh(survey)
    _record(session, organiser, audit.actions.SURVEY_CLOSED, survey)
    return survey


DEFAULT_END_TITLE = "How did your mentorship go?"
DEFAULT_END_INTRODUCTION = (
    "Five short questions about the mentorship that has just ended. Your answers are only "
    "ever shown to the organisers as totals."
)
DEFAULT_END_QUESTIONS: tuple[QuestionSettings, ...] = (
    QuestionSettings("agreement", "The mentorship helped me grow as a leader."),
    QuestionSettings("agreement", "We made progress on the goals we agreed."),
    QuestionSettings("agreement", "We met as often as we planned."),
    QuestionSettings("recommend", "How likely are you to recommend this programme to a colleague?"),
    QuestionSettings(
        "choice",
        "Would you take part in a programme like this again?",
        choices=("Yes, as a mentee", "Yes, as a mentor", "Not sure", "No"),
    ),
    QuestionSettings(
        "text", "What one thing would have made the mentorship better?", required=False
    ),
)


def has_end_survey(*, session: Session, programme_id: int) -> bool:
    """True when the programme has an end survey that is not closed."""
    return (
        session.exec(
            select(Survey.id)
            .where(Survey.programme_id == programme_id)
            .where(Survey.stage == "end")
            .where(Survey.status != "closed")
        ).first()
        is not None
    )


def create_default_end_survey(
    *, session: Session, organiser: Member | None, programme_id: int
) -> Survey:
    """The standard end survey as a draft, for a programme that has none (one click)."""
    organiser = member_service.require_member(organiser)
    programme = _programme(session, organiser, programme_id)
    if has_end_survey(session=session, programme_id=programme.id):
        raise Conflict("This programme already has an end survey.")
    survey = create_survey(
        session=session,
        organiser=organiser,
        programme_id=programme.id,
        settings=SurveySettings("end", DEFAULT_END_TITLE, DEFAULT_END_INTRODUCTION),
    )
    for position, question in enumerate(DEFAULT_END_QUESTIONS, start=1):
        _add(session, survey, question, position)
    session.flush()
    return survey


# The periodic step: invitations -------------------------------------------------------------


def due_at(stage: str, mentorship: Mentorship) -> datetime | None:
    """When ``stage`` comes for the mentorship (None: it never will, or not any more)."""
    started = _aware(mentorship.started_at)
    if stage == "start":
        return started + START_AFTER if mentorship.status == "active" else None
    if stage == "middle":
        half = timedelta(days=mentorship.planned_months * DAYS_PER_MONTH / 2)
        return started + half if mentorship.status == "active" else None
    if mentorship.status != "active" and mentorship.ended_at is not None:
        return _aware(mentorship.ended_at)
    return None


def _insert_ignoring_duplicates(session: Session, rows: list[dict[str, Any]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(SurveyInvitation)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["survey_id", "mentorship_id", "member_id"])
    )


def _candidates(session: Session, survey: Survey, now: datetime) -> list[Mentorship]:
    published = _aware(survey.published_at or now)
    invited = select(SurveyInvitation.mentorship_id).where(SurveyInvitation.survey_id == survey.id)
    query = (
        select(Mentorship)
        .where(Mentorship.programme_id == survey.programme_id)
        .where(col(Mentorship.id).not_in(invited))
    )
    if survey.stage == "end":
        query = query.where(Mentorship.status != "active").where(
            col(Mentorship.ended_at) >= published - GRACE
        )
    else:
        query = query.where(Mentorship.status == "active")
    found = []
    for mentorship in session.exec(query.order_by(col(Mentorship.id))).all():
        moment = due_at(survey.stage, mentorship)
        if moment is not None and published - GRACE <= moment <= now:
            found.append(mentorship)
    return found


def _invite(session: Session, survey: Survey, programme: Programme, now: datetime) -> int:
    sent = 0
    for mentorship in _candidates(session, survey, now):
        sides = [m for m in (mentorship.mentee_id, mentorship.mentor_id) if m is not None]
        if not sides:
            continue
        _insert_ignoring_duplicates(
            session,
            [
                {"survey_id": survey.id, "mentorship_id": mentorship.id, "member_id": m}
                for m in sides
            ],
        )
        for member_id in sides:
            # The claim: only the worker whose update moves sent_at from NULL sends.
            claimed = session.exec(
                update(SurveyInvitation)
                .where(col(SurveyInvitation.survey_id) == survey.id)
                .where(col(SurveyInvitation.mentorship_id) == mentorship.id)
                .where(col(SurveyInvitation.member_id) == member_id)
                .where(col(SurveyInvitation.sent_at).is_(None))
                .values(sent_at=now)
            ).rowcount
            member = session.get(Member, member_id)
            if not claimed or member is None or not member.is_active:
                continue
            notifications.notify_member(
                session=session,
                member=member,
                kind="survey",
                title=f"A short survey about your mentorship in {programme.name}",
                body=f"{survey.title} Please answer a few questions about your mentorship in "
                f"{programme.name}: it takes two minutes and helps the organisers improve it.",
                link=answer_link(survey.id, mentorship.id),
            )
            sent += 1
    return sent


def answer_link(survey_id: int, mentorship_id: int) -> str:
    """The page where a member answers a survey about a mentorship."""
    return f"/surveys/{survey_id}/mentorships/{mentorship_id}"


def send_due_invitations(*, session: Session, now: datetime | None = None) -> int:
    """The worker's step: invite each side of every mentorship whose stage has come to the
    published survey of that stage; returns how many invitations were sent.

    Each invitation is a row (unique per survey, mentorship and member) claimed with a
    conditional UPDATE of ``sent_at``, so two workers never send one twice. Each survey is
    committed on its own, like the programme's end (which runs first, so the end survey of a
    programme that has just ended goes out in the same pass).
    """
    moment = _aware(now or utcnow())
    ids = list(
        session.exec(
            select(Survey.id).where(Survey.status == "published").order_by(col(Survey.id))
        ).all()
    )
    db.commit_for_job(session)
    sent = 0
    for survey_id in ids:
        try:
            survey = session.get(Survey, survey_id)
            programme = session.get(Programme, survey.programme_id) if survey else None
            if survey is not None and programme is not None and survey.status == "published":
                sent += _invite(session, survey, programme, moment)
            db.commit_for_job(session)
        except Exception:
            db.rollback_for_job(session)
            log.exception("sending invitations to survey %s failed", survey_id)
    return sent


# Members: answering -----------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    """A survey waiting for the member's answers about one mentorship."""

    survey: Survey
    mentorship: Mentorship
    programme: Programme
    partner: Member | None
    role: str
    invited_at: datetime


def _invitation_view(session: Session, member: Member, invitation: SurveyInvitation):
    survey = session.get(Survey, invitation.survey_id)
    mentorship = session.get(Mentorship, invitation.mentorship_id)
    if survey is None or mentorship is None:
        return None
    programme = session.get(Programme, survey.programme_id)
    if programme is None:
        return None
    role = "mentor" if mentorship.mentor_id == member.id else "mentee"
    other = mentorship.mentee_id if role == "mentor" else mentorship.mentor_id
    return Invitation(
        survey=survey,
        mentorship=mentorship,
        programme=programme,
        partner=session.get(Member, other) if other else None,
        role=role,
        invited_at=invitation.sent_at or invitation.created_at,
    )


def _waiting(member_id: int | None, mentorship_id: int | None = None) -> Any:
    """The conditions of a survey waiting for the member: published, invited, not answered
    (about one mentorship when ``mentorship_id`` is given)."""
    answered = select(SurveyResponse.id).where(
        SurveyResponse.survey_id == SurveyInvitation.survey_id,
        SurveyResponse.mentorship_id == SurveyInvitation.mentorship_id,
        SurveyResponse.member_id == member_id,
    )
    conditions: list[Any] = [
        SurveyInvitation.member_id == member_id,
        col(SurveyInvitation.sent_at).is_not(None),
        Survey.status == "published",
        ~answered.exists(),
    ]
    if mentorship_id is not None:
        conditions.append(SurveyInvitation.mentorship_id == mentorship_id)
    return and_(*conditions)


def pending_for(
    *, session: Session, member: Member | None, mentorship_id: int | None = None
) -> list[Invitation]:
    """The member's surveys waiting for an answer (published, invited, not answered), about
    one of their mentorships when ``mentorship_id`` is given."""
    member = member_service.require_member(member)
    rows = session.exec(
        select(SurveyInvitation)
        .join(Survey, col(Survey.id) == col(SurveyInvitation.survey_id))
        .where(_waiting(member.id, mentorship_id))
        .order_by(col(SurveyInvitation.sent_at), col(SurveyInvitation.id))
    ).all()
    return [v for row in rows if (v := _invitation_view(session, member, row)) is not None]


@dataclass(frozen=True)
class ToAnswer:
    """A survey as the member sees it: its questions, and whether they have answered it."""

    invitation: Invitation
    questions: list[SurveyQuestion]
    answered: bool


def get_to_answer(
    *, session: Session, member: Member | None, survey_id: int, mentorship_id: int
) -> ToAnswer:
    """A survey the member was invited to about their mentorship; NotFound otherwise."""
    member = member_service.require_member(member)
    invitation = session.exec(
        select(SurveyInvitation)
        .where(SurveyInvitation.survey_id == survey_id)
        .where(SurveyInvitation.mentorship_id == mentorship_id)
        .where(SurveyInvitation.member_id == member.id)
        .where(col(SurveyInvitation.sent_at).is_not(None))
    ).first()
    view = _invitation_view(session, member, invitation) if invitation else None
    if view is None or view.survey.status == "draft":
        raise NotFound("There is no such survey for you.")
    answered = _response_of(session, survey_id, mentorship_id, member.id) is not None
    return ToAnswer(
        invitation=view,
        questions=questions_of(session=session, survey_id=survey_id),
        answered=answered,
    )


def _response_of(session: Session, survey_id: int, mentorship_id: int, member_id: int | None):
    return session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.survey_id == survey_id)
        .where(SurveyResponse.mentorship_id == mentorship_id)
        .where(SurveyResponse.member_id == member_id)
    ).first()


def field_of(question: SurveyQuestion) -> str:
    """The form field (and error key) of a question's answer."""
    return f"question_{question.id}"


def answer_problems(questions: Iterable[SurveyQuestion], given: GivenAnswers) -> dict[str, str]:
    """What is wrong with the answers, keyed by each question's field; a missing required
    answer is named by its question, so the error summary says which."""
    problems: dict[str, str] = {}
    known = set()
    for number, question in enumerate(questions, start=1):
        known.add(question.id)
        value = (given.values.get(question.id) or "").strip()
        name = field_of(question)
        if not value:
            if question.required:
                problems[name] = f"Answer question {number}: {question.text}"
            continue
        if question.kind == "agreement" and value not in dict(AGREEMENT):
            problems[name] = f"Choose one of the five answers to question {number}."
        elif question.kind == "recommend" and value not in dict(RECOMMEND):
            problems[name] = f"Choose a number from 0 to 10 for question {number}."
        elif question.kind == "choice" and value not in question.choice_list:
            problems[name] = f"Choose one of the options of question {number}."
        elif question.kind == "text":
            if len(value) > ANSWER_MAX:
                problems[name] = (
                    f"The answer to question {number} must be {ANSWER_MAX:,} characters or fewer."
                )
            elif problem := text_problem(value, label=f"answer to question {number}"):
                problems[name] = problem
    unknown = (set(given.values) | set(given.shared)) - known
    if unknown:
        problems["answers"] = "An answer is for a question this survey does not have."
    return problems


def answer_survey(
    *,
    session: Session,
    member: Member | None,
    survey_id: int,
    mentorship_id: int,
    given: GivenAnswers,
) -> SurveyResponse:
    """Save the member's answers, once per survey and mentorship (a retry finds a Conflict)."""
    member = member_service.require_member(member)
    form = get_to_answer(
        session=session, member=member, survey_id=survey_id, mentorship_id=mentorship_id
    )
    if form.invitation.survey.status != "published":
        raise Conflict("This survey is closed: it no longer takes answers.")
    if form.answered:
        raise Conflict("You have already answered this survey.")
    problems = answer_problems(form.questions, given)
    if problems:
        raise FieldErrors(problems)
    response = SurveyResponse(
        survey_id=survey_id,
        mentorship_id=mentorship_id,
        member_id=member.id,
        role=form.invitation.role,
    )
    try:
        with session.begin_nested():
            session.add(response)
            session.flush()
            for question in form.questions:
                value = (given.values.get(question.id) or "").strip()
                if value:
                    session.add(
                        SurveyAnswer(
                            response_id=response.id,
                            question_id=question.id,
                            value=value,
                            shareable=question.kind == "text" and question.id in given.shared,
                        )
                    )
            session.flush()
    except IntegrityError as error:
        raise Conflict("You have already answered this survey.") from error
    # Answered: the invitations to fill it in are done.
    notifications.mark_read_about(
        session=session, member_id=member.id, link=answer_link(survey_id, mentorship_id)
    )
    return response


# Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One answer of a question and how many gave it (published)."""

    label: str
    count: Count


@dataclass(frozen=True)
class QuestionResult:
    """A question's published results: distribution, total, and its summary figures."""

    question: SurveyQuestion
    lines: list[Line]
    answered: Count
    mean: float | None = None  # agreement: 1 (strongly disagree) to 5 (strongly agree)
    nps: float | None = None  # recommend: % promoters less % detractors, -100 to 100
    nps_groups: list[Line] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # shared free text, never with names


@dataclass(frozen=True)
class SurveyResults:
    """A survey's results under disclosure control."""

    survey: Survey
    programme: Programme
    responses: Count
    questions: list[QuestionResult]


def _protected(
    counts: list[int], keys: list[int], cell_keys: CellKeys
) -> tuple[list[Count], Count]:
    table = dc.protect_table([[n] for n in counts], [[k] for k in keys], keys=cell_keys)
    return [row[0] for row in table.cells], table.column_totals[0]


def _cells(
    options: Sequence[str],
    answers: list[tuple[int, str]],
    cell_keys: CellKeys,
) -> tuple[list[Count], Count]:
    ids = {option: [] for option in options}  # type: dict[str, list[int]]
    for response_id, value in answers:
        if value in ids:
            ids[value].append(response_id)
    keys = [
        dc.cell_key(cell_keys.record_keys("survey-response", rows)) if rows else 0
        for rows in ids.values()
    ]
    return _protected([len(rows) for rows in ids.values()], keys, cell_keys)


def _mean(values: Sequence[int], counts: Sequence[Count]) -> float | None:
    """A mean from published counts; hidden if any count behind it is hidden."""
    if any(c.hidden for c in counts):
        return None
    total = sum(c.value or 0 for c in counts)
    if total == 0:
        return None
    return round(sum(v * (c.value or 0) for v, c in zip(values, counts, strict=True)) / total, 1)


def _nps(groups: Sequence[Count]) -> float | None:
    if any(c.hidden for c in groups):
        return None
    total = sum(c.value or 0 for c in groups)
    if total == 0:
        return None
    return round(100.0 * ((groups[2].value or 0) - (groups[0].value or 0)) / total, 0)


def _question_result(
    question: SurveyQuestion, answers: list[tuple[int, str, bool]], cell_keys: CellKeys
) -> QuestionResult:
    pairs = [(response_id, value) for response_id, value, _ in answers]
    if question.kind == "text":
        answered, _ = _cells(["given"], [(r, "given") for r, _ in pairs], cell_keys)
        return QuestionResult(
            question=question,
            lines=[],
            answered=answered[0],
            texts=sorted(value for _, value, shared in answers if shared),
        )
    if question.kind == "agreement":
        options: Sequence[tuple[str, str]] = AGREEMENT
    elif question.kind == "recommend":
        options = RECOMMEND
    else:
        options = [(c, c) for c in question.choice_list]
    counts, total = _cells([value for value, _ in options], pairs, cell_keys)
    lines = [Line(label, count) for (_, label), count in zip(options, counts, strict=True)]
    if question.kind == "agreement":
        return QuestionResult(
            question=question,
            lines=lines,
            answered=total,
            mean=_mean([1, 2, 3, 4, 5], counts),
        )
    if question.kind == "recommend":
        grouped = [
            (r, "0" if int(v) <= 6 else "1" if int(v) <= 8 else "2")
            for r, v in pairs
            if v.isdigit()
        ]
        groups, _ = _cells(["0", "1", "2"], grouped, cell_keys)
        return QuestionResult(
            question=question,
            lines=lines,
            answered=total,
            nps=_nps(groups),
            nps_groups=[Line(label, c) for label, c in zip(NPS_GROUPS, groups, strict=True)],
        )
    return QuestionResult(question=question, lines=lines, answered=total)


def _results(session: Session, survey: Survey, programme: Programme, cell_keys: CellKeys):
    questions = questions_of(session=session, survey_id=survey.id)
    response_ids = list(
        session.exec(
            select(SurveyResponse.id)
            .where(SurveyResponse.survey_id == survey.id)
            .order_by(col(SurveyResponse.id))
        ).all()
    )
    answers: dict[int, list[tuple[int, str, bool]]] = {q.id: [] for q in questions}
    if response_ids:
        for response_id, question_id, value, shared in session.exec(
            select(
                SurveyAnswer.response_id,
                SurveyAnswer.question_id,
                SurveyAnswer.value,
                SurveyAnswer.shareable,
            )
            .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
            .where(SurveyResponse.survey_id == survey.id)
        ).all():
            answers.setdefault(question_id, []).append((response_id, value, bool(shared)))
    responses, _ = _cells(["all"], [(r, "all") for r in response_ids], cell_keys)
    return SurveyResults(
        survey=survey,
        programme=programme,
        responses=responses[0],
        questions=[_question_result(q, answers.get(q.id, []), cell_keys) for q in questions],
    )


def survey_results(
    *,
    session: Session,
    organiser: Member | None,
    survey_id: int,
    keys: CellKeys | None = None,
) -> SurveyResults:
    """A survey's results for an organiser in scope: every count disclosure-controlled (as
    insights are), means and NPS from the published counts, shared free text without names.
    The view is recorded in the audit log."""
    organiser = member_service.require_member(organiser)
    survey = get_survey(session=session, organiser=organiser, survey_id=survey_id)
    programme = session.get(Programme, survey.programme_id)
    assert programme is not None
    results = _results(session, survey, programme, keys or dc.default_cell_keys())
    _record(session, organiser, audit.actions.SURVEY_RESULTS_VIEWED, survey)
    return results


def programme_survey_results(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int,
    keys: CellKeys | None = None,
) -> list[SurveyResults]:
    """Results of every published or closed survey of the programme (for the impact report),
    by stage; the same disclosure control and scope as ``survey_results``."""
    organiser = member_service.require_member(organiser)
    programme = _programme(session, organiser, programme_id)
    cell_keys = keys or dc.default_cell_keys()
    found = [
        _results(session, survey, programme, cell_keys)
        for survey in surveys_of(session=session, organiser=organiser, programme_id=programme.id)
        if survey.status != "draft"
    ]
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.SURVEY_RESULTS_VIEWED,
        subject=audit.subject("programme", programme.id),
        details={"programme_id": programme.id, "surveys": len(found)},
    )
    return found


# End-of-mentorship feedback, for organisers ---------------------------------------------------


@dataclass(frozen=True)
class FeedbackEntry:
    """One side's words at the end of a mentorship, with the pair's names (organisers only)."""

    mentorship_id: int
    mentor_name: str
    mentee_name: str
    author_role: str
    text: str
    given_at: datetime


@dataclass(frozen=True)
class FeedbackReport:
    """A programme's end feedback: ratings (published counts) and the words given."""

    programme: Programme
    ratings: list[Line]
    rated: Count
    mean: float | None
    entries: list[FeedbackEntry]


FORMER_MEMBER = "Former member"
RATING_LABELS = ("1 (poor)", "2", "3", "4", "5 (excellent)")


def mentorship_feedback(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int,
    keys: CellKeys | None = None,
) -> FeedbackReport:
    """The programme's end-of-mentorship feedback for an organiser in scope.

    The end form tells members "The organisers of <programme> read what you write here, with
    your names; your partner never sees your rating", so the words are shown, with the pair's
    names, to organisers whose scope covers the programme, and each reading is written to the
    audit log. Ratings are shown only as counts under disclosure
    control (the mentorship page promises the partner never sees a rating; no rating is
    shown beside a name here either).
    """
    organiser = member_service.require_member(organiser)
    programme = _programme(session, organiser, programme_id)
    cell_keys = keys or dc.default_cell_keys()
    rows = session.exec(
        select(MentorshipFeedback, Mentorship)
        .join(Mentorship, col(Mentorship.id) == col(MentorshipFeedback.mentorship_id))
        .where(Mentorship.programme_id == programme.id)
        .order_by(col(MentorshipFeedback.created_at).desc(), col(MentorshipFeedback.id).desc())
    ).all()
    ratings = [(f.id, str(f.rating)) for f, _ in rows]
    # Feedback rows are their own records: keys of a kind apart from survey responses.
    ids: dict[str, list[int]] = {str(n): [] for n in range(1, 6)}
    for feedback_id, rating in ratings:
        ids.setdefault(rating, []).append(feedback_id)
    cell = [
        dc.cell_key(cell_keys.record_keys("mentorship-feedback", r)) if r else 0
        for r in ids.values()
    ]
    counts, total = _protected([len(r) for r in ids.values()], cell, cell_keys)
    people = {
        m.id: m.name
        for m in session.exec(
            select(Member).where(
                col(Member.id).in_(
                    {x for _, ms in rows for x in (ms.mentor_id, ms.mentee_id) if x is not None}
                )
            )
        ).all()
    }
    entries = [
        FeedbackEntry(
            mentorship_id=ms.id,
            mentor_name=people.get(ms.mentor_id or 0, FORMER_MEMBER),
            mentee_name=people.get(ms.mentee_id or 0, FORMER_MEMBER),
            author_role=f.author_role,
            text=f.text,
            given_at=f.created_at,
        )
        for f, ms in rows
        if f.text.strip()
    ]
    audit.record(
        session,
        actor=organiser,
        action=audit.actions.FEEDBACK_VIEWED,
        subject=audit.subject("programme", programme.id),
        details={"programme_id": programme.id, "entries": len(entries)},
    )
    return FeedbackReport(
        programme=programme,
        ratings=[Line(label, c) for label, c in zip(RATING_LABELS, counts, strict=True)],
        rated=total,
        mean=_mean([1, 2, 3, 4, 5], counts),
        entries=entries,
    )


# Privacy ----------------------------------------------------------------------------------


def export_for(*, session: Session, member_id: int) -> list[dict[str, Any]]:
    """The member's survey responses with their answers (for their data export)."""
    responses = session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.member_id == member_id)
        .order_by(col(SurveyResponse.id))
    ).all()
    out = []
    for response in responses:
        survey = session.get(Survey, response.survey_id)
        answers = session.exec(
            select(SurveyAnswer, SurveyQuestion)
            .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
            .where(SurveyAnswer.response_id == response.id)
            .order_by(col(SurveyQuestion.position), col(SurveyQuestion.id))
        ).all()
        out.append(
            {
                "survey": survey.title if survey else "",
                "stage": survey.stage if survey else "",
                "mentorship_id": response.mentorship_id,
                "role": response.role,
                "submitted_at": response.submitted_at.isoformat(),
                "answers": [
                    {
                        "question": q.text,
                        "answer": a.value,
                        "organisers_may_read": a.shareable,
                    }
                    for a, q in answers
                ],
            }
        )
    return out


def erase_for(*, session: Session, member_id: int) -> None:
    """Delete the member's invitations, responses and answers (for erasure)."""
    mine = select(SurveyResponse.id).where(SurveyResponse.member_id == member_id)
    session.execute(delete(SurveyAnswer).where(col(SurveyAnswer.response_id).in_(mine)))
    session.execute(delete(SurveyResponse).where(col(SurveyResponse.member_id) == member_id))
    session.execute(delete(SurveyInvitation).where(col(SurveyInvitation.member_id) == member_id))


def pending_count(*, session: Session, member_id: int) -> int:
    """How many surveys wait for the member's answers (for the home page's link)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(SurveyInvitation)
            .join(Survey, col(Survey.id) == col(SurveyInvitation.survey_id))
            .where(_waiting(member_id))
        ).one()
    )
