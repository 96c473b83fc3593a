"""axe-core on every page an organiser and an admin see, at 1280 and 375 pixels."""

from __future__ import annotations

import pytest

from tests.browser import axe_pages
from tests.browser.axe import Audit, report

ONE_DATABASE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # HTML is the same


@ONE_DATABASE
def test_no_axe_violations_for_organisers_and_admins(
    browser, live_server, session, tmp_path, record_property
):
    world = axe_pages.build_world(session)
    audits = []
    for role, errors in (
        ("organiser", axe_pages.ORGANISER_ERRORS),
        ("admin", axe_pages.ADMIN_ERRORS),
    ):
        with Audit(browser, live_server, role, axe_pages.email_of(world, role)) as audit:
            audits.append(audit)
            for _route, path in axe_pages.ROLES[role]:
                url = path(world)
                audit.visit(url, status=axe_pages.STATUS.get(url, 200))
            for path in errors:
                audit.error_state(path)

    failures = report("staff", audits, tmp_path, record_property)
    assert failures == "", failures
