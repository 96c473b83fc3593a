"""Journeys done with the keyboard alone: Tab to each control, type, Space and Enter; never a
click. Each step also checks that the focused control is the one a sighted user would expect."""

from __future__ import annotations

import re

from backend.notifications import service as notifications
from tests.factories import make_member

PASSPHRASE = "tea kettle orchard lantern"

# The accessible name of the focused element, near enough for these pages: its label, else its
# aria-label, else its text.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "";
  if (e.labels && e.labels.length) return e.labels[0].innerText.trim();
  return (e.getAttribute("aria-label") || e.innerText || e.value || "").trim();
}"""


def focused(page) -> str:  # type: ignore[no-untyped-def]
    return " ".join(page.evaluate(FOCUSED).split())


def tab_to(page, name: str, *, limit: int = 120) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until the control named ``name`` (its start) has the focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now.startswith(name):
            return
        seen.append(now)
    raise AssertionError(f"Tab never reached {name!r}; it went through {seen}")


def arrow_to(page, name: str, *, limit: int = 20) -> None:  # type: ignore[no-untyped-def]
    """In a group of radios, press the down arrow until ``name`` is chosen (arrows choose)."""
    for _ in range(limit):
        if focused(page) == name:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrows never reached {name!r}")


def type_into(page, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    tab_to(page, name)
    page.keyboard.type(text)


def choose(page, name: str, option: str) -> None:  # type: ignore[no-untyped-def]
    """A select box: focus it and type the option's words (the browser's type-ahead)."""
    tab_to(page, name)
    page.keyboard.type(option)


def test_sign_up_and_log_in_with_the_keyboard_alone(page, session, mail_dir):
    page.goto("/")
    tab_to(page, "Skip to main content")
    tab_to(page, "Join the network")
    page.keyboard.press("Enter")
    page.wait_for_url("**/sign-up")

    type_into(page, "Email address", "amara.okafor@example.nhs.uk")
    type_into(page, "Create a password", PASSPHRASE)
    type_into(page, "Full name", "Amara Okafor")
    type_into(page, "Organisation", "Sheffield Teaching Hospitals NHS Foundation Trust")
    choose(page, "NHS England region", "North East")
    choose(page, "Role family", "Workforce")
    choose(page, "Band", "Band 4")
    tab_to(page, "Doctor")  # the first of the profession radios
    arrow_to(page, "Non-clinical")
    type_into(page, "Years of management experience", "1")
    tab_to(page, "Join the network")
    page.keyboard.press("Enter")

    page.wait_for_url("**/sign-up/check-email")
    assert page.locator("h1").inner_text() == "Check your email"
    notifications.deliver_pending(session=session)
    [mail] = list(mail_dir.glob("*.eml"))
    token = re.search(r"/verify\?token=(\S+)", mail.read_text()).group(1)
    page.goto(f"/verify?token={token}")
    tab_to(page, "Confirm my email address")
    with page.expect_navigation():  # the form posts back to /verify: the URL alone says nothing
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Email address confirmed"

    page.goto("/login")
    type_into(page, "Email address", "amara.okafor@example.nhs.uk")
    type_into(page, "Password", PASSPHRASE)
    page.keyboard.press("Enter")  # Enter in a field sends its form
    page.wait_for_url("**/profile")
    body = page.locator("main").inner_text()
    assert "Amara Okafor" in body and "Band 4" in body and "Non-clinical" in body


def test_request_a_mentor_with_the_keyboard_alone(page, session):
    from tests.browser.test_mentoring_journeys import log_in

    mentee = make_member(
        session,
        name="Amara Okafor",
        band="4",
        seeking_mentor=True,
        skills_sought=("quality-improvement",),
    )
    mentor = make_member(
        session,
        name="Grace Mensah",
        band="8a",
        capacity=2,
        organisation="Sheffield Teaching Hospitals NHS Foundation Trust",
        skills_offered=("quality-improvement",),
    )
    session.commit()
    log_in(page, mentee.email)

    page.goto("/mentoring/suggestions")
    tab_to(page, "Ask to be your mentor")
    assert "Grace Mensah" in page.evaluate("() => document.activeElement.innerText")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/mentoring/requests/new?mentor={mentor.id}")
    type_into(page, "Your message", "I am starting my first QI project.")
    tab_to(page, "Send request")
    page.keyboard.press("Space")  # a button answers Space as well as Enter
    page.wait_for_url(re.compile(r"/mentoring/requests/\d+\?notice=request-sent$"))
    assert "Waiting for an answer" in page.locator("main").inner_text()


def test_run_and_publish_a_round_with_the_keyboard_alone(page, session):
    from tests.browser.test_mentoring_journeys import log_in
    from tests.factories import make_mentee, make_mentor, make_organiser

    organiser = make_organiser(session, band="8c")
    for n in range(3):
        make_mentor(session, band="8a", organisation=f"Mentor Trust {n}", capacity=2)
        make_mentee(session, band="4", organisation=f"Mentee Trust {n}")
    session.commit()
    log_in(page, organiser.email)

    # The header's menu folds its last links under "More" (the design system's script): open
    # it with the keyboard, then Tab into it.
    tab_to(page, "Browse More")
    page.keyboard.press("Enter")
    tab_to(page, "Organise")
    page.keyboard.press("Enter")
    page.wait_for_url("**/organise")
    tab_to(page, "Matching rounds")
    page.keyboard.press("Enter")
    page.wait_for_url("**/organise/rounds")
    type_into(page, "Name of the round", "Keyboard round")
    tab_to(page, "Create and run the round")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/organise/rounds/\d+$"))

    # Done: the live region's link to the results (or the results themselves, if quick).
    publish = page.get_by_role("button", name="Publish")
    results = page.get_by_role("link", name="See the results")
    publish.or_(results).first.wait_for(timeout=30_000)
    if not publish.is_visible():
        tab_to(page, "See the results")
        page.keyboard.press("Enter")
    publish.wait_for(timeout=30_000)
    assert "Matched 3 of 3" in " ".join(page.locator("main").inner_text().split())
    tab_to(page, "Check and publish")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Check before you publish").wait_for()
    tab_to(page, "Publish and email")
    page.keyboard.press("Enter")
    page.wait_for_url("**notice=round-published")
    assert "Published" in page.locator("main").inner_text()
