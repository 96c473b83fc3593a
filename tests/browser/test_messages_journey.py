"""Messages in a real browser: a matched pair exchange a message; the header count shows and
clears."""

from __future__ import annotations

import re

from tests.browser.conftest import screenshot
from tests.browser.test_mentoring_journeys import log_in, second_page
from tests.factories import make_mentee, make_mentor, make_mentorship

ONE_UNREAD = re.compile(r"^Messages \(1\s*unread\s*\)$")


def test_a_pair_exchange_messages_and_the_header_count_shows_and_clears(
    page, browser, live_server, session, request
):
    mentor = make_mentor(session, name="Grace Mensah")
    mentee = make_mentee(session, name="Amara Okafor")
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    session.rollback()

    log_in(page, mentee.email)
    page.goto(f"/mentoring/mentorships/{mentorship.id}")
    page.get_by_role("link", name="Send a message to Grace Mensah").click()
    page.wait_for_url("**/messages/*")
    assert "Organisers can read a message only if one of you reports it" in page.content()
    page.get_by_label("Your message").fill("Hello Grace,\nshall we meet on Tuesday? <b>10:30</b>")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**notice=message-sent**")
    assert page.get_by_text("<b>10:30</b>", exact=False).count() == 1  # escaped, not bold

    context, other = second_page(browser, live_server)
    try:
        log_in(other, mentor.email)
        header = other.get_by_role("link", name=ONE_UNREAD)
        assert header.count() == 1
        screenshot(other, "messages-unread-header", request)
        header.click()
        other.get_by_role("link", name="Mentorship with Amara Okafor").click()
        assert other.get_by_text("shall we meet on Tuesday?", exact=False).count() == 1
        assert other.locator("header").get_by_role("link", name="Messages", exact=True).count() == 1
        other.get_by_label("Your message").fill("Tuesday works. See you then.")
        other.get_by_role("button", name="Send message").click()
        other.wait_for_url("**notice=message-sent**")
    finally:
        context.close()

    page.goto("/profile")  # away from the conversation, which reading would clear
    assert page.get_by_role("link", name=ONE_UNREAD).count() == 1
    page.get_by_role("link", name=ONE_UNREAD).click()
    page.get_by_role("link", name="Mentorship with Grace Mensah").click()
    assert page.get_by_text("Tuesday works.", exact=False).count() == 1
    assert page.locator("header").get_by_role("link", name="Messages", exact=True).count() == 1
