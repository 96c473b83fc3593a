"""Passkeys: WebAuthn credentials (py_webauthn) as a second factor, and for step-up.

The relying party is ``PEERBRIDGE_WEBAUTHN_RP_ID`` and ``PEERBRIDGE_WEBAUTHN_ORIGIN`` (by
default the host and origin of ``PEERBRIDGE_BASE_URL``). Every ceremony's challenge is made
here, stored with a five-minute expiry, bound to the browser session that asked for it, and
used once.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlsplit

import webauthn
from sqlalchemy import update
from sqlmodel import Session, col, select
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_client_data_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from backend.accounts import two_factor
from backend.accounts.factor_models import WebauthnChallenge, WebauthnCredential
from backend.accounts.models import UserSession
from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.members.models import Member
from backend.settings import get_settings

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_PASSKEYS = 10
MAX_CREDENTIAL_JSON = 20_000
NOT_ACCEPTED = "Your passkey was not accepted. Try again, or use another way to sign in."


def relying_party() -> tuple[str, str]:
    """The relying party id and the expected origin."""
    settings = get_settings()
    base = urlsplit(settings.base_url)
    rp_id = settings.webauthn_rp_id or base.hostname or "127.0.0.1"
    origin = settings.webauthn_origin or f"{base.scheme}://{base.netloc}"
    return rp_id, origin.rstrip("/")


def _user_handle(member: Member) -> bytes:
    """A stable, opaque WebAuthn user id (no personal data in it)."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"webauthn user {member.id}".encode(), hashlib.sha256).digest()[:16]


def list_passkeys(*, session: Session, member: Member) -> list[WebauthnCredential]:
    """The member's passkeys, oldest first."""
    return list(
        session.exec(
            select(WebauthnCredential)
            .where(WebauthnCredential.member_id == member.id)
            .order_by(col(WebauthnCredential.created_at), col(WebauthnCredential.id))
        ).all()
    )


def _descriptors(credentials: list[WebauthnCredential]) -> list[PublicKeyCredentialDescriptor]:
    descriptors = []
    for credential in credentials:
        transports = []
        for name in filter(None, credential.transports.split(",")):
            try:
                transports.append(AuthenticatorTransport(name))
            except ValueError:
                continue
        descriptors.append(
            PublicKeyCredentialDescriptor(
                id=webauthn.base64url_to_bytes(credential.credential_id),
                transports=transports or None,
            )
        )
    return descriptors


def _new_challenge(
    *,
    session: Session,
    record: UserSession | None,
    member: Member | None,
    purpose: str,
    challenge: bytes,
    binding: str | None = None,
) -> None:
    session.add(
        WebauthnChallenge(
            challenge=bytes_to_base64url(challenge),
            purpose=purpose,
            session_id=binding or (record.id if record else ""),
            member_id=member.id if member else None,
            expires_at=utcnow() + CHALLENGE_LIFETIME,
        )
    )
    session.flush()


def _use_challenge(
    *,
    session: Session,
    record: UserSession | None,
    member: Member | None,
    purpose: str,
    client_data: bytes,
    binding: str | None = None,
) -> bytes:
    """The challenge the browser signed, if this session (or ``binding``) asked for it for
    ``member`` (or for whoever: None), in time; used up now."""
    try:
        challenge = bytes_to_base64url(parse_client_data_json(client_data).challenge)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise Invalid(NOT_ACCEPTED, field="credential") from error
    owner = col(WebauthnChallenge.member_id)
    used = session.exec(
        update(WebauthnChallenge)
        .where(col(WebauthnChallenge.challenge) == challenge)
        .where(col(WebauthnChallenge.purpose) == purpose)
        .where(col(WebauthnChallenge.session_id) == (binding or (record.id if record else "-")))
        .where(owner == member.id if member else owner.is_(None))
        .where(col(WebauthnChallenge.used_at).is_(None))
        .where(col(WebauthnChallenge.expires_at) > utcnow())
        .values(used_at=utcnow())
    ).rowcount
    if not used:
        raise Invalid(
            "That passkey request has expired or was used already. Try again.", field="credential"
        )
    return webauthn.base64url_to_bytes(challenge)


def _check_json(credential_json: str) -> str:
    if not credential_json or len(credential_json) > MAX_CREDENTIAL_JSON:
        raise Invalid(
            "Your browser did not send a passkey. Passkeys need JavaScript switched on.",
            field="credential",
        )
    return credential_json


# Registering ----------------------------------------------------------------------------------


def registration_options(*, session: Session, member: Member, record: UserSession) -> str:
    """The JSON options for ``navigator.credentials.create``; the challenge is stored."""
    existing = list_passkeys(session=session, member=member)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict(f"You have {MAX_PASSKEYS} passkeys. Remove one before adding another.")
    rp_id, _origin = relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name=get_settings().webauthn_rp_name,
        user_name=member.email,
        user_id=_user_handle(member),
        user_display_name=member.name,
        exclude_credentials=_descriptors(existing),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    _new_challenge(
        session=session,
        record=record,
        member=member,
        purpose="register",
        challenge=options.challenge,
    )
    return webauthn.options_to_json(options)


def _clean_name(name: str) -> str:
    clean = " ".join((name or "").split())
    if not clean:
        raise Invalid("Give the passkey a name, like 'Work laptop'.", field="name")
    if len(clean) > 100:
        raise Invalid("The passkey's name must be 100 characters or fewer.", field="name")
    return clean


def register(
    *, session: Session, member: Member, record: UserSession, name: str, credential_json: str
) -> tuple[WebauthnCredential, list[str]]:
    """Check the browser's new credential against the stored challenge and keep its key.

    With it, recovery codes when the member had none (shown once; see
    ``two_factor.factor_added``).
    """
    clean = _clean_name(name)
    try:
        credential = parse_registration_credential_json(_check_json(credential_json))
    except WebAuthnException as error:
        raise Invalid(NOT_ACCEPTED, field="credential") from error
    challenge = _use_challenge(
        session=session,
        record=record,
        member=member,
        purpose="register",
        client_data=credential.response.client_data_json,
    )
    rp_id, origin = relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except WebAuthnException as error:
        raise Invalid(NOT_ACCEPTED, field="credential") from error
    credential_id = bytes_to_base64url(verified.credential_id)
    taken = session.exec(
        select(WebauthnCredential).where(WebauthnCredential.credential_id == credential_id)
    ).first()
    if taken is not None:
        raise Conflict("That passkey is registered already.")
    transports = ",".join(t.value for t in (credential.response.transports or []))
    row = WebauthnCredential(
        member_id=member.id,
        name=clean,
        credential_id=credential_id,
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        transports=transports[:200],
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    two_factor.audit_change(session, member, "passkey.added", "passkey")
    return row, two_factor.factor_added(session=session, member=member, record=record)


def remove(*, session: Session, member: Member, passkey_id: int) -> WebauthnCredential:
    """Remove one of the member's passkeys (with the last factor go the recovery codes)."""
    row = session.get(WebauthnCredential, passkey_id)
    if row is None or row.member_id != member.id:
        raise NotFound("No such passkey.")
    session.delete(row)
    session.flush()
    two_factor.forget_unused_factors(session=session, member=member)
    two_factor.audit_change(session, member, "passkey.removed", "passkey")
    session.flush()
    return row


# Signing in and step-up -----------------------------------------------------------------------


def authentication_options(*, session: Session, member: Member, record: UserSession) -> str:
    """The JSON options for ``navigator.credentials.get`` (the member's own passkeys)."""
    existing = list_passkeys(session=session, member=member)
    if not existing:
        raise Conflict("You have no passkey. Use your authenticator app or a recovery code.")
    rp_id, _origin = relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=_descriptors(existing),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    _new_challenge(
        session=session,
        record=record,
        member=member,
        purpose="authenticate",
        challenge=options.challenge,
    )
    return webauthn.options_to_json(options)


def authenticate(
    *, session: Session, member: Member, record: UserSession, credential_json: str
) -> WebauthnCredential:
    """Check a passkey assertion for ``member`` (back-off on failures, like codes)."""
    two_factor.check_throttle(session=session, member=member)
    try:
        credential = parse_authentication_credential_json(_check_json(credential_json))
    except WebAuthnException as error:
        two_factor.record_failure(session=session, member=member)
        raise Invalid(NOT_ACCEPTED, field="credential") from error
    challenge = _use_challenge(
        session=session,
        record=record,
        member=member,
        purpose="authenticate",
        client_data=credential.response.client_data_json,
    )
    row = session.exec(
        select(WebauthnCredential)
        .where(WebauthnCredential.credential_id == bytes_to_base64url(credential.raw_id))
        .where(WebauthnCredential.member_id == member.id)
    ).first()
    return _verify_assertion(
        session=session, member=member, row=row, credential=credential, challenge=challenge
    )


def _verify_assertion(
    *,
    session: Session,
    member: Member,
    row: WebauthnCredential | None,
    credential: AuthenticationCredential,
    challenge: bytes,
    require_user_verification: bool = False,
) -> WebauthnCredential:
    """Check the signature with the stored key; count a failure, or clear them and note use."""
    rp_id, origin = relying_party()
    try:
        if row is None:
            raise WebAuthnException("unknown credential")
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=webauthn.base64url_to_bytes(row.public_key),
            credential_current_sign_count=row.sign_count,
            require_user_verification=require_user_verification,
        )
    except WebAuthnException as error:
        two_factor.record_failure(session=session, member=member)
        raise Invalid(NOT_ACCEPTED, field="credential") from error
    assert row is not None
    row.sign_count = verified.new_sign_count
    row.last_used_at = utcnow()
    session.add(row)
    two_factor.clear_throttle(session=session, member=member)
    session.flush()
    return row


def sign_in_options(*, session: Session, token: str | None) -> str:
    """Options for the passkey step of a pending sign-in."""
    record, member = two_factor.require_pending(session=session, token=token)
    return authentication_options(session=session, member=member, record=record)


def complete_sign_in(
    *, session: Session, token: str | None, credential_json: str, user_agent: str = ""
) -> tuple[Member, str]:
    """Finish a pending sign-in with a passkey: the member and a full session's token."""
    record, member = two_factor.require_pending(session=session, token=token)
    authenticate(session=session, member=member, record=record, credential_json=credential_json)
    token = two_factor.finish_pending(
        session=session, record=record, member=member, user_agent=user_agent
    )
    return member, token


def step_up(*, session: Session, member: Member, record: UserSession, credential_json: str) -> None:
    """Prove the second factor again with a passkey, in a signed-in session."""
    authenticate(session=session, member=member, record=record, credential_json=credential_json)
    record.second_factor_at = utcnow()
    session.add(record)
    session.flush()


# Passwordless: a passkey alone (it holds the user, and verifies them) ---------------------------


def _binding(seed: str) -> str:
    """What a passwordless challenge is bound to: the anonymous visitor's CSRF seed, hashed."""
    return "ANON " + hashlib.sha256(seed.encode()).hexdigest()[:59]


def passwordless_options(*, session: Session, seed: str | None) -> str:
    """Options for logging in with a passkey alone (any of the browser's passkeys for us)."""
    if not seed:
        raise Invalid("Reload the page and try again.", field="credential")
    rp_id, _origin = relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id, user_verification=UserVerificationRequirement.REQUIRED
    )
    _new_challenge(
        session=session,
        record=None,
        member=None,
        purpose="authenticate",
        challenge=options.challenge,
        binding=_binding(seed),
    )
    return webauthn.options_to_json(options)


def passwordless_sign_in(
    *, session: Session, seed: str | None, credential_json: str, user_agent: str = ""
) -> tuple[Member, str]:
    """Log in with a passkey alone: it must verify the user (PIN or biometrics), so it is two
    factors in one. The member and a full session's token."""
    from backend.accounts import service as accounts

    try:
        credential = parse_authentication_credential_json(_check_json(credential_json))
    except WebAuthnException as error:
        raise Invalid(NOT_ACCEPTED, field="credential") from error
    challenge = _use_challenge(
        session=session,
        record=None,
        member=None,
        purpose="authenticate",
        client_data=credential.response.client_data_json,
        binding=_binding(seed or ""),
    )
    row = session.exec(
        select(WebauthnCredential).where(
            WebauthnCredential.credential_id == bytes_to_base64url(credential.raw_id)
        )
    ).first()
    member = session.get(Member, row.member_id) if row is not None else None
    if row is None or member is None or not member.is_active:
        raise Invalid(NOT_ACCEPTED, field="credential")
    two_factor.check_throttle(session=session, member=member)
    _verify_assertion(
        session=session,
        member=member,
        row=row,
        credential=credential,
        challenge=challenge,
        require_user_verification=True,
    )
    token = accounts.start_session(
        session=session, member_id=member.id, user_agent=user_agent, second_factor=True
    )
    return member, token
