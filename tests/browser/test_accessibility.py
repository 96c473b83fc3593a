"""Keyboard use and an accessibility smoke check, in a real browser."""

from __future__ import annotations

import pytest

from tests.factories import make_member

ACTIVE = "() => { const e = document.activeElement; return [e.tagName, e.id, e.className]; }"
FOCUS_VISIBLE = """() => {
  const style = getComputedStyle(document.activeElement);
  return (style.outlineStyle !== 'none' && style.outlineWidth !== '0px')
    || style.boxShadow !== 'none';
}"""


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_skip_link_is_the_first_stop_and_jumps_to_the_content(page):
    page.goto("/login")
    page.keyboard.press("Tab")

    tag, _id, classes = page.evaluate(ACTIVE)
    assert tag == "A" and "nhsuk-skip-link" in classes
    assert page.evaluate(FOCUS_VISIBLE)
    assert page.locator(".nhsuk-skip-link").is_visible()  # shown when focused

    page.keyboard.press("Enter")
    assert page.evaluate(ACTIVE)[1] == "maincontent"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_error_summary_takes_focus_and_its_links_reach_the_fields(page):
    page.goto("/login")
    page.get_by_label("Email address").focus()
    page.keyboard.press("Tab")  # to the password
    page.keyboard.press("Tab")  # to the button
    assert page.evaluate(ACTIVE)[0] == "BUTTON"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.title().startswith("Error: ")
    tag, _id, classes = page.evaluate(ACTIVE)
    assert tag == "DIV" and "nhsuk-error-summary" in classes

    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)[0] == "A"
    assert page.evaluate(FOCUS_VISIBLE)
    page.keyboard.press("Enter")
    assert page.evaluate(ACTIVE)[1] == "email"


EVERY_INPUT_LABELLED = """() => {
  const fields = [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden');
  const missing = fields.filter(e => !(e.labels && e.labels.length)
    && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'));
  return missing.map(e => e.name || e.id);
}"""
FACTS = """() => ({
  lang: document.documentElement.lang,
  h1: document.querySelectorAll('h1').length,
  main: document.querySelectorAll('main').length,
  title: document.title,
  duplicateIds: [...document.querySelectorAll('[id]')].map(e => e.id)
    .filter((id, i, all) => all.indexOf(id) !== i),
  imagesWithoutAlt: document.querySelectorAll('img:not([alt])').length,
})"""


def test_every_page_has_one_h1_labelled_inputs_and_a_language(page, session):
    member = make_member(session, roles=("organiser", "admin"))
    pages = [
        "/",
        "/sign-up",
        "/login",
        "/forgotten-password",
        "/verify?token=abc",
        "/reset-password?token=abc",
        "/invitation?token=abc",
        "/no-such-page",
    ]
    signed_in = [
        "/profile",
        "/profile/edit",
        "/mentoring-offer",
        "/account",
        "/organise/import",
        "/my-data",
        "/admin/audit",
        "/admin/audit?since=not-a-date",
    ]
    for path in pages:
        _check(page, path)
    page.goto("/login")
    page.get_by_label("Email address").fill(member.email)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/profile")
    for path in [*signed_in, f"/members/{member.id}"]:
        _check(page, path)


def _check(page, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(path)
    facts = page.evaluate(FACTS)
    assert facts["lang"] == "en-GB", path
    assert facts["h1"] == 1, path
    assert facts["main"] == 1, path
    assert facts["title"].endswith("– peerbridge"), path
    assert facts["duplicateIds"] == [], (path, facts["duplicateIds"])
    assert facts["imagesWithoutAlt"] == 0, path
    assert page.evaluate(EVERY_INPUT_LABELLED) == [], path
