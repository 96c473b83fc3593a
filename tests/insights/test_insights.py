"""The organisers' dashboard: the right figures, only for organisers, never a person."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from backend.db import utcnow
from backend.errors import Forbidden, NotAuthenticated
from backend.insights import service as insights
from backend.mentoring.models import Mentorship
from backend.privacy import service as privacy
from tests.factories import make_member, make_organiser, make_request


def _member(session, *, ethnicity=None, seeking=False, matched=False, mentor=None, **fields):
    member = make_member(session, seeking_mentor=seeking or matched, **fields)
    if ethnicity:
        privacy.record_demographics(
            session=session,
            member=member,
            answers=privacy.DemographicAnswers(ethnicity=ethnicity),
            consent=True,
        )
    if seeking or matched:
        asked = utcnow() - timedelta(days=30)
        make_request(
            session,
            mentee=member,
            mentor=mentor,
            message="Please",
            status="accepted" if matched else "declined",
            created_at=asked,
        )
        if matched:
            # Built by hand: one mentor holds more mentorships here than they have places
            # (the funnel counts mentees), which make_mentorship would refuse.
            session.add(
                Mentorship(
                    mentor_id=mentor.id,
                    mentee_id=member.id,
                    started_at=asked + timedelta(days=10),
                )
            )
            session.commit()
    return member


@pytest.fixture
def network(session):
    """20 white members (all asking, 15 matched), 10 black (all asking, 4 matched), 3 asian."""
    organiser = make_organiser(session, band="8c", organisation="Organiser Trust")
    mentor = make_member(session, band="8d", capacity=5, organisation="Mentor Trust")
    for i in range(20):
        _member(session, ethnicity="white", seeking=True, matched=i < 15, mentor=mentor)
    for i in range(10):
        _member(session, ethnicity="black", seeking=True, matched=i < 4, mentor=mentor)
    for _ in range(3):
        _member(session, ethnicity="asian", seeking=True, mentor=mentor)
    return organiser


def test_only_organisers_see_insights(session, network):
    member = make_member(session)

    with pytest.raises(Forbidden):
        insights.insights(session=session, organiser=member)
    with pytest.raises(NotAuthenticated):
        insights.insights(session=session, organiser=None)


def test_the_funnel_by_ethnicity_is_rounded_and_small_groups_hidden(session, network):
    report = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])

    [by_ethnicity] = report.breakdowns
    rows = {row.group: row for row in by_ethnicity.rows}
    assert rows["white"].counts["joined"].text == "20"
    # Complementary suppression: the lone hidden cell (4 black members matched) takes the
    # next smallest with it, so the total (20) less the others gives nothing away.
    assert rows["white"].counts["matched"].text == "*"
    assert rows["black"].counts["sought"].text == "*"  # beside the 3 asian members
    assert rows["white"].counts["sought"].text == "20"
    assert rows["asian"].counts["joined"].text == "*"  # 3 people
    assert rows["black"].counts["matched"].text == "*"  # 4 people
    assert rows["asian"].relative_likelihood is None and rows["black"].relative_likelihood is None
    assert rows["not-provided"].counts["joined"].text == "*"  # organiser and mentor
    assert by_ethnicity.totals["joined"].text == "35"
    assert rows["black"].median_days_to_match is None


def test_relative_likelihood_compares_with_the_reference_group(session, network):
    mentor = make_member(session, band="8d", capacity=5, organisation="Another Trust")
    for _ in range(6):  # black members matched: 4 -> 10
        _member(session, ethnicity="black", seeking=True, matched=True, mentor=mentor)
    for _ in range(5):  # asian members asking: 3 -> 8, so no lone hidden cell remains
        _member(session, ethnicity="asian", seeking=True, mentor=mentor)

    report = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])

    rows = {row.group: row for row in report.breakdowns[0].rows}
    assert report.breakdowns[0].reference_group == "white"
    ratio = rows["black"].relative_likelihood
    # From published counts: (10/15) / (15/20) = 0.89.
    assert ratio is not None and ratio.value == 0.89 and ratio.low < 0.89 < ratio.high
    assert "Black" in report.breakdowns[0].summary
    assert rows["white"].median_days_to_match == 10


def test_every_table_exports_as_csv_exactly_as_shown(session, network):
    report = insights.insights(session=session, organiser=network)

    for table in report.tables():
        parsed = list(csv.reader(io.StringIO(table.to_csv())))
        assert parsed[0] == table.columns
        assert [[c.replace(",", "") for c in row] for row in table.rows] == parsed[1:]
    assert {b.dimension for b in report.breakdowns} == set(insights.DIMENSION_KEYS)


def test_no_published_count_is_between_one_and_seven_or_off_the_grid_of_five(session, network):
    report = insights.insights(session=session, organiser=network)

    for breakdown in report.breakdowns:
        for counts in [row.counts for row in breakdown.rows] + [breakdown.totals]:
            for count in counts.values():
                assert count.value is None or count.value % 5 == 0


def test_cross_organisation_share_and_supply(session, network):
    report = insights.insights(session=session, organiser=network)

    cross = report.cross_organisation.rows
    assert cross[0][:2] == ["Across organisations", "20"]  # 19 matches, all across
    assert report.supply_by_region.rows[-1][0] == "Total"
    assert report.trend.rows[-1][1] == "35"


def test_csv_export_neutralises_formula_cells_and_keeps_numbers():
    # Given a table whose cells include formulas and plain (negative) numbers
    hostile = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-1+1", "\t=1+1"]
    table = insights.Table(
        key="t",
        title="T",
        summary="",
        columns=["=HEADING()", "n"],
        rows=[
            [value, number]
            for value, number in zip(hostile, ["-3", "-0.5", "1,234", "*", "0"], strict=True)
        ],
    )

    # When it is exported and read back
    parsed = list(csv.reader(io.StringIO(table.to_csv(), newline="")))

    # Then every formula is quote-prefixed and the figures stay figures
    assert parsed[0] == ["'=HEADING()", "n"]
    assert [row[0] for row in parsed[1:]] == ["'" + value for value in hostile]
    assert [row[1] for row in parsed[1:]] == ["-3", "-0.5", "1234", "*", "0"]
