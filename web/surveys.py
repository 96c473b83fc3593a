"""Survey pages: organisers build a programme's surveys and read results and end feedback;
members answer the surveys they were sent.

Thin: every rule (scope, frozen questions, once per member, disclosure control) is in
``backend.surveys.service``; these views read forms and render its answers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.errors import DomainError, Invalid, NotFound
from backend.programmes import service as programmes
from backend.programmes.models import Programme
from backend.surveys import service as surveys
from backend.surveys.models import SURVEY_QUESTION_KINDS, SURVEY_STAGES, Survey
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_flag,
    form_text,
)
from web.mentoring import path_id
from web.programmes import STATUS_COLOURS
from web.render import NOTICES, form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute)

NOTICES.update(
    {
        "survey-created": "The survey has been created as a draft. Add its questions.",
        "question-added": "The question has been added.",
        "question-removed": "The question has been removed.",
        "survey-published": "The survey is published: its questions are frozen and members "
        "are sent it as their mentorships reach its stage.",
        "survey-closed": "The survey is closed: no more answers are taken.",
        "survey-answered": "Thank you: your answers have been saved.",
    }
)
SURVEY_COLOURS = {"draft": "grey", "published": "green", "closed": "blue"}
STAGE_OPTIONS = [(s, surveys.STAGE_LABELS[s]) for s in SURVEY_STAGES]
KIND_OPTIONS = [(k, surveys.KIND_LABELS[k]) for k in SURVEY_QUESTION_KINDS]


def _common() -> dict[str, Any]:
    return {
        "stage_labels": surveys.STAGE_LABELS,
        "status_labels": surveys.STATUS_LABELS,
        "kind_labels": surveys.KIND_LABELS,
        "survey_colours": SURVEY_COLOURS,
        "programme_colours": STATUS_COLOURS,
    }


# Organisers: a programme's surveys ----------------------------------------------------------


def _list_page(
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
    rows = surveys.surveys_of(
        session=visitor.db, organiser=visitor.member, programme_id=programme.id
    )
    return render(
        visitor,
        "surveys/organise_list.html",
        status_code=status_code,
        errors=errors,
        values=values or {},
        programme=programme,
        surveys=rows,
        offer_standard=not surveys.has_end_survey(session=visitor.db, programme_id=programme.id),
        stage_options=STAGE_OPTIONS,
        **_common(),
    )


@router.get("/organise/programmes/{programme_id}/surveys", response_class=HTMLResponse)
def survey_list(visitor: CurrentVisitor, programme_id: int) -> Response:
    """The programme's surveys, a form for a new one, and the standard end survey."""
    return _list_page(visitor, programme_id)


@router.post("/organise/programmes/{programme_id}/surveys", response_class=HTMLResponse)
def survey_create(visitor: CheckedVisitor, form: Form, programme_id: int) -> Response:
    """Create a draft survey (or the standard end survey)."""
    values = {n: form_text(form, n) for n in ("stage", "title", "introduction")}
    try:
        if form_flag(form, "standard"):
            survey = surveys.create_default_end_survey(
                session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
            )
        else:
            survey = surveys.create_survey(
                session=visitor.db,
                organiser=visitor.member,
                programme_id=path_id(programme_id),
                settings=surveys.SurveySettings(**values),
            )
    except DomainError as error:
        if not isinstance(error, Invalid) and error.field is None:
            raise
        return _list_page(
            visitor,
            programme_id,
            status_code=400,
            errors=form_errors(error, default_field="title"),
            values=values,
        )
    return redirect(
        f"/organise/programmes/{programme_id}/surveys/{survey.id}?notice=survey-created"
    )


def _checked(visitor: Visitor, programme_id: int, survey_id: int) -> Survey:
    """The survey, if the organiser may manage it and it belongs to the programme."""
    survey = surveys.get_survey(
        session=visitor.db, organiser=visitor.member, survey_id=path_id(survey_id)
    )
    if survey.programme_id != programme_id:
        raise NotFound("There is no such survey.")
    return survey


def _survey_page(
    visitor: Visitor,
    programme_id: int,
    survey_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    survey = _checked(visitor, programme_id, survey_id)
    results = (
        surveys.survey_results(session=visitor.db, organiser=visitor.member, survey_id=survey.id)
        if survey.status != "draft"
        else None
    )
    return render(
        visitor,
        "surveys/organise_survey.html",
        status_code=status_code,
        errors=errors,
        values=values or {"required": "yes"},
        programme=visitor.db.get(Programme, survey.programme_id),
        survey=survey,
        questions=surveys.questions_of(session=visitor.db, survey_id=survey.id),
        results=results,
        kind_options=KIND_OPTIONS,
        **_common(),
    )


@router.get("/organise/programmes/{programme_id}/surveys/{survey_id}", response_class=HTMLResponse)
def survey_detail(visitor: CurrentVisitor, programme_id: int, survey_id: int) -> Response:
    """A survey: its questions (editable while a draft) and, once published, its results."""
    return _survey_page(visitor, programme_id, survey_id)


@router.post(
    "/organise/programmes/{programme_id}/surveys/{survey_id}/questions",
    response_class=HTMLResponse,
)
def question_add(
    visitor: CheckedVisitor, form: Form, programme_id: int, survey_id: int
) -> Response:
    """Add a question to a draft survey."""
    values = {n: form_text(form, n) for n in ("kind", "text", "hint", "choices")}
    values["required"] = "yes" if form_flag(form, "required") else ""
    here = f"/organise/programmes/{programme_id}/surveys/{survey_id}"
    _checked(visitor, programme_id, survey_id)
    try:
        surveys.add_question(
            session=visitor.db,
            organiser=visitor.member,
            survey_id=survey_id,
            question=surveys.QuestionSettings(
                kind=values["kind"],
                text=values["text"],
                hint=values["hint"],
                required=bool(values["required"]),
                choices=values["choices"].splitlines(),
            ),
        )
    except DomainError as error:
        if error.field is None and not isinstance(error, Invalid):
            raise
        return _survey_page(
            visitor,
            programme_id,
            survey_id,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field="text"),
            values=values,
        )
    return redirect(f"{here}?notice=question-added#questions")


@router.post(
    "/organise/programmes/{programme_id}/surveys/{survey_id}/questions/{question_id}/remove",
    response_class=HTMLResponse,
)
def question_remove(
    visitor: CheckedVisitor, programme_id: int, survey_id: int, question_id: int
) -> Response:
    """Take a question out of a draft survey."""
    _checked(visitor, programme_id, survey_id)
    surveys.remove_question(
        session=visitor.db,
        organiser=visitor.member,
        survey_id=survey_id,
        question_id=path_id(question_id),
    )
    return redirect(
        f"/organise/programmes/{programme_id}/surveys/{survey_id}?notice=question-removed"
    )


@router.post(
    "/organise/programmes/{programme_id}/surveys/{survey_id}/publish",
    response_class=HTMLResponse,
)
def survey_publish(visitor: CheckedVisitor, programme_id: int, survey_id: int) -> Response:
    """Publish a draft survey."""
    _checked(visitor, programme_id, survey_id)
    try:
        surveys.publish_survey(session=visitor.db, organiser=visitor.member, survey_id=survey_id)
    except DomainError as error:
        if error.code != "conflict":
            raise
        return _survey_page(
            visitor, programme_id, survey_id, status_code=409, errors={"publish": error.message}
        )
    return redirect(
        f"/organise/programmes/{programme_id}/surveys/{survey_id}?notice=survey-published"
    )


@router.post(
    "/organise/programmes/{programme_id}/surveys/{survey_id}/close",
    response_class=HTMLResponse,
)
def survey_close(visitor: CheckedVisitor, programme_id: int, survey_id: int) -> Response:
    """Close a published survey."""
    _checked(visitor, programme_id, survey_id)
    surveys.close_survey(session=visitor.db, organiser=visitor.member, survey_id=survey_id)
    return redirect(f"/organise/programmes/{programme_id}/surveys/{survey_id}?notice=survey-closed")


@router.get("/organise/programmes/{programme_id}/feedback", response_class=HTMLResponse)
def feedback_page(visitor: CurrentVisitor, programme_id: int) -> Response:
    """The programme's end-of-mentorship feedback: ratings as published counts, and the words
    members gave (the end form says the programme's organisers read them, with the pair's
    names; each view is audited)."""
    report = surveys.mentorship_feedback(
        session=visitor.db, organiser=visitor.member, programme_id=path_id(programme_id)
    )
    return render(visitor, "surveys/feedback.html", report=report, programme=report.programme)


# Members: answering -------------------------------------------------------------------------


@router.get("/surveys", response_class=HTMLResponse)
def my_surveys(visitor: CurrentVisitor) -> Response:
    """The surveys waiting for the member's answers."""
    pending = surveys.pending_for(session=visitor.db, member=visitor.member)
    return render(visitor, "surveys/mine.html", pending=pending, stage_labels=surveys.STAGE_LABELS)


def _answer_page(
    visitor: Visitor,
    survey_id: int,
    mentorship_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    form = surveys.get_to_answer(
        session=visitor.db,
        member=visitor.member,
        survey_id=path_id(survey_id),
        mentorship_id=path_id(mentorship_id),
    )
    return render(
        visitor,
        "surveys/answer.html",
        status_code=status_code,
        errors=errors,
        values=values or {},
        form=form,
        invitation=form.invitation,
        agreement=surveys.AGREEMENT,
        recommend=surveys.RECOMMEND,
        share_label=surveys.SHARE_LABEL,
        field_of=surveys.field_of,
    )


@router.get("/surveys/{survey_id}/mentorships/{mentorship_id}", response_class=HTMLResponse)
def answer_form(visitor: CurrentVisitor, survey_id: int, mentorship_id: int) -> Response:
    """A survey to answer about one of the member's mentorships."""
    return _answer_page(visitor, survey_id, mentorship_id)


@router.post("/surveys/{survey_id}/mentorships/{mentorship_id}", response_class=HTMLResponse)
def answer_submit(
    visitor: CheckedVisitor, form: Form, survey_id: int, mentorship_id: int
) -> Response:
    """Save the member's answers (once)."""
    current = surveys.get_to_answer(
        session=visitor.db,
        member=visitor.member,
        survey_id=path_id(survey_id),
        mentorship_id=path_id(mentorship_id),
    )
    given: dict[int, str] = {}
    shared: set[int] = set()
    values: dict[str, Any] = {}
    for question in current.questions:
        name = surveys.field_of(question)
        given[question.id] = values[name] = form_text(form, name)
        if question.kind == "text" and form_flag(form, f"{name}_share"):
            shared.add(question.id)
            values[f"{name}_share"] = True
    try:
        surveys.answer_survey(
            session=visitor.db,
            member=visitor.member,
            survey_id=survey_id,
            mentorship_id=mentorship_id,
            given=surveys.GivenAnswers(given, frozenset(shared)),
        )
    except DomainError as error:
        if error.field is None and not isinstance(error, Invalid) and error.code != "conflict":
            raise
        return _answer_page(
            visitor,
            survey_id,
            mentorship_id,
            status_code=400 if isinstance(error, Invalid) else 409,
            errors=form_errors(error, default_field="answers"),
            values=values,
        )
    return redirect("/surveys?notice=survey-answered")
