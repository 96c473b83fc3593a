"""Second-factor pages: set up an authenticator app, recovery codes and passkeys; give the
second factor at sign-in; confirm it is you again (step-up) before erasure."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from backend.accounts import passkeys, two_factor
from backend.errors import DomainError, NotAuthenticated, NotFound, RateLimited
from backend.members import service as member_service
from backend.members.service import MAX_ID
from web.accounts import redirect, safe_next, sign_in_as
from web.deps import CheckedVisitor, CurrentVisitor, Form, UnitOfWorkRoute, Visitor, form_text
from web.render import form_errors, render

router = APIRouter(route_class=UnitOfWorkRoute)

TIMED_OUT = "/login?notice=second-factor-timed-out"


def _options(call: Any) -> Response:
    """A WebAuthn options document for the page's script, or its problem as JSON."""
    try:
        return Response(
            call(), media_type="application/json", headers={"Cache-Control": "no-store"}
        )
    except NotAuthenticated as error:
        return JSONResponse({"message": error.message}, status_code=401)
    except DomainError as error:
        return JSONResponse({"message": error.message}, status_code=409)


def _code_page(
    visitor: Visitor, *, mode: str, next_path: str, has_passkey: bool, **context: Any
) -> HTMLResponse:
    action = "/login/second-factor" if mode == "sign-in" else "/account/confirm"
    return render(
        visitor,
        "accounts/second_factor.html",
        mode=mode,
        action=action,
        has_passkey=has_passkey,
        next_path=next_path,
        **context,
    )


def _failed(
    visitor: Visitor, error: DomainError, *, mode: str, next_path: str, has_passkey: bool
) -> Response:
    status = 429 if isinstance(error, RateLimited) else 400
    response = _code_page(
        visitor,
        mode=mode,
        next_path=next_path,
        has_passkey=has_passkey,
        status_code=status,
        errors=form_errors(error, default_field="code"),
    )
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


# At sign-in -----------------------------------------------------------------------------------


@router.get("/login/second-factor", response_class=HTMLResponse)
def sign_in_form(visitor: CurrentVisitor, next: str | None = None) -> Response:
    """The second step of logging in: a code from the app, a recovery code, or a passkey."""
    found = two_factor.pending_session(session=visitor.db, token=visitor.token)
    if found is None:
        return redirect(TIMED_OUT)
    _record, member = found
    has_passkey = two_factor.passkey_count(session=visitor.db, member=member) > 0
    return _code_page(visitor, mode="sign-in", next_path=safe_next(next), has_passkey=has_passkey)


def _finish(visitor: Visitor, call: Any, next_path: str) -> Response:
    found = two_factor.pending_session(session=visitor.db, token=visitor.token)
    if found is None:
        return redirect(TIMED_OUT)
    has_passkey = two_factor.passkey_count(session=visitor.db, member=found[1]) > 0
    try:
        _member, token = call()
    except NotAuthenticated:
        return redirect(TIMED_OUT)
    except DomainError as error:
        return _failed(visitor, error, mode="sign-in", next_path=next_path, has_passkey=has_passkey)
    return sign_in_as(visitor, token, next_path)


@router.post("/login/second-factor", response_class=HTMLResponse)
def sign_in_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Check the code; only now is the member signed in (a new session)."""
    return _finish(
        visitor,
        lambda: two_factor.complete_sign_in(
            session=visitor.db,
            token=visitor.token,
            code=form_text(form, "code"),
            user_agent=visitor.request.headers.get("user-agent", ""),
        ),
        safe_next(form_text(form, "next")),
    )


@router.post("/login/second-factor/passkey/options")
def sign_in_passkey_options(visitor: CheckedVisitor) -> Response:
    """The challenge for a passkey at sign-in (JSON, for the page's script)."""
    return _options(lambda: passkeys.sign_in_options(session=visitor.db, token=visitor.token))


@router.post("/login/second-factor/passkey", response_class=HTMLResponse)
def sign_in_passkey(visitor: CheckedVisitor, form: Form) -> Response:
    """Check the passkey's answer; only now is the member signed in (a new session)."""
    return _finish(
        visitor,
        lambda: passkeys.complete_sign_in(
            session=visitor.db,
            token=visitor.token,
            credential_json=form_text(form, "credential"),
            user_agent=visitor.request.headers.get("user-agent", ""),
        ),
        safe_next(form_text(form, "next")),
    )


# A passkey alone ------------------------------------------------------------------------------


def _anonymous_binding(visitor: Visitor) -> str | None:
    """What ties a passwordless challenge to this browser: its CSRF seed, or its session."""
    if visitor.csrf_seed:
        return visitor.csrf_seed
    return visitor.record.id if visitor.record is not None else None


@router.post("/login/passkey/options")
def passwordless_options(visitor: CheckedVisitor) -> Response:
    """The challenge for logging in with a passkey alone (JSON, for the page's script)."""
    return _options(
        lambda: passkeys.passwordless_options(session=visitor.db, seed=_anonymous_binding(visitor))
    )


@router.post("/login/passkey", response_class=HTMLResponse)
def passwordless_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Log in with the passkey's answer (it verified the user: two factors in one)."""
    next_path = safe_next(form_text(form, "next"))
    try:
        _member, token = passkeys.passwordless_sign_in(
            session=visitor.db,
            seed=_anonymous_binding(visitor),
            credential_json=form_text(form, "credential"),
            user_agent=visitor.request.headers.get("user-agent", ""),
        )
    except DomainError as error:
        return render(
            visitor,
            "accounts/login.html",
            status_code=400,
            errors={"email": error.message},
            values={"next": next_path},
        )
    return sign_in_as(visitor, token, next_path)


# Step-up --------------------------------------------------------------------------------------


@router.get("/account/confirm", response_class=HTMLResponse)
def confirm_form(visitor: CurrentVisitor, next: str | None = None) -> Response:
    """Confirm it is you with your second factor (before erasing the account, for example)."""
    member = member_service.require_member(visitor.member)
    has_passkey = two_factor.passkey_count(session=visitor.db, member=member) > 0
    return _code_page(
        visitor, mode="step-up", next_path=safe_next(next, "/account"), has_passkey=has_passkey
    )


def _stepped_up(visitor: Visitor, call: Any, next_path: str) -> Response:
    member = member_service.require_member(visitor.member)
    try:
        call(member)
    except DomainError as error:
        has_passkey = two_factor.passkey_count(session=visitor.db, member=member) > 0
        return _failed(visitor, error, mode="step-up", next_path=next_path, has_passkey=has_passkey)
    return redirect(next_path)


@router.post("/account/confirm", response_class=HTMLResponse)
def confirm_submit(visitor: CheckedVisitor, form: Form) -> Response:
    """Check the code and remember, for a few minutes, that this session proved it."""
    return _stepped_up(
        visitor,
        lambda member: two_factor.step_up(
            session=visitor.db, member=member, token=visitor.token, code=form_text(form, "code")
        ),
        safe_next(form_text(form, "next"), "/account"),
    )


@router.post("/account/confirm/passkey/options")
def confirm_passkey_options(visitor: CheckedVisitor) -> Response:
    """The challenge for a passkey step-up (JSON)."""
    member = member_service.require_member(visitor.member)
    record = visitor.record
    assert record is not None  # a signed-in visitor has a session
    return _options(
        lambda: passkeys.authentication_options(session=visitor.db, member=member, record=record)
    )


@router.post("/account/confirm/passkey", response_class=HTMLResponse)
def confirm_passkey(visitor: CheckedVisitor, form: Form) -> Response:
    """Check the passkey's answer and remember that this session proved it."""
    member_service.require_member(visitor.member)
    record = visitor.record
    assert record is not None  # a signed-in visitor has a session
    return _stepped_up(
        visitor,
        lambda member: passkeys.step_up(
            session=visitor.db,
            member=member,
            record=record,
            credential_json=form_text(form, "credential"),
        ),
        safe_next(form_text(form, "next"), "/account"),
    )


# Setting up -----------------------------------------------------------------------------------


def _settings_page(visitor: Visitor, **context: Any) -> HTMLResponse:
    member = member_service.require_member(visitor.member)
    db = visitor.db
    return render(
        visitor,
        "accounts/two_factor.html",
        totp_on=two_factor.has_totp(session=db, member=member),
        codes_left=two_factor.recovery_codes_left(session=db, member=member),
        passkeys=passkeys.list_passkeys(session=db, member=member),
        has_factor=two_factor.needed(session=db, member=member),
        **context,
    )


@router.get("/account/two-factor", response_class=HTMLResponse)
def settings(visitor: CurrentVisitor) -> Response:
    """Your second factors: authenticator app, recovery codes, passkeys."""
    return _settings_page(visitor)


def _setup_page(visitor: Visitor, setup: two_factor.TotpSetup, **context: Any) -> HTMLResponse:
    return render(visitor, "accounts/totp_setup.html", setup=setup, **context)


def _codes_page(visitor: Visitor, codes: list[str], added: str) -> HTMLResponse:
    return render(visitor, "accounts/recovery_codes.html", codes=codes, added=added)


@router.post("/account/two-factor/totp/start", response_class=HTMLResponse)
def totp_start(visitor: CheckedVisitor) -> Response:
    """A new secret, shown as a QR code and as text, until a code confirms it."""
    member = member_service.require_member(visitor.member)
    try:
        setup = two_factor.start_totp_setup(session=visitor.db, member=member)
    except DomainError as error:
        return _settings_page(visitor, status_code=409, errors={"totp": error.message})
    return _setup_page(visitor, setup)


@router.post("/account/two-factor/totp/confirm", response_class=HTMLResponse)
def totp_confirm(visitor: CheckedVisitor, form: Form) -> Response:
    """Turn the app on once its code is right; the first time, recovery codes are shown."""
    member = member_service.require_member(visitor.member)
    try:
        codes = two_factor.confirm_totp_setup(
            session=visitor.db,
            member=member,
            code=form_text(form, "code"),
            keep_token=visitor.token,
        )
    except DomainError as error:
        setup = two_factor.totp_setup_in_progress(session=visitor.db, member=member)
        if setup is None:
            return redirect("/account/two-factor")
        return _setup_page(
            visitor, setup, status_code=400, errors=form_errors(error, default_field="code")
        )
    if codes:
        return _codes_page(visitor, codes, added="app")
    return redirect("/account/two-factor?notice=totp-on")


@router.post("/account/two-factor/totp/disable", response_class=HTMLResponse)
def totp_disable(visitor: CheckedVisitor, form: Form) -> Response:
    """Turn the authenticator app off (with the password)."""
    member = member_service.require_member(visitor.member)
    try:
        two_factor.disable_totp(
            session=visitor.db, member=member, password=form_text(form, "password")
        )
    except DomainError as error:
        return _settings_page(
            visitor, status_code=400, errors=form_errors(error, default_field="password")
        )
    return redirect("/account/two-factor?notice=totp-off")


@router.post("/account/two-factor/recovery-codes", response_class=HTMLResponse)
def recovery_codes(visitor: CheckedVisitor) -> Response:
    """A new set of recovery codes; the old ones stop working."""
    member = member_service.require_member(visitor.member)
    try:
        codes = two_factor.regenerate_recovery_codes(session=visitor.db, member=member)
    except DomainError as error:
        return _settings_page(visitor, status_code=409, errors={"recovery": error.message})
    return _codes_page(visitor, codes, added="")


@router.post("/account/passkeys/options")
def passkey_options(visitor: CheckedVisitor) -> Response:
    """The challenge for registering a passkey (JSON, for the page's script)."""
    member = member_service.require_member(visitor.member)
    record = visitor.record
    assert record is not None
    return _options(
        lambda: passkeys.registration_options(session=visitor.db, member=member, record=record)
    )


@router.post("/account/passkeys", response_class=HTMLResponse)
def passkey_add(visitor: CheckedVisitor, form: Form) -> Response:
    """Keep the passkey the browser made (the first factor also brings recovery codes)."""
    member = member_service.require_member(visitor.member)
    record = visitor.record
    assert record is not None
    name = form_text(form, "name")
    try:
        _row, codes = passkeys.register(
            session=visitor.db,
            member=member,
            record=record,
            name=name,
            credential_json=form_text(form, "credential"),
        )
    except DomainError as error:
        errors = form_errors(error, default_field="name")
        if "credential" in errors:
            errors = {"name": errors.pop("credential"), **errors}
        return _settings_page(visitor, status_code=400, errors=errors, values={"name": name})
    if codes:
        return _codes_page(visitor, codes, added="passkey")
    return redirect("/account/two-factor?notice=passkey-added")


@router.post("/account/passkeys/{passkey_id:int}/remove")
def passkey_remove(visitor: CheckedVisitor, passkey_id: int) -> Response:
    """Remove one of your passkeys."""
    member = member_service.require_member(visitor.member)
    if passkey_id > MAX_ID:
        raise NotFound("No such passkey.")
    passkeys.remove(session=visitor.db, member=member, passkey_id=passkey_id)
    return redirect("/account/two-factor?notice=passkey-removed")


def step_up_path(next_path: str) -> str:
    """Where to confirm it is you before going on to ``next_path``."""
    return f"/account/confirm?next={quote(next_path, safe='')}"
