"""Error pages: every failure a person can meet gets a page that says what to do next."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from backend.accounts import cookies
from backend.accounts import service as accounts
from backend.accounts.two_factor import SecondFactorRequired
from backend.errors import DomainError, Forbidden, NotAuthenticated, NotFound, NotVerified
from backend.members.models import Member
from web.deps import CsrfFailed, FormNotReadable, FormNotUtf8, FormTooLarge

log = logging.getLogger("peerbridge.web")

MESSAGES = {
    400: (
        "Something was wrong with that request",
        "Go back, check what you entered, and try again.",
    ),
    403: (
        "You cannot do that",
        "Your session may have expired. Go back, reload the page and try again.",
    ),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    409: ("That has already been done", "Go back and reload the page to see the latest."),
    405: ("That did not work", "Go back and use the page's buttons and links."),
    413: ("That was too large", "Try again with a smaller file."),
    422: (
        "Something was wrong with that request",
        "Go back, check what you entered, and try again.",
    ),
    500: ("Sorry, there is a problem with the service", "Try again later."),
}


VERIFY_FIRST_TITLE = "Confirm your email address first"

NOT_UTF8 = (
    "Some of the text sent could not be read",
    "The form arrived in a character encoding other than UTF-8. Go back, check what you "
    "entered (copying text from another program can bring odd characters with it), and try "
    "again.",
)


def _signed_in(request: Request) -> tuple[Member | None, str]:
    """Who is signed in, so an error page keeps the header (never starts a session)."""
    try:
        read_only = request.app.state.engine.execution_options(read_only=True)
        with request.app.state.sessions(bind=read_only) as db:
            record = accounts.session_for_token(session=db, token=cookies.read_token(request))
            member = accounts.member_for_session(session=db, record=record)
            if member is None or record is None:
                return None, ""
            db.expunge(member)
            return member, record.csrf_token
    except Exception:  # an error page must render even when the database cannot answer
        log.warning("error page: could not look up the visitor", exc_info=True)
        return None, ""


def error_page(
    request: Request, status_code: int, message: tuple[str, str] | None = None
) -> Response:
    """A plain NHS.UK-styled page for ``status_code``."""
    from web.render import templates

    title, advice = message or MESSAGES.get(status_code, MESSAGES[400])
    member, csrf_token = _signed_in(request) if status_code < 500 else (None, "")
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": title,
            "advice": advice,
            "status_code": status_code,
            "member": member,
            "visitor": None,
            "csrf_token": csrf_token,
            "csp_nonce": getattr(request.state, "csp_nonce", ""),
        },
        status_code=status_code,
    )


def install_error_pages(app: FastAPI) -> None:
    """Translate failures into pages (JSON for /graphql is handled by the schema layer)."""

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, _error: CsrfFailed) -> Response:
        return error_page(request, 403)

    @app.exception_handler(FormTooLarge)
    async def _too_large(request: Request, _error: FormTooLarge) -> Response:
        return error_page(request, 413)

    @app.exception_handler(FormNotUtf8)
    async def _not_utf8(request: Request, _error: FormNotUtf8) -> Response:
        return error_page(request, 400, NOT_UTF8)

    @app.exception_handler(FormNotReadable)
    async def _not_readable(request: Request, error: FormNotReadable) -> Response:
        field = error.field.replace("_", " ")
        return error_page(
            request,
            400,
            (NOT_UTF8[0], f"The {field} field {error.message}"),
        )

    @app.exception_handler(NotAuthenticated)
    async def _sign_in(request: Request, _error: NotAuthenticated) -> Response:
        # After logging in, come back here (the GET page of the same address).
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(SecondFactorRequired)
    async def _set_up_second_factor(request: Request, _error: SecondFactorRequired) -> Response:
        # Organisers and admins must have a second factor before organiser pages work.
        return RedirectResponse(
            "/account/two-factor?notice=second-factor-required", status_code=303
        )

    @app.exception_handler(NotVerified)
    async def _not_verified(request: Request, error: NotVerified) -> Response:
        # The page (base.html) offers to send the link again to a signed-in, unconfirmed member.
        return error_page(request, 403, (VERIFY_FIRST_TITLE, error.message))

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, error: Forbidden) -> Response:
        # The service's own sentence says who may (the API gives the same message).
        return error_page(request, 403, (MESSAGES[403][0], error.message))

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, _error: NotFound) -> Response:
        return error_page(request, 404)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> Response:
        # Forms catch their own errors; this is the backstop for the rest (a plain 400 page).
        return error_page(request, 409 if error.code == "conflict" else 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/graphql"):
            return HTMLResponse(str(error.detail), status_code=error.status_code)
        return error_page(request, error.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, _error: RequestValidationError) -> Response:
        return error_page(request, 400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception(
            "unexpected error (request %s)",
            getattr(request.state, "request_id", "?"),
            exc_info=error,
        )
        return error_page(request, 500)
