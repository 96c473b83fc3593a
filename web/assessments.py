"""Self-assessment pages: the form, your results (a chart per dimension, a table, suggested
skills), adding the suggestions, and the prompt shown on a mentorship's page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend import london
from backend.assessments import service as assessments
from backend.assessments.models import (
    DIMENSIONS,
    LEVEL_NAMES,
    LEVELS,
    OCCASION_NAMES,
    OCCASIONS,
)
from backend.errors import DomainError, FieldErrors, NotFound
from backend.members import service as member_service
from backend.members.models import Member
from backend.members.service import MAX_ID
from backend.mentoring import service as mentoring
from backend.mentoring.models import Mentorship
from web.accounts import redirect
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, Visitor, form_text
from web.render import NOTICES, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)

FORM = "/my-development/self-assessment"
RESULTS = "/my-development/self-assessment/results"
NOTICES.update(
    {
        "self-assessment-saved": "Your self-assessment has been saved.",
        "suggested-skills-added": "The suggested skills have been added to your profile.",
        "suggested-skills-none": "You already seek every suggested skill: nothing changed.",
    }
)

# The chart's geometry, in viewBox units (the SVG scales to the width of its column).
BAR_LEFT, LEVEL_WIDTH, BAR_HEIGHT = 64, 40, 18


@dataclass(frozen=True)
class Bar:
    """One bar of a dimension's chart: a sitting's level, drawn and said in words."""

    label: str
    date: str
    level: int
    level_name: str
    y: int
    width: int
    hatched: bool


@dataclass(frozen=True)
class DimensionChart:
    """A dimension's chart: its bars, and the sentence that says what they show."""

    id: str
    name: str
    bars: list[Bar]
    summary: str


def _change_words(before: int, after: int) -> str:
    step = after - before
    if step == 0:
        return "No change."
    levels = "level" if abs(step) == 1 else "levels"
    return f"{'Up' if step > 0 else 'Down'} {abs(step)} {levels}."


def charts(compared: assessments.Comparison | None) -> list[DimensionChart]:
    """One chart per dimension from the sittings compared (none before the first sitting)."""
    if compared is None:
        return []
    sittings = [(compared.before_label, compared.before), (compared.after_label, compared.after)]
    shown = [(label, s) for label, s in sittings if s is not None]
    out = []
    for dimension in DIMENSIONS:
        bars, words = [], []
        for row, (label, sitting) in enumerate(shown):
            level = sitting.ratings[dimension.id]
            date = london.format_date(sitting.taken_at)
            name = LEVEL_NAMES[level]
            bars.append(
                Bar(
                    label=label or "Yours",
                    date=date,
                    level=level,
                    level_name=name,
                    y=6 + row * 26,
                    width=level * LEVEL_WIDTH,
                    hatched=row == 0 and len(shown) > 1,
                )
            )
            words.append(f"{label or 'Your rating'} ({date}): {name.lower()}, level {level} of 4.")
        if len(shown) > 1:
            before, after = (s.ratings[dimension.id] for _, s in shown)
            words.append(_change_words(before, after))
        out.append(
            DimensionChart(id=dimension.id, name=dimension.name, bars=bars, summary=" ".join(words))
        )
    return out


def _query_mentorship(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def _form_page(
    visitor: Visitor,
    *,
    occasion: str,
    mentorship_id: int | None,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    partner_name = None
    if mentorship_id is not None and occasion != "own_choice":
        mentorship = mentoring.get_mentorship(
            session=visitor.db, member=member, mentorship_id=mentorship_id
        )
        other = mentorship.mentee_id if mentorship.mentor_id == member.id else mentorship.mentor_id
        partner = visitor.db.get(Member, other) if other else None
        partner_name = partner.name if partner else "a former member"
    return render(
        visitor,
        "assessments/form.html",
        status_code=status_code,
        errors=errors,
        values=values,
        dimensions=DIMENSIONS,
        levels=[(str(level.value), f"{level.name}: {level.description}") for level in LEVELS],
        occasion=occasion,
        mentorship_id=mentorship_id,
        partner_name=partner_name,
        unlinked=("ratings", "occasion", "mentorship_id"),
    )


@router.get(FORM, response_class=HTMLResponse)
def form(visitor: CurrentVisitor, mentorship: str = "", occasion: str = "") -> Response:
    """The self-assessment: nine dimensions, one level each; for a mentorship's start or end
    when the address says so, else taken by choice."""
    chosen = occasion if occasion in OCCASIONS else "own_choice"
    mentorship_id = _query_mentorship(mentorship) if chosen != "own_choice" else None
    if mentorship_id is None:
        chosen = "own_choice"
    return _form_page(visitor, occasion=chosen, mentorship_id=mentorship_id)


@router.post(FORM, response_class=HTMLResponse)
def submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Save a sitting; any dimension left out is named in the error summary."""
    occasion = form_text(form, "occasion")
    occasion = occasion if occasion in OCCASIONS else "own_choice"
    mentorship_id = _query_mentorship(form_text(form, "mentorship"))
    ratings: dict[str, int | None] = {}
    for dimension in DIMENSIONS:
        raw = form_text(form, dimension.id)
        ratings[dimension.id] = int(raw) if raw in ("1", "2", "3", "4") else None
    try:
        assessments.take(
            session=visitor.db,
            member=visitor.member,
            sitting=assessments.TakeAssessment(
                ratings=ratings, occasion=occasion, mentorship_id=mentorship_id
            ),
        )
    except DomainError as error:
        if isinstance(error, NotFound):
            raise  # someone else's mentorship: the not-found page
        return _form_page(
            visitor,
            occasion=occasion,
            mentorship_id=mentorship_id,
            status_code=400,
            errors=form_errors(error, default_field="ratings"),
            values={d: str(v) for d, v in ratings.items() if v is not None},
        )
    return redirect(f"{RESULTS}?notice=self-assessment-saved")


def _results_page(
    visitor: Visitor, *, status_code: int = 200, errors: dict[str, str] | None = None
) -> HTMLResponse:
    mine = assessments.my_assessments(session=visitor.db, member=visitor.member)
    compared = assessments.comparison(mine)
    return render(
        visitor,
        "assessments/results.html",
        status_code=status_code,
        errors=errors,
        sittings=mine,
        charts=charts(compared),
        compared=compared,
        dimensions=DIMENSIONS,
        level_names=LEVEL_NAMES,
        occasion_names=OCCASION_NAMES,
        suggested=assessments.suggested_skills(session=visitor.db, member=visitor.member),
    )


@router.get(RESULTS, response_class=HTMLResponse)
def results(visitor: CurrentVisitor) -> Response:
    """Your change as a chart per dimension and a table by date, and the skills to seek."""
    return _results_page(visitor)


@router.post("/my-development/self-assessment/suggested-skills", response_class=HTMLResponse)
def add_suggested(visitor: CheckedVisitor) -> Response:
    """Add the suggested skills to the profile's skills sought (the one button)."""
    try:
        added = assessments.add_suggested_skills(session=visitor.db, member=visitor.member)
    except FieldErrors as error:  # at most 10 skills sought: the member must make room
        message = next(iter(error.errors.values()))
        return _results_page(visitor, status_code=400, errors={"add-suggested": message})
    notice = "suggested-skills-added" if added else "suggested-skills-none"
    return redirect(f"{RESULTS}?notice={notice}#suggested")


def mentorship_prompt(visitor: Visitor | None, mentorship: Mentorship) -> dict[str, str] | None:
    """What the mentorship page offers: the start assessment while it is active, the end one
    once it has ended (each until taken); None when there is nothing to take."""
    if visitor is None or visitor.member is None or mentorship.id is None:
        return None
    member = visitor.member
    taken = assessments.taken_for(session=visitor.db, member=member, mentorship_id=mentorship.id)
    occasion = "start" if mentorship.status == "active" else "end"
    if occasion in taken:
        return {"occasion": "", "href": RESULTS}
    return {
        "occasion": occasion,
        "href": f"{FORM}?mentorship={mentorship.id}&occasion={occasion}",
        "mentor": "yes" if member.id == mentorship.mentor_id else "",
    }


templates.env.globals["self_assessment_prompt"] = mentorship_prompt
