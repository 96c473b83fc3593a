"""Goal, check-in and needs-attention pages: a goal with its notes, a check-in form, and the
organisers' list of mentorships needing attention."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.chapters import service as chapter_service
from backend.errors import Conflict, FieldErrors, Invalid
from backend.insights import service as insights
from backend.members import service as member_service
from backend.mentoring import check_ins as check_in_service
from backend.mentoring import goals as goal_service
from backend.mentoring import health
from backend.mentoring.models import Mentorship
from backend.settings import get_settings
from web.accounts import redirect
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, Visitor, form_text
from web.mentoring import (
    CHECK_IN_SCORES,
    GOAL_STATUS,
    _mentorship_page,
    _people,
    parse_date,
    path_id,
)
from web.render import NOTICES, form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute)

NOTICES.update(
    {
        "goal-added": "The goal has been added.",
        "goal-saved": "The goal has been saved.",
        "note-added": "Your progress note has been added.",
        "check-in-sent": "Thank you: your check-in has been saved.",
    }
)
BAD_DUE = "The date must be a real date, like 30 6 2027."
DATE_PARTS = ("due_on-day", "due_on-month", "due_on-year")


def _draft(form: Any, *, creating: bool, **fields: Any) -> goal_service.GoalDraft:
    """The goal as the form wrote it; the optional 'by when' date from its three boxes (empty
    boxes: no date). An unreadable date is reported with the goal's other problems."""
    due: date | str | None = None
    if any(form_text(form, part).strip() for part in DATE_PARTS):
        due = parse_date(form, "due_on")
    draft = goal_service.GoalDraft(
        due_on=due if isinstance(due, date) else None,
        clear_due_on=not creating and due is None,
        **fields,
    )
    if isinstance(due, str):
        raise FieldErrors(
            {**goal_service.goal_problems(draft, creating=creating), "due_on": BAD_DUE}
        )
    return draft


@router.post("/mentoring/mentorships/{mentorship_id:int}/goals", response_class=HTMLResponse)
def goal_add(visitor: CheckedVisitor, mentorship_id: int, form: Form) -> Response:
    """Either side adds a goal: what, by when, how we'll know."""
    values = {name: form_text(form, name) for name in ("title", "measure", *DATE_PARTS)}
    try:
        goal = goal_service.add_goal(
            session=visitor.db,
            member=visitor.member,
            mentorship_id=path_id(mentorship_id),
            draft=_draft(form, creating=True, title=values["title"], measure=values["measure"]),
        )
    except (Invalid, Conflict) as error:
        return _mentorship_page(
            visitor,
            mentorship_id,
            status_code=400,
            errors=form_errors(error, default_field="title"),
            values=values,
        )
    return redirect(f"/mentoring/goals/{goal.id}?notice=goal-added")


def _goal_page(
    visitor: Visitor,
    goal_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    goal = goal_service.get_goal(session=visitor.db, member=member, goal_id=goal_id)
    mentorship = visitor.db.get(Mentorship, goal.mentorship_id)
    assert mentorship is not None  # the goal was found through it
    role = "mentor" if mentorship.mentor_id == member.id else "mentee"
    partner_id = mentorship.mentee_id if role == "mentor" else mentorship.mentor_id
    current: dict[str, Any] = {
        "title": goal.title,
        "measure": goal.measure,
        "status": goal.status,
        "due_on-day": str(goal.due_on.day) if goal.due_on else "",
        "due_on-month": str(goal.due_on.month) if goal.due_on else "",
        "due_on-year": str(goal.due_on.year) if goal.due_on else "",
    }
    return render(
        visitor,
        "mentoring/goal.html",
        status_code=status_code,
        errors=errors,
        values={**current, **(values or {})},
        goal=goal,
        mentorship=mentorship,
        role=role,
        partner=_people(visitor, [partner_id]).get(partner_id) if partner_id else None,
        notes=goal_service.notes_for(session=visitor.db, member=member, goal_ids=[goal.id])[
            goal.id
        ],
        statuses=[(key, label) for key, (label, _) in GOAL_STATUS.items()],
    )


@router.get("/mentoring/goals/{goal_id:int}", response_class=HTMLResponse)
def goal_detail(visitor: CurrentVisitor, goal_id: int) -> Response:
    """A goal with its progress notes (the pair only)."""
    return _goal_page(visitor, path_id(goal_id))


@router.post("/mentoring/goals/{goal_id:int}", response_class=HTMLResponse)
def goal_update(visitor: CheckedVisitor, goal_id: int, form: Form) -> Response:
    """Change a goal: what, by when, how we'll know, its status."""
    values = {name: form_text(form, name) for name in ("title", "measure", "status", *DATE_PARTS)}
    try:
        goal_service.update_goal(
            session=visitor.db,
            member=visitor.member,
            goal_id=path_id(goal_id),
            draft=_draft(
                form,
                creating=False,
                title=values["title"],
                measure=values["measure"],
                status=values["status"] or None,
            ),
        )
    except (Invalid, Conflict) as error:
        return _goal_page(
            visitor,
            goal_id,
            status_code=400,
            errors=form_errors(error, default_field="title"),
            values=values,
        )
    return redirect(f"/mentoring/goals/{goal_id}?notice=goal-saved")


@router.post("/mentoring/goals/{goal_id:int}/notes", response_class=HTMLResponse)
def goal_note_add(visitor: CheckedVisitor, goal_id: int, form: Form) -> Response:
    """Add a dated progress note to a goal."""
    values = {"text": form_text(form, "text")}
    try:
        goal_service.add_note(
            session=visitor.db, member=visitor.member, goal_id=path_id(goal_id), text=values["text"]
        )
    except (Invalid, Conflict) as error:
        return _goal_page(
            visitor,
            goal_id,
            status_code=400,
            errors=form_errors(error, default_field="text"),
            values=values,
        )
    return redirect(f"/mentoring/goals/{goal_id}?notice=note-added#notes")


def _check_in_page(
    visitor: Visitor,
    check_in_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    check_in = check_in_service.get_own(
        session=visitor.db, member=visitor.member, check_in_id=check_in_id
    )
    mentorship = visitor.db.get(Mentorship, check_in.mentorship_id)
    partner_id = None
    if mentorship is not None:
        partner_id = mentorship.mentee_id if check_in.role == "mentor" else mentorship.mentor_id
    return render(
        visitor,
        "mentoring/check_in.html",
        status_code=status_code,
        errors=errors,
        values=values,
        check_in=check_in,
        mentorship_active=mentorship is not None and mentorship.status == "active",
        partner=_people(visitor, [partner_id]).get(partner_id) if partner_id else None,
        check_in_scores=CHECK_IN_SCORES,
    )


@router.get("/mentoring/check-ins/{check_in_id:int}", response_class=HTMLResponse)
def check_in_detail(visitor: CurrentVisitor, check_in_id: int) -> Response:
    """Your check-in: the form, or your answer once given."""
    return _check_in_page(visitor, path_id(check_in_id))


@router.post("/mentoring/check-ins/{check_in_id:int}", response_class=HTMLResponse)
def check_in_answer(visitor: CheckedVisitor, check_in_id: int, form: Form) -> Response:
    """Answer a check-in (from its own page or the mentorship page)."""
    values = {name: form_text(form, name) for name in ("score", "comment", "share_with_organisers")}
    raw = values["score"]
    try:
        if raw not in {"1", "2", "3", "4", "5"}:
            raise FieldErrors({"score": check_in_service.SCORE})
        check_in_service.answer(
            session=visitor.db,
            member=visitor.member,
            check_in_id=path_id(check_in_id),
            given=check_in_service.CheckInAnswer(
                score=int(raw),
                comment=values["comment"],
                share_with_organisers=values["share_with_organisers"] == "yes",
            ),
        )
    except (Invalid, Conflict) as error:
        return _check_in_page(
            visitor,
            check_in_id,
            status_code=400,
            errors=form_errors(error, default_field="score"),
            values=values,
        )
    found = check_in_service.get_own(
        session=visitor.db, member=visitor.member, check_in_id=check_in_id
    )
    return redirect(f"/mentoring/mentorships/{found.mentorship_id}?notice=check-in-sent")


@router.get("/organise/needs-attention", response_class=HTMLResponse)
def needs_attention(visitor: CurrentVisitor) -> Response:
    """Organisers: active pairs in their scope that have gone quiet or are struggling."""
    chapter_service.require_scope(session=visitor.db, member=visitor.member)
    raw = visitor.request.query_params.get("programme", "")[:20]
    options = insights.filter_options(session=visitor.db, organiser=visitor.member)
    settings = get_settings()
    context: dict[str, Any] = {
        "programmes": [(str(p.id), p.name) for p in options.programmes],
        "weeks": settings.mentorship_quiet_weeks + settings.mentorship_attention_weeks,
        "quiet_weeks": settings.mentorship_quiet_weeks,
    }
    try:
        programme_id = insights.parse_filter_id(raw, field="programme", what="programme")
        items = health.needing_attention(
            session=visitor.db, organiser=visitor.member, programme_id=programme_id
        )
    except Invalid as error:
        return render(
            visitor,
            "organise/needs_attention.html",
            status_code=400,
            errors=form_errors(error, default_field="programme"),
            values={"programme": raw},
            items=[],
            **context,
        )
    return render(
        visitor,
        "organise/needs_attention.html",
        values={"programme": raw},
        items=items,
        **context,
    )
