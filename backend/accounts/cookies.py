"""The session cookie, set the same way by the pages and by GraphQL's ``logIn``."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from backend.settings import get_settings

COOKIE_NAME = "pb_session"


def _secure() -> bool:
    # Secure everywhere but a developer's plain-HTTP machine and the test client.
    return get_settings().environment == "production"


def read_token(request: HTTPConnection) -> str | None:
    """The session token the browser sent, if any."""
    return request.cookies.get(COOKIE_NAME)


def set_session_cookie(response: Response, token: str) -> None:
    """Give the browser its session token: HttpOnly, SameSite=Lax, Secure in production."""
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=get_settings().session_days * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    """Tell the browser to forget its session token."""
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=_secure())
