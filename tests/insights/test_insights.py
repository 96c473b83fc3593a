"""The organisers' dashboard: the right figures, only for organisers, never a person."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from backend.db import utcnow
from backend.errors import Forbidden, NotAuthenticated
from backend.insights import disclosure as dc
from backend.insights import service as insights
from backend.mentoring.models import Mentorship
from backend.privacy import service as privacy
from backend.programmes.service import default_programme_id
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
                    programme_id=default_programme_id(session=session),
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


def assert_published(count: dc.Count, true: int) -> None:
    """A published figure is what the method can make of the true count, and nothing else."""
    low, high = dc.window(count, upper=10**6)
    assert low <= true <= high, (count, true)
    assert count.value is None or count.value % 5 == 0
    assert (count.value == 0) == (true == 0)


def test_the_funnel_by_ethnicity_is_perturbed_rounded_and_small_groups_hidden(session, network):
    report = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])

    [by_ethnicity] = report.breakdowns
    rows = {row.group: row for row in by_ethnicity.rows}
    truth = {
        "white": {"joined": 20, "sought": 20, "matched": 15, "mentors": 0},
        "black": {"joined": 10, "sought": 10, "matched": 4, "mentors": 0},
        "asian": {"joined": 3, "sought": 3, "matched": 0, "mentors": 0},
        "not-provided": {"joined": 2, "sought": 0, "matched": 0, "mentors": 1},
        "mixed": {"joined": 0, "sought": 0, "matched": 0, "mentors": 0},
    }
    for group, counts in truth.items():
        for stage, n in counts.items():
            assert_published(rows[group].counts[stage], n)
    assert rows["not-provided"].counts["joined"].text == "*"  # organiser and mentor: 2
    assert_published(by_ethnicity.totals["joined"], 35)
    # Complementary suppression: no column has exactly one hidden figure.
    for stage in insights.COUNT_COLUMNS:
        column = [row.counts[stage] for row in by_ethnicity.rows] + [by_ethnicity.totals[stage]]
        assert sum(c.hidden for c in column) != 1
    # Derived figures come from published counts, hidden where one behind them is.
    for row in by_ethnicity.rows:
        assert row.share_of_members == dc.share(row.counts["joined"], by_ethnicity.totals["joined"])
        assert row.match_rate == dc.share(row.counts["matched"], row.counts["sought"])
        if row.counts["matched"].value in (None, 0):
            assert row.median_days_to_match is None
    # The same people in every table: the same figure (their cell key is the same).
    assert report.members == by_ethnicity.totals["joined"]
    assert report.trend.rows[-1][1] == report.members.text


def test_unverified_members_are_not_counted_until_they_verify(session, network):
    before = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])
    waiting = [
        make_member(session, verified=False, seeking_mentor=True, band="4") for _ in range(12)
    ]

    during = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])
    for member in waiting:
        member.email_verified_at = utcnow()
    session.commit()
    after = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])

    # Nobody new is counted until verified: the same records, so the very same figures.
    assert during.breakdowns == before.breakdowns and during.members == before.members
    assert during.trend == before.trend
    assert_published(after.members, 35 + 12)
    assert after.breakdowns[0].totals["joined"] == after.members


def test_relative_likelihood_compares_with_the_reference_group(session, network):
    mentor = make_member(session, band="8d", capacity=5, organisation="Another Trust")
    for _ in range(6):  # black members matched: 4 -> 10
        _member(session, ethnicity="black", seeking=True, matched=True, mentor=mentor)
    for _ in range(5):  # asian members asking: 3 -> 8, so no lone hidden cell remains
        _member(session, ethnicity="asian", seeking=True, mentor=mentor)

    report = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])

    rows = {row.group: row for row in report.breakdowns[0].rows}
    assert report.breakdowns[0].reference_group == "white"
    black, white = rows["black"].counts, rows["white"].counts
    for counts, sought, matched in ((black, 16, 10), (white, 20, 15)):
        assert_published(counts["sought"], sought)
        assert_published(counts["matched"], matched)
    # From the published counts, whatever they are: about (10/16) / (15/20) = 0.83.
    expected = dc.relative_likelihood(
        black["matched"], black["sought"], white["matched"], white["sought"]
    )
    assert rows["black"].relative_likelihood == expected
    if expected is not None:
        # Equal published counts in both groups give a zero-width interval (Katz: 0 variance).
        assert expected.low <= expected.value <= expected.high
        # The ratio of the published rates (each count perturbed on its own, so it may stray
        # from the true 0.83 as far as the counts do: assert_published bounds those above).
        published = (black["matched"].value / black["sought"].value) / (
            white["matched"].value / white["sought"].value
        )
        assert expected.value == pytest.approx(published, abs=0.01)
    if white["matched"].value:
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
    assert cross[0][0] == "Across organisations"
    assert abs(int(cross[0][1]) - 19) <= dc.MAX_PERTURBATION + 2  # 19 matches, all across
    assert cross[1][1] == "0" and cross[0][2] == "100.0"  # none within one organisation
    assert cross[2][1] == cross[0][1]  # the same 19 mentorships: the same figure
    assert report.supply_by_region.rows[-1][0] == "Total"
    assert report.trend.rows[-1][1] == report.members.text


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


def test_share_of_mentees_is_shown_wherever_the_counts_behind_it_are(session, network):
    report = insights.insights(session=session, organiser=network, dimensions=["ethnicity"])
    [by_ethnicity] = report.breakdowns
    table = insights.breakdown_table(by_ethnicity)
    column = table.columns.index("Share of mentees %")
    cells = {row[0]: row[column] for row in table.rows}

    total = by_ethnicity.totals["matched"]
    assert not total.hidden, "the whole behind every share is published"
    shown = 0
    for row in by_ethnicity.rows:
        expected = dc.share(row.counts["matched"], total)
        assert row.share_of_mentees == expected
        if not row.counts["matched"].hidden:
            assert expected is not None and cells[row.label] != dc.HIDDEN, row.label
            shown += 1
        else:
            assert cells[row.label] == dc.HIDDEN
    assert shown >= 1  # the 15 white members matched: a share, not a star
