"""axe-core on every page a visitor, a member and a mentor see, at 1280 and 375 pixels."""

from __future__ import annotations

import pytest

from peerbridge.app import create_app
from tests.browser import axe_pages
from tests.browser.axe import Audit, html_get_routes, report

ONE_DATABASE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # HTML is the same


def test_every_html_get_route_is_checked_or_excluded_with_a_reason():
    routes = set(html_get_routes(create_app()))
    assert len(routes) > 80  # the enumeration found the app's pages

    unchecked = routes - axe_pages.routes_covered()
    assert unchecked == set(), f"pages no axe test visits: {sorted(unchecked)}"
    stale = set(axe_pages.EXCLUDED) - routes
    assert stale == set(), f"excluded routes the app no longer has: {sorted(stale)}"


@ONE_DATABASE
def test_no_axe_violations_for_visitors_members_and_mentors(
    browser, live_server, session, tmp_path, record_property
):
    world = axe_pages.build_world(session)
    audits = []
    for role, errors in (
        ("anonymous", axe_pages.ANONYMOUS_ERRORS),
        ("member", axe_pages.MEMBER_ERRORS),
        ("mentor", []),
    ):
        with Audit(browser, live_server, role, axe_pages.email_of(world, role)) as audit:
            audits.append(audit)
            for _route, path in axe_pages.ROLES[role]:
                url = path(world)
                audit.visit(url, status=axe_pages.STATUS.get(url, 200))
            for path in errors:
                audit.error_state(path)

    failures = report("members", audits, tmp_path, record_property)
    assert failures == "", failures


@ONE_DATABASE
def test_the_audit_reports_a_violation_when_there_is_one(browser, live_server):
    with Audit(browser, live_server, "anonymous") as audit:
        audit.page.goto("/about")
        audit.page.locator(".nhsuk-header__service-logo").evaluate(
            "(logo) => logo.setAttribute('aria-label', 'peerbridge homepage')"
        )
        audit.check("/about with the logo named apart from its text")

    found = {(row["width"], v["id"]) for row in audit.rows for v in row["violations"]}
    assert found == {(1280, "label-content-name-mismatch"), (375, "label-content-name-mismatch")}
