"""`members(filter, first, after)`: the directory through GraphQL, filtered and paged."""

from __future__ import annotations

from tests.factories import make_member

MEMBERS = """
query($filter: MemberFilter, $first: Int, $after: String) {
  members(filter: $filter, first: $first, after: $after) {
    edges { node { name mentoringOffer { freePlaces meetingFormat } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def names(result):
    assert "errors" not in result, result
    return [e["node"]["name"] for e in result["data"]["members"]["edges"]]


def test_without_a_filter_everyone_is_listed_as_before(run, session):
    viewer = make_member(session, name="Viewer")
    make_member(session, name="Ann")

    assert names(run(MEMBERS, member=viewer)) == ["Ann", "Viewer"]
    assert names(run(MEMBERS, {"filter": {}}, member=viewer)) == ["Ann", "Viewer"]


def test_filters_combine_and_pages_keep_the_filter(run, session):
    viewer = make_member(session, name="Viewer")
    for i in range(3):
        make_member(
            session,
            name=f"Mentor {i}",
            region="London",
            band="8a",
            capacity=2,
            skills_offered=("budget-management",),
        )
    make_member(session, name="Mentor Full", region="London", band="8a", capacity=0)
    make_member(session, name="Elsewhere", region="Midlands", capacity=2)
    search = {
        "region": "LONDON",
        "band": "BAND_8A",
        "skillOffered": "budget-management",
        "mentorsWithFreeCapacity": True,
        "text": "mentor",
    }

    first = run(MEMBERS, {"filter": search, "first": 2}, member=viewer)
    after = first["data"]["members"]["pageInfo"]["endCursor"]
    rest = run(MEMBERS, {"filter": search, "first": 2, "after": after}, member=viewer)

    assert names(first) == ["Mentor 0", "Mentor 1"]
    assert first["data"]["members"]["pageInfo"]["hasNextPage"] is True
    assert names(rest) == ["Mentor 2"]
    offer = rest["data"]["members"]["edges"][0]["node"]["mentoringOffer"]
    assert offer == {"freePlaces": 2, "meetingFormat": "EITHER"}


def test_text_with_wildcards_matches_literally(run, session):
    viewer = make_member(session, name="Viewer")
    make_member(session, name="Ann", job_title="Lead_Nurse")
    make_member(session, name="Bea", job_title="LeadXNurse")

    assert names(run(MEMBERS, {"filter": {"text": "lead_nurse"}}, member=viewer)) == ["Ann"]


def test_anonymous_callers_get_no_directory(run, session):
    make_member(session)
    result = run(MEMBERS)
    assert result["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_bad_filters_are_clear_errors(run, session):
    viewer = make_member(session)

    unknown = run(MEMBERS, {"filter": {"region": "ATLANTIS"}}, member=viewer)
    too_long = run(MEMBERS, {"filter": {"text": "x" * 201}}, member=viewer)
    too_many = run(MEMBERS, {"first": 101}, member=viewer)

    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert too_long["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert "200 characters" in too_long["errors"][0]["message"]
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
