"""Issue 13's "Done when" as one journey in a real browser.

A matched pair (made with factories, in a North West programme with ten other pairs so that
the impact report has figures to show) exchange messages; both take the start self-assessment;
the mentee proposes two times either side of the change to British Summer Time (Sunday 28
March 2027), the mentor picks the summer one; both invitations are read back by a calendar
parser at 09:30 UTC for 10:30 in London; the reminder goes out the day before; the session is
logged; the organiser finds the quiet pair on "Needs attention"; the mentee ends the mentorship
with feedback, the mentor gives feedback too; both take the end self-assessment; the organiser
reads the feedback and downloads the impact report as CSV and PDF, which carry the page's
figures.

What is real and what is simulated:
- Browser actions: every message, both self-assessments of both people, proposing, picking,
  logging the session (from its "Log this session" link), the needs-attention list, ending the
  mentorship, the mentor's feedback, the feedback page, the impact page and both downloads.
- Set up with factories: the people, the mentorship, the programme and its ten other pairs
  (their sessions, ratings and self-assessments).
- Run directly: the email outbox (``deliver_pending``) and the reminder step
  (``bookings.send_reminders`` with ``now=`` the day before the session), as the worker would.
- Simulated: the passing of time. The clock cannot move, so once the reminder has gone, the
  booked session and the mentorship's start are moved back in the database (the session to ten
  weeks ago, the start to fourteen), as if those weeks had passed. Logging then happens after
  the session's time, and the pair has been quiet for ten weeks, past the four plus four weeks
  that put a pair on the list.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from backend import london
from backend.assessments.models import DIMENSIONS
from backend.assessments.service import paired_interval
from backend.db import utcnow
from backend.insights import impact
from backend.mentoring import bookings
from backend.mentoring.models import MentoringSession, Mentorship, SessionBooking
from backend.notifications import service as notifications
from tests.browser.test_mentoring_journeys import log_in, second_page
from tests.browser.test_session_booking import _fill_time
from tests.csv_injection import read
from tests.factories import make_mentee, make_mentor, make_mentorship, make_self_assessment
from tests.insights.test_impact import Network, page_text, squash
from tests.schema.test_after_the_match_done_when import invited_at, new_emails, ten_weeks_pass


def _self_assessment(page, mentorship_id: int, occasion: str, level: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/mentoring/mentorships/{mentorship_id}")
    page.get_by_role("link", name=f"Take the {occasion} self-assessment").click()
    page.wait_for_url(f"**occasion={occasion}**")
    for index, name in enumerate((d.name for d in DIMENSIONS), start=1):
        page.get_by_role("group", name=f"{index}. {name}").get_by_label(level, exact=False).check()
    page.get_by_role("button", name="Save my self-assessment").click()
    page.wait_for_url("**/my-development/self-assessment/results?notice=self-assessment-saved")


# About 20 s a database: the browser journey runs on SQLite; the same journey through GraphQL
# (tests/schema/test_after_the_match_done_when.py) runs on both.
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_issue_13_done_when_in_the_browser(page, browser, live_server, session, mail_dir):
    from pypdf import PdfReader

    net = Network(session)
    mentor = make_mentor(session, name="Grace Mensah", region="North West")
    mentee = make_mentee(session, name="Amara Okafor", region="North West")
    pair = make_mentorship(session, mentor=mentor, mentee=mentee, programme_id=net.programme.id)
    others = session.exec(
        select(Mentorship)
        .where(Mentorship.programme_id == net.programme.id)
        .where(col(Mentorship.id) != pair.id)
    ).all()
    differences = [1.0]  # Amara's own: Proficient (2) at the start, Strong (3) at the end
    for i, mentorship in enumerate(others):
        make_self_assessment(session, mentorship=mentorship, occasion="start", levels=1)
        make_self_assessment(session, mentorship=mentorship, occasion="end", levels=2 + i % 2)
        differences.append(1.0 + i % 2)
    pair_id, programme_id = pair.id, net.programme.id
    session.commit()
    assert datetime(2027, 3, 23, tzinfo=UTC) > utcnow(), "pick the next change of summer time"
    seen_mail: set[Path] = set()

    # The pair exchange messages.
    log_in(page, mentee.email)
    page.goto(f"/mentoring/mentorships/{pair_id}")
    page.get_by_role("link", name="Send a message to Grace Mensah").click()
    page.wait_for_url("**/messages/*")
    page.get_by_label("Your message").fill("Hello Grace, can we meet in late March?")
    page.get_by_role("button", name="Send message").click()
    page.wait_for_url("**notice=message-sent**")

    context, other = second_page(browser, live_server)
    try:
        log_in(other, mentor.email)
        other.get_by_role("link", name=re.compile(r"^Messages \(1\s*unread\s*\)$")).click()
        other.get_by_role("link", name="Mentorship with Amara Okafor").click()
        assert other.get_by_text("can we meet in late March?").count() == 1
        other.get_by_label("Your message").fill("Yes. Send me two times.")
        other.get_by_role("button", name="Send message").click()
        other.wait_for_url("**notice=message-sent**")

        # Both take the start self-assessment from the mentorship page.
        _self_assessment(other, pair_id, "start", "Strong")
        page.goto("/messages")
        page.get_by_role("link", name="Mentorship with Grace Mensah").click()
        assert page.get_by_text("Send me two times.").count() == 1
        _self_assessment(page, pair_id, "start", "Proficient")

        # The mentee proposes two times either side of the clocks going forward.
        page.goto(f"/mentoring/mentorships/{pair_id}")
        page.get_by_role("link", name="Propose times for a session").click()
        _fill_time(page, 1, "23", "3", "2027", "10:30")  # Greenwich Mean Time
        _fill_time(page, 2, "30", "3", "2027", "10:30")  # British Summer Time
        page.locator("#time_2_video_link").fill("https://meet.example.org/amara")
        page.get_by_role("button", name="Send these times").click()
        page.wait_for_url(re.compile(r".*notice=times-proposed.*"))
        assert "23 March 2027 at 10:30am" in page.content()
        assert "30 March 2027 at 10:30am" in page.content()

        # The mentor picks the one in summer time.
        other.goto(f"/mentoring/mentorships/{pair_id}")
        other.get_by_role("link", name="Pick a time").click()
        other.get_by_label(re.compile("30 March 2027 at 10:30am")).check()
        other.get_by_role("button", name="Book this time").click()
        other.wait_for_url(re.compile(r".*notice=session-booked.*"))
        table = other.locator("table", has_text="When (London time)").inner_text()
        assert "30 March 2027 at 10:30am" in table

        # Both receive the invitation; a calendar reads 09:30 UTC, 10:30 in London (BST).
        notifications.deliver_pending(session=session)
        session.commit()
        invited = invited_at(
            new_emails(mail_dir, seen_mail), datetime(2027, 3, 30, 9, 30, tzinfo=UTC)
        )
        assert set(invited) == {mentor.email, mentee.email}
        for calendar in invited.values():
            [event] = calendar.walk("VEVENT")
            assert str(event["URL"]) == "https://meet.example.org/amara"

        # The reminder goes out the day before (the worker's step, run at that moment).
        [booked] = session.exec(
            select(SessionBooking.status).where(SessionBooking.mentorship_id == pair_id)
        ).all()
        assert booked == "booked"
        day_before = datetime(2027, 3, 29, 10, 0, tzinfo=UTC)
        assert bookings.send_reminders(session=session, now=day_before) == 1
        assert bookings.send_reminders(session=session, now=day_before) == 0  # once only
        notifications.deliver_pending(session=session)
        session.commit()
        reminded = {
            str(m["To"]): m
            for m in new_emails(mail_dir, seen_mail)
            if str(m["Subject"]).startswith("Reminder: mentoring session")
        }
        assert set(reminded) == {mentor.email, mentee.email}
        for message in reminded.values():
            body = message.get_body(preferencelist=("plain",)).get_content()
            assert "30 March 2027 at 10:30am" in str(message["Subject"])
            assert f"/mentoring/mentorships/{pair_id}" in body

        # SIMULATED: ten weeks pass (the session moves back; the pair started fourteen ago).
        held = ten_weeks_pass(session, pair_id)

        # The session is logged after its time, from the booked session's own link.
        page.goto(f"/mentoring/mentorships/{pair_id}")
        page.get_by_role("link", name=re.compile("^Log this session")).click()
        assert page.locator("#duration_minutes").input_value() == "60"
        page.get_by_label("Notes (optional)").fill("Talked through the budget round.")
        page.get_by_role("button", name="Log session").click()
        page.wait_for_url("**notice=**")
        logged = session.exec(
            select(MentoringSession).where(MentoringSession.mentorship_id == pair_id)
        ).all()
        assert [s.held_on for s in logged] == [london.in_london(held).date()]
        assert page.get_by_role("link", name=re.compile("^Log this session")).count() == 0

        # The organiser sees the quiet pair on "Needs attention", with why.
        organiser_context, organiser = second_page(browser, live_server)
        try:
            log_in(organiser, net.nw_organiser.email)
            organiser.goto("/organise/needs-attention")
            row = organiser.locator("tr", has_text="Amara Okafor")
            assert row.count() == 1
            assert "Grace Mensah" in row.inner_text()
            assert "No session for 10 weeks" in row.inner_text()

            # The mentee ends the mentorship with feedback; the mentor gives feedback too.
            page.goto(f"/mentoring/mentorships/{pair_id}")
            page.get_by_role("link", name="End this mentorship").click()
            page.get_by_label(re.compile("^Completed")).check()
            page.get_by_role("group", name=re.compile("how was the mentorship")).get_by_label(
                re.compile("^5")
            ).check()
            page.get_by_label("Feedback for the organisers (optional)").fill(
                "Grace helped me lead my team."
            )
            page.get_by_role("button", name="End mentorship").click()
            page.wait_for_url(f"**/mentoring/mentorships/{pair_id}**")
            other.goto(f"/mentoring/mentorships/{pair_id}")
            other.get_by_role("group", name="Overall, how was the mentorship?").get_by_label(
                re.compile("^4")
            ).check()
            other.get_by_label("Anything you would like to tell us (optional)").fill(
                "Amara came prepared every time."
            )
            other.get_by_role("button", name="Send feedback").click()
            other.wait_for_url(f"**/mentoring/mentorships/{pair_id}**")

            # Both take the end self-assessment, offered on the ended mentorship's page.
            _self_assessment(page, pair_id, "end", "Strong")
            _self_assessment(other, pair_id, "end", "Exemplary")
            assert page.get_by_role("table").count() >= 1  # the change, as a table too

            # The organiser reads the end feedback.
            organiser.goto(f"/organise/programmes/{programme_id}")
            organiser.get_by_role("link", name="End-of-mentorship feedback").click()
            text = organiser.locator("main").inner_text()
            assert "Grace helped me lead my team." in text
            assert "Amara came prepared every time." in text
            assert "Grace Mensah (mentor) and Amara Okafor (mentee): written by the mentee" in text

            # ...and downloads the impact report as CSV and PDF, with the page's figures.
            organiser.goto("/organise/impact")
            organiser.get_by_label("Programme", exact=True).select_option(str(programme_id))
            organiser.get_by_role("button", name="Show the report").click()
            organiser.wait_for_url(f"**programme={programme_id}**")
            html_text = page_text(organiser.content())
            with organiser.expect_download() as got_csv:
                organiser.get_by_role("link", name=re.compile("^Download as CSV")).click()
            with organiser.expect_download() as got_pdf:
                organiser.get_by_role("link", name=re.compile("^Download as PDF")).click()
            csv_text = Path(got_csv.value.path()).read_text(encoding="utf-8")
            pdf_bytes = Path(got_pdf.value.path()).read_bytes()
        finally:
            organiser_context.close()
    finally:
        context.close()

    rows = read(csv_text)
    assert rows[0] == list(impact.CSV_COLUMNS)
    pdf = PdfReader(io.BytesIO(pdf_bytes))
    pdf_text = squash(" ".join(p.extract_text() or "" for p in pdf.pages))
    assert "Impact report: Into management" in pdf_text
    for section, measure, group, value in rows[1:]:
        # The CSV writes a change of +1.45 as the number 1.45; the page and the PDF show "+".
        shown = {value, f"+{value}"} if re.fullmatch(r"[0-9.]+", value) else {value}
        lines = {squash(f"{measure} {group} {v}") for v in shown}
        assert any(line in pdf_text for line in lines), (lines, pdf_text[:2000])
        assert any(line in html_text for line in lines), lines
        assert section in pdf_text and section in html_text
    figures = {(r[1], r[2]): r[3] for r in rows[1:]}
    assert figures[("Matched", "")] != "0"
    # Amara's change is in the leadership figures (paired, with the ten others').
    people = figures[("People with a start and an end", "Leading with care")]
    if people != "*":
        truth = paired_interval(differences)
        assert figures[("Mean change", "Leading with care")] == f"{truth.mean:.2f}"
