"""The outbox: emails are written with the change that causes them and sent over real SMTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.utils import parsedate_to_datetime

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import insert
from sqlmodel import select

from backend.db import session_factory, utcnow
from backend.notifications import service as notifications
from backend.notifications.models import OutboxEmail
from backend.settings import Settings
from tests.factories import make_member


class Inbox(Message):
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list = []

    def handle_message(self, message) -> None:  # type: ignore[no-untyped-def]
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def smtp_settings(port: int) -> Settings:
    return Settings(environment="test", email_backend="smtp", smtp_host="127.0.0.1", smtp_port=port)


def test_queued_email_arrives_at_the_smtp_server_once(session, smtp_server):
    inbox, port = smtp_server
    notifications.enqueue_email(
        session=session, to="ann@example.org", subject="Hello", body="Welcome, Ann.", kind="test"
    )
    session.commit()

    assert notifications.deliver_pending(session=session, settings=smtp_settings(port)) == 1
    assert notifications.deliver_pending(session=session, settings=smtp_settings(port)) == 0

    [message] = inbox.messages
    assert message["To"] == "ann@example.org"
    assert message["Subject"] == "Hello"
    assert "Welcome, Ann." in message.get_payload()
    assert session.exec(select(OutboxEmail)).one().sent_at is not None


def test_every_email_carries_a_date_header_of_its_sending(session, smtp_server, tmp_path):
    """RFC 5322 requires a Date: over SMTP and in the development mail files alike."""
    inbox, port = smtp_server
    for address in ("ann@example.org", "bob@example.org"):
        notifications.enqueue_email(
            session=session, to=address, subject="Hello", body="Welcome.", kind="test"
        )
    session.commit()
    before = utcnow().replace(microsecond=0)

    notifications.deliver_pending(session=session, settings=smtp_settings(port), limit=1)
    file_settings = Settings(environment="test", email_backend="file", mail_dir=tmp_path)
    notifications.deliver_pending(session=session, settings=file_settings)

    [sent] = inbox.messages
    [path] = tmp_path.glob("*.eml")
    written = message_from_bytes(path.read_bytes(), policy=email_policy.default)
    for message in (sent, written):
        date = parsedate_to_datetime(message["Date"])
        assert date.tzinfo is not None
        assert before <= date <= utcnow() + timedelta(seconds=1)


def test_an_email_whose_transaction_rolls_back_is_never_sent(session, smtp_server):
    inbox, port = smtp_server
    notifications.enqueue_email(
        session=session, to="ann@example.org", subject="Hello", body="Never sent", kind="test"
    )
    session.rollback()

    assert notifications.deliver_pending(session=session, settings=smtp_settings(port)) == 0
    assert inbox.messages == []


def test_a_failed_send_is_kept_and_retried_later(session, smtp_server):
    inbox, port = smtp_server
    notifications.enqueue_email(
        session=session, to="ann@example.org", subject="Hello", body="Retry me", kind="test"
    )
    session.commit()
    closed_port = free_port()  # nothing listens here

    assert notifications.deliver_pending(session=session, settings=smtp_settings(closed_port)) == 0
    email = session.exec(select(OutboxEmail)).one()
    assert email.sent_at is None and email.attempts == 1 and email.last_error
    assert email.next_attempt_at > utcnow()

    email.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.add(email)
    session.commit()
    assert notifications.deliver_pending(session=session, settings=smtp_settings(port)) == 1
    assert len(inbox.messages) == 1


def test_an_email_that_cannot_be_built_is_recorded_and_the_others_still_go(session, smtp_server):
    inbox, port = smtp_server
    # Rows queued before the one-line rule held (the rule refuses them at every write now), so
    # they go in beneath the ORM, as an old outbox would hold them.
    now = utcnow()
    for to, subject in [
        ("ann@example.org\r\nBcc: everyone@example.org", "Injected"),  # cannot be a header
        ("bob@example.org", "Before"),
        ("cat@example.org", "Dr Cat\r\nBcc: everyone@example.org has replied"),  # a CR/LF name
    ]:
        session.execute(
            insert(OutboxEmail).values(
                to_address=to,
                subject=subject,
                body_text="Hi",
                kind="test",
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )
    session.commit()

    assert notifications.deliver_pending(session=session, settings=smtp_settings(port)) == 2

    assert sorted(m["To"] for m in inbox.messages) == ["bob@example.org", "cat@example.org"]
    folded = next(m for m in inbox.messages if m["To"] == "cat@example.org")
    assert folded["Subject"] == "Dr Cat Bcc: everyone@example.org has replied"
    assert folded["Bcc"] is None
    session.expire_all()
    bad = session.exec(select(OutboxEmail).where(OutboxEmail.subject == "Injected")).one()
    assert bad.sent_at is None
    assert "ValueError" in bad.last_error and "cannot be sent" in bad.last_error
    # Retrying cannot help: it is not tried again, and the next pass sends nothing.
    assert bad.attempts == notifications.MAX_ATTEMPTS
    assert notifications.deliver_pending(session=session, settings=smtp_settings(port)) == 0


@pytest.fixture
def silent_smtp_server() -> Iterator[tuple[int, threading.Event]]:
    """A server that accepts connections and never says a word (a hung mail relay)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            accepted.set()

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], accepted
    listener.close()
    for connection in held:
        connection.close()


def test_a_hung_smtp_server_holds_no_database_transaction(engine, session, silent_smtp_server):
    port, accepted = silent_smtp_server
    notifications.enqueue_email(
        session=session, to="ann@example.org", subject="Hello", body="Hi", kind="test"
    )
    session.commit()
    settings = Settings(
        environment="test",
        email_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_timeout_seconds=4,
    )

    def deliver() -> None:
        with session_factory(engine)() as worker_session:
            notifications.deliver_pending(session=worker_session, settings=settings)

    sender = threading.Thread(target=deliver)
    sender.start()
    assert accepted.wait(10)
    # While the relay hangs, someone else writes (a log-in, say): it must not wait for it.
    started = time.monotonic()
    with session_factory(engine)() as other:
        make_member(other)
    took = time.monotonic() - started
    still_hung = sender.is_alive()
    sender.join(30)

    assert still_hung and took < 2.0
    session.expire_all()
    email = session.exec(select(OutboxEmail)).one()
    assert email.sent_at is None and "timed out" in email.last_error
    assert email.claimed_until is None and email.next_attempt_at > utcnow()


def test_two_workers_never_send_the_same_email(engine, session, smtp_server):
    inbox, port = smtp_server
    for number in range(30):
        notifications.enqueue_email(
            session=session, to="ann@example.org", subject=f"N{number}", body="Hi", kind="test"
        )
    session.commit()
    counts: list[int] = []

    def deliver() -> None:
        with session_factory(engine)() as worker_session:
            counts.append(
                notifications.deliver_pending(session=worker_session, settings=smtp_settings(port))
            )

    workers = [threading.Thread(target=deliver) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    subjects = [m["Subject"] for m in inbox.messages]
    assert sorted(subjects) == sorted(f"N{number}" for number in range(30))
    assert sum(counts) == 30
