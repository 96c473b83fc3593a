"""Single sign-on pages: the button's target, the provider's callback, completing a profile.

The rules live in ``backend.accounts.sso``; here the state cookie and the pages. The callback
is a GET (the provider redirects the browser to it), whose request session is read-only, so
its writes (using the state once, starting the session) go through ``db.write_apart``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from backend import db
from backend.accounts import cookies, sso
from backend.accounts import service as accounts
from backend.errors import DomainError, FieldErrors
from backend.settings import get_settings
from web.accounts import (
    client_address,
    read_sign_up,
    redirect,
    safe_next,
    sign_in_as,
    signed_in_redirect,
)
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_text,
)
from web.render import form_errors, render, templates

router = APIRouter(route_class=UnitOfWorkRoute)


def provider_name() -> str | None:
    """The provider's name for the sign-in button, or None when single sign-on is off."""
    settings = get_settings()
    return settings.oidc_provider_name if settings.oidc_enabled else None


templates.env.globals["sso_provider_name"] = provider_name


def _failed(visitor: Visitor, error: sso.SsoFailed) -> HTMLResponse:
    """The page for a failed sign-in: what went wrong, in plain words, and what to do."""
    response = render(
        visitor,
        "error.html",
        status_code=error.status,
        title=error.title,
        advice=error.message,
        reason=error.reason,
        next_step=("/login", "Go to the log-in page"),
    )
    cookies.clear_sso_cookie(response)
    return response


def _user_agent(visitor: Visitor) -> str:
    return visitor.request.headers.get("user-agent", "")


@router.get("/sign-in/sso", response_class=HTMLResponse)
def sso_page(visitor: CurrentVisitor, next: str | None = None) -> Response:
    """A page with the single sign-on button (the log-in page has the same button)."""
    if provider_name() is None:
        return _failed(visitor, sso.SsoFailed("not_configured", status=404))
    return render(visitor, "sso/start.html", values={"next": safe_next(next)})


@router.post("/sign-in/sso")
def sso_start(visitor: CheckedVisitor, form: Form) -> Response:
    """Send the browser to the provider, with a state kept in a cookie and in the database."""
    try:
        url, state = sso.begin(session=visitor.db, next_path=safe_next(form_text(form, "next")))
    except sso.SsoFailed as error:
        return _failed(visitor, error)
    response = redirect(url)
    cookies.set_sso_cookie(response, state, max_age=int(sso.PROFILE_WINDOW.total_seconds()))
    return response


@router.get("/sign-in/sso/callback", response_class=HTMLResponse)
def sso_callback(
    visitor: CurrentVisitor,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    """Where the provider sends the browser back: check everything, then sign in."""
    browser_state = cookies.read_sso_state(visitor.request)
    try:
        attempt = db.write_apart(
            visitor.db,
            lambda apart: sso.use_state(session=apart, state=state, browser_state=browser_state),
        )
        if error:
            raise sso.SsoFailed("provider_error", detail=error[:100])
        claims = sso.exchange(attempt=attempt, code=code)

        def finish(apart: db.Session) -> sso.SignedIn | sso.NeedsProfile:
            accounts.revoke_session(session=apart, token=visitor.token)
            return sso.sign_in(
                session=apart,
                attempt=attempt,
                claims=claims,
                user_agent=_user_agent(visitor),
                address=client_address(visitor),
            )

        outcome = db.write_apart(visitor.db, finish)
    except sso.SsoFailed as failure:
        return _failed(visitor, failure)
    if isinstance(outcome, sso.NeedsProfile):
        return redirect("/sign-in/sso/complete-profile")
    target = safe_next(outcome.next_path)
    if outcome.pending:
        # Signed in by the provider; the member's own second factor comes next.
        target = f"/login/second-factor?next={quote(target, safe='')}"
    response = signed_in_redirect(visitor, outcome.token, target)
    cookies.clear_sso_cookie(response)
    return response


@router.get("/sign-in/sso/complete-profile", response_class=HTMLResponse)
def complete_profile_form(visitor: CurrentVisitor) -> Response:
    """A first sign-in: the profile every member gives, the email already known."""
    try:
        pending = sso.pending_profile(
            session=visitor.db, state=cookies.read_sso_state(visitor.request)
        )
    except sso.SsoFailed as error:
        return _failed(visitor, error)
    return render(
        visitor,
        "sso/complete_profile.html",
        email=pending.email,
        values={"name": pending.name},
    )


@router.post("/sign-in/sso/complete-profile", response_class=HTMLResponse)
def complete_profile_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Create the verified account with its profile, and sign in."""
    state = cookies.read_sso_state(visitor.request)
    values, data, problems = read_sign_up(form, profile_only=True)
    try:
        if problems:
            sso.pending_profile(session=visitor.db, state=state)  # expired says so first
            raise FieldErrors(problems)
        _member, token = sso.complete_profile(
            session=visitor.db, state=state, data=data, user_agent=_user_agent(visitor)
        )
    except sso.SsoFailed as error:
        return _failed(visitor, error)
    except DomainError as error:
        pending = sso.pending_profile(session=visitor.db, state=state)
        return render(
            visitor,
            "sso/complete_profile.html",
            status_code=400,
            email=pending.email,
            errors=form_errors(error, default_field="name"),
            values=values,
        )
    response = sign_in_as(visitor, token, "/profile?notice=sso-welcome")
    cookies.clear_sso_cookie(response)
    return response
