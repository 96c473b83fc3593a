"""Programme pages: members browse and apply; organisers create, edit, publish and decide.

Thin: every rule (who may see what, dates, eligibility, places) is in
``backend.programmes.service``; these views read forms and render its answers.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from backend.errors import DomainError, FieldErrors, Invalid
from backend.organisations import service as organisation_service
from backend.programmes import service as programmes
from backend.programmes.models import APPLICATION_STATUSES, Programme
from backend.programmes.service import ProgrammeSettings, QuestionSettings
from vocabulary import (
    BANDS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    WIDENING_CATEGORIES,
    band_label,
    humanise,
)
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_date,
    form_flag,
    form_int,
    form_list,
    form_text,
)
from web.mentoring import path_id
from web.render import NOTICES, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)
templates.env.filters["choice_pairs"] = lambda items: [(item, item) for item in items]

NOTICES.update(
    {
        "applied": "Your application has been sent. The organisers will tell you their decision.",
        "application-withdrawn": "Your application has been withdrawn.",
        "programme-created": "The programme has been created as a draft.",
        "programme-saved": "The programme has been saved.",
        "programme-published": "The programme is published: members it is for can apply.",
        "programme-deleted": "The draft programme has been deleted.",
        "questions-saved": "The application questions have been saved.",
        "decision-saved": "The decision has been saved and the applicant told.",
    }
)

STATUS_COLOURS = {"draft": "grey", "published": "green", "ended": "blue"}
APPLICATION_COLOURS = {
    "submitted": "blue",
    "accepted": "green",
    "waitlisted": "yellow",
    "declined": "red",
    "withdrawn": "grey",
}
KIND_LABELS = {
    "short-text": "Short text (one line)",
    "long-text": "Long text (paragraphs)",
    "single-choice": "Single choice (one answer)",
    "multiple-choice": "Multiple choice (any number of answers)",
}
DECISION_LABELS = [
    ("accepted", "Accept"),
    ("waitlisted", "Put on the waiting list"),
    ("declined", "Decline"),
]
ROLE_LABELS = [("mentee", "As a mentee"), ("mentor", "As a mentor")]
SETTING_FIELDS = (
    "name",
    "description",
    "type",
    "group_size",
    "pairing",
    *(name for name, _ in programmes.DATE_FIELDS),
    "bands",
    "regions",
    "role_families",
    "professions",
    "widening_access_only",
    "widening_categories",
    "places",
    "chapter_id",
)
_QUESTION_ERROR = re.compile(r"questions\.([0-9]+)\.([a-z_]+)")


def _common() -> dict[str, Any]:
    return {
        "status_labels": programmes.STATUS_LABELS,
        "status_colours": STATUS_COLOURS,
        "application_labels": programmes.APPLICATION_LABELS,
        "application_colours": APPLICATION_COLOURS,
        "type_labels": programmes.TYPE_LABELS,
        "pairing_labels": programmes.PAIRING_LABELS,
        "long_date": programmes.long_date,
        "eligibility_words": programmes.eligibility_words,
    }


# Members ------------------------------------------------------------------------------------


@router.get("/programmes", response_class=HTMLResponse)
def programme_list(visitor: CurrentVisitor) -> Response:
    """The programmes open to the member today, each with who it is for and why not them."""
    member = visitor.member
    rows = programmes.programmes_open_to(session=visitor.db, member=member)
    assert member is not None
    mine = programmes.my_applications(session=visitor.db, member=member)
    applied = {a.programme_id: a for a in mine}
    names = programmes.chapter_names(
        session=visitor.db,
        chapter_ids=[p.chapter_id for p in rows],
    )
    applied_to = [
        (a, visitor.db.get(Programme, a.programme_id))
        for a in mine
        if a.programme_id not in {p.id for p in rows}
    ]
    return render(
        visitor,
        "programmes/list.html",
        programmes=rows,
        reasons={
            p.id: programmes.reasons_not_eligible(p, member, session=visitor.db) for p in rows
        },
        applied=applied,
        applied_to=[(a, p) for a, p in applied_to if p is not None],
        chapter_names=names,
        organiser=programmes.is_organiser(session=visitor.db, member=member),
        **_common(),
    )


def _detail(visitor: Visitor, programme_id: int, **context: Any) -> HTMLResponse:
    member = visitor.member
    programme = programmes.get_programme(
        session=visitor.db, member=member, programme_id=path_id(programme_id)
    )
    assert member is not None
    return render(
        visitor,
        "programmes/detail.html",
        programme=programme,
        application=programmes.my_application(
            session=visitor.db, member=member, programme_id=programme.id
        ),
        reasons=programmes.reasons_not_eligible(programme, member, session=visitor.db),
        closed=None if programme.is_default else programmes.applications_problem(programme),
        chapter_names=programmes.chapter_names(
            session=visitor.db, chapter_ids=[programme.chapter_id]
        ),
        **_common(),
        **context,
    )


@router.get("/programmes/{programme_id}", response_class=HTMLResponse)
def programme_detail(visitor: CurrentVisitor, programme_id: int) -> Response:
    """One programme: dates, places, who it is for, and the member's application."""
    return _detail(visitor, programme_id)


def _apply_page(
    visitor: Visitor,
    programme_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = visitor.member
    programme = programmes.get_programme(
        session=visitor.db, member=member, programme_id=path_id(programme_id)
    )
    assert member is not None
    application = programmes.my_application(
        session=visitor.db, member=member, programme_id=programme.id
    )
    if programme.is_default:
        closed: str | None = "Open mentoring needs no application: find a mentor and ask them."
    else:
        closed = programmes.applications_problem(programme)
    if closed is None and application is not None and application.status != "withdrawn":
        closed = "You have already applied to this programme."
    return render(
        visitor,
        "programmes/apply.html",
        status_code=status_code,
        errors=errors,
        values=values or {"role": "mentee"},
        programme=programme,
        questions=programmes.questions_of(session=visitor.db, programme_id=programme.id),
        closed=closed,
        reasons=programmes.reasons_not_eligible(programme, member, session=visitor.db),
        role_labels=ROLE_LABELS,
        **_common(),
    )


@router.get("/programmes/{programme_id}/apply", response_class=HTMLResponse)
def apply_form(visitor: CurrentVisitor, programme_id: int) -> Response:
    """The application form (or why applications are not open, with the dates)."""
    return _apply_page(visitor, programme_id)


@router.post("/programmes/{programme_id}/apply", response_class=HTMLResponse)
def apply_submit(visitor: CheckedVisitor, form: Form, programme_id: int) -> Response:
    """Send the application; every unanswered or wrong answer is named in the summary."""
    programme = programmes.get_programme(
        session=visitor.db, member=visitor.member, programme_id=path_id(programme_id)
    )
    questions = programmes.questions_of(session=visitor.db, programme_id=programme.id)
    answers: dict[int, programmes.Answer] = {}
    values: dict[str, Any] = {"role": form_text(form, "role") or "mentee"}
    for question in questions:
        key = f"question_{question.id}"
        if question.kind == "multiple-choice":
            answers[question.id] = values[key] = form_list(form, key)
        else:
            answers[question.id] = values[key] = form_text(form, key)
    try:
        programmes.apply(
            session=visitor.db,
            member=visitor.member,
            programme_id=programme.id,
            role=str(values["role"]),
            answers=answers,
        )
    except Invalid as error:
        return _apply_page(
            visitor,
            programme_id,
            status_code=400,
            errors=form_errors(error, default_field="role"),
            values=values,
        )
    except DomainError as error:  # closed, not eligible, already applied
        return _apply_page(
            visitor, programme_id, status_code=409, errors={"role": error.message}, values=values
        )
    return redirect(f"/programmes/{programme.id}?notice=applied")


@router.post("/programmes/{programme_id}/withdraw", response_class=HTMLResponse)
def withdraw_submit(visitor: CheckedVisitor, programme_id: int) -> Response:
    """Withdraw the member's application (while it is not decided)."""
    application = programmes.my_application(
        session=visitor.db, member=visitor.member, programme_id=path_id(programme_id)
    )
    try:
        programmes.withdraw(
            session=visitor.db,
            member=visitor.member,
            application_id=application.id if application else 0,
        )
    except DomainError as error:
        return _detail(visitor, programme_id, status_code=409, errors={"withdraw": error.message})
    return redirect(f"/programmes/{programme_id}?notice=application-withdrawn")


# Organisers: programmes ---------------------------------------------------------------------


@router.get("/organise/programmes", response_class=HTMLResponse)
def organised_list(visitor: CurrentVisitor) -> Response:
    """The programmes the organiser manages."""
    rows = programmes.organised_programmes(session=visitor.db, organiser=visitor.member)
    return render(
        visitor,
        "programmes/organise_list.html",
        programmes=rows,
        chapter_names=programmes.chapter_names(
            session=visitor.db, chapter_ids=[p.chapter_id for p in rows]
        ),
        **_common(),
    )


def _date_values(day: date | None, name: str) -> dict[str, str]:
    if day is None:
        return {f"{name}-day": "", f"{name}-month": "", f"{name}-year": ""}
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def _values_of(settings: ProgrammeSettings) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": settings.name,
        "description": settings.description,
        "type": settings.type,
        "group_size": "" if settings.group_size is None else str(settings.group_size),
        "pairing": settings.pairing,
        "bands": settings.bands,
        "regions": settings.regions,
        "role_families": settings.role_families,
        "professions": settings.professions,
        "widening_access_only": settings.widening_access_only,
        "widening_categories": settings.widening_categories,
        "places": "" if settings.places is None else str(settings.places),
        "chapter_id": "" if settings.chapter_id is None else str(settings.chapter_id),
    }
    for name, _ in programmes.DATE_FIELDS:
        values.update(_date_values(getattr(settings, name), name))
    return values


def _read_settings(form: FormData) -> tuple[ProgrammeSettings, dict[str, Any], dict[str, str]]:
    """The settings typed, the form's values to show again, and what could not be read."""
    unreadable: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    for name, label in programmes.DATE_FIELDS:
        dates[name], problem = form_date(form, name, label)
        if problem:
            unreadable[name] = problem
    numbers: dict[str, int | None] = {}
    for name, problem in (
        ("places", "Places must be a whole number, or left empty."),
        ("group_size", "The group size must be a whole number from 2 to 12."),
    ):
        raw = form_int(form, name)
        numbers[name] = raw if isinstance(raw, int) else None
        if isinstance(raw, str) and raw:
            unreadable[name] = problem
    chapter = form_int(form, "chapter_id")
    settings = ProgrammeSettings(
        name=form_text(form, "name"),
        description=form_text(form, "description"),
        type=form_text(form, "type") or "one-to-one",
        group_size=numbers["group_size"],
        pairing=form_text(form, "pairing") or "both",
        bands=form_list(form, "bands"),
        regions=form_list(form, "regions"),
        role_families=form_list(form, "role_families"),
        professions=form_list(form, "professions"),
        widening_access_only=form_flag(form, "widening_access_only"),
        widening_categories=form_list(form, "widening_categories"),
        places=numbers["places"],
        chapter_id=chapter if isinstance(chapter, int) else None,
        **dates,
    )
    if isinstance(chapter, str) and chapter:
        unreadable["chapter_id"] = "Choose a chapter from the list."
    values = _values_of(settings)
    for name, _ in programmes.DATE_FIELDS:
        for part in ("day", "month", "year"):
            values[f"{name}-{part}"] = form_text(form, f"{name}-{part}")
    for name in ("places", "group_size"):
        values[name] = form_text(form, name)
    return settings, values, unreadable


def _check(settings: ProgrammeSettings, unreadable: dict[str, str], *, is_default: bool) -> None:
    if not unreadable:
        programmes.check_settings(settings, is_default=is_default)
        return
    problems = {**programmes.settings_problems(settings, is_default=is_default), **unreadable}
    raise FieldErrors({f: problems[f] for f in SETTING_FIELDS if f in problems})


def _date_error_fields(errors: dict[str, str]) -> dict[str, str]:
    """Date problems link to the day box of their date."""
    dated = {name for name, _ in programmes.DATE_FIELDS}
    return {(f"{k}-day" if k in dated else k): m for k, m in errors.items()}


def _form_page(
    visitor: Visitor,
    *,
    programme: Programme | None,
    values: dict[str, Any],
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    network, chapter_list = programmes.chapter_choices(session=visitor.db, organiser=visitor.member)
    chapter_options = [(str(c.id), c.name) for c in chapter_list]
    if network:
        chapter_options.insert(0, ("", "The whole network (no chapter)"))
    return render(
        visitor,
        "programmes/organise_form.html",
        status_code=status_code,
        errors=errors,
        values=values,
        programme=programme,
        chapter_options=chapter_options,
        type_options=[
            (value, label, programmes.TYPE_HINTS[value])
            for value, label in programmes.TYPE_LABELS.items()
        ],
        pairing_options=list(programmes.PAIRING_LABELS.items()),
        band_options=[(b, band_label(b)) for b in BANDS],
        region_options=[(r, r) for r in REGIONS],
        role_family_options=[(r, humanise(r)) for r in ROLE_FAMILIES],
        profession_options=[(p, humanise(p)) for p in PROFESSIONS],
        widening_options=[(w, humanise(w)) for w in WIDENING_CATEGORIES],
        date_fields=programmes.DATE_FIELDS,
        questions=(
            programmes.questions_of(session=visitor.db, programme_id=programme.id)
            if programme
            else []
        ),
        counts=(
            programmes.application_counts(
                session=visitor.db, organiser=visitor.member, programme_id=programme.id
            )
            if programme
            else {}
        ),
        **_common(),
    )


@router.get("/organise/programmes/new", response_class=HTMLResponse)
def new_form(visitor: CurrentVisitor) -> Response:
    """The form to create a programme (a chapter organiser's own chapter chosen first)."""
    network, chapter_list = programmes.chapter_choices(session=visitor.db, organiser=visitor.member)
    first = None if network or not chapter_list else chapter_list[0].id
    return _form_page(
        visitor, programme=None, values=_values_of(ProgrammeSettings(name="", chapter_id=first))
    )


@router.post("/organise/programmes", response_class=HTMLResponse)
def create_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Create a draft programme."""
    settings, values, unreadable = _read_settings(form)
    try:
        _check(settings, unreadable, is_default=False)
        created = programmes.create_programme(
            session=visitor.db, organiser=visitor.member, settings=settings
        )
    except DomainError as error:
        if not isinstance(error, Invalid) and error.field is None:
            raise
        errors = _date_error_fields(form_errors(error, default_field="name"))
        return _form_page(visitor, programme=None, values=values, status_code=400, errors=errors)
    return redirect(f"/organise/programmes/{created.id}?notice=programme-created")


@router.get("/organise/programmes/{programme_id}", response_class=HTMLResponse)
def edit_form(visitor: CurrentVisitor, programme_id: int) -> Response:
    """A programme's settings to edit, with publish, questions and applications."""
    programme = programmes.get_organised(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    return _form_page(
        visitor, programme=programme, values=_values_of(ProgrammeSettings.of(programme))
    )


@router.post("/organise/programmes/{programme_id}", response_class=HTMLResponse)
def edit_submit(visitor: CheckedVisitor, form: Form, programme_id: int) -> Response:
    """Save the programme's settings."""
    programme = programmes.get_organised(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    settings, values, unreadable = _read_settings(form)
    try:
        _check(settings, unreadable, is_default=programme.is_default)
        programmes.update_programme(
            session=visitor.db,
            organiser=visitor.member,
            programme_id=programme.id,
            settings=settings,
        )
    except DomainError as error:
        if not isinstance(error, Invalid) and error.field is None:
            raise
        errors = _date_error_fields(form_errors(error, default_field="name"))
        return _form_page(
            visitor, programme=programme, values=values, status_code=400, errors=errors
        )
    return redirect(f"/organise/programmes/{programme.id}?notice=programme-saved")


@router.post("/organise/programmes/{programme_id}/publish", response_class=HTMLResponse)
def publish_submit(visitor: CheckedVisitor, programme_id: int) -> Response:
    """Publish a draft."""
    programmes.publish_programme(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    return redirect(f"/organise/programmes/{programme_id}?notice=programme-published")


@router.post("/organise/programmes/{programme_id}/delete", response_class=HTMLResponse)
def delete_submit(visitor: CheckedVisitor, programme_id: int) -> Response:
    """Delete a draft programme."""
    programmes.delete_programme(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    return redirect("/organise/programmes?notice=programme-deleted")


# Organisers: questions ----------------------------------------------------------------------


def _as_settings(question: Any) -> QuestionSettings:
    return QuestionSettings(
        id=question.id,
        text=question.text,
        kind=question.kind,
        hint=question.hint,
        required=question.required,
        choices=question.choice_list,
    )


def _questions_page(
    visitor: Visitor,
    programme_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    programme = programmes.get_organised(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    questions = programmes.questions_of(session=visitor.db, programme_id=programme.id)
    shown: dict[str, Any] = {"kind_new": "short-text", "required_new": True}
    for q in questions:
        shown.update(
            {
                f"text_{q.id}": q.text,
                f"hint_{q.id}": q.hint,
                f"kind_{q.id}": q.kind,
                f"required_{q.id}": q.required,
                f"choices_{q.id}": "\n".join(q.choice_list),
            }
        )
    shown.update(values or {})
    return render(
        visitor,
        "programmes/questions.html",
        status_code=status_code,
        errors=errors,
        values=shown,
        programme=programme,
        questions=questions,
        kind_options=list(KIND_LABELS.items()),
        kind_labels=KIND_LABELS,
        **_common(),
    )


@router.get("/organise/programmes/{programme_id}/questions", response_class=HTMLResponse)
def questions_form(visitor: CurrentVisitor, programme_id: int) -> Response:
    """The application questions: add, edit, remove, reorder."""
    return _questions_page(visitor, programme_id)


def _question_from(form: FormData, suffix: str, question_id: int | None) -> QuestionSettings:
    lines = form_text(form, f"choices{suffix}").splitlines()
    return QuestionSettings(
        id=question_id,
        text=form_text(form, f"text{suffix}"),
        kind=form_text(form, f"kind{suffix}") or "short-text",
        hint=form_text(form, f"hint{suffix}"),
        required=form_flag(form, f"required{suffix}"),
        choices=[line.strip() for line in lines if line.strip()],
    )


@router.post("/organise/programmes/{programme_id}/questions", response_class=HTMLResponse)
def questions_submit(visitor: CheckedVisitor, form: Form, programme_id: int) -> Response:
    """One change to the form: add, save, remove, or move a question up or down."""
    programme = programmes.get_organised(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    current = [
        _as_settings(q)
        for q in programmes.questions_of(session=visitor.db, programme_id=programme.id)
    ]
    action = form_text(form, "action")
    target = form_int(form, "question_id")
    index = next((i for i, q in enumerate(current) if q.id == target), None)
    suffix = "_new"
    if action == "add":
        current.append(_question_from(form, "_new", None))
        index = len(current) - 1
    elif index is None:
        raise Invalid("That question is not on this form.", field="questions")
    elif action == "save":
        suffix = f"_{target}"
        current[index] = _question_from(form, suffix, current[index].id)
    elif action == "remove":
        current.pop(index)
    elif action in ("up", "down"):
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(current):
            current[index], current[other] = current[other], current[index]
    else:
        raise Invalid("Choose what to do with the question.", field="action")
    values: dict[str, Any] = {
        f"{name}{suffix}": form_text(form, f"{name}{suffix}")
        for name in ("text", "hint", "kind", "choices")
    }
    values[f"required{suffix}"] = form_flag(form, f"required{suffix}")
    try:
        programmes.set_questions(
            session=visitor.db,
            organiser=visitor.member,
            programme_id=programme.id,
            questions=current,
        )
    except Invalid as error:
        errors: dict[str, str] = {}
        for key, message in form_errors(error, default_field="questions").items():
            found = _QUESTION_ERROR.fullmatch(key)
            errors[f"{found.group(2)}{suffix}" if found else key] = message
        return _questions_page(visitor, programme_id, status_code=400, errors=errors, values=values)
    return redirect(f"/organise/programmes/{programme.id}/questions?notice=questions-saved")


# Organisers: applications -------------------------------------------------------------------


def _applications_page(
    visitor: Visitor,
    programme_id: int,
    status: str | None,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    programme = programmes.get_organised(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    chosen = status if status in APPLICATION_STATUSES else None
    rows = programmes.applications_of(
        session=visitor.db, organiser=visitor.member, programme_id=programme.id, status=chosen
    )
    organisations = organisation_service.get_many(
        session=visitor.db, organisation_ids=sorted({m.organisation_id for _, m in rows})
    )
    return render(
        visitor,
        "programmes/applications.html",
        status_code=status_code,
        errors=errors,
        values=values or {},
        programme=programme,
        rows=rows,
        chosen=chosen,
        counts=programmes.application_counts(
            session=visitor.db, organiser=visitor.member, programme_id=programme.id
        ),
        accepted_mentees=len(
            programmes.accepted_applicants(session=visitor.db, programme_id=programme.id)
        ),
        answers=programmes.answers_of(session=visitor.db, application_ids=[a.id for a, _ in rows]),
        questions=programmes.questions_of(session=visitor.db, programme_id=programme.id),
        organisations={i: o.name for i, o in organisations.items()},
        decision_labels=DECISION_LABELS,
        statuses=APPLICATION_STATUSES,
        **_common(),
    )


@router.get("/organise/programmes/{programme_id}/applications", response_class=HTMLResponse)
def applications_list(
    visitor: CurrentVisitor, programme_id: int, status: str | None = None
) -> Response:
    """The programme's applications with counts, answers and a decision form each."""
    return _applications_page(visitor, programme_id, status)


@router.post(
    "/organise/programmes/{programme_id}/applications/{application_id}/decide",
    response_class=HTMLResponse,
)
def decide_submit(
    visitor: CheckedVisitor, form: Form, programme_id: int, application_id: int
) -> Response:
    """Accept, wait-list or decline one application, with a message to the applicant."""
    application = programmes.get_application(
        session=visitor.db, organiser=visitor.member, application_id=path_id(application_id)
    )
    if application.programme_id != programme_id:
        raise Invalid("That application is not for this programme.", field="decision")
    status = form_text(form, "status") or None
    decision_field = f"decision_{application.id}"
    message_field = f"message_{application.id}"
    try:
        programmes.decide(
            session=visitor.db,
            organiser=visitor.member,
            application_id=application.id,
            decision=form_text(form, decision_field),
            message=form_text(form, message_field),
        )
    except DomainError as error:
        if error.field is None:
            raise
        field = message_field if error.field == "message" else decision_field
        return _applications_page(
            visitor,
            programme_id,
            status,
            status_code=409 if not isinstance(error, Invalid) else 400,
            errors={field: error.message},
            values={
                decision_field: form_text(form, decision_field),
                message_field: form_text(form, message_field),
            },
        )
    where = f"?status={status}&notice=decision-saved" if status else "?notice=decision-saved"
    return redirect(f"/organise/programmes/{programme_id}/applications{where}")
