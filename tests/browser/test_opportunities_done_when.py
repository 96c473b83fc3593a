"""Done when (issue 14, opportunities and events): a band 4 member sees three recommended
opportunities with reasons on her home page and saves one, on the demo's catalogue, then RSVPs
to an event and receives an invitation that a calendar parser reads back correctly."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy

import pytest
from icalendar import Calendar

from backend.notifications import service as notifications
from backend.opportunities.demo import seed_demo_opportunities
from tests.browser.conftest import screenshot
from tests.browser.test_accessibility import _check
from tests.browser.test_mentoring_journeys import log_in
from tests.factories import make_event, make_member, make_opportunity, make_opportunity_save


def test_a_band_4_member_sees_three_recommendations_with_reasons_and_saves_one(
    page, session, request, mail_dir
):
    amara = make_member(
        session,
        name="Amara Okafor",
        band="4",
        region="North West",
        role_family="administration",
        skills_sought=("quality-improvement", "performance-measurement"),
    )
    seed_demo_opportunities(session)
    webinar = make_event(
        session,
        title="Getting started with quality improvement",
        starts_at=datetime(2027, 3, 10, 18, 0, tzinfo=UTC),  # 6pm in London (GMT)
        ends_at=datetime(2027, 3, 10, 19, 0, tzinfo=UTC),
    )
    session.commit()

    log_in(page, amara.email)
    page.goto("/")
    section = page.get_by_role("list", name="Recommended opportunities")
    cards = section.get_by_role("listitem")
    assert cards.count() == 3
    texts = [cards.nth(i).inner_text() for i in range(3)]
    assert all("Why: " in t for t in texts), texts
    assert "Quality improvement secondment: outpatient waiting times" in texts[0]
    assert (
        "Why: Develops 2 of the skills you want: performance measurement and analysis, quality "
        "improvement; open to band 4; in your region" in texts[0]
    )
    assert "Rosalind Franklin Programme" not in " ".join(texts)  # bands 7 to 8c only
    screenshot(page, "opportunities-recommended", request)

    section.get_by_role(
        "link", name="Quality improvement secondment: outpatient waiting times"
    ).click()
    page.wait_for_url("**/opportunities/*")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Quality improvement secondment: outpatient waiting times"
    )
    page.get_by_role("button", name="Save this opportunity").click()
    page.wait_for_url("**notice=opportunity-saved")
    assert "We will remind you by email a week before it closes." in page.content()

    page.goto("/opportunities/saved")
    saved = page.get_by_role("main")
    assert "Quality improvement secondment: outpatient waiting times" in saved.inner_text()
    screenshot(page, "opportunities-saved", request)

    # She RSVPs to a webinar and her invitation reads back in a calendar at 6pm London time.
    page.goto("/events")
    page.get_by_role("link", name="Getting started with quality improvement").click()
    page.get_by_role("button", name="I'm going").click()
    page.wait_for_url("**notice=**")
    assert "Cancel my place" in page.get_by_role("main").inner_text()
    notifications.deliver_pending(session=session)
    invitations = []
    for path in mail_dir.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        if str(message["To"]) != amara.email:
            continue
        for part in message.walk():
            if part.get_filename() == "invite.ics":
                content = part.get_content()
                invitations.append(content if isinstance(content, bytes) else content.encode())
    [ics] = invitations
    calendar = Calendar.from_ical(ics)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 10, 18, 0, tzinfo=UTC)
    assert event.decoded("DTEND").astimezone(UTC) == datetime(2027, 3, 10, 19, 0, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "Webinar: Getting started with quality improvement"
    assert amara.email in str(event["ATTENDEE"])
    assert f"/events/{webinar.id}" in str(event["URL"]) + str(event.get("DESCRIPTION", ""))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_opportunity_pages_have_one_h1_labelled_inputs_and_unique_ids(page, session):
    organiser = make_member(session, band="8a", roles=("organiser",))
    opportunity = make_opportunity(session, title="Mary Seacole Programme")
    session.commit()

    log_in(page, organiser.email)
    for path in (
        "/",
        "/opportunities",
        "/opportunities?kind=shadowing",
        "/opportunities/new",
        "/opportunities/saved",
        f"/opportunities/{opportunity.id}",
        f"/opportunities/{opportunity.id}/edit",
        f"/opportunities/{opportunity.id}/withdraw",
        "/community?skill=quality-improvement",
        "/organise/reach",
    ):
        _check(page, path)
    page.goto("/opportunities/new")
    page.get_by_role("button", name="Post the opportunity").click()
    assert page.title().startswith("Error: ")
    summary = page.locator(".nhsuk-error-summary")
    assert "Choose what kind of opportunity this is." in summary.inner_text()
    summary.get_by_role("link", name="Choose at least one skill it develops.").click()
    assert page.evaluate("document.activeElement.id") == "skills"


def test_the_reach_page_shows_figures_by_band_in_a_browser(page, session, request):
    organiser = make_member(session, band="8a", roles=("organiser",))
    for _ in range(15):  # no band of 1 to 15 people, so nothing is hidden beside it
        make_member(session, band="8a")
    opportunity = make_opportunity(session, title="Shadow a service manager", bands=("4",))
    for n in range(20):  # 16 or more each, so no count is hidden whatever its perturbation
        member = make_member(session, band="4")
        if n < 16:
            make_opportunity_save(session, opportunity=opportunity, member=member)
    session.commit()

    log_in(page, organiser.email)
    page.goto("/organise/reach")
    table = page.get_by_role("table", name="Take-up by band")
    headers = table.get_by_role("columnheader").all_inner_texts()
    assert headers[:4] == ["Band", "Members", "Opportunities open to them", "Saved an opportunity"]
    band_4 = table.get_by_role("row", name=re.compile(r"^Band 4\b"))
    cells = band_4.get_by_role("cell").all_inner_texts()
    members, open_to, saved = (int(cells[0]), int(cells[1]), int(cells[2]))
    assert members % 5 == 0 and 12 <= members <= 28
    assert open_to % 5 == 0 and 12 <= open_to <= 28
    assert saved % 5 == 0 and 8 <= saved <= 24
    screenshot(page, "reach-by-band", request)
