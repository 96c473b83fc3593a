"""Page tests: the app through Starlette's test client, on each test database."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from backend.db import session_factory
from peerbridge.app import create_app
from tests.factories import PASSWORD

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette's note about httpx2; the client works the same
    from fastapi.testclient import TestClient

GOOD_SIGN_UP = {
    "email": "sam.jones@example.nhs.uk",
    "password": "a long memorable passphrase",
    "name": "Sam Jones",
    "job_title": "Rota coordinator",
    "organisation": "Leeds Teaching Hospitals NHS Trust",
    "region": "North East and Yorkshire",
    "role_family": "workforce-and-rostering",
    "band": "4",
    "profession": "non-clinical",
    "management_years": "1",
}

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """The test's own view of the database, which must never block the app it is testing.

    The app's SQLite engine takes the write lock at the start of every transaction; a test
    session doing that would hold the lock between requests. So on SQLite the test reads and
    writes through a plain engine whose reads run outside any transaction.
    """
    own = engine
    if engine.dialect.name == "sqlite":
        own = create_engine(engine.url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(own, "connect")
        def _foreign_keys(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA foreign_keys=ON")

    with session_factory(own)() as test_session:
        yield test_session
    if own is not engine:
        own.dispose()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """A browser-like client (cookie jar, no redirects followed) against the test database."""
    with TestClient(create_app(engine=engine), follow_redirects=False) as test_client:
        yield test_client


def another_client(engine: Engine) -> TestClient:
    """A second browser on the same app and database (another device, or an attacker)."""
    return TestClient(create_app(engine=engine), follow_redirects=False)


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token the page at ``path`` gives this client's session."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict, *, page: str | None = None):  # type: ignore[no-untyped-def]
    """Submit a form the way a browser does: fetch the page for its token, then POST."""
    token = csrf_token(client, page or path)
    return client.post(path, data={"csrf_token": token, **data})


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Log ``client`` in through the form."""
    response = post_form(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text


def error_summary(html: str) -> list[str]:
    """The messages in the page's error summary, as text."""
    match = re.search(r'<div class="nhsuk-error-summary".*?</ul>', html, re.S)
    if not match:
        return []
    return [
        " ".join(re.sub(r"<[^>]+>", "", item).split())
        for item in re.findall(r"<li>(.*?)</li>", match.group(0), re.S)
    ]


class Forms(HTMLParser):
    """Collects each form on a page: method, action and the names of its fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.inside = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.inside = True
            self.forms.append(
                {
                    "method": (attributes.get("method") or "get").lower(),
                    "action": attributes.get("action"),
                    "fields": {},
                }
            )
        elif tag in ("input", "select", "textarea") and self.inside:
            self.forms[-1]["fields"].setdefault(attributes.get("name"), attributes.get("value"))


def forms_of(html: str) -> list[dict]:
    """Every form on a page."""
    parser = Forms()
    parser.feed(html)
    return parser.forms
