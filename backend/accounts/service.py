"""Accounts: sign-up, verification, log-in with throttling, sessions, resets, access tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, delete, func, or_, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from backend import audit, db, text
from backend.accounts import passwords, two_factor
from backend.accounts.models import AccessToken, EmailToken, LoginThrottle, UserSession
from backend.db import session_factory, utcnow
from backend.errors import Conflict, FieldErrors, Invalid, NotFound, RateLimited
from backend.matchmaking.version import network_changed
from backend.members import service as member_service
from backend.members import validation as v
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.notifications.models import OutboxEmail
from backend.organisations import service as organisation_service
from backend.settings import get_settings

log = logging.getLogger("peerbridge.accounts")

LOGIN_FAILED = "The email address or password is not right."
TOO_MANY = "Too many failed attempts to log in to this account. Try again in {wait}."


@dataclass
class SignUp:
    """What a new member gives when joining."""

    email: str
    password: str
    name: str
    organisation: str
    region: str
    role_family: str
    band: str
    profession: str
    job_title: str = ""
    management_years: int = 0


def token_hash(token: str) -> str:
    """The stored form of a secret token (SHA-256; tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# Sessions -------------------------------------------------------------------------------------


def start_session(
    *,
    session: Session,
    member_id: int | None,
    user_agent: str = "",
    pending: bool = False,
    second_factor: bool = False,
) -> str:
    """Create a server-side session and return the cookie token (only its hash is stored).

    ``pending``: the password was right but the second factor is still to come; the session
    signs nobody in and ends after ``PEERBRIDGE_SECOND_FACTOR_PENDING_MINUTES``
    (``backend.accounts.two_factor``). ``second_factor``: it was just given.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    minutes = get_settings().second_factor_pending_minutes
    record = UserSession(
        id=token_hash(token),
        member_id=member_id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=utcnow() + timedelta(days=get_settings().session_days),
        user_agent=text.fit_column(user_agent, UserSession, "user_agent"),
        pending_until=now + timedelta(minutes=minutes) if pending else None,
        second_factor_at=now if second_factor else None,
    )
    session.add(record)
    session.flush()
    return token


def idle_timeout() -> timedelta:
    """How long a session may go unused before it ends (``PEERBRIDGE_SESSION_IDLE_MINUTES``)."""
    return timedelta(minutes=get_settings().session_idle_minutes)


def session_for_token(*, session: Session, token: str | None) -> UserSession | None:
    """The live session behind a cookie token, or None when unknown, expired, idle or revoked."""
    if not token or len(token) > 200:
        return None
    record = session.get(UserSession, token_hash(token))
    now = utcnow()
    if (
        record is None
        or record.revoked_at is not None
        or record.expires_at <= now
        or record.last_seen_at <= now - idle_timeout()
        or (record.pending_until is not None and record.pending_until <= now)
    ):
        return None
    return record


# A session's last_seen_at moves at most this often, so most requests only read it.
TOUCH_EVERY = timedelta(seconds=60)


def touch_session(*, engine: Engine, token: str | None, now: datetime | None = None) -> bool:
    """Record that a session is in use; returns True when its row was written.

    Runs in short transactions of its own on ``engine`` (call it before the request's own
    session reads anything, so a read-only request stays read-only): a read says whether the
    last touch is older than ``TOUCH_EVERY``; only then a conditional update writes, and never
    for a session that has already ended (expired, revoked or idle past the timeout), which
    therefore cannot be revived.
    """
    if not token or len(token) > 200:
        return False
    now = now or utcnow()
    key = token_hash(token)
    with session_factory(engine.execution_options(read_only=True))() as reader:
        last_seen = reader.exec(
            select(UserSession.last_seen_at).where(UserSession.id == key)
        ).first()
    if last_seen is None or last_seen > now - TOUCH_EVERY or last_seen <= now - idle_timeout():
        return False
    try:
        with db.skippable_write(engine) as writer:  # never holds a page behind a writer
            touched = writer.exec(
                update(UserSession)
                .where(col(UserSession.id) == key)
                .where(col(UserSession.revoked_at).is_(None))
                .where(col(UserSession.expires_at) > now)
                .where(col(UserSession.last_seen_at) <= now - TOUCH_EVERY)
                .where(col(UserSession.last_seen_at) > now - idle_timeout())
                .values(last_seen_at=now)
            ).rowcount
    except OperationalError:
        # The write lock was not to be had (SQLite) or the write failed: the request goes on,
        # and a later request touches the session (it has a whole idle timeout to do so).
        log.warning("could not record that a session is in use", exc_info=True)
        return False
    return bool(touched)


def member_for_session(*, session: Session, record: UserSession | None) -> Member | None:
    """The active member signed in to a session, if any (nobody while the second factor is
    still to come)."""
    if record is None or record.member_id is None or record.pending_until is not None:
        return None
    member = session.get(Member, record.member_id)
    return member if member is not None and member.is_active else None


def revoke_session(*, session: Session, token: str | None) -> None:
    """End a session so that its cookie is useless from now on, in every process."""
    record = session_for_token(session=session, token=token)
    if record is not None:
        record.revoked_at = utcnow()
        session.add(record)
        session.flush()


def revoke_all_sessions(*, session: Session, member_id: int, keep: str | None = None) -> int:
    """End every session of a member (after a password change or reset), except ``keep``."""
    statement = (
        update(UserSession)
        .where(col(UserSession.member_id) == member_id)
        .where(col(UserSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    if keep is not None:
        statement = statement.where(col(UserSession.id) != token_hash(keep))
    return session.exec(statement).rowcount


def session_key(record: UserSession) -> str:
    """The public name of a session, for the sessions list (a hash of the stored hash: it can
    neither be used as the cookie nor be traced back to it)."""
    return token_hash(record.id)[:24]


def list_sessions(*, session: Session, member: Member) -> list[UserSession]:
    """The member's live sessions, most recently used first."""
    now = utcnow()
    return list(
        session.exec(
            select(UserSession)
            .where(UserSession.member_id == member.id)
            .where(col(UserSession.revoked_at).is_(None))
            .where(col(UserSession.pending_until).is_(None))
            .where(col(UserSession.expires_at) > now)
            .where(col(UserSession.last_seen_at) > now - idle_timeout())
            .order_by(col(UserSession.last_seen_at).desc(), col(UserSession.created_at).desc())
        ).all()
    )


def end_session(*, session: Session, member: Member, key: str) -> UserSession:
    """End one of the member's own live sessions, named by ``session_key``."""
    for record in list_sessions(session=session, member=member):
        if secrets.compare_digest(
            session_key(record).encode(), (key or "").encode("utf-8", "surrogatepass")
        ):
            record.revoked_at = utcnow()
            session.add(record)
            session.flush()
            return record
    raise NotFound("No such session: it may have ended already.")


# Anonymous sessions are no longer started (forms use a signed CSRF cookie); rows left from
# before, and any a visitor never came back to, go after this long without use.
ANONYMOUS_SESSION_IDLE = timedelta(days=1)


def purge_stale_sessions(*, session: Session, now: datetime | None = None) -> int:
    """Delete sessions that can never be used again: expired, revoked, or idle.

    A signed-in session is idle after ``PEERBRIDGE_SESSION_IDLE_MINUTES`` without a request
    (``touch_session`` keeps ``last_seen_at`` current); an anonymous one after a day.

    Called by the periodic pass (``backend.jobs.run_once``); returns how many rows went.
    """
    now = now or utcnow()
    statement = delete(UserSession).where(
        or_(
            col(UserSession.expires_at) <= now,
            col(UserSession.revoked_at).is_not(None),
            and_(
                col(UserSession.member_id).is_(None),
                col(UserSession.last_seen_at) < now - ANONYMOUS_SESSION_IDLE,
            ),
            col(UserSession.last_seen_at) <= now - idle_timeout(),
            col(UserSession.pending_until) <= now,
        )
    )
    return session.exec(statement).rowcount


# Email tokens ---------------------------------------------------------------------------------


def _issue_email_token(
    *, session: Session, member_id: int, purpose: str, lifetime: timedelta
) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        EmailToken(
            member_id=member_id,
            purpose=purpose,
            token_hash=token_hash(token),
            expires_at=utcnow() + lifetime,
        )
    )
    return token


def _consume_email_token(*, session: Session, token: str, purpose: str) -> EmailToken:
    invalid = Invalid("This link is not valid or has expired. Ask for a new one.", field="token")
    if not token or len(token) > 200:
        raise invalid
    record = session.exec(
        select(EmailToken).where(EmailToken.token_hash == token_hash(token))
    ).first()
    if record is None or record.purpose != purpose or record.expires_at <= utcnow():
        raise invalid
    # One use only, even if two requests race: the conditional update decides.
    used = session.exec(
        update(EmailToken)
        .where(col(EmailToken.id) == record.id)
        .where(col(EmailToken.used_at).is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if not used:
        raise invalid
    return record


# Emails anyone can ask for ----------------------------------------------------------------------

# Kinds of email a stranger can cause to be sent to an address; limited per address and client.
ASKED_FOR_KINDS = ("verify", "reset", "sign-up-again")
EMAIL_WINDOW = timedelta(hours=1)
# A client's count is a login_throttle row under this key. Log-in keys are folded to lower
# case, so an upper-case key can never be one: typing it at log-in cannot touch the count.
CLIENT_EMAILS_KEY = "EMAILS-ASKED-BY {client}"


def _within_email_limits(
    *,
    session: Session,
    to: str,
    client: str | None,
    kinds: tuple[str, ...] = ASKED_FOR_KINDS,
) -> bool:
    """Whether one more asked-for email (of ``kinds``) may go to ``to`` for ``client``; counts
    it if so.

    Over either limit the caller answers exactly as if it had sent (nobody learns whether the
    address has an account), and nothing is sent.
    """
    settings = get_settings()
    now = utcnow()
    sent = session.exec(
        select(func.count())
        .select_from(OutboxEmail)
        .where(OutboxEmail.to_address == to)
        .where(col(OutboxEmail.kind).in_(kinds))
        .where(OutboxEmail.created_at > now - EMAIL_WINDOW)
    ).one()
    if sent >= settings.account_emails_per_address_per_hour:
        log.info("an asked-for email over the per-address limit was not sent")
        return False
    if not client:
        return True
    key = text.fit_column(CLIENT_EMAILS_KEY.format(client=client), LoginThrottle, "key")
    if session.get(LoginThrottle, key) is None:
        try:
            with session.begin_nested():
                session.add(LoginThrottle(key=key, failures=0, blocked_until=now + EMAIL_WINDOW))
                session.flush()
        except IntegrityError:
            pass  # another request made it first
    # A window that has ended starts again; then the count rises only while under the limit
    # (conditional updates, so parallel requests cannot all slip under it).
    session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == key)
        .where(col(LoginThrottle.blocked_until) <= now)
        .values(failures=0, blocked_until=now + EMAIL_WINDOW)
    )
    counted = session.exec(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == key)
        .where(col(LoginThrottle.failures) < settings.account_emails_per_client_per_hour)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
    ).rowcount
    if not counted:
        log.info("an asked-for email over the per-client limit was not sent")
        return False
    return True


def _link(path: str, token: str) -> str:
    return f"{get_settings().base_url.rstrip('/')}{path}?token={token}"


def _email_link(
    *,
    session: Session,
    member: Member,
    purpose: str,
    lifetime: timedelta,
    path: str,
    subject: str,
    body: str,
) -> None:
    """Issue a one-time token and queue an email whose ``body`` has a ``{link}`` to it."""
    token = _issue_email_token(
        session=session,
        member_id=member.id,
        purpose=purpose,
        lifetime=lifetime,
    )
    notifications.enqueue_email(
        session=session,
        to=member.email,
        subject=subject,
        kind=purpose,
        body=body.replace("{link}", _link(path, token)),
    )


def send_verification(*, session: Session, member: Member) -> None:
    """Email a fresh verification link to the member (in the caller's transaction)."""
    hours = get_settings().verification_hours
    _email_link(
        session=session,
        member=member,
        purpose="verify",
        lifetime=timedelta(hours=hours),
        path="/verify",
        subject="Confirm your email address for peerbridge",
        body=(
            f"Hello {member.name},\n\n"
            "Welcome to peerbridge, the peer network for NHS managers and aspiring managers.\n\n"
            "Confirm your email address by opening this link:\n\n"
            "{link}\n\n"
            f"The link works for {hours} hours. If you did not join peerbridge, you can ignore "
            "this email.\n"
        ),
    )


def resend_verification(*, session: Session, member: Member, client: str | None = None) -> bool:
    """Send another verification link, unless the address is already confirmed; whether sent.

    Within the hourly limits per address and per ``client`` (its IP address) only; over them
    the answer is the same and no email goes.
    """
    if member.is_verified:
        raise Conflict("Your email address is already confirmed.")
    sent = _within_email_limits(session=session, to=member.email, client=client)
    if sent:
        send_verification(session=session, member=member)
    session.flush()
    return sent


def verify_email(*, session: Session, token: str) -> Member:
    """Confirm a member's email address from the emailed link."""
    record = _consume_email_token(session=session, token=token, purpose="verify")
    member = session.get(Member, record.member_id)
    if member is None:
        raise NotFound("This account no longer exists.")
    if member.email_verified_at is None:
        member.email_verified_at = utcnow()
        session.add(member)
        network_changed(session=session)  # joined: the matcher sees them from now on
    session.flush()
    return member


# Sign-up --------------------------------------------------------------------------------------


def profile_problems(data: SignUp) -> dict[str, str]:
    """What is wrong with the profile part of a sign-up (every field but email and password):
    the same required fields whether a member joins with a password or by single sign-on."""
    problems: dict[str, str] = {}
    for field, check in (
        ("name", lambda x: v.line_problem(x, label="full name", maximum=v.MAX_NAME, required=True)),
        (
            "job_title",
            lambda x: v.line_problem(x, label="job title", maximum=v.MAX_JOB_TITLE, required=False),
        ),
        (
            "organisation",
            lambda x: v.line_problem(
                x, label="organisation", maximum=v.MAX_ORGANISATION, required=True
            ),
        ),
        ("region", v.region_problem),
        ("role_family", v.role_family_problem),
        ("band", v.band_problem),
        ("profession", v.profession_problem),
        ("management_years", v.management_years_problem),
    ):
        problem = check(getattr(data, field))
        if problem:
            problems[field] = problem
    return problems


def _sign_up_problems(data: SignUp) -> tuple[str | None, dict[str, str]]:
    problems: dict[str, str] = {}
    email, problem = v.normalise_email(data.email)
    if problem:
        problems["email"] = problem
    password_problem = passwords.password_problem(data.password or "", email=email or "")
    if password_problem:
        problems["password"] = password_problem
    problems.update(profile_problems(data))
    return email, problems


def new_member(*, session: Session, data: SignUp, email: str, password_hash: str | None) -> Member:
    """A member built from a checked sign-up (not yet added): the organisation found or made."""
    organisation = organisation_service.get_or_create(
        session=session, name=data.organisation, region=data.region
    )
    return Member(
        email=email,
        password_hash=password_hash,
        name=data.name.strip(),
        job_title=data.job_title.strip(),
        organisation_id=organisation.id,
        region=data.region,
        role_family=data.role_family,
        band=data.band,
        profession=data.profession,
        management_years=data.management_years,
    )


ALREADY_JOINED_SUBJECT = "Someone tried to join peerbridge with your email address"


def _tell_owner_of_attempt(*, session: Session, email: str, client: str | None) -> None:
    """Email the owner of an address that someone tried to sign up with again (within limits)."""
    if not _within_email_limits(session=session, to=email, client=client):
        return
    base = get_settings().base_url.rstrip("/")
    notifications.enqueue_email(
        session=session,
        to=email,
        subject=ALREADY_JOINED_SUBJECT,
        kind="sign-up-again",
        body=(
            "Hello,\n\nSomeone tried to create a peerbridge account with your email address, "
            "but you already have one, so nothing has changed.\n\n"
            f"If it was you, log in at {base}/login or reset your password at "
            f"{base}/forgotten-password.\n\n"
            "If it was not you, you can ignore this email: your account is safe.\n"
        ),
    )
    session.flush()


def sign_up_problems(data: SignUp) -> dict[str, str]:
    """What is wrong with a sign-up, by field (empty if nothing): lets a surface explain a
    field it could not read together with every other problem of the form."""
    return _sign_up_problems(data)[1]


def sign_up(*, session: Session, data: SignUp, client: str | None = None) -> Member | None:
    """Create an account and profile, and email a verification link.

    The answer does not say whether the address already had an account (no account
    probing): for a taken address nothing is created, the owner is emailed about the attempt,
    and None is returned; callers answer both cases alike.
    """
    email, problems = _sign_up_problems(data)
    if problems:
        raise FieldErrors(problems)
    assert email is not None
    password_hash = passwords.hash_password(data.password)  # same time either way
    if session.exec(select(Member.id).where(Member.email == email)).first() is not None:
        _tell_owner_of_attempt(session=session, email=email, client=client)
        return None
    member = new_member(session=session, data=data, email=email, password_hash=password_hash)
    try:
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError:
        # Two sign-ups with one address raced; the unique constraint decided.
        _tell_owner_of_attempt(session=session, email=email, client=client)
        return None
    send_verification(session=session, member=member)
    session.refresh(member)
    return member


# Log-in and throttling ------------------------------------------------------------------------


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# Failed log-ins are counted per account and client pair, which backs off after a few, and per
# account, which backs off only after many: an attacker elsewhere cannot lock the owner out.
# A pair's key is upper case (log-in keys are folded to lower case, so none can be typed) and
# holds hashes, not the email: the account's (so erasure can find every pair of an address)
# and the pair's.
PAIR_KEY = "PAIR {account} {pair}"


def _pair_prefix(key: str) -> str:
    return PAIR_KEY.format(account=token_hash(key), pair="")


def _throttle_keys(*, key: str, client: str | None) -> list[tuple[str, int]]:
    """The throttle rows a log-in attempt counts against, each with its failures before back-off.

    Without a client address (not over HTTP) the account alone is counted, strictly.
    """
    settings = get_settings()
    if not client:
        return [(key, settings.login_failures_before_backoff)]
    pair = _pair_prefix(key) + token_hash(f"{key}\n{client}")
    return [
        (pair, settings.login_failures_before_backoff),
        (key, settings.login_account_failures_before_backoff),
    ]


def _check_throttle(*, session: Session, keys: list[tuple[str, int]]) -> None:
    # Fresh from the database: failures are counted in a transaction of their own.
    waits = []
    for key, _allowed in keys:
        record = session.get(LoginThrottle, key, populate_existing=True)
        if record is not None and record.blocked_until is not None:
            waits.append(int((record.blocked_until - utcnow()).total_seconds()) + 1)
    remaining = max(waits, default=0)
    if remaining > 0:
        raise RateLimited(TOO_MANY.format(wait=_wait_text(remaining)), retry_after=remaining)


def _record_failure(*, session: Session, keys: list[tuple[str, int]]) -> None:
    # The failure must count even though the request that made it fails: a write apart.
    def count(apart: Session) -> None:
        for key, allowed in keys:
            _count_failure(session=apart, key=key, allowed=allowed)

    db.write_apart(session, count)


# For the second-factor step (``backend.accounts.two_factor``), which backs off the same way.
check_throttle = _check_throttle
record_failure = _record_failure


def _count_failure(*, session: Session, key: str, allowed: int) -> None:
    settings = get_settings()
    now = utcnow()
    record = session.get(LoginThrottle, key, populate_existing=True)
    if record is None:
        record = LoginThrottle(key=key, failures=0)
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
        except IntegrityError:
            record = session.get(LoginThrottle, key)
            assert record is not None
    # Increment in the database so that parallel failures all count.
    session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key) == key)
        .values(failures=LoginThrottle.failures + 1, last_failure_at=now)
    )
    session.refresh(record)
    over = record.failures - allowed
    if over >= 0:
        delay = min(2 ** min(over, 30) * 15, settings.login_backoff_max_seconds)
        record.blocked_until = now + timedelta(seconds=delay)
        session.add(record)
    session.flush()


def forget_throttles(*, session: Session, email: str) -> int:
    """Delete every throttle row counted against ``email``: the account's own (keyed by the
    folded address) and each account and client pair (keyed by its hash). For erasure."""
    key = (email or "").strip().lower()[:254]
    if not key:
        return 0
    return session.exec(
        delete(LoginThrottle).where(
            or_(
                col(LoginThrottle.key) == key,
                col(LoginThrottle.key).startswith(_pair_prefix(key), autoescape=True),
            )
        )
    ).rowcount


def log_in(
    *,
    session: Session,
    email: str,
    password: str,
    user_agent: str = "",
    client: str | None = None,
) -> tuple[Member, str]:
    """Check the credentials and start a fresh session; the same failure for unknown accounts.

    For a member with a second factor the session is pending until it is given
    (``two_factor.pending_session``; ``two_factor.needed`` says which).

    Failures back off per account and ``client`` (its IP address) after
    ``PEERBRIDGE_LOGIN_FAILURES_BEFORE_BACKOFF``, and for the account as a whole only after
    ``PEERBRIDGE_LOGIN_ACCOUNT_FAILURES_BEFORE_BACKOFF``.
    """
    key = (email or "").strip().lower()[:254]
    if not key or not password:
        raise Invalid(
            "Enter your email address and password.", field="email" if not key else "password"
        )
    keys = _throttle_keys(key=key, client=client)
    _check_throttle(session=session, keys=keys)
    member = session.exec(select(Member).where(Member.email == key)).first()
    if member is None or member.password_hash is None or not member.is_active:
        passwords.verify_password(passwords.dummy_hash(), password)  # same time either way
        _record_failure(session=session, keys=keys)
        raise Invalid(LOGIN_FAILED, field="email")
    if not passwords.verify_password(member.password_hash, password):
        _record_failure(session=session, keys=keys)
        raise Invalid(LOGIN_FAILED, field="email")
    for throttle_key, _allowed in keys:
        throttle = session.get(LoginThrottle, throttle_key, populate_existing=True)
        if throttle is not None:
            session.delete(throttle)
    if passwords.needs_rehash(member.password_hash):
        member.password_hash = passwords.hash_password(password)
        session.add(member)
    session.flush()
    token = start_session(
        session=session,
        member_id=member.id,
        user_agent=user_agent,
        pending=two_factor.needed(session=session, member=member),
    )
    audit.record_sign_in(session, member=member, user_agent=user_agent, address=client)
    return member, token


def log_out(*, session: Session, token: str | None) -> None:
    """End the current session."""
    revoke_session(session=session, token=token)


# Passwords ------------------------------------------------------------------------------------

SIGNED_OUT_ELSEWHERE = (
    "You have been signed out everywhere else; access tokens you made were revoked."
)


def request_password_reset(*, session: Session, email: str, client: str | None = None) -> None:
    """Email a reset link if the account exists; say nothing either way (no account probing).

    Within the hourly limits per address and per ``client`` (its IP address) only; over them
    the answer is the same and no email goes.
    """
    folded, problem = v.normalise_email(email)
    if problem:
        raise Invalid(problem, field="email")
    member = session.exec(select(Member).where(Member.email == folded)).first()
    if member is None or not member.is_active:
        return
    if not _within_email_limits(session=session, to=member.email, client=client):
        return
    minutes = get_settings().password_reset_minutes
    _email_link(
        session=session,
        member=member,
        purpose="reset",
        lifetime=timedelta(minutes=minutes),
        path="/reset-password",
        subject="Reset your peerbridge password",
        body=(
            f"Hello {member.name},\n\nSomeone asked to reset the password of your peerbridge "
            f"account. To choose a new password, open this link within {minutes} minutes:\n\n"
            "{link}\n\n"
            "If it was not you, ignore this email: your password has not changed.\n"
        ),
    )
    session.flush()


def _set_password(*, session: Session, member: Member, new_password: str) -> None:
    problem = passwords.password_problem(new_password or "", email=member.email, name=member.name)
    if problem:
        raise Invalid(problem, field="password")
    member.password_hash = passwords.hash_password(new_password)
    member.updated_at = utcnow()
    session.add(member)


def _password_from_link(*, session: Session, token: str, purpose: str, new_password: str) -> Member:
    """Check the new password, use the emailed link once, set the password.

    Following a link sent to the address proves the address, so it counts as verified too.
    """
    problem = passwords.password_problem(new_password or "")
    if problem:
        raise Invalid(problem, field="password")
    record = _consume_email_token(session=session, token=token, purpose=purpose)
    member = session.get(Member, record.member_id)
    if member is None:
        raise NotFound("This account no longer exists.")
    _set_password(session=session, member=member, new_password=new_password)
    if member.email_verified_at is None:
        member.email_verified_at = utcnow()
        network_changed(session=session)  # joined: the matcher sees them from now on
    return member


def reset_password(*, session: Session, token: str, new_password: str) -> Member:
    """Set a new password from an emailed link; every session and access token is ended.

    Nobody is signed in by the reset: the member logs in again with the new password.
    """
    member = _password_from_link(
        session=session, token=token, purpose="reset", new_password=new_password
    )
    revoke_all_sessions(session=session, member_id=member.id)
    revoke_all_access_tokens(session=session, member_id=member.id)
    throttle = session.get(LoginThrottle, member.email)
    if throttle is not None:
        session.delete(throttle)
    session.flush()
    return member


def accept_invitation(*, session: Session, token: str, new_password: str) -> Member:
    """An imported member sets their first password from the invitation link."""
    member = _password_from_link(
        session=session, token=token, purpose="invite", new_password=new_password
    )
    session.flush()
    return member


def send_invitation(*, session: Session, member: Member, invited_by: str) -> None:
    """Email an imported member a link to set their password (in the caller's transaction)."""
    days = get_settings().invitation_days
    _email_link(
        session=session,
        member=member,
        purpose="invite",
        lifetime=timedelta(days=days),
        path="/invitation",
        subject="You have been invited to peerbridge",
        body=(
            f"Hello {member.name},\n\n{invited_by} has added you to peerbridge, the peer network "
            "and mentoring platform for NHS managers and people who want to become one.\n\n"
            f"Choose a password to start, within {days} days:\n\n"
            "{link}\n"
        ),
    )


def resend_invitation(*, session: Session, member: Member, invited_by: str) -> bool:
    """Send an invited member (no password, address not confirmed) a fresh invitation, within
    the hourly limit per address (invitations counted apart from asked-for emails); whether
    sent. The earlier links stay usable until they expire."""
    if member.is_verified or member.password_hash is not None:
        raise Conflict("This member has already accepted their invitation.")
    sent = _within_email_limits(session=session, to=member.email, client=None, kinds=("invite",))
    if sent:
        send_invitation(session=session, member=member, invited_by=invited_by)
    session.flush()
    return sent


def change_password(
    *,
    session: Session,
    member: Member,
    current_password: str,
    new_password: str,
    current_token: str | None,
    user_agent: str = "",
) -> str:
    """Change the password; this session gets a new id (returned), every other session and
    every access token of the member ends (including one used to make the change)."""
    if not passwords.verify_password(member.password_hash, current_password or ""):
        raise FieldErrors({"current_password": "Your current password is not right."})
    if current_password == new_password:
        raise FieldErrors({"new_password": "Choose a password different from your current one."})
    try:
        _set_password(session=session, member=member, new_password=new_password)
    except Invalid as error:
        raise FieldErrors({"new_password": error.message}) from error
    revoke_all_sessions(session=session, member_id=member.id)
    revoke_all_access_tokens(session=session, member_id=member.id)
    session.flush()
    return start_session(session=session, member_id=member.id, user_agent=user_agent)


# Personal access tokens -----------------------------------------------------------------------

ACCESS_TOKEN_PREFIX = "pbat_"  # noqa: S105 - a public prefix, not a secret


def create_access_token(*, session: Session, member: Member, name: str) -> tuple[AccessToken, str]:
    """Create a personal access token; the secret is shown once and stored only as a hash.

    Only once the email address is confirmed: a token reads what the member can read.
    """
    member = member_service.require_member(member)
    clean = " ".join((name or "").split())
    if not clean:
        raise Invalid("Give the token a name, like 'Reporting script'.", field="name")
    if len(clean) > 100:
        raise Invalid("Token name must be 100 characters or fewer.", field="name")
    active = session.exec(
        select(AccessToken)
        .where(AccessToken.member_id == member.id)
        .where(col(AccessToken.revoked_at).is_(None))
    ).all()
    if len(active) >= 20:
        raise Conflict("You have 20 active tokens. Revoke one before creating another.")
    secret = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = AccessToken(
        member_id=member.id,
        name=clean,
        prefix=secret[: len(ACCESS_TOKEN_PREFIX) + 6],
        token_hash=token_hash(secret),
    )
    session.add(record)
    session.flush()
    session.refresh(record)
    return record, secret


def revoke_all_access_tokens(*, session: Session, member_id: int) -> int:
    """Revoke every active token of a member (after a password change or reset); how many."""
    return session.exec(
        update(AccessToken)
        .where(col(AccessToken.member_id) == member_id)
        .where(col(AccessToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    ).rowcount


def list_access_tokens(*, session: Session, member: Member) -> list[AccessToken]:
    """The member's tokens, newest first (never the secrets)."""
    return list(
        session.exec(
            select(AccessToken)
            .where(AccessToken.member_id == member.id)
            .order_by(col(AccessToken.created_at).desc(), col(AccessToken.id).desc())
        ).all()
    )


def revoke_access_token(*, session: Session, member: Member, token_id: int) -> AccessToken:
    """Revoke one of the member's own tokens."""
    record = session.get(AccessToken, token_id)
    if record is None or record.member_id != member.id:
        raise NotFound("No such token.")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.add(record)
        session.flush()
    return record


def member_for_access_token(*, session: Session, secret: str) -> Member | None:
    """The member behind a bearer token, or None when unknown or revoked."""
    if not secret.startswith(ACCESS_TOKEN_PREFIX) or len(secret) > 200:
        return None
    record = session.exec(
        select(AccessToken).where(AccessToken.token_hash == token_hash(secret))
    ).first()
    if record is None or record.revoked_at is not None:
        return None
    member = session.get(Member, record.member_id)
    if member is None or not member.is_active:
        return None
    now = utcnow()
    if record.last_used_at is None or now - record.last_used_at > timedelta(minutes=5):
        # A query writes nothing in its own transaction (read-only on SQLite): a write apart.
        db.write_apart(session, lambda apart: _mark_used(apart, record.id, now))
        record.last_used_at = now
        session.expire(record, ["last_used_at"])
    return member


def _mark_used(session: Session, token_id: int, now: datetime) -> None:
    session.execute(
        update(AccessToken).where(col(AccessToken.id) == token_id).values(last_used_at=now)
    )
