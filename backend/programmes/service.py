"""Programme rules: the default programme; organisers create, edit and publish programmes
and decide on applications; members browse the programmes open to them and apply.

Authorisation lives here (``backend.chapters.service``): an organiser manages only the
programmes of their chapters (network organisers: all), and a programme outside their scope is
NotFound, never Forbidden, so its existence does not leak. Members see the published
programmes of the chapters that cover them and the network-wide ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import london, text
from backend.audit import actions
from backend.audit import service as audit
from backend.chapters import service as chapters
from backend.chapters.models import Chapter
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound
from backend.members import service as member_service
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.privacy import widening
from backend.programmes.models import (
    APPLICATION_ROLES,
    APPLICATION_STATUSES,
    DEFAULT_PROGRAMME_NAME,
    PAIRING_MODES,
    PROGRAMME_TYPES,
    QUESTION_KINDS,
    Programme,
    ProgrammeAnswer,
    ProgrammeApplication,
    ProgrammeQuestion,
)
from vocabulary import (
    BAND_RANK,
    BANDS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    WIDENING_CATEGORIES,
    humanise,
)

DEFAULT_PROGRAMME_DESCRIPTION = (
    "The network's open mentoring, all year round: find a mentor from another organisation "
    "and ask them, or be matched in a round run by the organisers."
)


def default_programme_id(*, session: Session) -> int:
    """The id of the network's default programme (open, always-on mentoring), made if missing.

    Safe when first uses race: the row is inserted with ON CONFLICT DO NOTHING on the partial
    unique index of ``is_default``, then read, so every caller gets the one row.
    """
    by_default = select(Programme.id).where(col(Programme.is_default).is_(True))
    existing = session.exec(by_default).first()
    if existing is not None:
        return existing
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    session.execute(
        insert(Programme)
        .values(
            name=DEFAULT_PROGRAMME_NAME,
            description=DEFAULT_PROGRAMME_DESCRIPTION,
            type="one-to-one",
            pairing="both",
            status="published",
            is_default=True,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["is_default"], index_where=sql_text("is_default"))
    )
    return session.exec(by_default).one()


# Dates, vocabulary and words ------------------------------------------------------------------

DATE_FIELDS: tuple[tuple[str, str], ...] = (
    ("applications_open_on", "applications open"),
    ("applications_close_on", "applications close"),
    ("matching_on", "matching"),
    ("starts_on", "start"),
    ("ends_on", "end"),
)
DECISIONS: tuple[str, ...] = ("accepted", "waitlisted", "declined")
UNDECIDED: tuple[str, ...] = ("submitted", "waitlisted")
MAX_QUESTIONS = 30
MAX_CHOICES = 30
MAX_ANSWER = 5000
NAME_MAX = 200
DESCRIPTION_MAX = 5000
MESSAGE_MAX = 2000
TYPE_LABELS = {
    "one-to-one": "One-to-one mentoring",
    "reciprocal": "Reciprocal mentoring",
    "group": "Group mentoring",
}
TYPE_HINTS = {
    "one-to-one": "One mentor and one mentee. The mentor's band is always above the mentee's.",
    "reciprocal": "A senior leader (band 8a or above) and a member with widening-access "
    "priority, for example from a group under-represented in management. Each learns from "
    "the other, so the usual rule that the mentor is the more senior is set aside.",
    "group": "One mentor and a group of mentees who seek what the mentor offers. The round "
    "forms the groups; the group meets and logs its sessions together.",
}
PAIRING_LABELS = {
    "requests": "Members ask mentors themselves",
    "round": "The organisers match people in a round",
    "both": "Members ask mentors, and the organisers run rounds",
}
STATUS_LABELS = {"draft": "Draft", "published": "Published", "ended": "Ended"}
APPLICATION_LABELS = {
    "submitted": "Waiting for a decision",
    "accepted": "Accepted",
    "waitlisted": "On the waiting list",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
}


def today_in_london(now: datetime | None = None) -> date:
    """Today's date in Europe/London (programme dates are calendar days there)."""
    return london.london_today(now)


def long_date(day: date) -> str:
    """'3 March 2027'."""
    return london.format_date(day)


def _and(items: list[str], *, word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def bands_phrase(bands: list[str]) -> str:
    """'bands 3 to 5', 'band 4', 'bands 3, 5 and 8a' (in the vocabulary's order)."""
    ordered = sorted(set(bands), key=lambda b: BAND_RANK.get(b, 99))
    if len(ordered) == 1:
        return "VSM" if ordered[0] == "VSM" else f"band {ordered[0]}"
    ranks = [BAND_RANK.get(b, -1) for b in ordered]
    if ranks == list(range(ranks[0], ranks[0] + len(ranks))) and len(ordered) > 2:
        return f"bands {ordered[0]} to {ordered[-1]}"
    return f"bands {_and(ordered)}"


def _labels(values: list[str]) -> str:
    return _and([humanise(v) for v in values], word="or")


def eligibility_words(programme: Programme) -> list[str]:
    """Who may apply as a mentee, one plain sentence a rule ([] : anyone)."""
    words: list[str] = []
    if programme.bands:
        words.append(f"For {bands_phrase(programme.bands)}.")
    if programme.regions:
        words.append(f"For members in {_and(programme.regions, word='or')}.")
    if programme.role_families:
        words.append(f"For these role families: {_labels(programme.role_families)}.")
    if programme.professions:
        words.append(f"For these professions: {_labels(programme.professions)}.")
    if programme.widening_access_only:
        words.append("Only for members with widening-access priority.")
    return words


def reasons_not_eligible(
    programme: Programme,
    member: Member,
    *,
    role: str = "mentee",
    session: Session | None = None,
) -> list[str]:
    """Why ``member`` may not apply to ``programme`` as ``role``, one sentence per rule broken,
    naming their own value ([]: eligible). The rules are for mentees; mentors may apply to any
    programme open to them. With ``session``, widening-access priority counts a member's own
    consented claim in a category the programme counts (backend/privacy/widening.py)."""
    if role != "mentee":
        return []
    reasons: list[str] = []
    if programme.bands and member.band not in programme.bands:
        reasons.append(
            f"This programme is for {bands_phrase(programme.bands)}. Your band is {member.band}."
        )
    if programme.regions and member.region not in programme.regions:
        reasons.append(
            f"This programme is for members in {_and(programme.regions, word='or')}. "
            f"Your region is {member.region}."
        )
    if programme.role_families and member.role_family not in programme.role_families:
        reasons.append(
            f"This programme is for these role families: {_labels(programme.role_families)}. "
            f"Your role family is {humanise(member.role_family)}."
        )
    if programme.professions and member.profession not in programme.professions:
        reasons.append(
            f"This programme is for these professions: {_labels(programme.professions)}. "
            f"Your profession is {humanise(member.profession)}."
        )
    if programme.widening_access_only and not (
        widening.is_widening_access(session, member, programme)
        if session is not None
        else member.priority_access
    ):
        reasons.append(
            "This programme is only for members with widening-access priority. "
            "You do not have widening-access priority."
        )
    return reasons


def applications_problem(programme: Programme, *, today: date | None = None) -> str | None:
    """Why applications are not open today (naming the dates), or None when they are."""
    today = today or today_in_london()
    if programme.status != "published":
        return "This programme is not taking applications."
    opens, closes = programme.applications_open_on, programme.applications_close_on
    if opens is not None and today < opens:
        until = f" until {long_date(closes)}" if closes else ""
        return f"Applications open on {long_date(opens)}{until}."
    if closes is not None and today > closes:
        return f"Applications closed on {long_date(closes)}."
    return None


def is_open(programme: Programme, *, today: date | None = None) -> bool:
    """True when the programme takes applications today."""
    return not programme.is_default and applications_problem(programme, today=today) is None


# Creating and editing -----------------------------------------------------------------------


@dataclass
class ProgrammeSettings:
    """Everything an organiser sets on a programme (a full replacement when editing)."""

    name: str
    description: str = ""
    type: str = "one-to-one"
    group_size: int | None = None
    pairing: str = "both"
    applications_open_on: date | None = None
    applications_close_on: date | None = None
    matching_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    bands: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    role_families: list[str] = field(default_factory=list)
    professions: list[str] = field(default_factory=list)
    widening_access_only: bool = False
    widening_categories: list[str] = field(default_factory=list)
    places: int | None = None
    chapter_id: int | None = None

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeSettings:
        """The settings a programme has now (to edit)."""
        return cls(
            name=programme.name,
            description=programme.description,
            type=programme.type,
            group_size=programme.group_size,
            pairing=programme.pairing,
            applications_open_on=programme.applications_open_on,
            applications_close_on=programme.applications_close_on,
            matching_on=programme.matching_on,
            starts_on=programme.starts_on,
            ends_on=programme.ends_on,
            bands=programme.bands,
            regions=programme.regions,
            role_families=programme.role_families,
            professions=programme.professions,
            widening_access_only=programme.widening_access_only,
            widening_categories=programme.widening_category_list,
            places=programme.places,
            chapter_id=programme.chapter_id,
        )


def _text(problems: dict[str, str], name: str, value: str, label: str, **rules: Any) -> None:
    problem = text.text_problem(value, label=label, **rules)
    if problem and name not in problems:
        problems[name] = problem


def _vocabulary(
    problems: dict[str, str], name: str, values: list[str], allowed: tuple[str, ...], label: str
) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        problems[name] = f"Choose {label} from the list ({unknown[0][:40]!r} is not one)."


def settings_problems(settings: ProgrammeSettings, *, is_default: bool = False) -> dict[str, str]:
    """Every problem of ``settings``, by field, in the form's order ({}: none)."""
    problems: dict[str, str] = {}
    if not settings.name.strip():
        problems["name"] = "Enter a name for the programme."
    _text(problems, "name", settings.name, "the name", maximum=NAME_MAX, one_line=True)
    _text(problems, "description", settings.description, "the description", maximum=DESCRIPTION_MAX)
    if settings.type not in PROGRAMME_TYPES:
        problems["type"] = "Choose one-to-one, reciprocal or group mentoring."
    if settings.type == "group":
        size = settings.group_size
        if size is None:
            problems["group_size"] = "Enter how many mentees each group has, from 2 to 12."
        elif not isinstance(size, int) or not 2 <= size <= 12:
            problems["group_size"] = "The group size must be a whole number from 2 to 12."
    elif settings.group_size is not None and settings.type in PROGRAMME_TYPES:
        problems["group_size"] = (
            "Leave the group size empty: only group mentoring has groups. Choose group "
            "mentoring as the type, or clear the group size."
        )
    if settings.pairing not in PAIRING_MODES:
        problems["pairing"] = "Choose how pairs form."
    if is_default:
        for name, label in DATE_FIELDS:
            if getattr(settings, name) is not None:
                problems[name] = f"Open mentoring is always open: it cannot have a {label} date."
        if settings.bands or settings.regions or settings.role_families or settings.professions:
            problems["bands"] = (
                "Open mentoring is open to everyone: it cannot have eligibility rules."
            )
        if settings.widening_access_only:
            problems["widening_access_only"] = (
                "Open mentoring is open to everyone: it cannot be for widening access only."
            )
        if settings.places is not None:
            problems["places"] = "Open mentoring has no limit on places."
        if settings.chapter_id is not None:
            problems["chapter_id"] = "Open mentoring belongs to the whole network."
    else:
        _check_dates(problems, settings)
    _vocabulary(problems, "bands", settings.bands, BANDS, "bands")
    _vocabulary(problems, "regions", settings.regions, REGIONS, "regions")
    _vocabulary(problems, "role_families", settings.role_families, ROLE_FAMILIES, "role families")
    _vocabulary(problems, "professions", settings.professions, PROFESSIONS, "professions")
    _vocabulary(
        problems,
        "widening_categories",
        settings.widening_categories,
        WIDENING_CATEGORIES,
        "widening-access categories",
    )
    if settings.places is not None and (
        not isinstance(settings.places, int) or not 1 <= settings.places <= 100_000
    ):
        problems["places"] = "Places must be a whole number from 1 to 100,000, or left empty."
    return problems


def _check_dates(problems: dict[str, str], settings: ProgrammeSettings) -> None:
    """open <= close <= matching <= start < end, comparing each date given with the last one
    given before it."""
    last: tuple[str, date] | None = None
    for name, label in DATE_FIELDS:
        day = getattr(settings, name)
        if day is None:
            continue
        if last is not None:
            before_label, before = last
            if name == "ends_on" and day <= before:
                problems[name] = (
                    f"The end date must be after the {before_label} date ({long_date(before)})."
                )
            elif day < before:
                problems[name] = (
                    f"The {label} date must be on or after the {before_label} date "
                    f"({long_date(before)})."
                )
        last = (label, day)


def check_settings(settings: ProgrammeSettings, *, is_default: bool = False) -> None:
    """Raise FieldErrors naming every problem of ``settings``."""
    problems = settings_problems(settings, is_default=is_default)
    if problems:
        raise FieldErrors(problems)


def _apply(programme: Programme, settings: ProgrammeSettings) -> None:
    programme.name = " ".join(settings.name.split())
    programme.description = settings.description.strip()
    programme.type = settings.type
    programme.group_size = settings.group_size if settings.type == "group" else None
    programme.pairing = settings.pairing
    for name, _ in DATE_FIELDS:
        setattr(programme, name, getattr(settings, name))
    programme.eligible_bands = json.dumps(sorted(set(settings.bands), key=BANDS.index))
    programme.eligible_regions = json.dumps(sorted(set(settings.regions), key=REGIONS.index))
    programme.eligible_role_families = json.dumps(
        sorted(set(settings.role_families), key=ROLE_FAMILIES.index)
    )
    programme.eligible_professions = json.dumps(
        sorted(set(settings.professions), key=PROFESSIONS.index)
    )
    programme.widening_access_only = settings.widening_access_only
    programme.widening_categories = json.dumps(
        sorted(set(settings.widening_categories), key=WIDENING_CATEGORIES.index)
    )
    programme.places = settings.places
    programme.chapter_id = settings.chapter_id
    programme.updated_at = utcnow()


def _check_chapter(*, session: Session, organiser: Member, chapter_id: int | None) -> None:
    if chapter_id is not None and session.get(Chapter, chapter_id) is None:
        raise Invalid("Choose a chapter from the list.", field="chapter_id")
    if chapter_id is None and not chapters.scope_of(session=session, member=organiser).network:
        raise Forbidden(
            "Only network organisers can run a programme for the whole network: choose your "
            "chapter.",
            field="chapter_id",
        )
    chapters.require_chapter(session=session, member=organiser, chapter_id=chapter_id)


def create_programme(
    *, session: Session, organiser: Member | None, settings: ProgrammeSettings
) -> Programme:
    """A new draft programme in a chapter the organiser organises (network organisers: any,
    or none for the whole network)."""
    organiser, _ = chapters.require_scope(session=session, member=organiser)
    check_settings(settings)
    _check_chapter(session=session, organiser=organiser, chapter_id=settings.chapter_id)
    programme = Programme(name=settings.name, status="draft", created_by_id=organiser.id)
    _apply(programme, settings)
    session.add(programme)
    session.flush()
    audit.record(
        session,
        actor=organiser,
        action=actions.PROGRAMME_CREATED,
        subject=audit.subject("programme", programme.id),
        details={"chapter_id": programme.chapter_id},
    )
    return programme


def organised_programmes(*, session: Session, organiser: Member | None) -> list[Programme]:
    """The programmes the organiser may manage, the default first, then newest first."""
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    query = select(Programme)
    if not scope.network:
        query = query.where(col(Programme.chapter_id).in_(sorted(scope.chapter_ids)))
    query = query.order_by(
        col(Programme.is_default).desc(), col(Programme.created_at).desc(), col(Programme.id).desc()
    )
    return list(session.exec(query).all())


def get_organised(*, session: Session, organiser: Member | None, programme_id: int) -> Programme:
    """A programme the organiser may manage; NotFound for any other (even if it exists: an
    organiser of one chapter does not learn of another chapter's programmes)."""
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    programme = session.get(Programme, programme_id)
    if programme is None or not scope.covers_chapter(programme.chapter_id):
        raise NotFound("There is no such programme.")
    return programme


def update_programme(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int,
    settings: ProgrammeSettings,
) -> Programme:
    """Change a programme's settings (all of them at once)."""
    programme = get_organised(session=session, organiser=organiser, programme_id=programme_id)
    assert organiser is not None
    check_settings(settings, is_default=programme.is_default)
    if settings.chapter_id != programme.chapter_id:
        _check_chapter(session=session, organiser=organiser, chapter_id=settings.chapter_id)
    _apply(programme, settings)
    session.add(programme)
    session.flush()
    audit.record(
        session,
        actor=organiser,
        action=actions.PROGRAMME_UPDATED,
        subject=audit.subject("programme", programme.id),
    )
    return programme


def publish_programme(
    *, session: Session, organiser: Member | None, programme_id: int
) -> Programme:
    """Draft -> published: members it is for can see it (and apply while applications are open)."""
    programme = get_organised(session=session, organiser=organiser, programme_id=programme_id)
    if programme.status != "draft":
        raise Conflict(f"This programme is already {programme.status}.", field="status")
    programme.status = "published"
    programme.updated_at = utcnow()
    session.add(programme)
    session.flush()
    audit.record(
        session,
        actor=organiser,
        action=actions.PROGRAMME_PUBLISHED,
        subject=audit.subject("programme", programme.id),
    )
    return programme


def delete_programme(*, session: Session, organiser: Member | None, programme_id: int) -> None:
    """Delete a draft programme nobody has applied to. The default programme stays."""
    programme = get_organised(session=session, organiser=organiser, programme_id=programme_id)
    if programme.is_default:
        raise Conflict("Open mentoring cannot be deleted.")
    if programme.status != "draft":
        raise Conflict("Only a draft programme can be deleted.")
    session.delete(programme)
    session.flush()
    audit.record(
        session,
        actor=organiser,
        action=actions.PROGRAMME_DELETED,
        subject=audit.subject("programme", programme_id),
    )


# Questions ----------------------------------------------------------------------------------


@dataclass
class QuestionSettings:
    """One question of an application form; ``id`` None for a new one."""

    text: str
    kind: str = "short-text"
    hint: str = ""
    required: bool = True
    choices: list[str] = field(default_factory=list)
    id: int | None = None


def questions_of(*, session: Session, programme_id: int) -> list[ProgrammeQuestion]:
    """The programme's questions in order."""
    return list(
        session.exec(
            select(ProgrammeQuestion)
            .where(ProgrammeQuestion.programme_id == programme_id)
            .order_by(col(ProgrammeQuestion.position), col(ProgrammeQuestion.id))
        ).all()
    )


def question_problems(question: QuestionSettings, *, prefix: str = "") -> dict[str, str]:
    """What is wrong with one question, by field (``prefix`` + text, kind, hint, choices)."""
    problems: dict[str, str] = {}
    if not question.text.strip():
        problems[prefix + "text"] = "Enter the question."
    _text(problems, prefix + "text", question.text, "the question", maximum=500, one_line=True)
    _text(problems, prefix + "hint", question.hint, "the hint", maximum=500, one_line=True)
    if question.kind not in QUESTION_KINDS:
        problems[prefix + "kind"] = (
            "Choose short text, long text, single choice or multiple choice."
        )
    choices = [c.strip() for c in question.choices if c.strip()]
    if question.kind in ("single-choice", "multiple-choice"):
        if len(choices) < 2:
            problems[prefix + "choices"] = "Give at least 2 choices, one per line."
        elif len(choices) > MAX_CHOICES:
            problems[prefix + "choices"] = f"Give at most {MAX_CHOICES} choices."
        elif len(set(choices)) != len(choices):
            problems[prefix + "choices"] = "Each choice must be different."
        for choice in choices:
            _text(problems, prefix + "choices", choice, "each choice", maximum=200, one_line=True)
    return problems


def set_questions(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int,
    questions: list[QuestionSettings],
) -> list[ProgrammeQuestion]:
    """Replace the programme's questions with ``questions``, in that order: those with an id
    are edited (answers kept), new ones added, the rest removed (with their answers)."""
    programme = get_organised(session=session, organiser=organiser, programme_id=programme_id)
    if programme.is_default:
        raise Invalid("Open mentoring has no application form.", field="questions")
    if len(questions) > MAX_QUESTIONS:
        raise Invalid(f"A form can have at most {MAX_QUESTIONS} questions.", field="questions")
    problems: dict[str, str] = {}
    for index, question in enumerate(questions):
        for name, message in question_problems(question).items():
            problems.setdefault(f"questions.{index}.{name}", f"Question {index + 1}: {message}")
    if problems:
        raise FieldErrors(problems)
    existing = {q.id: q for q in questions_of(session=session, programme_id=programme.id)}
    kept: list[ProgrammeQuestion] = []
    for position, question in enumerate(questions):
        if question.id is not None:
            row = existing.pop(question.id, None)
            if row is None:
                raise Invalid(
                    f"Question {position + 1} is not one of this programme's questions.",
                    field="questions",
                )
        else:
            row = ProgrammeQuestion(programme_id=programme.id, text="")
        row.position = position
        row.kind = question.kind
        row.text = " ".join(question.text.split())
        row.hint = question.hint.strip()
        row.required = question.required
        row.choices = json.dumps(
            [c.strip() for c in question.choices if c.strip()]
            if question.kind in ("single-choice", "multiple-choice")
            else []
        )
        session.add(row)
        kept.append(row)
    for row in existing.values():
        session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=organiser,
        action=actions.PROGRAMME_QUESTIONS_SET,
        subject=audit.subject("programme", programme.id),
        details={"questions": len(kept)},
    )
    return kept


# Members: browsing and applying --------------------------------------------------------------


def _visible_condition(*, session: Session, member: Member) -> Any:
    chapter_ids = [c.id for c in chapters.chapters_of(session=session, member=member)]
    return or_(col(Programme.chapter_id).is_(None), col(Programme.chapter_id).in_(chapter_ids))


def programmes_open_to(
    *, session: Session, member: Member | None, today: date | None = None
) -> list[Programme]:
    """Published programmes taking applications today that the member's chapters (or the whole
    network) run, by closing date. Eligibility is not a filter: the page says why not."""
    member = member_service.require_member(member)
    today = today or today_in_london()
    rows = session.exec(
        select(Programme)
        .where(Programme.status == "published")
        .where(col(Programme.is_default).is_(False))
        .where(_visible_condition(session=session, member=member))
        .where(
            or_(
                col(Programme.applications_open_on).is_(None),
                col(Programme.applications_open_on) <= today,
            )
        )
        .where(
            or_(
                col(Programme.applications_close_on).is_(None),
                col(Programme.applications_close_on) >= today,
            )
        )
        .order_by(col(Programme.applications_close_on), col(Programme.name), col(Programme.id))
    ).all()
    return list(rows)


def get_programme(*, session: Session, member: Member | None, programme_id: int) -> Programme:
    """A programme the member may see: a published one their chapters or the network run, one
    they applied to, or one they organise. NotFound otherwise."""
    member = member_service.require_member(member)
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("There is no such programme.")
    if programme.status != "draft" and (
        programme.chapter_id is None
        or programme.chapter_id
        in {c.id for c in chapters.chapters_of(session=session, member=member)}
    ):
        return programme
    if my_application(session=session, member=member, programme_id=programme.id) is not None:
        return programme
    if chapters.scope_of(session=session, member=member).covers_chapter(programme.chapter_id):
        return programme
    raise NotFound("There is no such programme.")


def my_application(
    *, session: Session, member: Member | None, programme_id: int
) -> ProgrammeApplication | None:
    """The member's application to the programme, if any."""
    if member is None or member.id is None:
        return None
    return session.exec(
        select(ProgrammeApplication)
        .where(ProgrammeApplication.programme_id == programme_id)
        .where(ProgrammeApplication.member_id == member.id)
    ).first()


def my_applications(*, session: Session, member: Member | None) -> list[ProgrammeApplication]:
    """The member's applications, newest first."""
    member = member_service.require_member(member)
    return list(
        session.exec(
            select(ProgrammeApplication)
            .where(ProgrammeApplication.member_id == member.id)
            .order_by(col(ProgrammeApplication.created_at).desc(), col(ProgrammeApplication.id))
        ).all()
    )


Answer = str | list[str]


def answer_problems(
    questions: list[ProgrammeQuestion], answers: dict[int, Answer]
) -> dict[str, str]:
    """Problems with the answers, keyed ``question_<id>`` in the form's order."""
    problems: dict[str, str] = {}
    for question in questions:
        key = f"question_{question.id}"
        raw = answers.get(question.id)
        number = f"Question {question.position + 1}"
        if question.kind == "multiple-choice":
            chosen = raw if isinstance(raw, list) else ([raw] if raw else [])
            if question.required and not chosen:
                problems[key] = f"{number}: choose at least one answer."
            elif any(c not in question.choice_list for c in chosen):
                problems[key] = f"{number}: choose from the answers given."
            continue
        value = raw if isinstance(raw, str) else ""
        if question.kind == "single-choice":
            if question.required and not value:
                problems[key] = f"{number}: choose an answer."
            elif value and value not in question.choice_list:
                problems[key] = f"{number}: choose one of the answers given."
            continue
        if question.required and not value.strip():
            problems[key] = f"{number}: enter your answer."
            continue
        maximum = 200 if question.kind == "short-text" else MAX_ANSWER
        problem = text.text_problem(
            value, label="your answer", maximum=maximum, one_line=question.kind == "short-text"
        )
        if problem:
            problems[key] = f"{number}: {problem[:1].lower()}{problem[1:]}"
    return problems


def apply(
    *,
    session: Session,
    member: Member | None,
    programme_id: int,
    role: str = "mentee",
    answers: dict[int, Answer] | None = None,
    today: date | None = None,
) -> ProgrammeApplication:
    """Apply to a programme as a mentee or mentor, answering its questions (one application a
    programme; applying again after withdrawing reopens it)."""
    member = member_service.require_member(member)
    programme = get_programme(session=session, member=member, programme_id=programme_id)
    if programme.is_default:
        raise Invalid(
            "Open mentoring needs no application: find a mentor and ask them.", field="programme_id"
        )
    if role not in APPLICATION_ROLES:
        raise Invalid("Choose whether you apply as a mentee or as a mentor.", field="role")
    closed = applications_problem(programme, today=today)
    if closed:
        raise Conflict(closed, field="programme_id")
    reasons = reasons_not_eligible(programme, member, role=role, session=session)
    if reasons:
        raise Forbidden(" ".join(reasons), field="role")
    existing = my_application(session=session, member=member, programme_id=programme.id)
    if existing is not None and existing.status != "withdrawn":
        raise Conflict("You have already applied to this programme.", field="programme_id")
    questions = questions_of(session=session, programme_id=programme.id)
    given = answers or {}
    unknown = set(given) - {q.id for q in questions}
    if unknown:
        raise Invalid("An answer is for a question this programme does not ask.", field="answers")
    problems = answer_problems(questions, given)
    if problems:
        raise FieldErrors(problems)
    now = utcnow()
    if existing is None:
        application = ProgrammeApplication(
            programme_id=programme.id, member_id=member.id, role=role, status="submitted"
        )
        try:
            with session.begin_nested():
                session.add(application)
                session.flush()
        except IntegrityError as error:
            raise Conflict(
                "You have already applied to this programme.", field="programme_id"
            ) from error
    else:
        application = existing
        application.role, application.status = role, "submitted"
        application.decision_message, application.decided_by_id = "", None
        application.decided_at, application.created_at = None, now
        for old in session.exec(
            select(ProgrammeAnswer).where(ProgrammeAnswer.application_id == application.id)
        ).all():
            session.delete(old)
        session.flush()
    application.updated_at = now
    session.add(application)
    for question in questions:
        raw = given.get(question.id)
        if raw is None or raw == "" or raw == []:
            continue
        value = (
            json.dumps(raw if isinstance(raw, list) else [raw])
            if (question.kind == "multiple-choice")
            else (raw if isinstance(raw, str) else "")
        )
        session.add(
            ProgrammeAnswer(application_id=application.id, question_id=question.id, value=value)
        )
    session.flush()
    return application


def withdraw(
    *, session: Session, member: Member | None, application_id: int
) -> ProgrammeApplication:
    """Withdraw one's own application while it is not decided (waiting, or wait-listed)."""
    member = member_service.require_member(member)
    application = session.get(ProgrammeApplication, application_id)
    if application is None or application.member_id != member.id:
        raise NotFound("There is no such application.")
    if application.status not in UNDECIDED:
        raise Conflict(
            f"This application is {APPLICATION_LABELS[application.status].lower()}: it can no "
            "longer be withdrawn.",
            field="application_id",
        )
    application.status = "withdrawn"
    application.updated_at = utcnow()
    session.add(application)
    session.flush()
    return application


def answers_of(*, session: Session, application_ids: list[int]) -> dict[int, dict[int, Answer]]:
    """For each application, its answers by question id (multiple choice as lists)."""
    if not application_ids:
        return {}
    rows = session.exec(
        select(ProgrammeAnswer, ProgrammeQuestion.kind)
        .join(ProgrammeQuestion, col(ProgrammeQuestion.id) == ProgrammeAnswer.question_id)
        .where(col(ProgrammeAnswer.application_id).in_(application_ids))
    ).all()
    out: dict[int, dict[int, Answer]] = {i: {} for i in application_ids}
    for answer, kind in rows:
        value: Answer = answer.value
        if kind == "multiple-choice":
            try:
                loaded = json.loads(answer.value or "[]")
            except ValueError:
                loaded = []
            value = [str(v) for v in loaded] if isinstance(loaded, list) else []
        out[answer.application_id][answer.question_id] = value
    return out


# Organisers: reviewing and deciding ---------------------------------------------------------


def application_counts(
    *, session: Session, organiser: Member | None, programme_id: int
) -> dict[str, int]:
    """How many applications have each status (every status, 0 where none)."""
    programme = get_organised(session=session, organiser=organiser, programme_id=programme_id)
    counts = dict.fromkeys(APPLICATION_STATUSES, 0)
    for status, count in session.exec(
        select(ProgrammeApplication.status, func.count())
        .where(ProgrammeApplication.programme_id == programme.id)
        .group_by(ProgrammeApplication.status)
    ).all():
        counts[status] = count
    return counts


def applications_of(
    *,
    session: Session,
    organiser: Member | None,
    programme_id: int,
    status: str | None = None,
) -> list[tuple[ProgrammeApplication, Member]]:
    """The programme's applications (with status ``status``, if given), oldest first, each
    with its applicant."""
    programme = get_organised(session=session, organiser=organiser, programme_id=programme_id)
    if status is not None and status not in APPLICATION_STATUSES:
        raise Invalid("Choose a status from the list.", field="status")
    query = (
        select(ProgrammeApplication, Member)
        .join(Member, col(Member.id) == ProgrammeApplication.member_id)
        .where(ProgrammeApplication.programme_id == programme.id)
    )
    if status is not None:
        query = query.where(ProgrammeApplication.status == status)
    query = query.order_by(col(ProgrammeApplication.created_at), col(ProgrammeApplication.id))
    return [(a, m) for a, m in session.exec(query).all()]


def get_application(
    *, session: Session, organiser: Member | None, application_id: int
) -> ProgrammeApplication:
    """An application to a programme the organiser manages (NotFound otherwise)."""
    application = session.get(ProgrammeApplication, application_id)
    if application is None:
        chapters.require_scope(session=session, member=organiser)
        raise NotFound("There is no such application.")
    try:
        get_organised(session=session, organiser=organiser, programme_id=application.programme_id)
    except NotFound:
        raise NotFound("There is no such application.") from None
    return application


def _accepted_mentees(session: Session, programme_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(ProgrammeApplication)
        .where(ProgrammeApplication.programme_id == programme_id)
        .where(ProgrammeApplication.role == "mentee")
        .where(ProgrammeApplication.status == "accepted")
    ).one()


DECISION_WORDS = {
    "accepted": ("accepted", "You have a place on {name}."),
    "waitlisted": ("put on the waiting list", "You are on the waiting list for {name}."),
    "declined": ("declined", "Your application to {name} was not successful this time."),
}


def decide(
    *,
    session: Session,
    organiser: Member | None,
    application_id: int,
    decision: str,
    message: str = "",
) -> ProgrammeApplication:
    """Accept, wait-list or decline an application with a message to the applicant, who is
    told (in the app, and by email as they chose). Accepting a mentee beyond the programme's
    places is refused."""
    application = get_application(
        session=session, organiser=organiser, application_id=application_id
    )
    assert organiser is not None
    if decision not in DECISIONS:
        raise Invalid("Choose accept, waiting list or decline.", field="decision")
    problem = text.text_problem(message, label="the message", maximum=MESSAGE_MAX)
    if problem:
        raise Invalid(problem, field="message")
    if application.status == "withdrawn":
        raise Conflict("The applicant has withdrawn this application.", field="application_id")
    # Lock the programme row: two organisers accepting at once cannot both take the last place.
    programme = session.exec(
        select(Programme).where(Programme.id == application.programme_id).with_for_update()
    ).one()
    if (
        decision == "accepted"
        and application.role == "mentee"
        and application.status != "accepted"
        and programme.places is not None
        and _accepted_mentees(session, programme.id) >= programme.places
    ):
        raise Conflict(
            f"All {programme.places} places are taken: accepting would go over the places. "
            "Put the applicant on the waiting list, or add places to the programme first.",
            field="decision",
        )
    application.status = decision
    application.decision_message = message.strip()
    application.decided_by_id = organiser.id
    application.decided_at = application.updated_at = utcnow()
    session.add(application)
    session.flush()
    audit.record(
        session,
        actor=organiser,
        action=actions.PROGRAMME_APPLICATION_DECIDED,
        subject=audit.subject("application", application.id),
        details={"programme_id": programme.id, "decision": decision},
    )
    applicant = session.get(Member, application.member_id)
    if applicant is not None and applicant.is_active:
        done, sentence = DECISION_WORDS[decision]
        body = sentence.format(name=programme.name)
        if application.decision_message:
            body += f"\n\nThe organisers say: {application.decision_message}"
        notifications.notify_member(
            session=session,
            member=applicant,
            kind="programme",
            title=f"Your application to {programme.name} was {done}",
            body=body,
            link=f"/programmes/{programme.id}",
        )
    return application


def accepted_applicants(*, session: Session, programme_id: int, role: str = "mentee") -> list[int]:
    """The member ids of the programme's accepted applicants in ``role``, by application."""
    return list(
        session.exec(
            select(ProgrammeApplication.member_id)
            .where(ProgrammeApplication.programme_id == programme_id)
            .where(ProgrammeApplication.role == role)
            .where(ProgrammeApplication.status == "accepted")
            .order_by(col(ProgrammeApplication.id))
        ).all()
    )


def chapter_choices(*, session: Session, organiser: Member | None) -> tuple[bool, list[Chapter]]:
    """Where the organiser may put a programme: (whole network allowed, chapters by name)."""
    organiser, scope = chapters.require_scope(session=session, member=organiser)
    query = select(Chapter).order_by(col(Chapter.name), col(Chapter.id))
    if not scope.network:
        query = query.where(col(Chapter.id).in_(sorted(scope.chapter_ids)))
    return scope.network, list(session.exec(query).all())


def chapter_names(*, session: Session, chapter_ids: Iterable[int | None]) -> dict[int, str]:
    """The names of these chapters, by id (one query)."""
    ids = sorted({i for i in chapter_ids if i is not None})
    if not ids:
        return {}
    rows = session.exec(select(Chapter.id, Chapter.name).where(col(Chapter.id).in_(ids))).all()
    return dict(rows)


def is_organiser(*, session: Session, member: Member | None) -> bool:
    """True when the member organises the network or a chapter (for links on pages)."""
    return chapters.scope_of(session=session, member=member).is_organiser
