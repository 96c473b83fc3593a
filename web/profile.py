"""Profile pages: my profile (view and edit), my mentoring offer, another member's profile."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from backend.errors import FieldErrors, Invalid
from backend.members import service as member_service
from backend.members import validation
from backend.members.service import OfferUpdate, ProfileUpdate, ProfileView
from backend.skills import service as skill_service
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_flag,
    form_int,
    form_list,
    form_text,
)
from web.render import form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute)

PROFILE_TEXT_FIELDS = (
    "name",
    "job_title",
    "organisation",
    "region",
    "role_family",
    "band",
    "profession",
    "bio",
    "goals",
    "meeting_format",
    "contact_visibility",
)


def _own_view(visitor: Visitor) -> ProfileView:
    member = member_service.require_account(visitor.member)
    return member_service.profile_view(
        session=visitor.db,
        member_id=member.id,
        viewer=member,
    )


@router.get("/profile", response_class=HTMLResponse)
def my_profile(visitor: CurrentVisitor) -> Response:
    """The signed-in member's own profile, with links to change each part."""
    return render(visitor, "profile/mine.html", view=_own_view(visitor))


def _profile_values(view: ProfileView) -> dict[str, object]:
    member = view.member
    values: dict[str, object] = {
        name: getattr(member, name) for name in PROFILE_TEXT_FIELDS if name != "organisation"
    }
    values.update(
        organisation=view.organisation or "",
        management_years=member.management_years,
        seeking_mentor=member.seeking_mentor,
        outside_organisation_only=member.outside_organisation_only,
    )
    return values


@router.get("/profile/edit", response_class=HTMLResponse)
def edit_profile_form(visitor: CurrentVisitor) -> Response:
    """The profile form, filled in with what the member has now."""
    view = _own_view(visitor)
    return render(
        visitor,
        "profile/edit.html",
        values=_profile_values(view),
        selected={skill.id for skill in view.skills_sought},
        skill_groups=skill_service.grouped(
            session=visitor.db, held={skill.id for skill in view.skills_sought}
        ),
    )


def _profile_update(form: FormData) -> tuple[ProfileUpdate, dict[str, str]]:
    """The typed update, and the fields that could not be read as their type (explained)."""
    text = {name: form_text(form, name) for name in PROFILE_TEXT_FIELDS}
    years = form_int(form, "management_years")
    unreadable: dict[str, str] = {}
    if not isinstance(years, int):
        unreadable["management_years"] = validation.management_years_problem(years) or ""
    update = ProfileUpdate(
        **text,
        management_years=years if isinstance(years, int) else None,
        skills_sought=form_list(form, "skills_sought"),
        seeking_mentor=form_flag(form, "seeking_mentor"),
        outside_organisation_only=form_flag(form, "outside_organisation_only"),
    )
    return update, unreadable


@router.post("/profile/edit", response_class=HTMLResponse)
def edit_profile_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Save the profile; every problem is shown at once and nothing is saved until all pass."""
    update, unreadable = _profile_update(form)
    try:
        if unreadable:  # explained together with every other problem of the form
            problems = member_service.profile_problems(update, session=visitor.db)
            raise FieldErrors({**problems, **unreadable})
        member_service.update_profile(session=visitor.db, member=visitor.member, update=update)
    except Invalid as error:
        values: dict[str, object] = {
            name: form_text(form, name) for name in (*PROFILE_TEXT_FIELDS, "management_years")
        }
        values.update(
            seeking_mentor=update.seeking_mentor,
            outside_organisation_only=update.outside_organisation_only,
        )
        return render(
            visitor,
            "profile/edit.html",
            status_code=400,
            errors=form_errors(error, default_field="name"),
            values=values,
            selected=set(update.skills_sought or ()),
            skill_groups=skill_service.grouped(
                session=visitor.db, held=set(update.skills_sought or ())
            ),
        )
    return redirect("/profile?notice=profile-saved")


@router.get("/members/{member_id:int}", response_class=HTMLResponse)
def member_profile(visitor: CurrentVisitor, member_id: int) -> Response:
    """Another member's profile, as the visitor may see it."""
    view = member_service.profile_view(
        session=visitor.db, member_id=member_id, viewer=visitor.member
    )
    return render(visitor, "profile/member.html", view=view)


# Mentoring offer ------------------------------------------------------------------------------


@router.get("/mentoring-offer", response_class=HTMLResponse)
def offer_form(visitor: CurrentVisitor) -> Response:
    """How many mentees the member will take, in which skills."""
    view = _own_view(visitor)
    return render(
        visitor,
        "profile/offer.html",
        values={
            "capacity": view.offer.capacity,
            "paused": view.offer.paused,
            "meeting_format": view.member.meeting_format,
            "note": view.offer.note,
        },
        selected={skill.id for skill in view.skills_offered},
        skill_groups=skill_service.grouped(
            session=visitor.db, held={skill.id for skill in view.skills_offered}
        ),
    )


@router.post("/mentoring-offer", response_class=HTMLResponse)
def offer_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Save the mentoring offer."""
    capacity = form_int(form, "capacity")
    offer = OfferUpdate(
        capacity=capacity if isinstance(capacity, int) else 0,
        paused=form_flag(form, "paused"),
        skills_offered=form_list(form, "skills_offered"),
        meeting_format=form_text(form, "meeting_format") or None,
        note=form_text(form, "note"),
    )
    try:
        if not isinstance(capacity, int):
            raise FieldErrors(
                {
                    "capacity": member_service.CAPACITY_EMPTY
                    if capacity == ""
                    else member_service.CAPACITY_WHOLE
                }
            )
        member_service.set_mentoring_offer(session=visitor.db, member=visitor.member, offer=offer)
    except Invalid as error:
        return render(
            visitor,
            "profile/offer.html",
            status_code=400,
            errors=form_errors(error, default_field="capacity"),
            values={
                "capacity": form_text(form, "capacity"),
                "paused": offer.paused,
                "meeting_format": form_text(form, "meeting_format"),
                "note": offer.note,
            },
            selected=set(offer.skills_offered),
            skill_groups=skill_service.grouped(session=visitor.db, held=set(offer.skills_offered)),
        )
    return redirect("/profile?notice=offer-saved")
