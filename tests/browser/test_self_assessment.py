"""The self-assessment in a real browser at phone width: the error summary names a missing
dimension, and the results' charts and table fit a 375 px screen."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_mentoring_journeys import log_in
from tests.factories import make_member, make_self_assessment


def test_the_form_names_a_missing_dimension_and_the_results_fit_a_phone(
    browser, live_server, session, request
):
    me = make_member(session, name="Nia Jones")
    make_self_assessment(session, member=me, levels=2)
    context = browser.new_context(base_url=live_server, viewport={"width": 375, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        log_in(page, me.email)
        page.get_by_role("link", name="Take the leadership self-assessment").click()
        page.wait_for_url("**/my-development/self-assessment")
        for index, name in enumerate(
            [
                "Inspiring shared purpose",
                "Leading with care",
                "Evaluating information",
                "Connecting our service",
                "Sharing the vision",
                "Engaging the team",
                "Holding to account",
                "Developing capability",
            ],
            start=1,
        ):
            group = page.get_by_role("group", name=f"{index}. {name}")
            group.get_by_label("Strong", exact=False).check()
        page.get_by_role("button", name="Save my self-assessment").click()

        summary = page.locator(".nhsuk-error-summary")
        assert "Choose a level for influencing for results." in summary.inner_text()
        group = page.get_by_role("group", name="9. Influencing for results")
        group.get_by_label("Proficient", exact=False).check()
        page.get_by_role("button", name="Save my self-assessment").click()

        page.wait_for_url("**/my-development/self-assessment/results?notice=self-assessment-saved")
        charts = page.get_by_role("img", name="Leading with care")
        assert charts.count() == 1
        assert page.locator("figure svg").count() == 9
        assert page.get_by_role("table").count() == 1
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 375, overflow
        screenshot(page, "self-assessment-results-375", request)
    finally:
        context.close()
