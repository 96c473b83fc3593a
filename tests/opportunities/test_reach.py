"""The reach page for organisers: take-up by band under disclosure control, and supply
against demand by skill; members may not see it."""

from __future__ import annotations

import pytest

from backend.errors import Forbidden
from backend.opportunities import reach
from tests.factories import make_member, make_opportunity, make_opportunity_save, make_organiser
from tests.web.conftest import client, log_in, session  # noqa: F401


def test_take_up_by_band_is_published_under_disclosure_control(session):  # noqa: F811
    organiser = make_organiser(session)
    opportunity = make_opportunity(session, skills=("quality-improvement",), bands=("4",))
    for n in range(12):
        member = make_member(session, band="4", skills_sought=("quality-improvement",))
        if n < 10:
            make_opportunity_save(session, opportunity=opportunity, member=member)
    make_member(session, band="7")  # one alone: hidden

    tables = {t.key: t for t in reach.reach(session=session, member=organiser)}

    by_band = {row[0]: row[1:] for row in tables["by-band"].rows}
    members, saved, interested = by_band["4"]
    assert int(members) % 5 == 0 and 10 <= int(members) <= 15
    assert int(saved) % 5 == 0 and 5 <= int(saved) <= 15
    assert interested == "0"
    assert by_band["7"][0] == "*"
    supply = {row[0]: row[1:] for row in tables["supply-and-demand"].rows}
    assert supply["Quality improvement"][0] == "1"
    assert supply["Quality improvement"][1] != "0"
    assert supply["Budget management"] == ["0", "0"]


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
