"""Second factors: an authenticator app (TOTP), recovery codes, the sign-in step that waits for
one, step-up before dangerous actions, and the rule that organisers and admins must have one.

Passkeys (WebAuthn) live in ``backend.accounts.passkeys``; both count as a second factor.

- The TOTP secret is stored encrypted (a key derived from ``PEERBRIDGE_SECRET_KEY``) and shown
  only while it is being set up; a code is accepted for its 30-second step and one step either
  side, and each step's code is good once (``last_used_step``).
- Recovery codes: 10, shown once, stored as keyed hashes; each works once; a new set replaces
  the old one.
- Sign-in: after the right password, a member who has a second factor gets a *pending* session
  (``user_session.pending_until``) that signs nobody in; giving the second factor ends it and
  starts a full session (``backend.accounts.service.start_session``). SSO can do the same:
  ``needed`` says whether to, ``start_pending`` starts one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from backend.accounts import passwords
from backend.accounts.factor_models import RecoveryCode, TotpCredential, WebauthnCredential
from backend.accounts.models import LoginThrottle, UserSession
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotAuthenticated
from backend.members.models import Member
from backend.settings import get_settings

STEP_SECONDS = 30
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
ISSUER = "peerbridge"

WRONG_CODE = "The code is not right, or it has been used already. Try the newest code."
PENDING_GONE = "Your sign-in has timed out. Log in again with your email address and password."
STEP_UP_NEEDED = "Confirm it is you with your second factor first."
SET_UP_NEEDED = (
    "Organisers and admins must set up a second factor (an authenticator app or a passkey) "
    "before using organiser tools."
)


SIGN_IN_AGAIN = (
    "Your account has no password: log out and sign in again with single sign-on, then come "
    "back here within a few minutes."
)


def audit_change(session: Session, member: Member, action: str, method: str | None = None) -> None:
    """A change to how the member signs in, in the audit log (the member is actor and subject)."""
    from backend import audit

    audit.record(
        session,
        actor=member,
        action=action,
        subject=audit.subject("member", member.id),
        details={"method": method} if method else None,
    )


class SecondFactorRequired(Forbidden):
    """An organiser or admin without a second factor, where the policy requires one."""

    code = "second_factor_required"


# Keys -----------------------------------------------------------------------------------------


def _derived_key(purpose: str) -> bytes:
    secret = get_settings().secret_key.encode("utf-8")
    return hmac.new(secret, f"peerbridge {purpose}".encode(), hashlib.sha256).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derived_key("totp secret encryption")))


def keyed_hash(value: str) -> str:
    """A fast keyed hash (HMAC-SHA256) for random single-use codes."""
    return hmac.new(_derived_key("recovery codes"), value.encode(), hashlib.sha256).hexdigest()


# What the member has --------------------------------------------------------------------------


def _totp_row(session: Session, member_id: int) -> TotpCredential | None:
    return session.get(TotpCredential, member_id, populate_existing=True)


def has_totp(*, session: Session, member: Member) -> bool:
    """Whether the member's authenticator app is on (confirmed)."""
    row = _totp_row(session, member.id)
    return row is not None and row.confirmed_at is not None


def passkey_count(*, session: Session, member: Member) -> int:
    """How many passkeys the member has registered."""
    return session.exec(
        select(func.count())
        .select_from(WebauthnCredential)
        .where(WebauthnCredential.member_id == member.id)
    ).one()


def needed(*, session: Session, member: Member) -> bool:
    """Whether signing in as ``member`` needs a second factor (a TOTP app or a passkey)."""
    return (
        has_totp(session=session, member=member)
        or passkey_count(session=session, member=member) > 0
    )


def with_second_factor(*, session: Session, member_ids: Sequence[int]) -> set[int]:
    """Which of ``member_ids`` have a second factor (``needed``), in two queries."""
    if not member_ids:
        return set()
    totp = session.exec(
        select(TotpCredential.member_id)
        .where(col(TotpCredential.member_id).in_(member_ids))
        .where(col(TotpCredential.confirmed_at).is_not(None))
    ).all()
    passkeys = session.exec(
        select(WebauthnCredential.member_id)
        .where(col(WebauthnCredential.member_id).in_(member_ids))
        .distinct()
    ).all()
    return {*totp, *passkeys}


def methods(*, session: Session, member: Member) -> list[str]:
    """The ways the member can give a second factor ("totp", "recovery_code", "passkey")."""
    found = []
    if has_totp(session=session, member=member):
        found.append("totp")
    if recovery_codes_left(session=session, member=member):
        found.append("recovery_code")
    if passkey_count(session=session, member=member):
        found.append("passkey")
    return found


def recovery_codes_left(*, session: Session, member: Member) -> int:
    """How many unused recovery codes the member has."""
    return session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.member_id == member.id)
        .where(col(RecoveryCode.used_at).is_(None))
    ).one()


# Staff policy ---------------------------------------------------------------------------------


def require_for_staff(*, session: Session, member: Member) -> None:
    """Raise SecondFactorRequired when the policy is on and ``member`` has no second factor.

    Called by ``backend.members.service.require_organiser`` for organisers and admins.
    """
    if get_settings().second_factor_required_for_staff and not needed(
        session=session, member=member
    ):
        raise SecondFactorRequired(SET_UP_NEEDED)


# Authenticator app set-up ---------------------------------------------------------------------


@dataclass
class TotpSetup:
    """What the member needs to add peerbridge to an authenticator app."""

    secret: str
    uri: str

    @property
    def qr_svg(self) -> str:
        """The ``otpauth://`` URI as a QR code, inline SVG (drawn here, no third party)."""
        return segno.make(self.uri, error="m").svg_inline(scale=5, border=4, svgclass="pb-qr")

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to type."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def _setup_of(member: Member, secret: str) -> TotpSetup:
    uri = pyotp.TOTP(secret).provisioning_uri(name=member.email, issuer_name=ISSUER)
    return TotpSetup(secret=secret, uri=uri)


def _secret_of(row: TotpCredential) -> str:
    try:
        return _fernet().decrypt(row.secret_encrypted.encode()).decode()
    except InvalidToken as error:  # the secret key changed: the app must be set up again
        raise Conflict(
            "Your authenticator app needs setting up again. Use a recovery code to sign in."
        ) from error


def start_totp_setup(*, session: Session, member: Member) -> TotpSetup:
    """A new secret for the member's authenticator app; not on until a code confirms it."""
    row = _totp_row(session, member.id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("Your authenticator app is already set up. Turn it off first to change it.")
    secret = pyotp.random_base32()
    encrypted = _fernet().encrypt(secret.encode()).decode()
    if row is None:
        row = TotpCredential(member_id=member.id, secret_encrypted=encrypted)
    else:
        row.secret_encrypted, row.created_at, row.last_used_step = encrypted, utcnow(), 0
    session.add(row)
    session.flush()
    return _setup_of(member, secret)


def totp_setup_in_progress(*, session: Session, member: Member) -> TotpSetup | None:
    """The unconfirmed set-up, to show again after a wrong code (never once it is on)."""
    row = _totp_row(session, member.id)
    if row is None or row.confirmed_at is not None:
        return None
    return _setup_of(member, _secret_of(row))


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").lower()[:40]


def _current_step(now: datetime | None = None) -> int:
    return int((now or utcnow()).timestamp()) // STEP_SECONDS


def _use_totp(session: Session, row: TotpCredential, code: str) -> bool:
    """Accept ``code`` for this step or one either side, once; the step is then used up."""
    if not re.fullmatch(r"[0-9]{6}", code):
        return False
    totp = pyotp.TOTP(_secret_of(row))
    now = _current_step()
    for step in (now - 1, now, now + 1):
        if step > row.last_used_step and hmac.compare_digest(totp.generate_otp(step), code):
            # A conditional update: two requests racing with one code cannot both pass.
            used = session.exec(
                update(TotpCredential)
                .where(col(TotpCredential.member_id) == row.member_id)
                .where(col(TotpCredential.last_used_step) < step)
                .values(last_used_step=step)
            ).rowcount
            session.refresh(row)
            return bool(used)
    return False


def confirm_totp_setup(
    *, session: Session, member: Member, code: str, keep_token: str | None = None
) -> list[str]:
    """Turn the authenticator app on once ``code`` from it is right.

    Returns new recovery codes when the member had none (shown once). Every other session of
    the member ends: from now on signing in needs the second factor.
    """
    from backend.accounts import service as accounts

    row = _totp_row(session, member.id)
    if row is None or row.confirmed_at is not None:
        raise Conflict("Start setting up your authenticator app again.")
    if not _use_totp(session, row, _normalise(code)):
        raise Invalid(
            "The code is not right. Enter the 6-digit code your app shows now.", field="code"
        )
    row.confirmed_at = utcnow()
    session.add(row)
    session.flush()
    audit_change(session, member, "two_factor.enabled", "totp")
    record = accounts.session_for_token(session=session, token=keep_token)
    return factor_added(session=session, member=member, record=record)


def factor_added(*, session: Session, member: Member, record: UserSession | None) -> list[str]:
    """After a second factor is added: every other session of the member ends (signing in now
    needs it), this one counts as having just proved it, and recovery codes are made if the
    member had none (returned, to show once; otherwise an empty list)."""
    others = update(UserSession).where(col(UserSession.member_id) == member.id)
    if record is not None:
        others = others.where(col(UserSession.id) != record.id)
        record.second_factor_at = utcnow()
        session.add(record)
    session.exec(others.where(col(UserSession.revoked_at).is_(None)).values(revoked_at=utcnow()))
    # Access tokens made before the factor were made without it: they go too (as after a
    # password change), so nothing signed in without the second factor outlives it.
    from backend.accounts import service as accounts

    accounts.revoke_all_access_tokens(session=session, member_id=member.id)
    codes = []
    if recovery_codes_left(session=session, member=member) == 0:
        codes = regenerate_recovery_codes(session=session, member=member)
    session.flush()
    return codes


def forget_unused_factors(*, session: Session, member: Member) -> None:
    """Once no second factor is left, recovery codes have nothing to recover: delete them."""
    if not needed(session=session, member=member):
        session.execute(delete(RecoveryCode).where(col(RecoveryCode.member_id) == member.id))


def disable_totp(*, session: Session, member: Member, password: str) -> None:
    """Turn the authenticator app off (the password again, as a check that it is the member)."""
    if not passwords.verify_password(member.password_hash, password or ""):
        raise FieldErrors({"password": "Your password is not right."})
    row = _totp_row(session, member.id)
    if row is None:
        raise Conflict("Your authenticator app is not set up.")
    session.delete(row)
    session.flush()
    forget_unused_factors(session=session, member=member)
    audit_change(session, member, "two_factor.disabled", "totp")
    session.flush()


# Recovery codes -------------------------------------------------------------------------------


def regenerate_recovery_codes(*, session: Session, member: Member) -> list[str]:
    """A new set of 10 codes (shown once); every code of the old set stops working."""
    if not needed(session=session, member=member):
        raise Conflict("Set up an authenticator app or a passkey before making recovery codes.")
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.member_id) == member.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(member_id=member.id, code_hash=keyed_hash(raw)))
    session.flush()
    audit_change(session, member, "recovery_codes.generated")
    return codes


def _use_recovery_code(session: Session, member: Member, code: str) -> bool:
    if not re.fullmatch(f"[{RECOVERY_ALPHABET}]{{10}}", code):
        return False
    used = session.exec(
        update(RecoveryCode)
        .where(col(RecoveryCode.member_id) == member.id)
        .where(col(RecoveryCode.code_hash) == keyed_hash(code))
        .where(col(RecoveryCode.used_at).is_(None))
        .values(used_at=utcnow())
    ).rowcount
    return bool(used)


# Checking a code, with back-off ---------------------------------------------------------------

THROTTLE_KEY = "SECOND-FACTOR {member_id}"  # upper case: no log-in key can be typed to match


def throttle_keys(member: Member) -> list[tuple[str, int]]:
    """The throttle row second-factor attempts count against (per account, strictly: whoever
    tries already has the password)."""
    key = THROTTLE_KEY.format(member_id=member.id)
    return [(key, get_settings().login_failures_before_backoff)]


def check_throttle(*, session: Session, member: Member) -> None:
    """RateLimited while the member's second-factor attempts are backing off."""
    from backend.accounts import service as accounts

    accounts.check_throttle(session=session, keys=throttle_keys(member))


def record_failure(*, session: Session, member: Member) -> None:
    """Count a wrong second factor (kept even though the request fails)."""
    from backend.accounts import service as accounts

    accounts.record_failure(session=session, keys=throttle_keys(member))


def clear_throttle(*, session: Session, member: Member) -> None:
    """A right second factor: forget the failures."""
    for key, _allowed in throttle_keys(member):
        row = session.get(LoginThrottle, key, populate_existing=True)
        if row is not None:
            session.delete(row)


def check_code(*, session: Session, member: Member, code: str) -> str:
    """Accept a TOTP code or a recovery code, once; returns which ("totp" or "recovery").

    Wrong codes count towards a back-off like log-in's (RateLimited once over it).
    """
    check_throttle(session=session, member=member)
    clean = _normalise(code)
    if not clean:
        raise Invalid(
            "Enter the code from your authenticator app, or a recovery code.", field="code"
        )
    row = _totp_row(session, member.id)
    kind = None
    if row is not None and row.confirmed_at is not None and _use_totp(session, row, clean):
        kind = "totp"
    elif _use_recovery_code(session, member, clean):
        kind = "recovery"
    if kind is None:
        record_failure(session=session, member=member)
        raise Invalid(WRONG_CODE, field="code")
    clear_throttle(session=session, member=member)
    session.flush()
    return kind


# The pending sign-in --------------------------------------------------------------------------


def start_pending(*, session: Session, member: Member, user_agent: str = "") -> str:
    """Start a session that waits for the second factor (for log-in and SSO); its token."""
    from backend.accounts import service as accounts

    return accounts.start_session(
        session=session, member_id=member.id, user_agent=user_agent, pending=True
    )


def pending_session(*, session: Session, token: str | None) -> tuple[UserSession, Member] | None:
    """The live pending session behind a cookie token and its member, if any."""
    from backend.accounts import service as accounts

    if not token or len(token) > 200:
        return None
    record = session.get(UserSession, accounts.token_hash(token), populate_existing=True)
    if (
        record is None
        or record.pending_until is None
        or record.pending_until <= utcnow()
        or record.revoked_at is not None
        or record.member_id is None
    ):
        return None
    member = session.get(Member, record.member_id)
    if member is None or not member.is_active:
        return None
    return record, member


def require_pending(*, session: Session, token: str | None) -> tuple[UserSession, Member]:
    """The pending session, or NotAuthenticated (timed out, or never started)."""
    found = pending_session(session=session, token=token)
    if found is None:
        raise NotAuthenticated(PENDING_GONE)
    return found


def finish_pending(
    *, session: Session, record: UserSession, member: Member, user_agent: str = ""
) -> str:
    """The second factor was given: end the pending session, start a full one (its token)."""
    from backend.accounts import service as accounts

    record.revoked_at = utcnow()
    session.add(record)
    session.flush()
    return accounts.start_session(
        session=session, member_id=member.id, user_agent=user_agent, second_factor=True
    )


def complete_sign_in(
    *, session: Session, token: str | None, code: str, user_agent: str = ""
) -> tuple[Member, str]:
    """Finish a pending sign-in with a TOTP or recovery code: the member and a full session."""
    record, member = require_pending(session=session, token=token)
    check_code(session=session, member=member, code=code)
    return member, finish_pending(
        session=session, record=record, member=member, user_agent=user_agent
    )


# Step-up --------------------------------------------------------------------------------------


def mark_second_factor(*, session: Session, token: str | None) -> None:
    """Record that the session behind ``token`` has just proved a second factor."""
    from backend.accounts import service as accounts

    record = accounts.session_for_token(session=session, token=token)
    if record is not None:
        record.second_factor_at = utcnow()
        session.add(record)
        session.flush()


def step_up(*, session: Session, member: Member, token: str | None, code: str) -> None:
    """Prove the second factor again in a signed-in browser session (before erasure etc.)."""
    from backend.accounts import service as accounts

    if accounts.session_for_token(session=session, token=token) is None:
        raise Forbidden("Confirming it is you needs a browser session: log in on the website.")
    check_code(session=session, member=member, code=code)
    mark_second_factor(session=session, token=token)


def _within_step_up(moment: datetime | None) -> bool:
    """Whether ``moment`` is within the step-up window (``PEERBRIDGE_STEP_UP_MINUTES``) of now;
    the one measure of "fresh" for a second factor and for a sign-in without a password."""
    if moment is None:
        return False
    window = timedelta(minutes=get_settings().step_up_minutes)
    return moment > utcnow() - window


def fresh_step_up(record: UserSession | None) -> bool:
    """Whether ``record`` proved a second factor within ``PEERBRIDGE_STEP_UP_MINUTES``."""
    return record is not None and _within_step_up(record.second_factor_at)


def step_up_problems(
    *, session: Session, member: Member, record: UserSession | None, password: str
) -> dict[str, str]:
    """What stops a dangerous action (erasure, a role change): with a second factor, a fresh
    check of it (``second_factor``); without one, the password (``password``)."""
    if needed(session=session, member=member):
        return {} if fresh_step_up(record) else {"second_factor": STEP_UP_NEEDED}
    if member.password_hash is None:
        # An account made by single sign-on has no password: a sign-in through the provider
        # within the step-up window is the fresh proof instead.
        if record is not None and _within_step_up(record.created_at):
            return {}
        return {"password": SIGN_IN_AGAIN}
    if not (password or "").strip():
        return {"password": "Enter your password"}
    if not passwords.verify_password(member.password_hash, password or ""):
        return {"password": "Your password is not right."}
    return {}


def require_step_up(
    *, session: Session, member: Member, record: UserSession | None, password: str = ""
) -> None:
    """Raise FieldErrors unless ``step_up_problems`` finds none."""
    problems = step_up_problems(session=session, member=member, record=record, password=password)
    if problems:
        raise FieldErrors(problems)
