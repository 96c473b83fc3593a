"""Notification pages: the list (newest first), mark all read, and email settings per kind."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.errors import Invalid
from backend.members import service as member_service
from backend.notifications import service as notifications
from backend.notifications.models import NOTIFICATION_KINDS
from web.accounts import redirect
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, Visitor, form_text
from web.render import NOTICES, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)

PAGE_SIZE = 20

NOTICES.update(
    {
        "notifications-read": "All your notifications are marked as read.",
        "notification-settings-saved": "Your email choices have been saved.",
    }
)

KIND_LABELS = {
    "request_received": "Someone asks you to be their mentor",
    "request_answered": "A mentor answers your request",
    "request_closed": "A request closes (expired, withdrawn or released)",
    "request_reminder": "Reminders of requests waiting for your answer",
    "mentorship": "Your mentorships: started, sessions logged, ended",
    "round": "Matches proposed by a matching round",
    "community": "Community: replies and circles",
    "programme": "Decisions on your programme applications",
    "message": "New messages in your mentorships and circles",
    "session": "Sessions proposed, booked, changed or cancelled, and reminders the day before",
    "checkin": "Monthly check-ins, and reminders when a mentorship has gone quiet",
    "survey": "Programme surveys waiting for your answers",
    "event": "Events you are going to: invitations, places from the waiting list, reminders",
    "opportunity": "Opportunities you saved: a week before they close, or if withdrawn",
}
MODES = [
    ("immediate", "Email me straight away"),
    ("digest", "Once a week in a digest"),
    ("off", "Do not email me (still shown here)"),
]


def unread_for(visitor: Visitor | None) -> int:
    """The signed-in visitor's unread count, for the header (0 when nobody is signed in)."""
    if visitor is None or visitor.member is None or visitor.member.id is None:
        return 0
    return notifications.unread_count(session=visitor.db, member_id=visitor.member.id)


templates.env.globals["unread_notifications"] = unread_for


@router.get("/notifications", response_class=HTMLResponse)
def notification_list(visitor: CurrentVisitor, page: str = "1") -> Response:
    """The member's notifications, newest first; unread ones are tagged 'New'."""
    member = member_service.require_member(visitor.member)
    number = int(page) if page.isdigit() and 0 < int(page) <= 10_000 else 1
    items, has_more = notifications.page(
        session=visitor.db,
        member_id=member.id,
        offset=(number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    return render(
        visitor,
        "notifications/list.html",
        items=items,
        page=number,
        has_more=has_more,
        href=lambda n: f"/notifications?page={n}",
    )


@router.post("/notifications/mark-read")
def mark_all_read(visitor: CheckedVisitor) -> Response:
    """Mark every notification of the member as read."""
    member = member_service.require_member(visitor.member)
    notifications.mark_read(session=visitor.db, member_id=member.id)
    return redirect("/notifications?notice=notifications-read")


def _settings_page(visitor: Visitor, **context: Any) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    context.setdefault(
        "values",
        notifications.preferences(session=visitor.db, member_id=member.id),
    )
    return render(
        visitor,
        "notifications/settings.html",
        kinds=[(kind, KIND_LABELS.get(kind, kind)) for kind in NOTIFICATION_KINDS],
        modes=MODES,
        **context,
    )


@router.get("/notifications/settings", response_class=HTMLResponse)
def settings_form(visitor: CurrentVisitor) -> Response:
    """For each kind of notification: email immediately, in a weekly digest, or not."""
    return _settings_page(visitor)


@router.post("/notifications/settings", response_class=HTMLResponse)
def settings_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Save the email choice for every kind at once."""
    member = member_service.require_member(visitor.member)
    modes = {kind: form_text(form, kind) for kind in NOTIFICATION_KINDS if kind in form}
    try:
        notifications.set_preferences(session=visitor.db, member_id=member.id, modes=modes)
    except Invalid as error:
        return _settings_page(
            visitor,
            status_code=400,
            errors={
                # The service names the kind by its id; the page names it as the legend does.
                kind: f"Choose how to hear about: {KIND_LABELS.get(kind, kind).lower()}."
                for kind in form_errors(error, default_field=NOTIFICATION_KINDS[0])
            },
            values=modes,
        )
    return redirect("/notifications/settings?notice=notification-settings-saved")
