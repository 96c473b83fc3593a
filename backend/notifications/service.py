"""The email outbox: enqueue in the caller's transaction; deliver later, with retries."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import update
from sqlmodel import Session, select

from backend.db import utcnow
from backend.notifications.models import OutboxEmail
from backend.settings import Settings, get_settings

MAX_ATTEMPTS = 8


def enqueue_email(*, session: Session, to: str, subject: str, body: str, kind: str) -> OutboxEmail:
    """Add an email to the outbox; it is sent only if the caller's transaction commits."""
    email = OutboxEmail(to_address=to, subject=subject, body_text=body, kind=kind)
    session.add(email)
    return email


def _message(email: OutboxEmail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(domain="peerbridge.invalid")
    # Plain 7-bit keeps links readable in the development mail files; anything else is encoded.
    plain = email.body_text.isascii() and all(
        len(line) < 990 for line in email.body_text.splitlines()
    )
    message.set_content(email.body_text, cte="7bit" if plain else "quoted-printable")
    return message


def _write_file(message: EmailMessage, email: OutboxEmail, settings: Settings) -> None:
    directory = Path(settings.mail_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = email.created_at.strftime("%Y%m%dT%H%M%S")
    (directory / f"{stamp}-{email.id:06d}.eml").write_bytes(bytes(message))


def _send_smtp(message: EmailMessage, settings: Settings) -> None:
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


def deliver_pending(*, session: Session, limit: int = 100, settings: Settings | None = None) -> int:
    """Send the emails that are due; failures are retried with exponential back-off."""
    settings = settings or get_settings()
    now = utcnow()
    due = session.exec(
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None))  # type: ignore[union-attr]
        .where(OutboxEmail.next_attempt_at <= now)
        .where(OutboxEmail.attempts < MAX_ATTEMPTS)
        .order_by(OutboxEmail.id)  # type: ignore[arg-type]
        .limit(limit)
    ).all()
    sent = 0
    for email in due:
        # Claim the row first so that two workers never send the same email.
        claimed = session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email.id)
            .where(OutboxEmail.attempts == email.attempts)
            .where(OutboxEmail.sent_at.is_(None))  # type: ignore[union-attr]
            .values(attempts=email.attempts + 1)
        ).rowcount
        session.commit()
        if not claimed:
            continue
        session.refresh(email)
        try:
            message = _message(email, settings)
            if settings.email_backend == "file":
                _write_file(message, email, settings)
            else:
                _send_smtp(message, settings)
        except (OSError, smtplib.SMTPException) as error:
            email.last_error = f"{type(error).__name__}: {error}"[:500]
            email.next_attempt_at = utcnow() + timedelta(seconds=30 * 2**email.attempts)
        else:
            email.sent_at = utcnow()
            email.last_error = None
            sent += 1
        session.add(email)
        session.commit()
    return sent
