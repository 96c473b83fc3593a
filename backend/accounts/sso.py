"""Single sign-on with OpenID Connect (Microsoft Entra ID for NHSmail, or any compliant provider).

The authorization code flow with PKCE (S256), a state and a nonce, through Authlib's OAuth 2
client; the ID token is checked with joserfc and Authlib's ``CodeIDToken`` rules.

- ``begin`` stores a sign-in under way (``SsoSignIn``: the state's hash, the nonce and the PKCE
  verifier) and returns the provider's authorization address. The browser keeps the state in
  a cookie too, so a callback only completes in the browser that started it.
- ``use_state`` uses the stored sign-in once (a conditional update decides, so a replayed or
  raced callback fails) and checks it has not expired.
- ``exchange`` trades the code for tokens and checks the ID token: its signature against the
  provider's published keys (JWKS), issuer, audience (our client id), expiry and nonce. The
  email is taken only when the provider vouches for it (``email_verified`` true, or Entra ID's
  ``xms_edov`` true: the email domain's owner is verified in the tenant), and only if its
  domain is allowed (``PEERBRIDGE_OIDC_ALLOWED_EMAIL_DOMAINS``).
- ``sign_in`` finds the member by (issuer, subject); else links a member whose own email is
  verified and equal to the provider's verified email; else keeps the checked claims on the
  sign-in row until ``complete_profile`` creates a verified account with the profile fields
  sign-up asks for. Every success starts a session with ``service.start_session``.

Every failure is an ``SsoFailed`` naming what went wrong in plain words (``reason`` says which,
for tests and logs), never a server error.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.oidc.core import CodeIDToken  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    JoseError,
)
from joserfc.jwk import KeySet
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend import audit, text
from backend.accounts import two_factor
from backend.accounts.service import (
    SignUp,
    new_member,
    profile_problems,
    start_session,
    token_hash,
)
from backend.accounts.sso_models import AccountIdentity, SsoSignIn
from backend.db import utcnow
from backend.errors import DomainError, FieldErrors
from backend.members import validation as v
from backend.members.models import Member
from backend.settings import Settings, get_settings

with warnings.catch_warnings():
    # Authlib notes that it prefers the httpx2 fork; with httpx it works the same.
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
        OAuth2Client,
        OAuthError,
    )

log = logging.getLogger("peerbridge.accounts.sso")

SCOPE = "openid email profile"
CALLBACK_PATH = "/sign-in/sso/callback"
# From the button to the callback; then from the callback to a completed profile.
SIGN_IN_WINDOW = timedelta(minutes=10)
PROFILE_WINDOW = timedelta(minutes=30)
# Asymmetric signatures only: never "none", never HS256 (a key the client itself holds).
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
METADATA_SECONDS = 3600  # discovery and keys are fetched again after this long
KEYS_REFETCH_SECONDS = 30  # an unknown key or bad signature refetches the keys at most this often


# What can go wrong, in plain words: (page title, what happened and what to do). ``{provider}``
# is the provider's name as people know it (``PEERBRIDGE_OIDC_PROVIDER_NAME``).
REASONS: dict[str, tuple[str, str]] = {
    "not_configured": (
        "Single sign-on is not set up",
        "This service does not offer single sign-on. Log in with your email address and "
        "password instead.",
    ),
    "provider_unreachable": (
        "{provider} could not be reached",
        "We could not talk to {provider} to sign you in. Try again in a few minutes, or log in "
        "with your email address and password.",
    ),
    "provider_misconfigured": (
        "{provider} sign-in is not set up correctly",
        "{provider} did not describe itself the way this service expects, so nobody can sign in "
        "with it at the moment. Log in with your email address and password, and tell the "
        "service's administrators.",
    ),
    "provider_error": (
        "{provider} did not sign you in",
        "{provider} sent you back without signing you in ({detail}). If you cancelled, that is "
        "fine: start again when you are ready.",
    ),
    "state_missing": (
        "Your sign-in could not be matched to this browser",
        "The sign-in started in another browser or window, or this browser did not keep its "
        "cookie. Start again from the log-in page, in one browser.",
    ),
    "state_mismatch": (
        "Your sign-in could not be matched to this browser",
        "The answer from {provider} belongs to a different sign-in than the one this browser "
        "started. Start again from the log-in page.",
    ),
    "state_unknown": (
        "This sign-in has expired or was already used",
        "Each sign-in link works once, for {minutes} minutes. Start again from the log-in page.",
    ),
    "state_used": (
        "This sign-in was already used",
        "Each sign-in link works once. If you went back in your browser, start again from the "
        "log-in page.",
    ),
    "state_expired": (
        "This sign-in has expired",
        "You have {minutes} minutes to sign in with {provider}. Start again from the log-in page.",
    ),
    "code_missing": (
        "{provider} did not send a sign-in code",
        "The answer from {provider} was incomplete. Start again from the log-in page.",
    ),
    "token_refused": (
        "{provider} refused to complete the sign-in",
        "{provider} would not exchange the sign-in code ({detail}). Codes work once and for a "
        "short time: start again from the log-in page.",
    ),
    "no_id_token": (
        "{provider} did not say who you are",
        "{provider} answered without an ID token. Start again, and if it happens again tell "
        "the service's administrators.",
    ),
    "bad_signature": (
        "The sign-in could not be trusted",
        "The answer was not signed with {provider}'s published keys, so it may not come from "
        "{provider}. You have not been signed in.",
    ),
    "wrong_issuer": (
        "The sign-in came from the wrong provider",
        "The ID token was issued by someone other than {provider}. You have not been signed in.",
    ),
    "wrong_audience": (
        "The sign-in was meant for another service",
        "{provider} issued this ID token to a different application, not to peerbridge. You "
        "have not been signed in.",
    ),
    "expired": (
        "The sign-in has expired",
        "The ID token from {provider} is out of date (or this computer's clock is wrong). "
        "Start again from the log-in page.",
    ),
    "nonce_mismatch": (
        "The sign-in could not be matched to its request",
        "The ID token from {provider} was not issued for the sign-in this browser started "
        "(its nonce differs), so it may be replayed. You have not been signed in.",
    ),
    "invalid_token": (
        "The sign-in could not be checked",
        "The ID token from {provider} is not valid ({detail}). You have not been signed in.",
    ),
    "no_email": (
        "{provider} did not share your email address",
        "peerbridge needs your email address to sign you in. Check that your {provider} account "
        "has one, or log in with your email address and password.",
    ),
    "email_unverified": (
        "Your email address is not confirmed by {provider}",
        "{provider} does not vouch for the email address on your account, so we cannot use it "
        "to sign you in. Log in with your email address and password instead.",
    ),
    "domain_not_allowed": (
        "That email address cannot sign in here",
        "Single sign-on is open to addresses ending {domains}. Your address ends @{domain}. "
        "Log in with your email address and password instead.",
    ),
    "account_unverified": (
        "Confirm your email address first",
        "There is already a peerbridge account with this email address, but its owner has not "
        "confirmed the address yet, so we cannot link it to {provider}. Log in with your "
        "password and confirm your email address (or reset your password, which confirms it "
        "too), then sign in with {provider}.",
    ),
    "linked_elsewhere": (
        "This account is linked to another {provider} account",
        "The peerbridge account with this email address is already linked to a different "
        "{provider} account. Sign in with that one, or log in with your password.",
    ),
    "account_inactive": (
        "This account cannot sign in",
        "The peerbridge account for this {provider} account is closed.",
    ),
    "profile_expired": (
        "Your sign-in has expired",
        "You have {minutes} minutes after signing in with {provider} to complete your profile. "
        "Start again from the log-in page.",
    ),
    "account_exists": (
        "An account with this email address now exists",
        "Someone created a peerbridge account with this email address while you were completing "
        "your profile. Start again from the log-in page.",
    ),
}


class SsoFailed(DomainError):
    """A single sign-on step failed; ``reason`` is a key of ``REASONS``, ``title`` the heading."""

    code = "sso_failed"

    def __init__(self, reason: str, *, status: int = 400, **details: str) -> None:
        settings = get_settings()
        words = {
            "provider": settings.oidc_provider_name,
            "minutes": str(int(SIGN_IN_WINDOW.total_seconds() // 60)),
            "domains": " or ".join(f"@{d}" for d in settings.oidc_domains) or "(none)",
            "detail": "no reason given",
            "domain": "",
            **details,
        }
        if reason == "profile_expired":
            words["minutes"] = str(int(PROFILE_WINDOW.total_seconds() // 60))
        title, message = REASONS[reason]
        super().__init__(message.format(**words))
        self.reason = reason
        self.title = title.format(**words)
        self.status = status


# The provider: discovery and keys, cached per process ----------------------------------------


@dataclass
class _Provider:
    metadata: dict[str, Any]
    fetched_at: float
    jwks: dict[str, Any] | None = None
    jwks_fetched_at: float = 0.0


_providers: dict[str, _Provider] = {}
_lock = threading.Lock()


def _settings() -> Settings:
    settings = get_settings()
    if not settings.oidc_enabled:
        raise SsoFailed("not_configured", status=404)
    return settings


def _get_json(url: str) -> dict[str, Any]:
    settings = get_settings()
    try:
        response = httpx.get(url, timeout=settings.oidc_timeout_seconds, follow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        log.warning("single sign-on: %s could not be read: %s", url, error)
        raise SsoFailed("provider_unreachable", status=502) from error
    if not isinstance(body, dict):
        raise SsoFailed("provider_misconfigured", status=502)
    return body


def _provider(*, refresh: bool = False) -> _Provider:
    """The configured provider's discovery document (``/.well-known/openid-configuration``)."""
    settings = _settings()
    issuer = str(settings.oidc_issuer)
    with _lock:
        cached = _providers.get(issuer)
    if cached and not refresh and time.monotonic() - cached.fetched_at < METADATA_SECONDS:
        return cached
    metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    methods = metadata.get("code_challenge_methods_supported")
    if (
        metadata.get("issuer") != issuer  # OpenID Connect Discovery 1.0, section 4.3
        or not all(
            isinstance(metadata.get(key), str)
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        )
        or (isinstance(methods, list) and "S256" not in methods)
    ):
        log.warning("single sign-on: the discovery document of %s is not usable", issuer)
        raise SsoFailed("provider_misconfigured", status=502)
    provider = _Provider(metadata=metadata, fetched_at=time.monotonic())
    with _lock:
        _providers[issuer] = provider
    return provider


def _keys(provider: _Provider, *, refresh: bool = False) -> KeySet:
    """The provider's signing keys; ``refresh`` fetches them again (keys rotate)."""
    now = time.monotonic()
    if (
        provider.jwks is None
        or now - provider.jwks_fetched_at > METADATA_SECONDS
        or (refresh and now - provider.jwks_fetched_at > KEYS_REFETCH_SECONDS)
    ):
        provider.jwks = _get_json(provider.metadata["jwks_uri"])
        provider.jwks_fetched_at = now
    try:
        return KeySet.import_key_set(provider.jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise SsoFailed("provider_misconfigured", status=502) from error


def forget_provider() -> None:
    """Drop the cached discovery documents and keys (settings changed; tests)."""
    with _lock:
        _providers.clear()


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if _ORIGIN.fullmatch(origin) else None


def form_action_origins() -> tuple[str, ...]:
    """Where the sign-in button's POST is redirected (the provider's authorization endpoint),
    for the pages' Content-Security-Policy ``form-action``: the issuer's origin, and the
    authorization endpoint's once discovery has named it. Empty when single sign-on is off."""
    settings = get_settings()
    if not settings.oidc_enabled:
        return ()
    issuer = str(settings.oidc_issuer)
    urls = [issuer]
    with _lock:
        cached = _providers.get(issuer)
    if cached is not None:
        urls.append(cached.metadata["authorization_endpoint"])
    return tuple(sorted({origin for origin in map(_origin, urls) if origin}))


def _client(settings: Settings) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret or None,
        scope=SCOPE,
        redirect_uri=settings.base_url.rstrip("/") + CALLBACK_PATH,
        code_challenge_method="S256",
        timeout=settings.oidc_timeout_seconds,
    )


# The flow -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """A sign-in under way, as the callback needs it (plain values, safe after commit)."""

    id: str
    nonce: str
    code_verifier: str
    next_path: str


@dataclass(frozen=True)
class Claims:
    """What a checked ID token says about the person."""

    issuer: str
    subject: str
    email: str
    name: str
    amr: str  # the "amr" values, space-separated ("pwd mfa")

    @property
    def second_factor(self) -> bool:
        """True when the provider says it checked a second factor (``amr`` has "mfa")."""
        return "mfa" in self.amr.split()


def begin(*, session: Session, next_path: str = "/profile") -> tuple[str, str]:
    """Start a sign-in: returns the provider's authorization address and the state, which the
    caller gives the browser in a cookie (``use_state`` compares the two)."""
    settings = _settings()
    provider = _provider()
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 asks for 43 to 128
    session.add(
        SsoSignIn(
            id=token_hash(state),
            nonce=nonce,
            code_verifier=verifier,
            next_path=text.fit_column(next_path, SsoSignIn, "next_path"),
            expires_at=utcnow() + SIGN_IN_WINDOW,
        )
    )
    session.flush()
    with _client(settings) as client:
        url, _state = client.create_authorization_url(
            provider.metadata["authorization_endpoint"],
            state=state,
            code_verifier=verifier,
            nonce=nonce,
        )
    return url, state


def use_state(*, session: Session, state: str | None, browser_state: str | None) -> Attempt:
    """Use the sign-in named by the callback's ``state`` once; ``browser_state`` is the cookie."""
    _settings()
    if not browser_state or not state:
        raise SsoFailed("state_missing")
    if len(state) > 200 or not secrets.compare_digest(
        state.encode("utf-8", "surrogatepass"), browser_state.encode("utf-8", "surrogatepass")
    ):
        raise SsoFailed("state_mismatch")
    record = session.get(SsoSignIn, token_hash(state))
    if record is None:
        raise SsoFailed("state_unknown")
    if record.used_at is not None:
        raise SsoFailed("state_used")
    now = utcnow()
    if record.expires_at <= now:
        raise SsoFailed("state_expired")
    used = session.exec(
        update(SsoSignIn)
        .where(col(SsoSignIn.id) == record.id)
        .where(col(SsoSignIn.used_at).is_(None))
        .values(used_at=now)
    ).rowcount
    if not used:
        raise SsoFailed("state_used")
    return Attempt(
        id=record.id,
        nonce=record.nonce,
        code_verifier=record.code_verifier,
        next_path=record.next_path,
    )


def exchange(*, attempt: Attempt, code: str | None) -> Claims:
    """Trade the code for tokens (with the PKCE verifier) and check the ID token."""
    settings = _settings()
    if not code or len(code) > 2000:
        raise SsoFailed("code_missing")
    provider = _provider()
    with _client(settings) as client:
        try:
            token = client.fetch_token(
                provider.metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=attempt.code_verifier,
            )
        except OAuthError as error:
            raise SsoFailed("token_refused", detail=str(error.error or "no reason")) from error
        except (httpx.HTTPError, ValueError) as error:
            log.warning("single sign-on: the token endpoint failed: %s", error)
            raise SsoFailed("provider_unreachable", status=502) from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SsoFailed("no_id_token")
    access_token = token.get("access_token")
    return check_id_token(
        id_token,
        nonce=attempt.nonce,
        access_token=access_token if isinstance(access_token, str) else None,
    )


def _claim_problem(error: ClaimError) -> SsoFailed:
    if isinstance(error, ExpiredTokenError) or error.claim in ("exp", "iat", "nbf"):
        return SsoFailed("expired")
    reason = {
        "iss": "wrong_issuer",
        "aud": "wrong_audience",
        "azp": "wrong_audience",
        "nonce": "nonce_mismatch",
    }.get(error.claim)
    if reason:
        return SsoFailed(reason)
    return SsoFailed("invalid_token", detail=f"its {error.claim} claim is wrong")


def check_id_token(id_token: str, *, nonce: str, access_token: str | None = None) -> Claims:
    """Check an ID token: signature (the provider's JWKS), issuer, audience, times, nonce; then
    that the email is verified and of an allowed domain. Returns what it says."""
    settings = _settings()
    provider = _provider()
    supported = provider.metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in ALGORITHMS if a in supported]
    if not algorithms:
        raise SsoFailed("provider_misconfigured", status=502)
    try:
        try:
            token = jwt.decode(id_token, _keys(provider), algorithms=algorithms)
        except JoseError:  # perhaps the keys rotated: fetch them again, once
            token = jwt.decode(id_token, _keys(provider, refresh=True), algorithms=algorithms)
    except JoseError as error:
        log.info("single sign-on: ID token signature refused: %r", error)
        raise SsoFailed("bad_signature") from error
    options: dict[str, Any] = {
        "iss": {"essential": True, "value": provider.metadata["issuer"]},
        "aud": {"essential": True, "value": settings.oidc_client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
    }
    params = {"nonce": nonce, "client_id": settings.oidc_client_id, "access_token": access_token}
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(leeway=settings.oidc_leeway_seconds)
    except ClaimError as error:
        raise _claim_problem(error) from error
    except JoseError as error:
        raise SsoFailed("invalid_token", detail=error.error) from error
    return _person(claims, settings)


def _vouched(value: object) -> bool:
    return value is True or value == "true"


def _person(claims: dict[str, Any], settings: Settings) -> Claims:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SsoFailed("invalid_token", detail="its subject is missing or too long")
    raw_email = claims.get("email")
    if not isinstance(raw_email, str) or not raw_email.strip():
        raise SsoFailed("no_email")
    # Accepted as verified: the standard email_verified claim, or Entra ID's optional xms_edov
    # claim (the email domain's owner is verified in the tenant; Entra sends no email_verified).
    if not (_vouched(claims.get("email_verified")) or _vouched(claims.get("xms_edov"))):
        raise SsoFailed("email_unverified")
    email, problem = v.normalise_email(raw_email)
    if problem or not email:
        raise SsoFailed("no_email")
    domain = email.rsplit("@", 1)[1]
    if domain not in settings.oidc_domains:
        raise SsoFailed("domain_not_allowed", domain=domain)
    name = claims.get("name")
    amr = claims.get("amr")
    amr_values = [item for item in amr if isinstance(item, str)] if isinstance(amr, list) else []
    return Claims(
        issuer=str(claims["iss"]),
        subject=subject,
        email=email,
        name=" ".join(name.split())[: v.MAX_NAME] if isinstance(name, str) else "",
        amr=" ".join(amr_values)[:200],
    )


@dataclass(frozen=True)
class SignedIn:
    """The member is signed in: ``token`` is the new session's cookie token."""

    member_id: int
    token: str
    next_path: str
    pending: bool = False  # the member's own second factor is still to come


@dataclass(frozen=True)
class NeedsProfile:
    """A new account: the person completes their profile first (the claims wait on the row)."""


def _identity(*, session: Session, issuer: str, subject: str) -> AccountIdentity | None:
    return session.exec(
        select(AccountIdentity)
        .where(AccountIdentity.issuer == issuer)
        .where(AccountIdentity.subject == subject)
    ).first()


def _link(*, session: Session, member_id: int, claims: Claims) -> None:
    try:
        with session.begin_nested():
            session.add(
                AccountIdentity(
                    member_id=member_id,
                    issuer=claims.issuer,
                    subject=claims.subject,
                    last_amr=claims.amr,
                )
            )
            session.flush()
    except IntegrityError as error:  # two first sign-ins raced; the unique constraint decided
        raise SsoFailed("state_used") from error


def sign_in(
    *,
    session: Session,
    attempt: Attempt,
    claims: Claims,
    user_agent: str = "",
    address: str | None = None,
) -> SignedIn | NeedsProfile:
    """Sign in the member the checked claims name, linking or waiting for a profile if new."""
    identity = _identity(session=session, issuer=claims.issuer, subject=claims.subject)
    if identity is not None:
        member = session.get(Member, identity.member_id)
        if member is None or not member.is_active:
            raise SsoFailed("account_inactive")
        identity.last_sign_in_at = utcnow()
        identity.last_amr = claims.amr
        session.add(identity)
    else:
        member = session.exec(select(Member).where(Member.email == claims.email)).first()
        if member is None:
            record = session.get(SsoSignIn, attempt.id)
            if record is None:
                raise SsoFailed("state_unknown")
            record.issuer, record.subject = claims.issuer, claims.subject
            record.email, record.name, record.amr = claims.email, claims.name, claims.amr
            record.expires_at = utcnow() + PROFILE_WINDOW
            session.add(record)
            session.flush()
            return NeedsProfile()
        if not member.is_active:
            raise SsoFailed("account_inactive")
        # Linked only when both sides vouch for the address: the provider (checked above) and
        # the member, who confirmed it here.
        if not member.is_verified:
            raise SsoFailed("account_unverified")
        other = session.exec(
            select(AccountIdentity.id)
            .where(AccountIdentity.member_id == member.id)
            .where(AccountIdentity.issuer == claims.issuer)
        ).first()
        if other is not None:  # the address now belongs to another account at the provider
            raise SsoFailed("linked_elsewhere")
        _link(session=session, member_id=member.id, claims=claims)
    session.flush()
    # A provider that says it checked a second factor ("mfa" in amr, as Entra ID does under
    # conditional access) counts as the second step; otherwise a member who has one of their
    # own gives it next, exactly as after a password.
    by_provider = claims.second_factor
    pending = not by_provider and two_factor.needed(session=session, member=member)
    token = start_session(
        session=session,
        member_id=member.id,
        user_agent=user_agent,
        pending=pending,
        second_factor=by_provider,
    )
    audit.record_sign_in(
        session, member=member, user_agent=user_agent, address=address, method="sso"
    )
    return SignedIn(member_id=member.id, token=token, next_path=attempt.next_path, pending=pending)


def _pending(*, session: Session, state: str | None) -> SsoSignIn:
    record = session.get(SsoSignIn, token_hash(state)) if state and len(state) <= 200 else None
    if (
        record is None
        or record.subject is None
        or record.used_at is None
        or record.expires_at <= utcnow()
    ):
        raise SsoFailed("profile_expired")
    return record


@dataclass(frozen=True)
class Pending:
    """Who is completing their profile, as the form shows it."""

    email: str
    name: str


def pending_profile(*, session: Session, state: str | None) -> Pending:
    """The checked email and name of the new account waiting for its profile."""
    _settings()
    record = _pending(session=session, state=state)
    return Pending(email=record.email or "", name=record.name or "")


def complete_profile(
    *, session: Session, state: str | None, data: SignUp, user_agent: str = ""
) -> tuple[Member, str]:
    """Create the verified account of a first sign-in, with its profile; start its session.

    ``data.email`` and ``data.password`` are ignored: the email is the provider's verified one,
    and the account has no password (one can be set with "forgotten password").
    """
    _settings()
    record = _pending(session=session, state=state)
    problems = profile_problems(data)
    if problems:
        raise FieldErrors(problems)
    email, issuer, subject = str(record.email), str(record.issuer), str(record.subject)
    claims = Claims(issuer=issuer, subject=subject, email=email, name="", amr=record.amr or "")
    # The waiting claims are used once, even if two submissions race.
    taken = session.exec(
        delete(SsoSignIn)
        .where(col(SsoSignIn.id) == record.id)
        .where(col(SsoSignIn.subject).is_not(None))
    ).rowcount
    if not taken:
        raise SsoFailed("profile_expired")
    if _identity(session=session, issuer=issuer, subject=subject) is not None:
        raise SsoFailed("state_used")
    member = new_member(session=session, data=data, email=email, password_hash=None)
    member.email_verified_at = utcnow()
    try:
        with session.begin_nested():
            session.add(member)
            session.flush()
    except IntegrityError as error:
        raise SsoFailed("account_exists") from error
    _link(session=session, member_id=member.id, claims=claims)
    session.flush()
    token = start_session(session=session, member_id=member.id, user_agent=user_agent)
    session.refresh(member)
    return member, token


def purge_stale_sign_ins(*, session: Session) -> int:
    """Delete sign-ins past their time (with any claims still waiting for a profile)."""
    return session.exec(delete(SsoSignIn).where(col(SsoSignIn.expires_at) <= utcnow())).rowcount
