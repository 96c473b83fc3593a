"""An admin finds a member, suspends them after the confirmation page, sees them listed as
suspended and reactivates them; then adds a skill to the framework and retires it."""

from __future__ import annotations

import re

from backend.settings import PROJECT_ROOT
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_member, make_mentee, make_mentor, make_mentorship

ODS_SAMPLE = PROJECT_ROOT / "backend" / "demo_data" / "ods_trusts_sample.csv"


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/profile")


def test_an_admin_suspends_and_reactivates_a_member_then_adds_and_retires_a_skill(  # type: ignore[no-untyped-def]
    page, session, request
):
    make_member(session, name="Ada Admin", email="ada.admin@example.nhs.uk", roles=("admin",))
    mentor = make_mentor(session, name="Priya Ramanathan", email="priya@example.nhs.uk")
    make_mentorship(session, mentor=mentor, mentee=make_mentee(session, name="Tom Mentee"))
    make_member(session, name="Priya Other", email="other@example.nhs.uk")
    session.commit()
    log_in(page, "ada.admin@example.nhs.uk")

    # Find the member.
    page.goto("/admin")
    page.get_by_role("main").get_by_role("link", name="Members", exact=True).first.click()
    page.wait_for_url("**/admin/members")
    page.get_by_label("Name or email address").fill("ramanathan")
    page.get_by_role("button", name="Find members").click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    page.get_by_role("link", name="Priya Ramanathan").click()
    assert page.locator("h1").inner_text() == "Priya Ramanathan"
    assert page.locator("#account-status").inner_text() == "Active"

    # Suspend: the confirmation page says what will close; nothing happens until confirmed.
    page.get_by_label("Reason").select_option("conduct")
    page.get_by_role("button", name="Suspend").click()
    page.wait_for_url(re.compile(r"/admin/members/\d+/suspend\?reason=conduct$"))
    assert page.locator("h1").inner_text() == "Suspend Priya Ramanathan?"
    closes = page.locator("#suspension-closes").inner_text()
    assert "1 active mentorship will end." in closes
    assert "does not reopen anything" in page.locator("main").inner_text()
    screenshot(page, "admin-suspend-confirm", request)
    page.get_by_role("button", name="Yes, suspend Priya Ramanathan").click()
    page.wait_for_url("**/admin/members/*?notice=member-suspended")
    assert page.locator("#account-status").inner_text() == "Suspended"

    # Listed as suspended.
    page.goto("/admin/members")
    page.get_by_label("Status").select_option("suspended")
    page.get_by_role("button", name="Find members").click()
    row = page.locator("table tbody tr", has_text="Priya Ramanathan")
    assert row.count() == 1 and "Suspended" in row.inner_text()
    assert page.locator("table tbody tr", has_text="Priya Other").count() == 0

    # Reactivate: the page says nothing reopens.
    row.get_by_role("link", name="Priya Ramanathan").click()
    assert "Reactivating does not reopen anything" in page.locator("main").inner_text()
    page.get_by_label("Reason").select_option("concern_resolved")
    page.get_by_role("button", name="Reactivate").click()
    page.wait_for_url("**/admin/members/*?notice=member-reactivated")
    assert page.locator("#account-status").inner_text() == "Active"

    # Add a skill, then retire it.
    page.goto("/admin/skills")
    page.get_by_label("Skill name").fill("Rota design")
    page.get_by_label("Group").select_option("Core management skills")
    page.get_by_role("button", name="Add skill").click()
    page.wait_for_url("**/admin/skills?notice=skill-added")
    added = page.locator("table tbody tr", has_text="Rota design")
    assert "In use" in added.inner_text()
    added.get_by_role("link", name="Rota design").click()
    assert page.locator("h1").inner_text() == "Rota design"
    page.get_by_role("button", name="Retire skill").click()
    page.wait_for_url("**/admin/skills/rota-design?notice=skill-retired")
    assert page.locator("#skill-status").inner_text() == "Retired"
    page.goto("/admin/skills")
    assert "Retired" in page.locator("table tbody tr", has_text="Rota design").inner_text()
    screenshot(page, "admin-skills", request)


def test_an_admin_imports_the_ods_sample_edits_and_merges_and_sign_up_offers_the_register(  # type: ignore[no-untyped-def]
    page, browser, live_server, session, request
):
    make_member(session, name="Ada Admin", email="ada.admin@example.nhs.uk", roles=("admin",))
    typed = make_member(session, organisation="Northfield Teaching Hosp").organisation_id
    session.commit()
    log_in(page, "ada.admin@example.nhs.uk")

    # Import the ODS sample: its rows join the register.
    page.goto("/admin/organisations")
    page.get_by_label("ODS CSV file").set_input_files(str(ODS_SAMPLE))
    page.get_by_role("button", name="Import organisations").click()
    assert "added to the register" in page.locator("#import-summary").inner_text()
    page.goto("/admin/organisations")
    page.get_by_label("Name or ODS code").fill("RCB")
    page.get_by_role("button", name="Find organisations").click()
    page.get_by_role("link", name="Calderbrook and Wharfe Partnership NHS Foundation Trust").click()

    # Edit it.
    page.get_by_label("Type", exact=True).select_option("mental-health-trust")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/admin/organisations/*?notice=*")
    assert page.get_by_label("Type", exact=True).input_value() == "mental-health-trust"

    # Merge the name a member typed into the register's row for it.
    page.goto(f"/admin/organisations/{typed}")
    page.get_by_label("ODS code or full name of the register's organisation").fill("RNH")
    page.get_by_role("button", name="Merge organisations").click()
    page.wait_for_url("**?notice=organisation-merged")
    status = page.locator("#organisation-status").inner_text()
    assert "Merged into Northfield Teaching Hospitals NHS Foundation Trust" in status
    screenshot(page, "admin-organisation-merged", request)

    # Sign-up offers the register's organisations as a list (and not the merged alias).
    context = browser.new_context(base_url=live_server)
    visitor = context.new_page()
    visitor.goto("/sign-up")
    field = visitor.get_by_label("Organisation", exact=False).first
    assert field.get_attribute("list") == "organisation-register"
    offered = visitor.locator("datalist#organisation-register option")
    names = {offered.nth(i).get_attribute("value") for i in range(offered.count())}
    assert "Northfield Teaching Hospitals NHS Foundation Trust" in names
    assert "Northfield Teaching Hosp" not in names
    context.close()
