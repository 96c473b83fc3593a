"""Single sign-on in the browser: the log-in page's button, the provider's own login page (a
real oidc-provider on Node), back to complete the NHS profile, signed in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from backend.accounts.sso_models import AccountIdentity
from backend.members.models import Member
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import _check as check_page_structure
from tests.sso.conftest import sso_configured
from tests.sso.oidc import OpenIdProvider, running_provider


@pytest.fixture
def provider(live_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenIdProvider]:
    """The provider, its client registered for the live server's callback; the app set to it."""
    with running_provider([f"{live_server}/sign-in/sso/callback"]) as running:
        monkeypatch.setenv("PEERBRIDGE_BASE_URL", live_server)
        with sso_configured(monkeypatch, running.issuer):
            yield running


def test_sign_in_with_nhsmail_then_complete_the_profile(page, session, provider, request):
    for path in ("/sign-in/sso", "/sign-in/sso/callback", "/login"):  # the last stays open
        check_page_structure(page, path)  # one h1, labelled inputs, a language, a title
    page.get_by_role("button", name="Sign in with NHSmail").click()

    # The provider's own login page (oidc-provider's development interactions).
    page.wait_for_url(f"{provider.issuer}/interaction/**")
    page.locator("input[name=login]").fill("priya.shah@nhs.net")
    page.locator("input[name=password]").fill("any password at the provider")
    page.get_by_role("button", name="Sign-in").click()

    page.wait_for_url("**/sign-in/sso/complete-profile")
    check_page_structure(page, "/sign-in/sso/complete-profile")
    assert page.locator("h1").inner_text() == "Complete your NHS profile"
    assert "priya.shah@nhs.net" in page.locator("main").inner_text()
    assert page.get_by_label("Full name").input_value() == "Priya.shah"
    page.get_by_label("Full name").fill("Priya Shah")
    page.get_by_label("Organisation").fill("Manchester University NHS Foundation Trust")
    page.get_by_label("NHS England region").select_option("North West")
    page.get_by_label("Role family").select_option("operational-management")
    page.get_by_label("Band").select_option("7")
    page.get_by_label("Non-clinical").check()
    page.get_by_label("Years of management experience").fill("3")
    screenshot(page, "sso-complete-profile", request)
    page.get_by_role("button", name="Complete your profile").click()

    page.wait_for_url("**/profile?notice=sso-welcome")
    assert "your email address is confirmed" in page.locator("main").inner_text()
    screenshot(page, "sso-signed-in", request)
    session.rollback()
    member = session.exec(select(Member).where(Member.email == "priya.shah@nhs.net")).one()
    assert member.is_verified and member.name == "Priya Shah"
    identity = session.exec(select(AccountIdentity)).one()
    assert (identity.member_id, identity.issuer) == (member.id, provider.issuer)
