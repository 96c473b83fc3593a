"""A programme in a real browser: a North West organiser creates and publishes it, a band 4
member applies and is accepted, a band 8a member is told why they are not eligible."""

from __future__ import annotations

import re

from backend.members.models import Member
from tests.browser.conftest import screenshot
from tests.browser.test_mentoring_journeys import log_in, second_page
from tests.factories import (
    PASSWORD,
    make_chapter,
    make_member,
    make_mentor,
    make_organiser_scope,
)


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


def test_issue_12_done_when_in_the_browser(page, browser, live_server, session, request):
    """The admin makes Nia a North West organiser; she runs a programme from creation to a
    published round; London's organiser sees none of it; the audit log shows each step."""
    make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    admin = make_member(session, name="Ada Admin", roles=("admin",), region="London")
    nia = make_member(session, name="Nia Organiser", region="North West", band="8b")
    lou = session.get(Member, make_organiser_scope(session, chapter=london).member_id)
    bea = make_member(session, name="Bea Four", region="North West", band="4")
    ade = make_member(session, name="Ade Eight", region="North West", band="8a")
    make_mentor(session, name="Mo Mentor", region="North West", band="8c")
    session.commit()

    # The admin grants the scope on Nia's page, confirming with her own password (step-up).
    log_in(page, admin.email)
    page.goto(f"/admin/members/{nia.id}")
    scope_form = page.locator('form[action$="/scope"]')
    scope_form.get_by_label("Make them an organiser of the chapter").check()
    scope_form.get_by_label("Chapter", exact=True).select_option(label="North West")
    scope_form.get_by_label("Your password").fill(PASSWORD)
    scope_form.get_by_role("button", name="Change chapters").click()
    page.wait_for_url("**?notice=scope-granted")
    assert "Organises: North West." in page.locator("#organiser-scopes").inner_text()

    # Nia creates a bands 3-5 programme with one question and publishes it.
    nia_context, nia_page = second_page(browser, live_server)
    log_in(nia_page, nia.email)
    nia_page.goto("/organise/programmes/new")
    nia_page.locator("#name").fill("Into management")
    for band in ("3", "4", "5"):
        nia_page.locator(f"#bands-{band}").check()
    nia_page.get_by_role("button", name="Create the programme").click()
    nia_page.wait_for_url("**/organise/programmes/*?notice=programme-created")
    programme_url = nia_page.url.split("?")[0]
    nia_page.goto(programme_url + "/questions")
    nia_page.locator("#text_new").fill("Why do you want to join?")
    nia_page.get_by_role("button", name="Add the question").click()
    nia_page.wait_for_url("**/questions?notice=questions-saved")
    nia_page.goto(programme_url)
    nia_page.get_by_role("button", name="Publish the programme").click()
    nia_page.wait_for_url("**?notice=programme-published")

    # Bea (band 4) applies and is accepted; Ade (band 8a) is told why not.
    member_context, member_page = second_page(browser, live_server)
    log_in(member_page, bea.email)
    member_page.goto("/programmes")
    member_page.get_by_role("link", name="Apply to Into management").click()
    member_page.get_by_label("Why do you want to join?").fill("To lead a team")
    member_page.get_by_role("button", name="Send my application").click()
    member_page.wait_for_url("**?notice=applied")
    nia_page.goto(programme_url + "/applications")
    nia_page.get_by_label("Accept").check()
    nia_page.get_by_role("button", name="Save the decision for Bea Four").click()
    nia_page.wait_for_url("**notice=decision-saved")
    member_context.clear_cookies()
    log_in(member_page, ade.email)
    member_page.goto("/programmes")
    assert "This programme is for bands 3 to 5. Your band is 8a." in member_page.inner_text("main")
    member_context.close()

    # Nia runs the round over the accepted applicants, waits for it on its page, publishes it.
    nia_page.goto("/organise/rounds")
    nia_page.get_by_label("Name of the round").fill("Spring cohort")
    assert "The round is in Into management." in nia_page.inner_text("main")
    nia_page.get_by_role("button", name="Create and run the round").click()
    nia_page.wait_for_url("**/organise/rounds/*")
    round_url = nia_page.url.split("?")[0]
    # The progress page says when the round is done and links to the results.
    check = nia_page.get_by_role("button", name="Check and publish")
    results = nia_page.get_by_role("link", name="See the results")
    check.or_(results).first.wait_for(timeout=90_000)
    if not check.is_visible():
        results.click()
    check.wait_for(timeout=30_000)
    pairs = nia_page.get_by_role("table", name=re.compile("^Proposed pairs")).locator("tbody tr")
    assert pairs.count() == 1
    assert "Bea Four" in pairs.inner_text() and "Mo Mentor" in pairs.inner_text()
    nia_page.get_by_role("button", name="Check and publish").click()
    nia_page.get_by_role("button", name=re.compile(r"^Publish and email")).click()
    nia_page.wait_for_url("**/organise/rounds/*")
    assert "Published on" in nia_page.inner_text("main")
    screenshot(nia_page, "programme-round-published", request)
    nia_context.close()

    # London's organiser: not the programme, its applicants, its figures nor its round.
    lou_context, lou_page = second_page(browser, live_server)
    log_in(lou_page, lou.email)
    lou_page.goto("/organise/programmes")
    assert "Into management" not in lou_page.inner_text("main")
    programme_id = programme_url.rsplit("/", 1)[1]
    for path in (
        programme_url,
        programme_url + "/applications",
        f"/organise/insights?programme={programme_id}",
        round_url,
    ):
        response = lou_page.goto(path)
        assert response is not None and response.status in (403, 404), path
        assert "Bea Four" not in lou_page.content()
    lou_context.close()

    # The audit log shows each step and who took it.
    page.goto("/admin/audit")
    rows = page.locator("main table tbody tr")
    for action, actor in (
        ("organiser_scope.granted", "Ada Admin"),
        ("programme.created", "Nia Organiser"),
        ("programme.questions_set", "Nia Organiser"),
        ("programme.published", "Nia Organiser"),
        ("programme_application.decided", "Nia Organiser"),
        ("round.created", "Nia Organiser"),
        ("round.published", "Nia Organiser"),
    ):
        assert actor in rows.filter(has_text=action).first.inner_text(), action
