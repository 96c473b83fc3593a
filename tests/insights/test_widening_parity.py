"""Widening-access parity per programme, and the priority dimension, under disclosure control."""

from __future__ import annotations

import csv
import io

import pytest

from backend.insights import disclosure as dc
from backend.insights import service as insights
from tests.factories import (
    make_member,
    make_mentor,
    make_mentorship,
    make_organiser,
    make_programme,
    make_programme_application,
    make_widening_claim,
)
from tests.web.conftest import log_in


def assert_published(count: dc.Count, true: int) -> None:
    """A published figure is what the method can make of the true count, and nothing else."""
    low, high = dc.window(count, upper=10**6)
    assert low <= true <= high, (count, true)
    assert count.value is None or count.value % 5 == 0


def _applicants(session, programme, mentor, n, *, accepted, matched, category=None, **fields):
    for i in range(n):
        member = make_member(session, band="4", **fields)
        if category:
            make_widening_claim(session, member=member, category=category)
        make_programme_application(
            session,
            programme=programme,
            member=member,
            status="accepted" if i < accepted else "declined",
        )
        if i < matched:
            make_mentorship(
                session,
                mentor=mentor,
                mentee=member,
                status="completed",
                programme_id=programme.id,
            )


@pytest.fixture
def world(session):
    """'Into management' counts only bands 2-4: 20 such claimants (16 accepted, 12 matched),
    10 claiming another reason and 20 without a claim (together 30: 18 accepted, 6 matched);
    'Small cohort' has 3 claimants among 25 applicants."""
    organiser = make_organiser(session, band="8c")
    mentor = make_mentor(session, band="8d", capacity=0)
    into = make_programme(session, name="Into management", widening_categories=["bands-2-to-4"])
    _applicants(session, into, mentor, 20, accepted=16, matched=12, category="bands-2-to-4")
    _applicants(session, into, mentor, 10, accepted=8, matched=2, category="disabled")
    _applicants(session, into, mentor, 20, accepted=10, matched=4)
    small = make_programme(session, name="Small cohort")
    _applicants(session, small, mentor, 3, accepted=3, matched=1, category="disabled")
    _applicants(session, small, mentor, 22, accepted=10, matched=5)
    make_programme(session, name="Still a draft", status="draft")
    return organiser


def _rows(table):
    return {(row[0], row[1]): row for row in table.rows}


def test_parity_splits_each_programmes_applicants_by_the_flag_it_counts(session, world):
    report = insights.insights(session=session, organiser=world, dimensions=["priority_access"])

    table = report.widening_parity
    assert table is not None and report.table("widening-parity") is table
    rows = _rows(table)
    assert {name for name, _ in rows} == {"Into management", "Small cohort"}  # no draft
    truth = {
        ("Into management", "Priority access"): (20, 16, 12),
        ("Into management", "No priority access"): (30, 18, 6),
        ("Into management", "Total"): (50, 34, 18),
    }
    cell = {
        key: [dc.Count(None if t == dc.HIDDEN else int(t.replace(",", ""))) for t in row[2:5]]
        for key, row in rows.items()
    }
    for key, counts in truth.items():
        for shown, true in zip(cell[key], counts, strict=True):
            assert_published(shown, true)
    # Claimants with a reason this programme does not count are not flagged in it: the
    # priority row is the 20 bands 2-4 claimants, not 30.
    assert cell[("Into management", "Priority access")][0].value in (15, 20, 25)
    assert rows[("Into management", "No priority access")][7] == "1.00 (reference)"


def test_a_small_group_is_hidden_with_a_complement_so_no_subtraction_recovers_it(session, world):
    table = insights.insights(session=session, organiser=world).widening_parity
    assert table is not None
    rows = _rows(table)

    flagged = rows[("Small cohort", "Priority access")]
    others = rows[("Small cohort", "No priority access")]
    total = rows[("Small cohort", "Total")]
    assert flagged[2] == dc.HIDDEN  # 3 applicants: 1-7 never shown
    assert dc.HIDDEN in (others[2], total[2])  # not recoverable as total minus the others
    assert flagged[5] == dc.HIDDEN and flagged[6] == dc.HIDDEN  # rates behind hidden counts
    assert flagged[7] == dc.HIDDEN  # and the likelihood


def test_the_priority_dimension_counts_consented_claims(session, world):
    report = insights.insights(session=session, organiser=world, dimensions=["priority_access"])

    [breakdown] = report.breakdowns
    by_group = {row.group: row for row in breakdown.rows}
    # 33 claimants in any category (every one counts in the default programme's flag).
    assert_published(by_group["yes"].counts["joined"], 33)
    assert_published(by_group["no"].counts["joined"], 42 + 2)  # + the organiser and mentor


def test_the_parity_table_downloads_as_csv_and_shows_on_the_dashboard(client, session, world):
    log_in(client, world.email)

    page = client.get("/organise/insights")
    download = client.get("/organise/insights/widening-parity.csv")

    assert page.status_code == 200
    assert "Widening-access parity by programme" in page.text
    assert download.status_code == 200
    header, *body = list(csv.reader(io.StringIO(download.text)))
    assert header[:5] == ["Programme", "Group", "Applied", "Accepted", "Matched"]
    small = [row for row in body if row[:2] == ["Small cohort", "Priority access"]]
    assert [row[2] for row in small] == [dc.HIDDEN], body


PARITY = "{ insights(dimensions: [PRIORITY_ACCESS]) { wideningParity { key columns rows } } }"


def test_graphql_gives_organisers_the_same_parity_table_and_members_nothing(run, session, world):
    shown = insights.insights(session=session, organiser=world).widening_parity
    assert shown is not None

    parity = run(PARITY, member=world)["data"]["insights"]["wideningParity"]
    refused = run(PARITY, member=make_member(session))

    assert (parity["key"], parity["rows"]) == ("widening-parity", shown.rows)
    assert refused.get("data") is None or refused["data"].get("insights") is None
    assert "errors" in refused
