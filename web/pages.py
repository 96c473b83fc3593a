"""Pages anyone can read: home, about, privacy, accessibility."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from web.deps import CurrentVisitor, UnitOfWorkRoute
from web.render import render

router = APIRouter(route_class=UnitOfWorkRoute)


@router.get("/", response_class=HTMLResponse)
def home(visitor: CurrentVisitor) -> HTMLResponse:
    """What the network is and why to join."""
    return render(visitor, "pages/home.html")


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
