"""Mentoring journeys in a real browser: asking a mentor, and an organiser's matching round."""

from __future__ import annotations

import re

from sqlmodel import select

from backend import demo
from backend.london import london_today
from backend.members.models import Member
from backend.rounds.models import MatchProposal
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_member


def log_in(page, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/profile")


def second_page(browser, live_server: str):  # type: ignore[no-untyped-def]
    """Another person's browser (its own cookies) on the same server."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1100, "height": 900})
    context.set_default_timeout(10_000)
    return context, context.new_page()


def test_a_member_asks_a_suggested_mentor_who_accepts_and_they_log_a_session(
    page, browser, live_server, session, request
):
    mentee = make_member(
        session,
        name="Amara Okafor",
        band="4",
        seeking_mentor=True,
        skills_sought=("quality-improvement", "rota-management"),
    )
    mentor = make_member(
        session,
        name="Grace Mensah",
        job_title="Head of Quality",
        band="8a",
        organisation="Sheffield Teaching Hospitals NHS Foundation Trust",
        capacity=2,
        skills_offered=("quality-improvement", "performance-measurement"),
    )

    log_in(page, mentee.email)
    page.get_by_role("link", name="Find a mentor").first.click()
    page.wait_for_url("**/mentoring/suggestions")
    card = page.locator(".nhsuk-card", has_text="Grace Mensah")
    assert re.search(r"\d+% match", card.inner_text())
    screenshot(page, "mentor-suggestions", request)
    card.get_by_role("button", name=re.compile("Ask to be your mentor")).click()

    page.wait_for_url(f"**/mentoring/requests/new?mentor={mentor.id}")
    assert page.get_by_label("Quality improvement").is_checked()
    page.get_by_label("Your message").fill("I am starting my first QI project.")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/mentoring/requests/\d+\?notice=request-sent$"))
    assert "Waiting for an answer" in page.locator("main").inner_text()

    context, mentor_page = second_page(browser, live_server)
    try:
        log_in(mentor_page, mentor.email)
        assert "Notifications (1" in mentor_page.locator("header").inner_text()
        mentor_page.goto("/notifications")
        mentor_page.get_by_role(
            "link", name="Amara Okafor has asked you to be their mentor"
        ).click()
        assert "I am starting my first QI project." in mentor_page.locator("main").inner_text()
        screenshot(mentor_page, "mentor-request", request)
        mentor_page.get_by_role("button", name="Accept and start mentoring").click()
        mentor_page.wait_for_url(re.compile(r"/mentoring/mentorships/\d+"))
        assert "Your mentee" in mentor_page.locator("main").inner_text()
        mentorship_url = mentor_page.url.split("?")[0]
    finally:
        context.close()

    page.get_by_role("link", name="Mentoring", exact=True).click()
    page.get_by_role("link", name="Grace Mensah").click()
    page.wait_for_url(re.compile(r"/mentoring/mentorships/\d+$"))
    assert page.url == mentorship_url
    held = london_today()  # the mentorship started today
    held_on = page.get_by_role("group", name="Date of the session")
    held_on.get_by_label("Day").fill(str(held.day))
    held_on.get_by_label("Month").fill(str(held.month))
    held_on.get_by_label("Year").fill(str(held.year))
    page.get_by_label("Length in minutes").fill("55")
    page.get_by_label("Notes (optional)").fill("Mapped the project's stakeholders.")
    page.get_by_role("button", name="Log session").click()
    page.wait_for_url("**notice=session-logged*")
    main = page.locator("main").inner_text()
    assert "55 minutes" in main and "Mapped the project's stakeholders." in main
    screenshot(page, "mentorship", request)


def test_an_organiser_runs_a_round_and_both_sides_accept(
    page, browser, live_server, session, request
):
    demo.load(session=session, members=60)
    session.commit()
    organiser = session.exec(
        select(Member).where(Member.email == "organiser@demo.peerbridge.example")
    ).one()
    session.rollback()

    log_in(page, organiser.email, demo.DEMO_PASSWORD)
    rounds_link = page.get_by_role("link", name="Matching rounds")
    if not rounds_link.is_visible():
        # A long menu folds its last items under "More" (the design system's header script).
        page.get_by_role("button", name="More").click()
    rounds_link.click()
    page.get_by_label("Name of the round").fill("Winter 2026 cohort")
    page.get_by_role("button", name="Create and run the round").click()
    page.wait_for_url(re.compile(r"/organise/rounds/\d+$"))
    # The progress page says when the round is done (a polite live region, no timed refresh)
    # and links to the results.
    publish = page.get_by_role("button", name="Publish")
    publish.or_(page.get_by_role("link", name="See the results")).first.wait_for(timeout=30_000)
    if not publish.is_visible():
        page.get_by_role("link", name="See the results").click()
    publish.wait_for(timeout=30_000)
    main = page.locator("main").inner_text()
    assert "Ready for review" in main and "Pairs across organisations" in main
    screenshot(page, "round-review", request)
    page.get_by_role("button", name="Publish").click()
    # A check first: how many people will be told and emailed, before anything is sent.
    page.get_by_role("heading", name="Check before you publish").wait_for()
    assert "People emailed now" in page.locator("main").inner_text()
    screenshot(page, "round-publish-check", request)
    page.get_by_role("button", name=re.compile(r"^Publish and email \d+ (person|people)$")).click()
    page.wait_for_url("**notice=round-published")
    assert "Published" in page.locator("main").inner_text()

    offer = session.exec(
        select(MatchProposal).where(MatchProposal.status == "offered").order_by(MatchProposal.id)
    ).first()
    people = {
        side: session.get(Member, member_id).email
        for side, member_id in (("mentee", offer.mentee_id), ("mentor", offer.mentor_id))
    }
    session.rollback()

    for side in ("mentee", "mentor"):
        context, member_page = second_page(browser, live_server)
        try:
            log_in(member_page, people[side], demo.DEMO_PASSWORD)
            member_page.goto("/mentoring")
            member_page.locator(f'a[href="/mentoring/proposals/{offer.id}"]').click()
            assert "% match" in member_page.locator("main").inner_text()
            if side == "mentee":
                screenshot(member_page, "round-offer", request)
            member_page.get_by_role("button", name="Accept this match").click()
            if side == "mentor":
                member_page.wait_for_url(re.compile(r"/mentoring/mentorships/\d+"))
                assert "Your mentee" in member_page.locator("main").inner_text()
        finally:
            context.close()
    session.expire_all()
    assert session.get(MatchProposal, offer.id).status == "accepted"
