"""The reach page for organisers: take-up by band under disclosure control, and supply
against demand by skill; members may not see it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.errors import Forbidden
from backend.insights import disclosure as dc
from backend.opportunities import reach
from tests.factories import (
    make_chapter,
    make_event,
    make_event_rsvp,
    make_member,
    make_opportunity,
    make_opportunity_save,
    make_organiser,
)
from tests.schema.conftest import run  # noqa: F401
from tests.web.conftest import client, log_in, session  # noqa: F401


def _about(figure: str, true: int) -> bool:
    """A published count of ``true`` people (16 or more, so never hidden): rounded to 5, and
    within the perturbation and the rounding of it."""
    slack = dc.MAX_PERTURBATION + dc.ROUND_TO // 2
    return int(figure) % 5 == 0 and true - slack <= int(figure) <= true + slack


def test_take_up_by_band_is_published_under_disclosure_control(session):  # noqa: F811
    organiser = make_organiser(session)
    opportunity = make_opportunity(session, skills=("quality-improvement",), bands=("4",))
    event = make_event(session, organiser=organiser, capacity=40)
    for n in range(24):
        member = make_member(session, band="4", skills_sought=("quality-improvement",))
        if n < 20:
            make_opportunity_save(session, opportunity=opportunity, member=member)
            make_event_rsvp(session, event=event, member=member, attended=n < 17)
    for _ in range(16):  # band 6: the only opportunity is not open to them, and no events
        make_member(session, band="6")
    make_member(session, band="7")  # one alone: hidden

    tables = {t.key: t for t in reach.reach(session=session, member=organiser)}

    assert tables["by-band"].columns == ["Band", *reach.COLUMNS]
    by_band = {row[0]: row[1:] for row in tables["by-band"].rows}
    members, open_to, saved, interested, events_open, going, attended = by_band["4"]
    assert _about(members, 24) and _about(open_to, 24)
    assert _about(saved, 20) and interested == "0"
    assert _about(events_open, 24) and _about(going, 20) and _about(attended, 17)
    band_6 = by_band["6"]
    assert _about(band_6[0], 16) and _about(band_6[4], 16)  # the webinar is for everyone
    assert band_6[1:4] + band_6[5:] == ["0", "0", "0", "0", "0"]  # no opportunity is for them
    assert by_band["7"][0] == "*"
    supply = {row[0]: row[1:] for row in tables["supply-and-demand"].rows}
    assert supply["Quality improvement"][0] == "1"
    assert supply["Quality improvement"][1] != "0"
    assert supply["Budget management"] == ["0", "0"]


def test_open_to_them_counts_who_can_see_an_opportunity_and_apply(session):  # noqa: F811
    organiser = make_organiser(session, region="London")  # no region of 1 to 7 to hide
    north_west = make_chapter(session, regions=("North West",))
    make_opportunity(session, chapter_id=north_west.id)  # the chapter's members see it
    make_opportunity(session, bands=("5",), closes_on=date.today() - timedelta(days=1))  # closed
    for region in ("North West", "London"):
        for _ in range(16):
            make_member(session, band="5", region=region)

    tables = {t.key: t for t in reach.reach(session=session, member=organiser)}

    by_region = {row[0]: row[1:] for row in tables["by-region"].rows}
    assert _about(by_region["North West"][0], 16) and _about(by_region["North West"][1], 16)
    assert _about(by_region["London"][0], 17) and by_region["London"][1] == "0"


def test_events_open_to_them_follow_the_audience_of_events_still_to_come(session):  # noqa: F811
    organiser = make_organiser(session, band="5")  # no band of 1 to 7 to hide
    make_event(session, organiser=organiser, band_min="2", band_max="4")
    make_event(session, organiser=organiser, status="cancelled")  # for everyone, but cancelled
    for band in ("3", "6"):
        for _ in range(16):
            make_member(session, band=band)

    tables = {t.key: t for t in reach.reach(session=session, member=organiser)}

    column = reach.COLUMNS.index("Events open to them") + 1
    by_band = {row[0]: row[column] for row in tables["by-band"].rows}
    assert _about(by_band["3"], 16) and by_band["6"] == "0" and by_band["5"] == "0"


def test_a_member_may_not_see_reach(session):  # noqa: F811
    with pytest.raises(Forbidden):
        reach.reach(session=session, member=make_member(session))


def test_the_reach_page_shows_figures_by_band(client, session):  # noqa: F811
    make_organiser(session, email="olu@example.nhs.uk")
    make_member(session, email="amara@example.nhs.uk")
    session.rollback()
    log_in(client, "olu@example.nhs.uk")

    page = client.get("/organise/reach")

    assert page.status_code == 200, page.text
    assert '<h2 id="by-band-heading">Take-up by band</h2>' in page.text
    assert "Band 4</th>" in page.text and "Widening access</th>" in page.text
    assert client.get("/organise/reach?region=Atlantis").status_code == 400


REACH = """
query($region: String) { reach(region: $region) { key columns rows } }
"""


def test_reach_in_graphql_is_the_page_tables_for_organisers_only(run, session):  # noqa: F811
    organiser = make_organiser(session)
    member = make_member(session)

    tables = run(REACH, {}, member=organiser)["data"]["reach"]
    refused = run(REACH, {}, member=member)
    unknown = run(REACH, {"region": "Atlantis"}, member=organiser)

    assert [t["key"] for t in tables] == [
        "by-band",
        "by-region",
        "by-widening-access",
        "supply-and-demand",
    ]
    assert tables[0]["columns"] == ["Band", *reach.COLUMNS]
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    assert "Choose a region from the list." in unknown["errors"][0]["message"]
