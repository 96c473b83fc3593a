"""Message pages: your conversations, one conversation with a send form, reporting a message,
the email privacy choice, and (organisers) acting on reported messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend.errors import DomainError, NotFound, RateLimited
from backend.members import service as member_service
from backend.members.service import MAX_ID
from backend.messaging import service as messaging
from backend.messaging.models import Message
from web.accounts import redirect
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, Visitor, form_text
from web.render import NOTICES, form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)

SHOWN = 100  # the latest messages of a conversation shown on its page

NOTICES.update(
    {
        "message-sent": "Your message has been sent.",
        "message-reported": "Thank you. The organisers will look at the message you reported.",
        "message-settings-saved": "Your choice about message emails has been saved.",
        "message-moderated": "Done. The reports about the message are closed.",
    }
)


def unread_for(visitor: Visitor | None) -> int:
    """The signed-in visitor's unread messages, for the header (0 when nobody is signed in)."""
    if visitor is None or visitor.member is None or visitor.member.id is None:
        return 0
    return messaging.unread_total(session=visitor.db, member_id=visitor.member.id)


templates.env.globals["unread_messages"] = unread_for
templates.env.globals["message_text"] = messaging.shown_body


def _path_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise NotFound("No such page.")
    return value


@router.get("/messages", response_class=HTMLResponse)
def thread_list(visitor: CurrentVisitor) -> Response:
    """The member's conversations, most recent first, with unread counts."""
    member = member_service.require_member(visitor.member)
    return render(
        visitor,
        "messages/list.html",
        threads=messaging.list_threads(session=visitor.db, viewer=member),
        show_text=messaging.preference_of(session=visitor.db, member=member),
    )


@router.post("/messages/settings")
def save_settings(visitor: CheckedVisitor, form: Form) -> Response:
    """Save whether emails about new messages quote the text."""
    messaging.set_preference(
        session=visitor.db,
        member=visitor.member,
        show_text_in_emails=form_text(form, "show_text_in_emails") == "yes",
    )
    return redirect("/messages?notice=message-settings-saved")


def _thread_page(
    visitor: Visitor,
    thread_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    member = member_service.require_member(visitor.member)
    view = messaging.get_thread(session=visitor.db, viewer=member, thread_id=thread_id)
    items, earlier = messaging.messages_page(
        session=visitor.db, viewer=member, thread_id=thread_id, limit=SHOWN, latest=True
    )
    # Opening the conversation reads it: the header's count and the notice clear.
    messaging.mark_read(session=visitor.db, member=member, thread_id=thread_id)
    authors = member_service.get_many(
        session=visitor.db, member_ids=sorted({m.author_id for m in items if m.author_id})
    )
    return render(
        visitor,
        "messages/thread.html",
        status_code=status_code,
        errors=errors,
        values=values,
        view=view,
        items=items,
        earlier=earlier,
        authors=authors,
    )


@router.get("/messages/{thread_id:int}", response_class=HTMLResponse)
def thread_page(visitor: CurrentVisitor, thread_id: int) -> Response:
    """One conversation, newest last, with a form to reply."""
    return _thread_page(visitor, _path_id(thread_id))


@router.post("/messages/{thread_id:int}", response_class=HTMLResponse)
def send(visitor: CheckedVisitor, form: Form, thread_id: int) -> Response:
    """Send a message, or show the conversation again with what is wrong."""
    body = form_text(form, "body")
    try:
        messaging.send(
            session=visitor.db, author=visitor.member, thread_id=_path_id(thread_id), body=body
        )
    except DomainError as error:
        if error.code in ("not_authenticated", "forbidden", "not_found"):
            raise
        return _thread_page(
            visitor,
            thread_id,
            errors=form_errors(error, default_field="body"),
            values={"body": body},
            status_code=429 if isinstance(error, RateLimited) else 400,
        )
    return redirect(f"/messages/{thread_id}?notice=message-sent#latest")


@router.get("/mentoring/mentorships/{mentorship_id:int}/messages")
def mentorship_messages(visitor: CurrentVisitor, mentorship_id: int) -> Response:
    """The mentorship's conversation (started on first visit)."""
    thread = messaging.thread_for_mentorship(
        session=visitor.db, member=visitor.member, mentorship_id=_path_id(mentorship_id)
    )
    return redirect(messaging.link_to(thread.id))


@router.get("/circles/{circle_id:int}/messages")
def circle_messages(visitor: CurrentVisitor, circle_id: int) -> Response:
    """The circle's conversation (started on first visit)."""
    thread = messaging.thread_for_circle(
        session=visitor.db, member=visitor.member, circle_id=_path_id(circle_id)
    )
    return redirect(messaging.link_to(thread.id))


@router.get("/groups/{group_id:int}/messages")
def group_messages(visitor: CurrentVisitor, group_id: int) -> Response:
    """The mentoring group's conversation (started on first visit)."""
    thread = messaging.thread_for_group(
        session=visitor.db, member=visitor.member, group_id=_path_id(group_id)
    )
    return redirect(messaging.link_to(thread.id))


def _reported(visitor: Visitor, message_id: int) -> tuple[Message, messaging.ThreadView]:
    member = member_service.require_member(visitor.member)
    message = visitor.db.get(Message, _path_id(message_id))
    if message is None:
        raise NotFound("No such message.")
    return message, messaging.get_thread(
        session=visitor.db, viewer=member, thread_id=message.thread_id
    )


@router.get("/messages/report/{message_id:int}", response_class=HTMLResponse)
def report_form(visitor: CurrentVisitor, message_id: int) -> Response:
    """Tell the organisers what is wrong with a message."""
    message, view = _reported(visitor, message_id)
    return render(visitor, "messages/report.html", message=message, view=view)


@router.post("/messages/report/{message_id:int}", response_class=HTMLResponse)
def report(visitor: CheckedVisitor, form: Form, message_id: int) -> Response:
    """File the report, or show the form again with what is wrong."""
    message, view = _reported(visitor, message_id)
    reason = form_text(form, "reason")
    try:
        messaging.report(
            session=visitor.db, reporter=visitor.member, message_id=message.id, reason=reason
        )
    except DomainError as error:
        if error.code in ("not_authenticated", "forbidden", "not_found"):
            raise
        return render(
            visitor,
            "messages/report.html",
            status_code=429 if isinstance(error, RateLimited) else 400,
            errors=form_errors(error, default_field="reason", fields={"message_id": "reason"}),
            values={"reason": reason},
            message=message,
            view=view,
        )
    return redirect(f"/messages/{view.thread.id}?notice=message-reported")


@router.post("/messages/moderation")
def moderate(visitor: CheckedVisitor, form: Form) -> Response:
    """Organisers: hide a reported message, or dismiss its reports."""
    raw = form_text(form, "message_id")
    if not raw.isdigit():
        raise NotFound("No such message.")
    messaging.moderate(
        session=visitor.db,
        organiser=visitor.member,
        message_id=_path_id(int(raw)),
        hide=form_text(form, "action") == "hide",
    )
    return redirect("/community/moderation?notice=message-moderated")
