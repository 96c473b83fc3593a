"""CSRF tokens for visitors who have no session yet (log-in, sign-up, password reset).

Signed-in visitors' forms carry the token stored with their server-side session. Anonymous
visitors get no session row (a row per visit would grow without bound); instead a random seed
in an HttpOnly cookie, and forms carry an HMAC of that seed under the secret key (a signed
double-submit cookie). A cross-site page can neither read the cookie nor compute the HMAC,
so it cannot send a matching pair.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from backend.settings import get_settings

_PURPOSE = b"peerbridge anonymous csrf v1:"
MAX_SEED_LENGTH = 100


def new_seed() -> str:
    """A fresh random seed for the anonymous CSRF cookie."""
    return secrets.token_urlsafe(32)


def usable_seed(seed: str | None) -> str | None:
    """The seed from a cookie if it looks like one of ours, else None."""
    if not seed or len(seed) > MAX_SEED_LENGTH or not seed.isascii():
        return None
    return seed


def token_for(seed: str) -> str:
    """The token forms must send back with the cookie holding ``seed``."""
    key = get_settings().secret_key.encode("utf-8")
    digest = hmac.new(key, _PURPOSE + seed.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_matches(*, seed: str | None, sent: str | None) -> bool:
    """True when ``sent`` is the token for the cookie's ``seed`` (compared in constant time)."""
    seed = usable_seed(seed)
    if seed is None or not isinstance(sent, str) or not sent.isascii():
        return False
    return hmac.compare_digest(sent.encode("ascii"), token_for(seed).encode("ascii"))
