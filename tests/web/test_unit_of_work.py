"""One transaction per page request: kept when the page succeeds, gone when it fails.

The service used is real: ``reset_password`` uses up the emailed link and only then finds the
new password holds the address (``_set_password``'s check), so it writes, then raises.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlmodel import select

from backend.accounts import service as accounts
from backend.accounts.models import EmailToken, LoginThrottle, UserSession
from backend.db import utcnow
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.settings import get_settings
from tests.factories import make_member
from tests.web.conftest import TestClient, csrf_token, error_summary, log_in, post_form

NEW = "a brand new passphrase"


def _reset_link(session, mail_dir, email: str) -> str:  # type: ignore[no-untyped-def]
    accounts.request_password_reset(session=session, email=email)
    session.commit()
    notifications.deliver_pending(session=session)
    [mail] = sorted(mail_dir.glob("*.eml"))[-1:]
    return re.search(r"/reset-password\?token=(\S+)", mail.read_text()).group(1)


def _reset(client, token: str, password: str):  # type: ignore[no-untyped-def]
    return post_form(
        client,
        "/reset-password",
        {"token": token, "password": password, "confirm_password": password},
        page=f"/reset-password?token={token}",
    )


def _used_at(session, token: str):  # type: ignore[no-untyped-def]
    session.rollback()  # a fresh look at what the app committed
    used = session.exec(
        select(EmailToken.used_at).where(EmailToken.token_hash == accounts.token_hash(token))
    ).one()
    session.rollback()
    return used


def test_a_page_whose_service_writes_then_raises_leaves_nothing_behind(client, session, mail_dir):
    member = make_member(session, email="robin.walker@example.nhs.uk")
    token = _reset_link(session, mail_dir, member.email)

    refused = _reset(client, token, "robin.walker likes long walks")

    assert refused.status_code == 400
    assert error_summary(refused.text) == ["Password must not contain your email address."]
    assert _used_at(session, token) is None  # the link was used up, then that was undone
    done = _reset(client, token, NEW)
    assert done.status_code == 303 and done.headers["location"] == "/login?notice=password-reset"
    assert _used_at(session, token) is not None
    log_in(client, member.email, NEW)


def test_a_failed_log_in_is_counted_though_the_page_fails(client, session):
    member = make_member(session)

    for _ in range(get_settings().login_failures_before_backoff):
        failed = post_form(client, "/login", {"email": member.email, "password": "wrong one!"})
        assert failed.status_code == 400  # a failed page: its own transaction is rolled back

    blocked = post_form(client, "/login", {"email": member.email, "password": "wrong one!"})
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.text
    session.rollback()
    throttle = session.get(LoginThrottle, member.email, populate_existing=True)
    assert throttle.failures == get_settings().login_failures_before_backoff


@contextmanager
def another_writer(engine, member_id: int) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Another connection holding a write transaction open (on SQLite: the write lock)."""
    writer = engine.connect()
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer.begin():  # BEGIN IMMEDIATE on SQLite, kept until released
            writer.execute(update(Member).where(Member.id == member_id).values(bio="busy"))
            holding.set()
            release.wait(timeout=60)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        yield
    finally:
        release.set()
        thread.join(timeout=60)
        writer.close()


def test_get_pages_start_read_only_and_never_wait_for_a_writer(client, session, engine):
    member = make_member(session)
    log_in(client, member.email)

    with another_writer(engine, member.id):
        started = time.monotonic()
        pages = [client.get(path) for path in ("/profile", "/notifications", "/mentoring")]
        elapsed = time.monotonic() - started

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert elapsed < 2, f"GET pages waited {elapsed:.1f}s for another transaction's lock"


def test_a_due_session_touch_never_makes_a_get_page_wait_for_a_writer(client, session, engine):
    # The session was last seen two minutes ago, so this request would record it in use: on
    # SQLite that write needs the lock another transaction holds. It gives up at once (a later
    # request records it) rather than holding the page for the 30 s busy timeout.
    member = make_member(session)
    log_in(client, member.email)
    session.exec(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=2)))
    session.commit()

    with another_writer(engine, member.id):
        started = time.monotonic()
        page = client.get("/profile")
        elapsed = time.monotonic() - started

    assert page.status_code == 200
    assert elapsed < 2, f"a GET page waited {elapsed:.1f}s to record its session in use"


def test_a_commit_that_fails_is_an_error_page_not_a_redirect(client, session, monkeypatch):
    # The commit runs before the response is sent (get_db is function-scoped), so a write
    # the database refuses at commit time is reported, never lost behind a 303.
    member = make_member(session)
    log_in(client, member.email)
    token = csrf_token(client, "/notifications")

    def refuse(self) -> None:  # type: ignore[no-untyped-def]
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    browser = TestClient(client.app, raise_server_exceptions=False, follow_redirects=False)
    browser.cookies = client.cookies
    monkeypatch.setattr(Session, "commit", refuse)
    response = browser.post("/notifications/mark-read", data={"csrf_token": token})

    assert response.status_code == 500
    assert "location" not in response.headers
