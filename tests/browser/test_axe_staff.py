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
            if role == "organiser":
                _insights_reflow(audit.page, "/organise/insights", charts=5)
                _insights_reflow(audit.page, "/organise/impact", charts=1)

    failures = report("staff", audits, tmp_path, record_property)
    assert failures == "", failures


INSIGHTS_LAYOUT = """() => ({
  pageWidth: document.documentElement.scrollWidth,
  // The size each chart word is drawn at: an SVG text's font size scaled by its drawing.
  chartWords: document.querySelectorAll(
    '.pb-chart text, .pb-chart__label, .pb-chart__value, .pb-chart__legend li').length,
  smallestChartText: Math.min(...[...document.querySelectorAll(
    '.pb-chart text, .pb-chart__label, .pb-chart__value, .pb-chart__legend li')]
    .map(e => parseFloat(getComputedStyle(e).fontSize)
      * (e instanceof SVGElement ? e.ownerSVGElement.getScreenCTM().a : 1))),
  charts: document.querySelectorAll('.pb-chart').length,
  scrollingTables: [...document.querySelectorAll('table')].filter(t => {
    const box = t.closest('.pb-table-scroll');
    return !box || box.tabIndex !== 0 || box.getAttribute('role') !== 'region'
      || !box.getAttribute('aria-label');
  }).length,
})"""


def _insights_reflow(page, path: str, *, charts: int) -> None:  # type: ignore[no-untyped-def]
    """At 375 and 1280 px the insights (or impact) page never scrolls sideways, its charts'
    words stay at a readable size, and every table is in a focusable, labelled scroll region."""
    page.goto(path)
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        layout = page.evaluate(INSIGHTS_LAYOUT)
        assert layout["charts"] >= charts and layout["chartWords"] > 0, (path, layout)
        assert layout["pageWidth"] <= width, (path, width, layout)
        assert layout["smallestChartText"] >= 14, (path, width, layout)
        assert layout["scrollingTables"] == 0, (path, width, layout)
