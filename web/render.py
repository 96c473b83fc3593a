"""Rendering pages: one Jinja2 environment (autoescape on) and one ``render`` call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse, JSONResponse

from backend import london
from backend.accounts import cookies
from backend.errors import DomainError, FieldErrors
from vocabulary import (
    BANDS,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    band_label,
    humanise,
)
from web.deps import Visitor

TEMPLATES = Path(__file__).resolve().parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)
templates.env.autoescape = True
templates.env.globals.update(
    REGIONS=REGIONS,
    BANDS=BANDS,
    ROLE_FAMILIES=ROLE_FAMILIES,
    PROFESSIONS=PROFESSIONS,
    MEETING_FORMATS=MEETING_FORMATS,
)
templates.env.filters["humanise"] = humanise


def options(items: tuple[str, ...]) -> list[tuple[str, str]]:
    """(value, label) pairs for a select or radios, labels made readable."""
    return [(item, humanise(item)) for item in items]


templates.env.globals.update(
    options=options,
    REGION_OPTIONS=[(region, region) for region in REGIONS],
    BAND_OPTIONS=[(band, band_label(band)) for band in BANDS],
    MEETING_FORMAT_OPTIONS=[
        ("remote", "Remote (video or phone)"),
        ("in-person", "In person"),
        ("either", "Either"),
    ],
)
templates.env.filters["band_label"] = band_label
# Every date and time on a page is London time (see backend/london.py): use these, never strftime.
templates.env.filters.update(
    london_date=london.format_date,
    london_time=london.format_time,
    london_datetime=london.format_datetime,
    london_iso=london.iso_london,
)


# Short messages shown after a redirect (?notice=code): fixed texts only, never from the URL.
NOTICES = {
    "logged-out": "You have logged out.",
    "profile-saved": "Your profile has been saved.",
    "offer-saved": "Your mentoring offer has been saved.",
    "password-changed": "Your password has been changed. You have been signed out everywhere "
    "else; access tokens you made were revoked.",
    "password-reset": "Your password has been changed. You have been signed out everywhere; "
    "access tokens you made were revoked. Log in with your new password.",
    "session-ended": "That session has ended. Whoever used it there is now logged out.",
    "token-revoked": "The access token has been revoked. Programs using it can no longer sign in.",
    "verification-sent": "We have sent you a new link to confirm your email address.",
    "already-verified": "Your email address is already confirmed.",
    "sso-welcome": "Welcome to peerbridge. Your account is ready and your email address is "
    "confirmed.",
    "second-factor-timed-out": "Your sign-in timed out before the second step. Log in again.",
    "second-factor-required": "Organisers and admins must set up a second factor (an "
    "authenticator app or a passkey) before using organiser tools.",
    "totp-on": "Your authenticator app is set up. You will need a code from it to log in.",
    "totp-off": "Your authenticator app has been turned off.",
    "passkey-added": "Your passkey has been added.",
    "passkey-removed": "The passkey has been removed.",
    "welcome": "Welcome to peerbridge. Your password is set: check your profile is right.",
}


def render(
    visitor: Visitor,
    template: str,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` for ``visitor``; forms get ``errors`` and ``values`` by field."""
    visitor.ensure_csrf_token()
    response = templates.TemplateResponse(
        visitor.request,
        template,
        {
            "visitor": visitor,
            "member": visitor.member,
            "csrf_token": visitor.csrf_token,
            "csp_nonce": getattr(visitor.request.state, "csp_nonce", ""),
            "errors": errors or {},
            "values": values or {},
            "notice": NOTICES.get(visitor.request.query_params.get("notice", "")),
            **context,
        },
        status_code=status_code,
    )
    if visitor.new_token:
        cookies.set_session_cookie(response, visitor.new_token)
    if visitor.new_csrf_seed:
        cookies.set_csrf_cookie(response, visitor.new_csrf_seed)
    response.headers["Cache-Control"] = "no-store"
    return response


def progress(*, running: bool, message: str, percent: int) -> JSONResponse:
    """How far a job shown on a progress page has got, for the page's live region to read.

    ``running`` false: the job has finished (or stopped) and the page should be reloaded to
    see what happened; ``message`` is the sentence the page shows (and announces).
    """
    response = JSONResponse({"running": running, "message": message, "percent": percent})
    response.headers["Cache-Control"] = "no-store"
    return response


def form_errors(
    error: DomainError, *, default_field: str, fields: dict[str, str] | None = None
) -> dict[str, str]:
    """A domain error as form errors by field, for the error summary and inline messages.

    Services name fields in snake_case (``mentor_id``); ``fields`` maps such a name to the
    form's own field id where they differ (``{"mentor_id": "mentor"}``).
    """
    rename = fields or {}
    if isinstance(error, FieldErrors):
        return {rename.get(name, name): message for name, message in error.errors.items()}
    name = error.field or default_field
    return {rename.get(name, name): error.message}
