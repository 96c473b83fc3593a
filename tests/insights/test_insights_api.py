"""The insights query: organisers only, fixed breakdowns, suppressed figures."""

from __future__ import annotations

from tests.factories import make_member, make_organiser

QUERY = """
query($dims: [InsightDimension!]) {
  insights(dimensions: $dims) {
    members { shown value hidden }
    breakdowns {
      dimension referenceGroup summary
      groups {
        group counts { joined { shown hidden } matched { shown } }
        relativeLikelihood { value }
      }
      totals { joined { shown } }
    }
    trend { key columns rows csv }
  }
}
"""


def test_members_may_not_see_insights(run, session):
    member = make_member(session)

    result = run(QUERY, member=member)

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"


def test_organisers_see_only_suppressed_aggregates(run, session):
    organiser = make_organiser(session, band="5")
    make_member(session, band="4")
    make_member(session, band="4", verified=False)  # not counted until verified

    data = run(QUERY, {"dims": ["BAND"]}, member=organiser)["data"]["insights"]

    # Two people: perturbed (2 can reach 8 in one p-table column of 256), then 1-7 hidden.
    assert data["members"] in (
        {"shown": "*", "value": None, "hidden": True},
        {"shown": "10", "value": 10, "hidden": False},
    )
    [band] = data["breakdowns"]
    assert band["dimension"] == "BAND"
    shown = {g["group"]: g["counts"]["joined"]["shown"] for g in band["groups"]}
    # One person is never perturbed (a count of 1 cannot move with mean 0): always hidden.
    assert shown["4"] == "*" and shown["5"] == "*" and shown["9"] == "0"
    assert band["totals"]["joined"]["shown"] == data["members"]["shown"]  # the same people
    assert data["trend"]["csv"].splitlines()[0].startswith("Month,Joined")


def test_an_unknown_breakdown_is_refused_before_anything_runs(run, session):
    organiser = make_organiser(session)

    result = run(QUERY, {"dims": ["SHOE_SIZE"]}, member=organiser)

    assert result["data"] is None and result["errors"]
