"""A person joins, confirms their address, logs out and in, and edits their profile."""

from __future__ import annotations

import re

import pytest

from backend.notifications import service as notifications
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_member

PASSPHRASE = "tea kettle orchard lantern"


def _verification_token(session, mail_dir) -> str:  # type: ignore[no-untyped-def]
    notifications.deliver_pending(session=session)
    [mail] = list(mail_dir.glob("*.eml"))
    return re.search(r"/verify\?token=(\S+)", mail.read_text()).group(1)


def test_sign_up_verify_log_in_edit_profile_and_log_out(page, session, mail_dir, request):
    page.goto("/")
    screenshot(page, "home", request)
    page.get_by_role("link", name="Join the network").first.click()

    page.get_by_label("Email address").fill("amara.okafor@example.nhs.uk")
    page.get_by_label("Create a password").fill(PASSPHRASE)
    page.get_by_label("Full name").fill("Amara Okafor")
    page.get_by_label("Job title (optional)").fill("Medical rota manager")
    page.get_by_label("Organisation").fill("Sheffield Teaching Hospitals NHS Foundation Trust")
    page.get_by_label("NHS England region").select_option("North East and Yorkshire")
    page.get_by_label("Role family").select_option("workforce-and-rostering")
    page.get_by_label("Band").select_option("4")
    page.get_by_label("Non-clinical").check()
    page.get_by_label("Years of management experience").fill("1")
    screenshot(page, "sign-up-filled", request)
    page.get_by_role("button", name="Join the network").click()

    page.wait_for_url("**/sign-up/check-email")
    assert page.locator("h1").inner_text() == "Check your email"

    token = _verification_token(session, mail_dir)
    page.goto(f"/verify?token={token}")
    page.get_by_role("button", name="Confirm my email address").click()
    assert page.locator("h1").inner_text() == "Email address confirmed"

    # A sign-up signs nobody in (it answers alike for a taken address): log in now.
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email address").fill("amara.okafor@example.nhs.uk")
    page.get_by_label("Password").fill(PASSPHRASE)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/profile")
    assert "Confirm your email address" not in page.content()

    page.get_by_role("link", name="Change skills you want to develop").click()
    page.wait_for_url("**/profile/edit#skills_sought")
    page.get_by_label("Quality improvement").check()
    page.get_by_label("Rota management").check()
    page.get_by_label("Leading with care").check()
    page.get_by_label("I am looking for a mentor").check()
    page.get_by_label("About you (optional)").fill("I plan rotas for 300 junior doctors.")
    screenshot(page, "profile-edit", request)
    page.get_by_role("button", name="Save profile").click()

    page.wait_for_url("**/profile?notice=profile-saved")
    body = page.locator("main").inner_text()
    assert "Your profile has been saved." in body
    for text in ("Quality improvement", "Rota management", "Leading with care"):
        assert text in body
    assert "I plan rotas for 300 junior doctors." in body
    screenshot(page, "profile", request)

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/\?notice=logged-out$"))
    assert page.get_by_text("You have logged out.").is_visible()


def test_pages_work_without_javascript(browser, live_server, session, request):
    member = make_member(session)
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Email address").fill(member.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/profile")
        page.goto("/mentoring-offer")
        page.get_by_label("How many mentees can you take at once?").select_option("2")
        page.get_by_label("Budget management").check()
        page.get_by_role("button", name="Save mentoring offer").click()
        page.wait_for_url("**/profile?notice=offer-saved")
        assert "Budget management" in page.locator("main").inner_text()
        screenshot(page, "profile-no-js", request)
    finally:
        context.close()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_error_summary_after_a_bad_sign_up(page, request):
    page.goto("/sign-up")
    page.get_by_label("Email address").fill("not an email")
    page.get_by_role("button", name="Join the network").click()

    assert page.title().startswith("Error: ")
    summary = page.locator(".nhsuk-error-summary")
    assert summary.is_visible()
    screenshot(page, "sign-up-errors", request)
