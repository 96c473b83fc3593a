"""Passkeys and the authenticator app in a real browser: Chromium's virtual WebAuthn
authenticator (over CDP) registers a passkey from the account page, and the passkey (or a
TOTP code) is then the second step of logging in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from backend.settings import get_settings
from tests.accounts.test_two_factor import code_at
from tests.browser.conftest import screenshot, watch_for_problems
from tests.factories import PASSWORD, make_member


@pytest.fixture
def origin(live_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The live server as http://localhost:PORT, the relying party WebAuthn accepts (browsers
    refuse an IP address as the relying party id)."""
    port = urlsplit(live_server).port
    url = f"http://localhost:{port}"
    monkeypatch.setenv("PEERBRIDGE_WEBAUTHN_RP_ID", "localhost")
    monkeypatch.setenv("PEERBRIDGE_WEBAUTHN_ORIGIN", url)
    get_settings.cache_clear()
    yield url
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def page(browser, origin: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh context on localhost with a virtual passkey authenticator, failing on CSP
    violations and script errors."""
    context = browser.new_context(base_url=origin, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    new_page = context.new_page()
    cdp = context.new_cdp_session(new_page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    problems = watch_for_problems(new_page)
    yield new_page
    context.close()
    assert problems == [], problems


def _log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_register_a_passkey_then_log_in_with_it(page, session, request):
    member = make_member(session, name="Priya Passkey")
    _log_in(page, member.email)
    page.wait_for_url("**/profile")

    page.goto("/account")
    page.get_by_role("link", name="Set up or change two-factor authentication").click()
    page.wait_for_url("**/account/two-factor")
    page.get_by_label("Name for a new passkey").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url("**/account/passkeys")
    assert page.locator("h1").inner_text() == "Your recovery codes"
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="I have saved my codes").click()
    assert page.get_by_role("rowheader", name="Test laptop").is_visible()
    screenshot(page, "passkeys-listed", request)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/?notice=logged-out")

    _log_in(page, member.email)
    page.wait_for_url("**/login/second-factor**")
    assert page.locator("h1").inner_text() == "Log in: second step"
    screenshot(page, "second-factor-step", request)
    page.get_by_role("button", name="Use my passkey").click()
    page.wait_for_url("**/profile")
    assert "Priya Passkey" in page.content()

    # It shows as used, and it can be removed.
    page.goto("/account/two-factor")
    assert "Not yet" not in page.locator("table").inner_text()
    page.get_by_role("button", name="Remove passkey Test laptop").click()
    page.wait_for_url("**/account/two-factor?notice=passkey-removed")
    assert "You have no passkeys." in page.content()


def test_set_up_an_authenticator_app_then_log_in_with_a_code(page, session, request):
    member = make_member(session)
    _log_in(page, member.email)
    page.wait_for_url("**/profile")
    page.goto("/account/two-factor")
    page.get_by_role("button", name="Set up an authenticator app").click()
    assert page.locator("svg").first.is_visible()  # the QR code
    screenshot(page, "totp-setup", request)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(code_at(secret, -1))
    page.get_by_role("button", name="Turn on").click()
    assert page.locator("h1").inner_text() == "Your recovery codes"
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z0-9]{5}-[a-z0-9]{5}", c) for c in codes)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/?notice=logged-out")
    _log_in(page, member.email)
    page.wait_for_url("**/login/second-factor**")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        code_at(secret, 0)
    )
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/profile")


def test_log_in_with_a_passkey_alone(page, session):
    member = make_member(session, name="Pat Passwordless")
    _log_in(page, member.email)
    page.wait_for_url("**/profile")
    page.goto("/account/two-factor")
    page.get_by_label("Name for a new passkey").fill("Phone")
    page.get_by_role("button", name="Add a passkey").click()
    page.wait_for_url("**/account/passkeys")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/?notice=logged-out")

    page.goto("/login")
    page.get_by_role("button", name="Use a passkey instead of a password").click()
    page.wait_for_url("**/profile")
    assert "Pat Passwordless" in page.content()
