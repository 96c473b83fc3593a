"""In a browser: share learning, comment on a peer's post, and join a circle."""

from __future__ import annotations

from backend.community import circles
from tests.browser.conftest import screenshot
from tests.factories import PASSWORD, make_member, make_organiser


def _log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/profile")


def _log_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/?notice=logged-out")


def test_post_comment_and_join_a_circle(page, session, request):
    ann = make_member(session, name="Ann Author", organisation="Trust A", band="6")
    bob = make_member(session, name="Bob Reader", organisation="Trust B", band="6")
    olu = make_organiser(session, name="Olu Organiser", organisation="Trust O")
    for i in range(3):
        peer = make_member(session, organisation=f"Trust {i}", band="6")
        circles.set_preferences(session=session, member=peer, circles=True)
    session.commit()

    # Ann shares learning; raw HTML in her post stays text.
    _log_in(page, ann.email)
    page.get_by_role("link", name="Community").first.click()
    page.get_by_role("link", name="Share learning").click()
    page.get_by_label("Title").fill("Rota tips that worked")
    page.get_by_label("What did you learn?").fill(
        "Publish rotas **six weeks** ahead. <img src=x onerror=alert(1)>"
    )
    page.get_by_label("Rota management").check()
    screenshot(page, "community-new-post", request)
    page.get_by_role("button", name="Publish").click()
    page.wait_for_url("**/community/posts/*?notice=post-shared")
    assert page.locator(".pb-post-body strong").inner_text() == "six weeks"
    assert page.locator(".pb-post-body img").count() == 0
    _log_out(page)

    # Bob finds it in the feed, comments, marks it useful and opts in to a circle.
    _log_in(page, bob.email)
    page.goto("/community")
    page.get_by_role("link", name="Rota tips that worked").click()
    page.get_by_label("Add a comment").fill("Thanks, *trying this* next month")
    page.get_by_role("button", name="Add comment").click()
    page.wait_for_url("**notice=comment-added**")
    assert page.locator("#comments + ul em").inner_text() == "trying this"
    page.get_by_role("button", name="Mark as useful").click()
    assert page.get_by_text("1 found this useful").is_visible()
    screenshot(page, "community-post", request)
    page.get_by_role("link", name="Circles").first.click()
    page.get_by_label("Put me in a peer circle").check()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url("**/circles?notice=preferences-saved")
    _log_out(page)

    # An organiser forms circles; Bob is now in one with peers from other trusts.
    _log_in(page, olu.email)
    page.goto("/circles")
    page.get_by_role("button", name="Form circles").click()
    page.wait_for_url("**/circles?notice=circles-formed")
    _log_out(page)

    _log_in(page, bob.email)
    page.goto("/circles")
    page.get_by_role("link", name="Peer circle 1").click()
    members = page.locator("#circle-members").inner_text()
    assert "Bob Reader" in members
    assert members.count("Trust B") == 1
    screenshot(page, "community-circle", request)
