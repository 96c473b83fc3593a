"""The session cookie, set the same way by the pages and by GraphQL's ``logIn``."""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.responses import Response

from backend.settings import get_settings

COOKIE_NAME = "pb_session"
CSRF_COOKIE_NAME = "pb_csrf"  # anonymous visitors' CSRF seed (backend/accounts/csrf.py)


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


def read_csrf_seed(request: HTTPConnection) -> str | None:
    """The anonymous CSRF seed the browser sent, if any."""
    return request.cookies.get(CSRF_COOKIE_NAME)


def set_csrf_cookie(response: Response, seed: str) -> None:
    """Give an anonymous browser its CSRF seed: HttpOnly, SameSite=Lax, for the browser session."""
    response.set_cookie(
        CSRF_COOKIE_NAME, seed, httponly=True, samesite="lax", secure=_secure(), path="/"
    )


def clear_csrf_cookie(response: Response) -> None:
    """Forget the anonymous CSRF seed (once signed in, the session holds the token)."""
    response.delete_cookie(
        CSRF_COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=_secure()
    )


SSO_COOKIE_NAME = "pb_sso"  # the state of a single sign-on under way (backend/accounts/sso.py)
SSO_COOKIE_PATH = "/sign-in/sso"


def read_sso_state(request: HTTPConnection) -> str | None:
    """The state of the single sign-on this browser started, if any."""
    return request.cookies.get(SSO_COOKIE_NAME)


def set_sso_cookie(response: Response, state: str, *, max_age: int) -> None:
    """Keep the state of a sign-in with the browser that started it: HttpOnly, SameSite=Lax
    (sent on the provider's redirect back, a top-level GET), only under /sign-in/sso."""
    response.set_cookie(
        SSO_COOKIE_NAME,
        state,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(),
        path=SSO_COOKIE_PATH,
    )


def clear_sso_cookie(response: Response) -> None:
    """Forget the state of a finished (or failed) sign-in."""
    response.delete_cookie(
        SSO_COOKIE_NAME, path=SSO_COOKIE_PATH, httponly=True, samesite="lax", secure=_secure()
    )
