"""Password hashing (Argon2id) and password rules."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from backend.settings import get_settings

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing megabytes of "password" is a denial-of-service, not security


@lru_cache
def hasher() -> PasswordHasher:
    """The Argon2id hasher with the configured (OWASP-minimum or stronger) parameters."""
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


@lru_cache
def _common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most common passwords from leaked sets.
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` is not acceptable, or None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer."
    folded = password.casefold()
    if folded in _common_passwords() or folded.strip("0123456789!") in _common_passwords():
        return "That password is too common. Choose one that others are unlikely to use."
    if len(set(password)) < 4:
        return "Password must use more than a few different characters."
    local_part = email.split("@", 1)[0].casefold()
    if local_part and len(local_part) >= 4 and local_part in folded:
        return "Password must not contain your email address."
    return None


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash never matches."""
    if not password_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with older or weaker parameters."""
    try:
        return hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# A hash to verify against when the account does not exist, so both paths take as long.
@lru_cache
def dummy_hash() -> str:
    """A hash of a random password, for timing-safe failures on unknown accounts."""
    import secrets

    return hash_password(secrets.token_urlsafe(16))
