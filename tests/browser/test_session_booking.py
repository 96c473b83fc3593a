"""Booking a session in a real browser: the mentee proposes two times, the mentor picks one,
and both get an email whose invitation a calendar reads back at the right London time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy

from icalendar import Calendar

from backend.notifications import service as notifications
from tests.browser.test_mentoring_journeys import log_in, second_page
from tests.factories import make_mentee, make_mentor, make_mentorship


def _fill_time(page, i: int, day: str, month: str, year: str, start: str) -> None:  # type: ignore[no-untyped-def]
    page.locator(f"#time_{i}_date").fill(day)
    page.locator(f"#time_{i}_date-month").fill(month)
    page.locator(f"#time_{i}_date-year").fill(year)
    page.locator(f"#time_{i}_start").fill(start)
    page.locator(f"#time_{i}_format").check()  # the first choice: a video call


def test_mentee_proposes_two_times_the_mentor_picks_one_and_both_are_invited(
    page, browser, live_server, session, mail_dir
):
    mentor = make_mentor(session, name="Nadia Mentor")
    mentee = make_mentee(session, name="Owen Mentee")
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    session.commit()

    log_in(page, mentee.email)
    page.goto(f"/mentoring/mentorships/{mentorship.id}")
    page.get_by_role("link", name="Propose times for a session").click()
    _fill_time(page, 1, "12", "1", "2027", "10:30")  # GMT
    _fill_time(page, 2, "6", "7", "2027", "10:30am")  # British Summer Time
    page.locator("#time_2_video_link").fill("https://meet.example.org/owen")
    page.get_by_role("button", name="Send these times").click()
    page.wait_for_url(re.compile(r".*notice=times-proposed.*"))
    assert "12 January 2027 at 10:30am" in page.content()

    context, mentor_page = second_page(browser, live_server)
    try:
        log_in(mentor_page, mentor.email)
        mentor_page.goto(f"/mentoring/mentorships/{mentorship.id}")
        mentor_page.get_by_role("link", name="Pick a time").click()
        mentor_page.get_by_label(re.compile("6 July 2027 at 10:30am")).check()
        mentor_page.get_by_role("button", name="Book this time").click()
        mentor_page.wait_for_url(re.compile(r".*notice=session-booked.*"))
        table = mentor_page.locator("table", has_text="When (London time)").inner_text()
        assert "6 July 2027 at 10:30am" in table
        ics_link = mentor_page.get_by_role("link", name=re.compile("Add to calendar"))
        assert ics_link.get_attribute("href", timeout=5000).endswith(".ics")
    finally:
        context.close()

    notifications.deliver_pending(session=session)
    invited = {}
    for path in mail_dir.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        for part in message.walk():
            if part.get_filename() == "invite.ics":
                content = part.get_content()
                invited[str(message["To"])] = (
                    content if isinstance(content, bytes) else content.encode()
                )
    assert set(invited) == {mentor.email, mentee.email}
    for ics in invited.values():
        [event] = Calendar.from_ical(ics).walk("VEVENT")
        assert event.decoded("DTSTART").astimezone(UTC) == datetime(2027, 7, 6, 9, 30, tzinfo=UTC)
        assert str(event["URL"]) == "https://meet.example.org/owen"
