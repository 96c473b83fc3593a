"""Invitations to take the self-assessment, sent by the mentoring lifecycle as a pair starts
and ends (a leaf: it imports no service that imports mentoring)."""

from __future__ import annotations

from sqlmodel import Session

from backend.members.models import Member
from backend.notifications import service as notifications


def form_link(*, mentorship_id: int, occasion: str) -> str:
    """The form's address for a mentorship's start or end assessment."""
    return f"/my-development/self-assessment?mentorship={mentorship_id}&occasion={occasion}"


def invite(*, session: Session, member: Member, mentorship_id: int, occasion: str) -> None:
    """Invite ``member`` to take the start or end self-assessment of a mentorship (in the
    caller's transaction; kind ``mentorship``, so their email choice for it applies)."""
    if occasion == "start":
        title = "Take your leadership self-assessment"
        body = (
            "Rate yourself on the nine dimensions of the Healthcare Leadership Model as your "
            "mentorship starts. It takes about five minutes, only you can see your answers, and "
            "it suggests skills to work on together."
        )
    else:
        title = "Take your end-of-mentorship self-assessment"
        body = (
            "Your mentorship has ended. Rate yourself again on the nine dimensions of the "
            "Healthcare Leadership Model to see how you have changed since the start. Only "
            "you can see your answers."
        )
    notifications.notify_member(
        session=session,
        member=member,
        kind="mentorship",
        title=title,
        body=body,
        link=form_link(mentorship_id=mentorship_id, occasion=occasion),
    )
