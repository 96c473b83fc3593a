"""axe-core on the steps of signing in that need one half done: the second factor (and a wrong
code), confirming it is you before a sensitive action (and an empty code), and single sign-on
with a real OpenID provider to the profile it asks for (and that form posted empty)."""

from __future__ import annotations

from backend.members.models import Member
from tests.accounts.test_two_factor import code_at
from tests.browser.axe import ERROR_SUMMARY, Audit, report
from tests.browser.test_axe_members import ONE_DATABASE
from tests.browser.test_sso import provider  # noqa: F401  (a fixture)
from tests.factories import PASSWORD, make_member, make_totp_credential

CODE_FIELD = "Code from your authenticator app, or a recovery code"


def _password_step(audit: Audit, member: Member) -> None:
    page = audit.page
    page.goto("/login")
    page.locator("#email").fill(member.email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url("**/login/second-factor**")


@ONE_DATABASE
def test_no_axe_violations_on_the_steps_of_signing_in(
    browser,
    live_server,
    session,
    provider,  # noqa: F811  (the fixture imported above)
    tmp_path,
    record_property,
):
    member = make_member(session, name="Tara Two-Step")
    _, secret = make_totp_credential(session, member=member)
    session.commit()
    audits = []

    with Audit(browser, live_server, "member with a second factor") as audit:
        audits.append(audit)
        page = audit.page
        _password_step(audit, member)
        audit.check("/login/second-factor")
        page.get_by_label(CODE_FIELD).fill("000000")
        page.get_by_role("button", name="Continue").click()
        page.locator(ERROR_SUMMARY).wait_for()
        audit.check("/login/second-factor (a wrong code)")
        page.get_by_label(CODE_FIELD).fill(code_at(secret, 0))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/profile")
        audit.visit("/account/confirm")
        audit.error_state("/account/confirm")

    with Audit(browser, live_server, "single sign-on") as audit:
        audits.append(audit)
        page = audit.page
        audit.visit("/sign-in/sso")
        page.get_by_role("button", name="Sign in with NHSmail").click()
        page.wait_for_url(f"{provider.issuer}/interaction/**")
        page.locator("input[name=login]").fill("axe.check@nhs.net")
        page.locator("input[name=password]").fill("any password at the provider")
        page.get_by_role("button", name="Sign-in").click()
        page.wait_for_url("**/sign-in/sso/complete-profile")
        audit.check("/sign-in/sso/complete-profile")
        audit.error_state("/sign-in/sso/complete-profile")

    checked = {row["page"] for a in audits for row in a.rows}
    assert len(checked) == 7, sorted(checked)
    failures = report("sign-in-steps", audits, tmp_path, record_property)
    assert failures == "", failures
