"""A programme in a real browser: a North West organiser creates and publishes it, a band 4
member applies and is accepted, a band 8a member is told why they are not eligible."""

from __future__ import annotations

from backend.members.models import Member
from tests.browser.conftest import screenshot
from tests.browser.test_mentoring_journeys import log_in, second_page
from tests.factories import make_chapter, make_member, make_organiser_scope


def test_organiser_creates_and_publishes_a_member_applies_and_is_accepted(
    page, browser, live_server, session, request
):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    scope = make_organiser_scope(
        session,
        member=make_member(session, name="Nadia Organiser", region="North West", band="8b"),
        chapter=north_west,
    )
    organiser = session.get(Member, scope.member_id)
    band4 = make_member(session, name="Bea Four", region="North West", band="4")
    band8a = make_member(session, name="Ade Eight", region="North West", band="8a")
    session.commit()

    log_in(page, organiser.email)
    page.goto("/organise/programmes")
    page.get_by_role("link", name="Create a programme").click()
    page.locator("#name").fill("Into management")
    for band in ("3", "4", "5"):
        page.locator(f"#bands-{band}").check()
    page.get_by_role("button", name="Create the programme").click()
    page.wait_for_url("**/organise/programmes/*?notice=programme-created")
    page.get_by_role("link", name="Application questions (0)").click()
    page.locator("#text_new").fill("Why do you want to join?")
    page.get_by_role("button", name="Add the question").click()
    page.wait_for_url("**/questions?notice=questions-saved")
    page.get_by_role("link", name="Back to the programme").click()
    page.get_by_role("button", name="Publish the programme").click()
    page.wait_for_url("**?notice=programme-published")
    programme_url = page.url.split("?")[0]
    screenshot(page, "programme-published", request)

    context, member_page = second_page(browser, live_server)
    log_in(member_page, band4.email)
    member_page.get_by_role("link", name="Programmes", exact=True).first.click()
    member_page.get_by_role("link", name="Apply to Into management").click()
    member_page.get_by_role("button", name="Send my application").click()
    assert (
        "Question 1: enter your answer." in member_page.locator(".nhsuk-error-summary").inner_text()
    )
    member_page.get_by_label("Why do you want to join?").fill("To lead a team")
    member_page.get_by_role("button", name="Send my application").click()
    member_page.wait_for_url("**?notice=applied")

    page.goto(programme_url + "/applications")
    page.get_by_label("Accept").check()
    page.get_by_label("Message to Bea Four (optional)").fill("Welcome to the programme")
    page.get_by_role("button", name="Save the decision for Bea Four").click()
    page.wait_for_url("**notice=decision-saved")

    member_page.reload()
    text = member_page.locator("main").inner_text()
    assert "Accepted" in text and "Welcome to the programme" in text
    context.close()

    other_context, other = second_page(browser, live_server)
    log_in(other, band8a.email)
    other.goto("/programmes")
    assert (
        "This programme is for bands 3 to 5. Your band is 8a." in other.locator("main").inner_text()
    )
    screenshot(other, "programme-not-eligible", request)
    other_context.close()
