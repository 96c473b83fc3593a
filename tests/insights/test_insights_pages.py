"""The dashboard page: organisers only, accessible charts, tables and CSV as shown."""

from __future__ import annotations

import csv
import io

from tests.factories import make_member, make_organiser
from tests.web.conftest import log_in


def test_members_are_refused_the_dashboard(client, session):
    member = make_member(session)
    log_in(client, member.email)

    assert client.get("/organise/insights").status_code == 403
    assert client.get("/organise/insights/trend.csv").status_code == 403


def test_the_dashboard_shows_charts_with_tables_and_summaries(client, session):
    organiser = make_organiser(session)
    for _ in range(9):
        make_member(session, band="4", seeking_mentor=True)
    log_in(client, organiser.email)

    page = client.get("/organise/insights")

    assert page.status_code == 200, page.text
    assert page.text.count('role="img"') >= 10
    assert (
        'class="pb-chart__title" id="by-band-title"' in page.text
        and 'id="by-band-desc"' in page.text
    )
    # The words are HTML text that reflows at 375 px, never SVG text scaled down with the chart.
    assert 'class="pb-chart__value"' in page.text and "<text " not in page.text
    assert "Participation by Agenda for Change band" in page.text
    assert "<script src=" not in page.text.replace('type="module" src="/', "")
    assert 'href="/organise/insights/by-ethnicity.csv"' in page.text
    assert 'href="/organise/insights"' in page.text  # the organiser's menu link


def test_csv_export_matches_the_table_on_the_page(client, session):
    organiser = make_organiser(session, band="8a")
    for band in ["4"] * 9 + ["5"] * 3:
        make_member(session, band=band)
    log_in(client, organiser.email)

    response = client.get("/organise/insights/by-band.csv")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    by_band = {row[0]: row[1] for row in rows[1:]}
    # 9 at band 4, 3 at band 5, 1 at 8a: perturbed by at most 6, then 1-7 hidden; never a
    # single hidden figure in the column.
    assert by_band["Band 4"] in ("*", "10", "15")
    assert by_band["Band 5"] in ("*", "10") and by_band["Band 8a"] == "*"
    assert by_band["Band 9"] == "0"
    assert [row[1] for row in rows[1:]].count("*") != 1
    assert client.get("/organise/insights/nonsense.csv").status_code == 404
