"""Development opportunity pages: browse with filters, one opportunity (save, "I'm interested"),
post, change or withdraw one, your saved ones, and "Recommended for you" on the home page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from backend.chapters import service as chapter_service
from backend.errors import Conflict, DomainError, Invalid
from backend.opportunities import reach
from backend.opportunities import service as opportunities
from backend.opportunities.models import FORMAT_NAMES, KIND_NAMES
from backend.skills import service as skill_service
from vocabulary import PROFESSIONS, REGIONS, ROLE_FAMILIES, humanise
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_date,
    form_list,
    form_text,
)
from web.render import NOTICES, band_label, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)

NOTICES.update(
    {
        "opportunity-posted": "Your opportunity has been posted.",
        "opportunity-changed": "The opportunity has been changed.",
        "opportunity-withdrawn": "The opportunity has been withdrawn. Members who saved it or "
        "said they were interested have been told.",
        "opportunity-saved": "Saved. We will remind you by email a week before it closes.",
        "opportunity-unsaved": "Removed from your saved opportunities.",
        "opportunity-interested": "Thank you. The poster can see how many people are "
        "interested, but not who.",
        "opportunity-not-interested": "You are no longer marked as interested.",
    }
)
KIND_OPTIONS = list(KIND_NAMES.items())
FORMAT_OPTIONS = list(FORMAT_NAMES.items())
# The service's field names that the form shows under another id.
FIELDS = {"closes_on": "closes_on-day", "chapter_id": "chapter"}
# The form's single-answer fields and its lists (ticked boxes).
FORM_TEXTS = (
    "kind",
    "title",
    "provider",
    "description",
    "url",
    "cost",
    "format",
    "audience",
    "chapter",
    "closes_on-day",
    "closes_on-month",
    "closes_on-year",
)
FORM_LISTS = ("skills", "bands", "regions", "role_families", "professions")


def _filters_page(visitor: Visitor, query: dict[str, str]) -> HTMLResponse:
    filters = opportunities.Filters(
        kind=query.get("kind") or None,
        skill=query.get("skill") or None,
        region=query.get("region") or None,
    )
    errors: dict[str, str] = {}
    try:
        found = opportunities.browse(session=visitor.db, member=visitor.member, filters=filters)
    except Invalid as error:
        errors = form_errors(error, default_field="kind")
        found = opportunities.browse(session=visitor.db, member=visitor.member)
    return render(
        visitor,
        "opportunities/list.html",
        status_code=400 if errors else 200,
        errors=errors,
        values=query,
        opportunities=found,
        kind_options=KIND_OPTIONS,
        skill_options=[
            (s.id, s.name) for s in skill_service.list_skills(session=visitor.db, retired=False)
        ],
        region_options=[(r, r) for r in REGIONS],
        filtered=any(query.values()),
    )


@router.get("/opportunities", response_class=HTMLResponse)
def browse(visitor: CurrentVisitor, kind: str = "", skill: str = "", region: str = "") -> Response:
    """Open opportunities you can see, closing soonest first, narrowed by kind, skill, region."""
    return _filters_page(visitor, {"kind": kind, "skill": skill, "region": region})


def _audiences(visitor: Visitor) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Who the visitor may post for, and the chapters they may post for."""
    scope = chapter_service.scope_of(session=visitor.db, member=visitor.member)
    audiences = [("organisation", "People in my organisation")]
    chapters: list[tuple[str, str]] = []
    if scope.is_organiser:
        every = chapter_service.all_chapters(session=visitor.db)
        chapters = [(str(c.id), c.name) for c in every if scope.covers_chapter(c.id)]
        if chapters:
            audiences.append(("chapter", "Members of a chapter I organise"))
    if scope.network:
        audiences.append(("network", "Everyone in the network"))
    return audiences, chapters


def _form_page(
    visitor: Visitor,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    selected: dict[str, list[str]] | None = None,
    editing: opportunities.OpportunityView | None = None,
) -> HTMLResponse:
    audiences, chapters = _audiences(visitor)
    selected = selected or {}
    return render(
        visitor,
        "opportunities/new.html",
        status_code=status_code,
        errors=errors,
        values=values or {"audience": "organisation"},
        selected=selected,
        editing=editing,
        heading="Change this opportunity" if editing else "Post a development opportunity",
        form_action=f"/opportunities/{editing.id}/edit" if editing else "/opportunities/new",
        submit_label="Save the changes" if editing else "Post the opportunity",
        kind_options=KIND_OPTIONS,
        format_options=FORMAT_OPTIONS,
        audiences=audiences,
        chapters=chapters,
        skill_groups=skill_service.grouped(session=visitor.db),
        band_options=[(b, band_label(b)) for b in opportunities.ALLOWED_VALUES["band"]],
        region_options=[(r, r) for r in REGIONS],
        role_family_options=[(r, humanise(r)) for r in ROLE_FAMILIES],
        profession_options=[(p, humanise(p)) for p in PROFESSIONS],
    )


@router.get("/opportunities/new", response_class=HTMLResponse)
def new(visitor: CurrentVisitor) -> Response:
    """The form to post an opportunity."""
    if visitor.member is None:
        return redirect("/login?next=/opportunities/new")
    return _form_page(visitor)


def _draft(form: FormData) -> tuple[opportunities.OpportunityDraft, dict[str, str]]:
    """The typed draft, and the fields that could not be read as their type."""
    unreadable: dict[str, str] = {}
    closes_on, problem = form_date(form, "closes_on", "closing")
    if problem:
        unreadable["closes_on-day"] = problem
    try:
        cost = opportunities.parse_cost(form_text(form, "cost"))
    except Invalid as error:
        unreadable["cost"] = error.message
        cost = 0
    chapter = form_text(form, "chapter")
    draft = opportunities.OpportunityDraft(
        kind=form_text(form, "kind"),
        title=form_text(form, "title"),
        provider=form_text(form, "provider"),
        description=form_text(form, "description"),
        url=form_text(form, "url"),
        cost_pence=cost,
        format=form_text(form, "format"),
        closes_on=closes_on,
        skills=form_list(form, "skills"),
        bands=form_list(form, "bands"),
        regions=form_list(form, "regions"),
        role_families=form_list(form, "role_families"),
        professions=form_list(form, "professions"),
        audience=form_text(form, "audience") or "organisation",
        chapter_id=int(chapter) if chapter.isdigit() and len(chapter) < 10 else None,
    )
    return draft, unreadable


def _submit(
    visitor: Visitor,
    form: FormData,
    write: Callable[[opportunities.OpportunityDraft], opportunities.OpportunityView],
    *,
    notice: str,
    editing: opportunities.OpportunityView | None = None,
) -> Response:
    """Post or change from the form; every problem is shown in the error summary at once."""
    draft, unreadable = _draft(form)
    errors: dict[str, str] = {}
    view = None
    try:
        if unreadable:
            problems = opportunities.draft_problems(session=visitor.db, draft=draft)
            if "closes_on-day" in unreadable:
                problems.pop("closes_on", None)
            errors = {**{FIELDS.get(k, k): v for k, v in problems.items()}, **unreadable}
        else:
            view = write(draft)
    except DomainError as error:
        errors = form_errors(error, default_field="audience", fields=FIELDS)
    if view is None:
        return _form_page(
            visitor,
            status_code=400,
            errors=errors,
            values={name: form_text(form, name) for name in FORM_TEXTS},
            selected={name: form_list(form, name) for name in FORM_LISTS},
            editing=editing,
        )
    return redirect(f"/opportunities/{view.id}?notice={notice}")


@router.post("/opportunities/new", response_class=HTMLResponse)
def submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Post the opportunity; every problem is shown in the error summary at once."""

    def write(draft: opportunities.OpportunityDraft) -> opportunities.OpportunityView:
        return opportunities.post(session=visitor.db, member=visitor.member, draft=draft)

    return _submit(visitor, form, write, notice="opportunity-posted")


def _answers(view: opportunities.OpportunityView) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The form's answers for an opportunity as it stands (to change it)."""
    values = {
        "kind": view.kind,
        "title": view.title,
        "provider": view.provider,
        "description": view.description,
        "url": view.url,
        "cost": "" if view.cost_pence == 0 else view.cost_text,
        "format": view.format,
        "audience": view.audience,
        "chapter": str(view.chapter_id or ""),
        "closes_on-day": str(view.closes_on.day),
        "closes_on-month": str(view.closes_on.month),
        "closes_on-year": str(view.closes_on.year),
    }
    selected = {"skills": list(view.skills)} | {
        name: list(view.eligibility.get(dimension, []))
        for dimension, name in opportunities.ELIGIBILITY_FIELDS.items()
    }
    return values, selected


def _changeable(visitor: Visitor, opportunity_id: int) -> opportunities.OpportunityView:
    return opportunities.changeable(
        session=visitor.db, member=visitor.member, opportunity_id=opportunity_id
    )


@router.get("/opportunities/{opportunity_id}/edit", response_class=HTMLResponse)
def edit(visitor: CurrentVisitor, opportunity_id: int) -> Response:
    """The posting form, filled in with the opportunity as it stands."""
    if visitor.member is None:
        return redirect(f"/login?next=/opportunities/{opportunity_id}/edit")
    view = _changeable(visitor, opportunity_id)
    values, selected = _answers(view)
    return _form_page(visitor, values=values, selected=selected, editing=view)


@router.post("/opportunities/{opportunity_id}/edit", response_class=HTMLResponse)
def update(visitor: CheckedVisitor, opportunity_id: int, form: Form) -> Response:
    """Save the changes, with the field errors of posting."""
    view = _changeable(visitor, opportunity_id)

    def write(draft: opportunities.OpportunityDraft) -> opportunities.OpportunityView:
        return opportunities.update(
            session=visitor.db, member=visitor.member, opportunity_id=opportunity_id, draft=draft
        )

    return _submit(visitor, form, write, notice="opportunity-changed", editing=view)


@router.get("/opportunities/{opportunity_id}/withdraw", response_class=HTMLResponse)
def withdraw_confirm(visitor: CurrentVisitor, opportunity_id: int) -> Response:
    """Ask before withdrawing: it cannot be undone."""
    if visitor.member is None:
        return redirect(f"/login?next=/opportunities/{opportunity_id}/withdraw")
    return render(
        visitor, "opportunities/withdraw.html", opportunity=_changeable(visitor, opportunity_id)
    )


@router.post("/opportunities/{opportunity_id}/withdraw", response_class=HTMLResponse)
def withdraw(visitor: CheckedVisitor, opportunity_id: int) -> Response:
    """Withdraw it: it leaves the lists, and those who saved it or are interested are told."""
    opportunities.withdraw(session=visitor.db, member=visitor.member, opportunity_id=opportunity_id)
    return redirect("/opportunities?notice=opportunity-withdrawn")


@router.get("/opportunities/saved", response_class=HTMLResponse)
def saved(visitor: CurrentVisitor) -> Response:
    """Your saved opportunities, closing soonest first."""
    return render(
        visitor,
        "opportunities/saved.html",
        opportunities=opportunities.saved(session=visitor.db, member=visitor.member),
    )


def _detail_page(
    visitor: Visitor,
    opportunity_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    view = opportunities.get(
        session=visitor.db, member=visitor.member, opportunity_id=opportunity_id
    )
    return render(
        visitor,
        "opportunities/detail.html",
        status_code=status_code,
        errors=errors,
        opportunity=view,
    )


@router.get("/opportunities/{opportunity_id}", response_class=HTMLResponse)
def detail(visitor: CurrentVisitor, opportunity_id: int) -> Response:
    """One opportunity: what it is, who may apply, when it closes; save it or say you are
    interested."""
    return _detail_page(visitor, opportunity_id)


@router.post("/opportunities/{opportunity_id}/save", response_class=HTMLResponse)
def save(visitor: CheckedVisitor, opportunity_id: int, form: Form) -> Response:
    """Save it (or, with ``saved=no``, take it off your list)."""
    on = form_text(form, "saved", default="yes") != "no"
    try:
        opportunities.save(
            session=visitor.db, member=visitor.member, opportunity_id=opportunity_id, saved=on
        )
    except Conflict as error:
        return _detail_page(
            visitor, opportunity_id, status_code=409, errors={"save": error.message}
        )
    back = "/opportunities/saved" if form_text(form, "back") == "saved" else None
    notice = "opportunity-saved" if on else "opportunity-unsaved"
    return redirect(f"{back or f'/opportunities/{opportunity_id}'}?notice={notice}")


@router.post("/opportunities/{opportunity_id}/interested", response_class=HTMLResponse)
def interested(visitor: CheckedVisitor, opportunity_id: int, form: Form) -> Response:
    """Say you are interested (or, with ``interested=no``, take it back)."""
    on = form_text(form, "interested", default="yes") != "no"
    try:
        opportunities.mark_interested(
            session=visitor.db, member=visitor.member, opportunity_id=opportunity_id, interested=on
        )
    except Conflict as error:
        return _detail_page(
            visitor, opportunity_id, status_code=409, errors={"interested": error.message}
        )
    notice = "opportunity-interested" if on else "opportunity-not-interested"
    return redirect(f"/opportunities/{opportunity_id}?notice={notice}")


def recommended_for(visitor: Visitor | None) -> list[opportunities.Recommended]:
    """The home page's "Recommended for you": the member's top 3, with reasons (none for a
    visitor who is not signed in or not yet confirmed)."""
    if visitor is None or visitor.member is None or not visitor.member.is_verified:
        return []
    return opportunities.recommendations(session=visitor.db, member=visitor.member, first=3)


templates.env.globals["recommended_opportunities"] = recommended_for


@router.get("/organise/reach", response_class=HTMLResponse)
def reach_page(visitor: CurrentVisitor, region: str = "") -> Response:
    """For organisers: take-up of opportunities by band, region and widening-access flag, and
    supply against demand by skill, under the insights' disclosure control."""
    errors: dict[str, str] = {}
    try:
        tables = reach.reach(session=visitor.db, member=visitor.member, region=region or None)
    except Invalid as error:
        errors = form_errors(error, default_field="region")
        tables = reach.reach(session=visitor.db, member=visitor.member)
    return render(
        visitor,
        "opportunities/reach.html",
        status_code=400 if errors else 200,
        errors=errors,
        values={"region": region},
        tables=tables,
        region_options=[(r, r) for r in REGIONS],
    )
