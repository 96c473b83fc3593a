"""Pages anyone can read: home, about, privacy, accessibility."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from backend.surveys import service as surveys
from web.deps import CurrentVisitor, UnitOfWorkRoute
from web.render import render

router = APIRouter(route_class=UnitOfWorkRoute)


@router.get("/", response_class=HTMLResponse)
def home(visitor: CurrentVisitor) -> HTMLResponse:
    """What the network is and why to join; for a member, links to their own pages (and to
    the surveys waiting for their answers, which otherwise only a notification leads to)."""
    member = visitor.member
    waiting = surveys.pending_count(session=visitor.db, member_id=member.id) if member else 0
    return render(visitor, "pages/home.html", surveys_waiting=waiting)


@router.get("/about", response_class=HTMLResponse)
def about(visitor: CurrentVisitor) -> HTMLResponse:
    """About peerbridge."""
    return render(visitor, "pages/about.html")


@router.get("/privacy", response_class=HTMLResponse)
def privacy(visitor: CurrentVisitor) -> HTMLResponse:
    """How peerbridge uses personal data."""
    return render(visitor, "pages/privacy.html")


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(visitor: CurrentVisitor) -> HTMLResponse:
    """The accessibility statement."""
    return render(visitor, "pages/accessibility.html")
