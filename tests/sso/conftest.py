"""Single sign-on tests: the app against a real OpenID provider, started once per module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from backend.accounts import sso
from backend.settings import get_settings
from tests.sso.oidc import CLIENT_ID, CLIENT_SECRET, OpenIdProvider, running_provider
from tests.web.conftest import client, session  # noqa: F401 - the page-test fixtures

CALLBACK = "http://testserver/sign-in/sso/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIdProvider]:
    """oidc-provider on Node, with the client registered for the test client's callback."""
    with running_provider([CALLBACK]) as running:
        yield running


@contextmanager
def sso_configured(monkeypatch: pytest.MonkeyPatch, issuer: str) -> Iterator[None]:
    """Single sign-on settings pointing at ``issuer`` while inside, none afterwards."""
    settings = {
        "PEERBRIDGE_OIDC_ISSUER": issuer,
        "PEERBRIDGE_OIDC_CLIENT_ID": CLIENT_ID,
        "PEERBRIDGE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PEERBRIDGE_OIDC_ALLOWED_EMAIL_DOMAINS": "nhs.net",
        "PEERBRIDGE_OIDC_PROVIDER_NAME": "NHSmail",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    sso.forget_provider()
    try:
        yield
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        sso.forget_provider()


@pytest.fixture
def sso_on(monkeypatch: pytest.MonkeyPatch, provider: OpenIdProvider) -> Iterator[OpenIdProvider]:
    """Single sign-on configured against the test provider (and honest again afterwards)."""
    with sso_configured(monkeypatch, provider.issuer):
        yield provider
        provider.honest()
