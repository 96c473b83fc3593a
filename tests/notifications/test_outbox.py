"""The outbox: emails are written with the change that causes them and sent over real SMTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlmodel import select

from backend.db import utcnow
from backend.notifications import service as notifications
from backend.notifications.models import OutboxEmail
from backend.settings import Settings


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
