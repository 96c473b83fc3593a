"""Logs never carry what members searched for or their email addresses.

Every record the app writes while a member searches the directory by name (the page and the
API) and while account emails are asked for and sent is captured, both as records and as the
JSON lines the log handler writes, and searched for the name and the email.
"""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend import observability
from backend.db import session_factory
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.settings import get_settings
from tests.factories import make_access_token, make_member
from tests.web.conftest import log_in, post_form

NAME = "Zebedee Quillfeather"
EMAIL = "zebedee.quillfeather@example.nhs.uk"
SEARCHER = "searcher@example.nhs.uk"
# The test's own HTTP client logs the URLs it fetches; the app is what is under test.
CLIENT_LOGGERS = ("httpx", "httpcore")


@pytest.fixture
def log_lines():  # type: ignore[no-untyped-def]
    """Everything logged, at DEBUG, as the JSON lines production writes."""
    stream = io.StringIO()
    settings = get_settings().model_copy(update={"log_level": "DEBUG", "log_format": "json"})
    root = logging.getLogger()
    level = root.level
    handler = observability.configure_logging(settings, stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _leaks(records: list[logging.LogRecord], lines: str) -> list[str]:
    needles = (NAME.lower(), EMAIL.lower(), "quillfeather", "zebedee")
    found = []
    for record in records:
        if record.name.startswith(CLIENT_LOGGERS):
            continue
        text = f"{record.getMessage()} {record.__dict__!r} {record.exc_text or ''}".lower()
        found += [f"{record.name}: {n}" for n in needles if n in text]
    for line in lines.lower().splitlines():
        if '"logger": "httpx"' in line or '"logger": "httpcore' in line:
            continue
        found += [f"line: {n}" for n in needles if n in line]
    return found


def test_a_directory_search_by_name_leaves_neither_the_words_nor_the_name_in_the_logs(
    client, session: Session, caplog, log_lines
):
    make_member(session, name=NAME, email=EMAIL)
    searcher = make_member(session, email=SEARCHER)
    _record, secret = make_access_token(session, member=searcher)
    session.commit()
    log_in(client, SEARCHER)
    caplog.set_level(logging.DEBUG)

    page = client.get("/members", params={"q": NAME})
    api = client.post(
        "/graphql",
        json={
            "query": "query($t: String) { members(filter: {text: $t}) "
            "{ edges { node { name } } } }",
            "variables": {"t": "Quillfeather"},
        },
        headers={"Authorization": f"Bearer {secret}"},
    )

    assert page.status_code == 200 and NAME in page.text
    assert api.status_code == 200 and NAME in api.text
    lines = log_lines.getvalue()
    assert '"route": "/members"' in lines and '"route": "/graphql"' in lines  # logged, but...
    assert _leaks(caplog.records, lines) == []


def test_asking_for_and_sending_account_emails_leaves_no_address_in_the_logs(
    client, session: Session, caplog, log_lines
):
    make_member(session, name=NAME, email=EMAIL)
    session.commit()
    caplog.set_level(logging.DEBUG)

    for _ in range(4):  # over the per-address limit too, which logs that it held one back
        post_form(client, "/forgotten-password", {"email": EMAIL})
    post_form(
        client,
        "/sign-up",
        {"email": EMAIL, "name": NAME, "password": "a long enough password 1"},
    )
    sent = notifications.deliver_pending(session=session)

    assert sent >= 1
    lines = log_lines.getvalue()
    assert '"route": "/forgotten-password"' in lines
    assert any("limit" in r.getMessage() for r in caplog.records)  # the app did log
    assert _leaks(caplog.records, lines) == []


def test_a_database_error_logged_does_not_quote_the_values_that_broke_it(engine, log_lines):
    """Errors are logged with their text: a unique email clash must not put the email (nor the
    password hash) in the log, whatever the driver or the database says."""
    with session_factory(engine)() as session:  # the app's engine, as make_engine builds it
        original = make_member(session, email=EMAIL)
        session.add(Member(**{**original.model_dump(), "id": None}))
        try:
            session.flush()
        except IntegrityError as error:
            logging.getLogger("peerbridge.test").exception("could not save: %s", error)
            raised = error
        session.rollback()

    lines = log_lines.getvalue()
    assert "IntegrityError" in lines and str(raised)  # it was logged, with its traceback
    assert "quillfeather" not in lines.lower()
    assert "argon2" not in lines


def test_uvicorn_access_lines_if_turned_on_lose_the_query_string(log_lines, monkeypatch):
    access = logging.getLogger("uvicorn.access")
    # Turned on: whatever an earlier uvicorn server in this process set (its own handler, no
    # propagation, a higher level, or the logger disabled), the lines reach the app's handler.
    monkeypatch.setattr(access, "propagate", True)
    monkeypatch.setattr(access, "disabled", False)
    monkeypatch.setattr(access, "level", logging.INFO)
    access.info(
        '%s - "%s %s HTTP/%s" %d', "192.0.2.1:5000", "GET", f"/members?q={NAME}", "1.1", 200
    )

    lines = log_lines.getvalue()
    assert 'GET /members HTTP/1.1\\" 200' in lines
    assert "zebedee" not in lines.lower()
