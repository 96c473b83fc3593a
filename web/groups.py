"""The mentoring group's page (group mentoring): its members and its group sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.errors import Conflict, Invalid
from backend.members import service as member_service
from backend.mentoring import groups
from web.accounts import redirect
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_list,
    form_text,
)
from web.mentoring import SESSION_FIELDS, path_id, read_session_form
from web.render import form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute)


def _group_page(
    visitor: Visitor,
    group_id: int,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    # A form sent back with errors is for the group's own people: an organiser gets NotFound.
    view = groups.get_group(
        session=visitor.db, member=member, group_id=group_id, as_organiser=errors is None
    )
    people = {p.id: p for p in ([view.mentor] if view.mentor else []) + view.members}
    return render(
        visitor,
        "groups/group.html",
        status_code=status_code,
        errors=errors,
        values=values or {},
        view=view,
        people=people,
        attendee_options=[(str(p.id), p.name) for p in people.values()],
        chosen=set((values or {}).get("attended_ids", [])),
    )


@router.get("/groups/{group_id:int}", response_class=HTMLResponse)
def group_detail(visitor: CurrentVisitor, group_id: int) -> Response:
    """A mentoring group: its mentor, members and sessions (for them; read-only, without the
    session notes, for organisers whose scope covers its programme)."""
    return _group_page(visitor, path_id(group_id))


@router.post("/groups/{group_id:int}/sessions", response_class=HTMLResponse)
def group_session_submit(visitor: CheckedVisitor, group_id: int, form: Form) -> Response:
    """Log a group session: date, length, notes for the group, and who came."""
    values: dict[str, Any] = {name: form_text(form, name) for name in SESSION_FIELDS}
    values["attended_ids"] = form_list(form, "attended_ids")
    try:
        attended = tuple(int(x) for x in values["attended_ids"] if x.isdigit())
        held_on, duration = read_session_form(form)
        groups.log_group_session(
            session=visitor.db,
            member=visitor.member,
            group_id=path_id(group_id),
            log=groups.GroupSessionLog(
                held_on=held_on,
                duration_minutes=duration,
                notes=values["notes"],
                attended_ids=attended,
            ),
        )
    except (Invalid, Conflict) as error:
        errors = form_errors(error, default_field="held_on")
        return _group_page(visitor, group_id, status_code=400, errors=errors, values=values)
    return redirect(f"/groups/{group_id}?notice=session-logged#sessions")
