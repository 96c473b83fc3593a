"""The email outbox: enqueue in the caller's transaction; deliver later, with retries."""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from backend import db, text
from backend.db import utcnow
from backend.errors import FieldErrors
from backend.notifications.models import (
    DELIVERY_MODES,
    NOTIFICATION_KINDS,
    Notification,
    NotificationPreference,
    OutboxEmail,
)
from backend.settings import Settings, get_settings

if TYPE_CHECKING:
    from backend.members.models import Member

MAX_ATTEMPTS = 8
CALENDAR_METHODS = ("REQUEST", "CANCEL")


def enqueue_email(
    *,
    session: Session,
    to: str,
    subject: str,
    body: str,
    kind: str,
    calendar_ics: str | None = None,
    calendar_method: str | None = None,
) -> OutboxEmail:
    """Add an email to the outbox; it is sent only if the caller's transaction commits.

    The subject is made to fit its column on one line: it is often built from a member's name,
    and a line break in it would end the header. ``calendar_ics``: an iCalendar invitation
    sent with the text (``calendar_method`` REQUEST or CANCEL, as in the calendar itself).
    """
    if calendar_ics is not None and calendar_method not in CALENDAR_METHODS:
        raise ValueError(f"calendar_method must be one of {CALENDAR_METHODS}")
    email = OutboxEmail(
        to_address=to,
        subject=text.fit_column(subject, OutboxEmail, "subject"),
        body_text=body,
        kind=kind,
        calendar_ics=calendar_ics,
        calendar_method=calendar_method if calendar_ics is not None else None,
    )
    session.add(email)
    return email


def _message(email: OutboxEmail | _Claimed, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.email_from
    message["To"] = email.to_address
    # A subject is one line: line breaks that slipped into a generated one (a member's name)
    # become spaces, so they can neither break the message nor add headers.
    message["Subject"] = " ".join(email.subject.split())
    message["Message-ID"] = make_msgid(domain="peerbridge.invalid")
    if "Date" not in message:
        message["Date"] = format_datetime(utcnow())
    # Plain 7-bit keeps links readable in the development mail files; anything else is encoded.
    plain = email.body_text.isascii() and all(
        len(line) < 990 for line in email.body_text.splitlines()
    )
    message.set_content(email.body_text, cte="7bit" if plain else "quoted-printable")
    if email.calendar_ics:
        _attach_calendar(message, email.calendar_ics, email.calendar_method or "REQUEST")
    return message


def _attach_calendar(message: EmailMessage, ics: str, method: str) -> None:
    """The invitation as Outlook and Google expect it: a text/calendar alternative to the
    text (with the METHOD in its content type), and the same as an ``invite.ics`` file."""
    message.add_alternative(
        ics, subtype="calendar", charset="utf-8", cte="quoted-printable", params={"method": method}
    )
    message.add_attachment(
        ics.encode("utf-8"),
        maintype="text",
        subtype="calendar",
        filename="invite.ics",
        params={"method": method, "charset": "UTF-8"},
    )


def _write_file(message: EmailMessage, email: OutboxEmail | _Claimed, settings: Settings) -> None:
    directory = Path(settings.mail_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = email.created_at.strftime("%Y%m%dT%H%M%S")
    (directory / f"{stamp}-{email.id:06d}.eml").write_bytes(bytes(message))


def _mail_file_text(raw: bytes) -> str:
    """A mail file's recipient, subject and text, decoded (headers and quoted-printable too)."""
    message = message_from_bytes(raw, policy=email_policy.default)
    parts = [str(message.get("To", "")), str(message.get("Subject", ""))]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            with contextlib.suppress(LookupError, ValueError):  # an unknown charset
                parts.append(str(part.get_content()))
    parts.append(raw.decode("utf-8", "replace"))
    return "\n".join(parts)


def forget_mail_files(*, naming: Callable[[str], bool], settings: Settings | None = None) -> int:
    """Delete the mail files (development's ``file`` backend) that are to or about someone:
    those whose recipient, subject or text ``naming`` matches. Returns how many went."""
    settings = settings or get_settings()
    directory = Path(settings.mail_dir)
    if not directory.is_dir():
        return 0
    removed = 0
    for path in sorted(directory.glob("*.eml")):
        try:
            if naming(_mail_file_text(path.read_bytes())):
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # removed meanwhile
    return removed


def _send_smtp(message: EmailMessage, settings: Settings) -> None:
    # The timeout bounds each network operation, so one conversation cannot hang for ever.
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    ) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


@dataclass(frozen=True)
class _Claimed:
    """A claimed email, copied out of the database: sending it needs no session."""

    id: int
    to_address: str
    subject: str
    body_text: str
    created_at: datetime
    attempts: int
    claimed_until: datetime
    calendar_ics: str | None = None
    calendar_method: str | None = None


def _claim(session: Session, limit: int, lease: timedelta) -> list[_Claimed]:
    """Claim up to ``limit`` due emails in one short transaction, and commit it."""
    now = utcnow()
    due = session.exec(
        select(OutboxEmail.id)
        .where(col(OutboxEmail.sent_at).is_(None))
        .where(OutboxEmail.next_attempt_at <= now)
        .where(OutboxEmail.attempts < MAX_ATTEMPTS)
        .where(or_(col(OutboxEmail.claimed_until).is_(None), col(OutboxEmail.claimed_until) < now))
        .order_by(col(OutboxEmail.id))
        .limit(limit)
    ).all()
    until = now + lease
    mine: list[int] = []
    for email_id in due:
        # Conditional, so that of two workers only one claims each email.
        claimed = session.exec(
            update(OutboxEmail)
            .where(col(OutboxEmail.id) == email_id)
            .where(col(OutboxEmail.sent_at).is_(None))
            .where(
                or_(col(OutboxEmail.claimed_until).is_(None), col(OutboxEmail.claimed_until) < now)
            )
            .values(claimed_until=until, attempts=OutboxEmail.attempts + 1)
        ).rowcount
        if claimed:
            mine.append(email_id)
    rows = (
        session.exec(
            select(OutboxEmail).where(col(OutboxEmail.id).in_(mine)).order_by(col(OutboxEmail.id))
        ).all()
        if mine
        else []
    )
    claimed_rows = [
        _Claimed(
            id=row.id,
            to_address=row.to_address,
            subject=row.subject,
            body_text=row.body_text,
            created_at=row.created_at,
            attempts=row.attempts,
            claimed_until=until,
            calendar_ics=row.calendar_ics,
            calendar_method=row.calendar_method,
        )
        for row in rows
    ]
    db.commit_for_job(session)  # the lease must be seen by every other worker before we send
    return claimed_rows


def _record(session: Session, email: _Claimed, error: str | None, permanent: bool) -> None:
    """Record how sending went, in one short transaction (only while the claim is ours)."""
    now = utcnow()
    if error is None:
        values: dict[str, object] = {"sent_at": now, "last_error": None, "claimed_until": None}
    else:
        gave_up = permanent or email.attempts >= MAX_ATTEMPTS
        if permanent:
            error = f"This email cannot be sent: {error}"
        elif gave_up:
            error = f"Gave up after {email.attempts} attempts: {error}"
        values = {
            "last_error": error[:500],
            "claimed_until": None,
            "next_attempt_at": now + timedelta(seconds=30 * 2**email.attempts),
        }
        if gave_up:
            values["attempts"] = MAX_ATTEMPTS
    session.execute(
        update(OutboxEmail)
        .where(col(OutboxEmail.id) == email.id)
        .where(col(OutboxEmail.claimed_until) == email.claimed_until)
        .values(**values)
    )
    db.commit_for_job(session)


def deliver_pending(*, session: Session, limit: int = 100, settings: Settings | None = None) -> int:
    """Send the emails that are due; failures are recorded and retried with back-off.

    No database transaction is open while a message is written or sent: the emails are
    claimed (a lease, so two workers never send one email) and committed first, then each
    result is recorded in a short transaction of its own. Every error is caught per email,
    so one bad email never holds up the others.
    """
    settings = settings or get_settings()
    db.commit_for_job(session)  # end what the job had open: nothing may be held while we send
    lease = timedelta(seconds=max(60.0, settings.smtp_timeout_seconds * 6))
    sent = 0
    for email in _claim(session, limit, lease):
        try:
            message = _message(email, settings)
        except Exception as error:  # a header that cannot be written: retrying cannot help
            _record(session, email, f"{type(error).__name__}: {error}", permanent=True)
            continue
        try:
            if settings.email_backend == "file":
                _write_file(message, email, settings)
            else:
                _send_smtp(message, settings)
        except Exception as error:  # network, relay or disk: recorded and retried later
            _record(session, email, f"{type(error).__name__}: {error}", permanent=False)
        else:
            _record(session, email, None, permanent=False)
            sent += 1
    return sent


# In-app notifications ---------------------------------------------------------------------------

DEFAULT_MODES: dict[str, str] = {
    "request_received": "immediate",
    "request_answered": "immediate",
    "request_closed": "immediate",
    "request_reminder": "immediate",
    "mentorship": "immediate",
    "round": "immediate",
    "community": "digest",
    "programme": "immediate",
    "message": "immediate",
    "session": "immediate",
    "checkin": "immediate",
    "survey": "immediate",
    "event": "immediate",
    "opportunity": "immediate",
}


def mode_for(*, session: Session, member_id: int, kind: str) -> str:
    """How the member wants ``kind`` emailed: immediate, digest or off."""
    preference = session.get(NotificationPreference, (member_id, kind))
    return preference.mode if preference else DEFAULT_MODES[kind]


def preferences(*, session: Session, member_id: int) -> dict[str, str]:
    """Every kind with the member's chosen mode (defaults where none was chosen)."""
    chosen = {
        row.kind: row.mode
        for row in session.exec(
            select(NotificationPreference).where(NotificationPreference.member_id == member_id)
        ).all()
    }
    return {kind: chosen.get(kind, default) for kind, default in DEFAULT_MODES.items()}


def set_preferences(*, session: Session, member_id: int, modes: dict[str, str]) -> dict[str, str]:
    """Save the member's choice per kind; unknown kinds or modes are refused, all or nothing."""
    problems = {
        kind: f"Choose immediate, digest or off for '{kind}'."
        for kind, mode in modes.items()
        if kind not in NOTIFICATION_KINDS or mode not in DELIVERY_MODES
    }
    if problems:
        raise FieldErrors(problems)
    for kind, mode in modes.items():
        row = session.get(NotificationPreference, (member_id, kind))
        if row is None:
            session.add(NotificationPreference(member_id=member_id, kind=kind, mode=mode))
        else:
            row.mode = mode
            session.add(row)
    session.flush()
    return preferences(session=session, member_id=member_id)


def notify(
    *,
    session: Session,
    member_id: int,
    email: str,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    calendar_ics: str | None = None,
    calendar_method: str | None = None,
) -> Notification:
    """Tell a member something in the app, and by email now if they chose immediate.

    Written in the caller's transaction, so a change and its notice stand or fall together.
    The title (often quoting a member's name) is shortened to fit its column, on one line.
    With ``calendar_ics`` (a session's invitation, update or cancellation) the email goes
    whatever the preference: it is what keeps the member's calendar right.
    """
    title = text.fit_column(title, Notification, "title")
    notification = Notification(member_id=member_id, kind=kind, title=title, body=body, link=link)
    if (
        calendar_ics is not None
        or mode_for(session=session, member_id=member_id, kind=kind) == "immediate"
    ):
        url = f"{get_settings().base_url.rstrip('/')}{link}" if link else ""
        enqueue_email(
            session=session,
            to=email,
            subject=title,
            kind=kind,
            body=f"{body}\n\n{url}\n\nChange which emails you get: "
            f"{get_settings().base_url.rstrip('/')}/notifications/settings\n",
            calendar_ics=calendar_ics,
            calendar_method=calendar_method,
        )
        notification.emailed_at = utcnow()
    session.add(notification)
    return notification


def notify_member(
    *, session: Session, member: Member, kind: str, title: str, body: str, link: str = ""
) -> Notification:
    """``notify`` for a member row: their id and email address come from it."""
    return notify(
        session=session,
        member_id=member.id,
        email=member.email,
        kind=kind,
        title=title,
        body=body,
        link=link,
    )


def unread_count(*, session: Session, member_id: int) -> int:
    """How many notifications the member has not read."""
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.member_id == member_id)
        .where(col(Notification.read_at).is_(None))
    ).one()


def list_for(
    *, session: Session, member_id: int, limit: int = 50, offset: int = 0
) -> list[Notification]:
    """The member's notifications, newest first."""
    return list(
        session.exec(
            select(Notification)
            .where(Notification.member_id == member_id)
            .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
            .offset(offset)
            .limit(min(limit, 100))
        ).all()
    )


def page(
    *, session: Session, member_id: int, offset: int = 0, limit: int = 20
) -> tuple[list[Notification], bool]:
    """One page of the member's notifications, newest first, and whether more follow."""
    limit = max(min(limit, 100), 1)
    rows = session.exec(
        select(Notification)
        .where(Notification.member_id == member_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .offset(max(offset, 0))
        .limit(limit + 1)
    ).all()
    return list(rows[:limit]), len(rows) > limit


def get_own(
    *, session: Session, member_id: int, notification_ids: list[int]
) -> dict[int, Notification]:
    """The member's own notifications among ``notification_ids`` (others' are left out)."""
    if not notification_ids:
        return {}
    rows = session.exec(
        select(Notification)
        .where(Notification.member_id == member_id)
        .where(col(Notification.id).in_(notification_ids[:100]))
    ).all()
    return {row.id: row for row in rows if row.id is not None}


def mark_read(
    *, session: Session, member_id: int, notification_ids: list[int] | None = None
) -> int:
    """Mark some (or all) of the member's own notifications read; returns how many changed."""
    statement = (
        update(Notification)
        .where(col(Notification.member_id) == member_id)
        .where(col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    if notification_ids is not None:
        statement = statement.where(col(Notification.id).in_(notification_ids[:100]))
    changed = session.exec(statement).rowcount
    session.flush()
    return changed


def mark_read_about(*, session: Session, member_id: int, link: str, kind: str | None = None) -> int:
    """Mark read the member's unread notifications about one thing (those linking to its page,
    ``link``): called when the member has done what they asked, such as answering a request,
    so nothing stays unread once its action is done; ``kind``: only notifications of that kind
    (when the page is shared by others that still need reading). Returns how many changed."""
    statement = (
        update(Notification)
        .where(col(Notification.member_id) == member_id)
        .where(col(Notification.read_at).is_(None))
        .where(or_(col(Notification.link) == link, col(Notification.link).startswith(link + "?")))
    )
    if kind is not None:
        statement = statement.where(col(Notification.kind) == kind)
    changed = session.exec(statement.values(read_at=utcnow())).rowcount
    session.flush()
    return changed


def send_digests(*, session: Session, now: datetime | None = None) -> int:
    """Email each member a weekly digest of the notifications they chose to get that way."""
    from backend.members.models import Member

    now = now or utcnow()
    week_ago = now - timedelta(days=7)
    pending = session.exec(
        select(Notification)
        .where(col(Notification.emailed_at).is_(None))
        .where(col(Notification.read_at).is_(None))
        .order_by(col(Notification.member_id), col(Notification.created_at))
    ).all()
    by_member: dict[int, list[Notification]] = {}
    for notification in pending:
        if (
            mode_for(session=session, member_id=notification.member_id, kind=notification.kind)
            == "digest"
        ):
            by_member.setdefault(notification.member_id, []).append(notification)
    sent = 0
    for member_id, items in by_member.items():
        # Weekly: only when the oldest waiting item is a week old.
        if items[0].created_at > week_ago:
            continue
        member = session.get(Member, member_id)
        if member is None:
            continue
        lines = "\n".join(f"- {item.title}" for item in items)
        enqueue_email(
            session=session,
            to=member.email,
            subject=f"Your peerbridge week: {len(items)} update{'s' if len(items) != 1 else ''}",
            kind="digest",
            body=f"Hello {member.name},\n\nSince your last digest:\n\n{lines}\n\n"
            f"See them all: {get_settings().base_url.rstrip('/')}/notifications\n",
        )
        for item in items:
            item.emailed_at = now
            session.add(item)
        sent += 1
    session.flush()
    return sent
