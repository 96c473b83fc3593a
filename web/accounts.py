"""Account pages: sign up, verify, log in and out, passwords, access tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.accounts import cookies, devices, two_factor
from backend.accounts import service as accounts
from backend.errors import Conflict, DomainError, FieldErrors, NotFound, RateLimited
from backend.members import service as member_service
from backend.members import validation
from backend.members.service import MAX_ID
from web.deps import (
    CheckedVisitor,
    CurrentVisitor,
    Form,
    UnitOfWorkRoute,
    Visitor,
    form_int,
    form_text,
)
from web.render import form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute)


def safe_next(target: str | None, default: str = "/profile") -> str:
    """Only same-site paths may be redirected to after logging in."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return default
    return target


def client_address(visitor: Visitor) -> str | None:
    """The client's IP address (behind the proxy, as the server was told), for rate limits."""
    client = visitor.request.client
    return client.host if client else None


def redirect(path: str) -> RedirectResponse:
    """A redirect after a successful POST (303, so the browser GETs the next page)."""
    return RedirectResponse(path, status_code=303)


def sign_in_as(visitor: Visitor, token: str, target: str) -> RedirectResponse:
    """Replace the visitor's session by a new signed-in one, and go to ``target``."""
    accounts.revoke_session(session=visitor.db, token=visitor.token)
    return signed_in_redirect(visitor, token, target)


def signed_in_redirect(visitor: Visitor, token: str, target: str) -> RedirectResponse:
    """Go to ``target`` with the new session's cookie (the old session already revoked)."""
    response = redirect(target)
    cookies.set_session_cookie(response, token)
    if visitor.csrf_seed:
        cookies.clear_csrf_cookie(response)  # from now on the session holds the token
    return response


# Log in and out -------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(visitor: CurrentVisitor, next: str | None = None) -> Response:
    """The log-in form."""
    if visitor.member:
        return redirect(safe_next(next))
    return render(visitor, "accounts/login.html", values={"next": safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
def login_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Check the credentials; on success a new session replaces the old one."""
    email = form_text(form, "email")
    values = {"email": email, "next": safe_next(form_text(form, "next"))}
    try:
        _member, token = accounts.log_in(
            session=visitor.db,
            email=email,
            password=form_text(form, "password"),
            user_agent=visitor.request.headers.get("user-agent", ""),
            client=client_address(visitor),
        )
    except RateLimited as error:
        response = render(
            visitor,
            "accounts/login.html",
            status_code=429,
            errors={"email": error.message},
            values=values,
        )
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except DomainError as error:
        return render(
            visitor,
            "accounts/login.html",
            status_code=400,
            errors=form_errors(error, default_field="email"),
            values=values,
        )
    if two_factor.pending_session(session=visitor.db, token=token) is not None:
        # The password was right; the member is signed in only after the second factor.
        second = f"/login/second-factor?next={quote(values['next'], safe='')}"
        return sign_in_as(visitor, token, second)
    return sign_in_as(visitor, token, values["next"])


@router.post("/logout")
def logout(visitor: CheckedVisitor) -> Response:
    """End the session: the old cookie stops working everywhere."""
    accounts.log_out(session=visitor.db, token=visitor.token)
    response = redirect("/?notice=logged-out")
    cookies.clear_session_cookie(response)
    return response


# Sign up and verify ---------------------------------------------------------------------------

SIGN_UP_FIELDS = (
    "email",
    "name",
    "job_title",
    "organisation",
    "region",
    "role_family",
    "band",
    "profession",
    "management_years",
)


def read_sign_up(
    form: Form, *, profile_only: bool = False
) -> tuple[dict[str, str], accounts.SignUp, dict[str, str]]:
    """The sign-up form's values as typed, as a ``SignUp``, and its problems by field when the
    years are not a whole number (explained together with every other problem of the form;
    otherwise the service finds them). ``profile_only``: the form of a first single sign-on,
    without email and password."""
    values = {name: form_text(form, name) for name in SIGN_UP_FIELDS}
    years = form_int(form, "management_years")
    data = accounts.SignUp(
        email=values["email"],
        password=form_text(form, "password"),
        name=values["name"],
        job_title=values["job_title"],
        organisation=values["organisation"],
        region=values["region"],
        role_family=values["role_family"],
        band=values["band"],
        profession=values["profession"],
        management_years=years if isinstance(years, int) else 0,
    )
    problems: dict[str, str] = {}
    if not isinstance(years, int):
        check = accounts.profile_problems if profile_only else accounts.sign_up_problems
        problems = {
            **check(data),
            "management_years": validation.management_years_problem(years) or "",
        }
    return values, data, problems


@router.get("/sign-up", response_class=HTMLResponse)
def sign_up_form(visitor: CurrentVisitor) -> Response:
    """The form to join the network."""
    if visitor.member:
        return redirect("/profile")
    return render(visitor, "accounts/sign_up.html")


@router.post("/sign-up", response_class=HTMLResponse)
def sign_up_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Create the account and ask the new member to confirm their email, then log in.

    The answer is the same whether or not the address already has an account (no account
    probing), so nobody is signed in here; the email says what happened.
    """
    values, data, problems = read_sign_up(form)
    try:
        if problems:
            raise FieldErrors(problems)
        accounts.sign_up(session=visitor.db, data=data, client=client_address(visitor))
    except DomainError as error:
        return render(
            visitor,
            "accounts/sign_up.html",
            status_code=400,
            errors=form_errors(error, default_field="email"),
            values=values,
        )
    return redirect("/sign-up/check-email")


@router.get("/sign-up/check-email", response_class=HTMLResponse)
def check_email(visitor: CurrentVisitor) -> Response:
    """After joining: where the confirmation link went (and a new one, once signed in)."""
    email = visitor.member.email if visitor.member else None
    return render(visitor, "accounts/check_email.html", email=email)


@router.get("/verify", response_class=HTMLResponse)
def verify_form(visitor: CurrentVisitor, token: str = "") -> Response:
    """A button to confirm the address; opening the link alone changes nothing.

    Mail scanners fetch links in emails, so only the POST from this page confirms.
    """
    return render(visitor, "accounts/verify.html", values={"token": token[:200]})


@router.post("/verify", response_class=HTMLResponse)
def verify_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Confirm the email address behind the link."""
    token = form_text(form, "token")
    try:
        member = accounts.verify_email(session=visitor.db, token=token)
    except DomainError as error:
        return render(
            visitor,
            "accounts/verify.html",
            status_code=400,
            errors=form_errors(error, default_field="token"),
            values={"token": ""},
        )
    return render(
        visitor,
        "accounts/verified.html",
        signed_in_as_them=visitor.member is not None and visitor.member.id == member.id,
    )


@router.post("/verify/resend")
def verify_resend(visitor: CheckedVisitor) -> Response:
    """Send another confirmation link to the signed-in member."""
    member = member_service.require_account(visitor.member)
    try:
        accounts.resend_verification(
            session=visitor.db, member=member, client=client_address(visitor)
        )
    except Conflict:
        return redirect("/profile?notice=already-verified")
    return redirect("/profile?notice=verification-sent")


# Passwords ------------------------------------------------------------------------------------


@router.get("/forgotten-password", response_class=HTMLResponse)
def forgotten_password_form(visitor: CurrentVisitor) -> Response:
    """Ask for a password reset link."""
    return render(visitor, "accounts/forgotten_password.html")


@router.post("/forgotten-password", response_class=HTMLResponse)
def forgotten_password_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Email a link if the account exists; the answer is the same either way."""
    email = form_text(form, "email")
    try:
        accounts.request_password_reset(
            session=visitor.db, email=email, client=client_address(visitor)
        )
    except DomainError as error:
        return render(
            visitor,
            "accounts/forgotten_password.html",
            status_code=400,
            errors=form_errors(error, default_field="email"),
            values={"email": email},
        )
    return render(visitor, "accounts/reset_sent.html")


MISMATCH = "Enter the same password in both boxes."


class _Mismatch(Exception):
    """The two copies of a new password differ."""


def _new_password(form: Form, first: str = "password", second: str = "confirm_password") -> str:
    """The new password, once the two copies typed agree (a form concern, not a rule)."""
    password = form_text(form, first)
    if password and password != form_text(form, second):
        raise _Mismatch
    return password


@router.get("/reset-password", response_class=HTMLResponse)
def reset_password_form(visitor: CurrentVisitor, token: str = "") -> Response:
    """Choose a new password, from the emailed link."""
    return render(visitor, "accounts/reset_password.html", values={"token": token[:200]})


@router.post("/reset-password", response_class=HTMLResponse)
def reset_password_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Set the new password; every session of the account ends, so log in again."""
    token = form_text(form, "token")
    try:
        accounts.reset_password(session=visitor.db, token=token, new_password=_new_password(form))
    except _Mismatch:
        errors = {"confirm_password": MISMATCH}
    except DomainError as error:
        errors = form_errors(error, default_field="password")
    else:
        accounts.revoke_session(session=visitor.db, token=visitor.token)
        response = redirect("/login?notice=password-reset")
        cookies.clear_session_cookie(response)
        return response
    return render(
        visitor,
        "accounts/reset_password.html",
        status_code=400,
        errors=errors,
        values={"token": token[:200]},
    )


@router.get("/invitation", response_class=HTMLResponse)
def invitation_form(visitor: CurrentVisitor, token: str = "") -> Response:
    """An invited (imported) member chooses their first password."""
    return render(visitor, "accounts/invitation.html", values={"token": token[:200]})


@router.post("/invitation", response_class=HTMLResponse)
def invitation_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Set the first password and sign the member in."""
    token = form_text(form, "token")
    try:
        member = accounts.accept_invitation(
            session=visitor.db, token=token, new_password=_new_password(form)
        )
    except _Mismatch:
        errors = {"confirm_password": MISMATCH}
    except DomainError as error:
        errors = form_errors(error, default_field="password")
    else:
        session_token = accounts.start_session(
            session=visitor.db,
            member_id=member.id,
            user_agent=visitor.request.headers.get("user-agent", ""),
        )
        return sign_in_as(visitor, session_token, "/profile?notice=welcome")
    return render(
        visitor,
        "accounts/invitation.html",
        status_code=400,
        errors=errors,
        values={"token": token[:200]},
    )


# Account and security -------------------------------------------------------------------------


def _account_page(visitor: Visitor, **context: Any) -> HTMLResponse:
    member = member_service.require_account(visitor.member)
    tokens = accounts.list_access_tokens(session=visitor.db, member=member)
    here = visitor.record.id if visitor.record is not None else None
    sessions = [
        {
            "key": accounts.session_key(record),
            "device": devices.device_label(record.user_agent),
            "last_seen_at": record.last_seen_at,
            "created_at": record.created_at,
            "current": record.id == here,
        }
        for record in accounts.list_sessions(session=visitor.db, member=member)
    ]
    return render(visitor, "accounts/account.html", tokens=tokens, sessions=sessions, **context)


@router.get("/account", response_class=HTMLResponse)
def account(visitor: CurrentVisitor) -> Response:
    """Change password; personal access tokens."""
    return _account_page(visitor)


@router.post("/account/password", response_class=HTMLResponse)
def change_password(visitor: CheckedVisitor, form: Form) -> Response:
    """Change the password: other sessions end, and this one gets a new id."""
    member = member_service.require_account(visitor.member)
    try:
        token = accounts.change_password(
            session=visitor.db,
            member=member,
            current_password=form_text(form, "current_password"),
            new_password=form_text(form, "new_password"),
            current_token=visitor.token,
            user_agent=visitor.request.headers.get("user-agent", ""),
        )
    except DomainError as error:
        return _account_page(
            visitor, status_code=400, errors=form_errors(error, default_field="new_password")
        )
    response = redirect("/account?notice=password-changed")
    cookies.set_session_cookie(response, token)
    return response


@router.post("/account/sessions/{key}/end")
def end_session(visitor: CheckedVisitor, key: str) -> Response:
    """End one of the member's sessions (another device): its cookie stops working."""
    member = member_service.require_account(visitor.member)
    accounts.end_session(session=visitor.db, member=member, key=key[:64])
    return redirect("/account?notice=session-ended")


@router.post("/account/tokens", response_class=HTMLResponse)
def create_token(visitor: CheckedVisitor, form: Form) -> Response:
    """Create a personal access token and show its secret, this once."""
    member = member_service.require_member(visitor.member)
    name = form_text(form, "token_name")
    try:
        record, secret = accounts.create_access_token(session=visitor.db, member=member, name=name)
    except DomainError as error:
        errors = form_errors(error, default_field="token_name")
        errors = {"token_name" if k == "name" else k: m for k, m in errors.items()}
        return _account_page(visitor, status_code=400, errors=errors, values={"token_name": name})
    return render(visitor, "accounts/token_created.html", token=record, secret=secret)


@router.post("/account/tokens/{token_id:int}/revoke")
def revoke_token(visitor: CheckedVisitor, token_id: int) -> Response:
    """Revoke one of the member's tokens."""
    member = member_service.require_account(visitor.member)
    if token_id > MAX_ID:
        raise NotFound("No such token.")
    accounts.revoke_access_token(session=visitor.db, member=member, token_id=token_id)
    return redirect("/account?notice=token-revoked")
