"""GraphQL for opportunities: the catalogue, one opportunity, recommendations with reasons,
posting, saving and "I'm interested"; who may do what; statements that do not grow."""

from __future__ import annotations

from datetime import timedelta

from strawberry import relay

from backend import london
from backend.members.models import Member
from tests.factories import make_member, make_opportunity, make_organiser
from tests.schema.conftest import count_queries, run  # noqa: F401

TODAY = london.london_today()


def _gid(opportunity_id: int) -> str:
    return str(relay.GlobalID("Opportunity", str(opportunity_id)))


POST = """
mutation($input: PostOpportunityInput!) {
  postOpportunity(input: $input) {
    __typename
    ... on OpportunitySuccess { opportunity { id title audience audienceName eligibleBands
      skills { id } closesOn cost } }
    ... on InvalidInput { field errors { field message } }
    ... on NotAllowed { message }
  }
}
"""


def _input(**fields: object) -> dict[str, object]:
    values: dict[str, object] = {
        "kind": "SECONDMENT",
        "title": "Quality improvement secondment",
        "provider": "Improvement Academy",
        "format": "BLENDED",
        "closesOn": (TODAY + timedelta(days=30)).isoformat(),
        "skillIds": ["quality-improvement"],
        "eligibleBands": ["BAND_4", "BAND_5"],
        "costPence": 0,
    }
    values.update(fields)
    return values


def test_a_member_posts_for_their_organisation_but_not_for_the_network(run, session):  # noqa: F811
    member = make_member(session)

    mine = run(POST, {"input": _input()}, member=member)["data"]["postOpportunity"]
    network = run(POST, {"input": _input(audience="NETWORK")}, member=member)["data"][
        "postOpportunity"
    ]

    assert mine["__typename"] == "OpportunitySuccess"
    assert mine["opportunity"]["audience"] == "ORGANISATION"
    assert mine["opportunity"]["eligibleBands"] == ["BAND_4", "BAND_5"]
    assert mine["opportunity"]["cost"] == "Free"
    assert network["__typename"] == "NotAllowed"


def test_an_organiser_posts_for_the_network(run, session):  # noqa: F811
    organiser = make_organiser(session)

    found = run(POST, {"input": _input(audience="NETWORK")}, member=organiser)["data"][
        "postOpportunity"
    ]

    assert found["__typename"] == "OpportunitySuccess"
    assert found["opportunity"]["audienceName"] == "Everyone in the network"


def test_bad_input_comes_back_naming_every_field_in_camel_case(run, session):  # noqa: F811
    member = make_member(session)

    found = run(
        POST,
        {
            "input": _input(
                title="",
                skillIds=[],
                closesOn=(TODAY - timedelta(days=1)).isoformat(),
                url="nope",
            )
        },
        member=member,
    )["data"]["postOpportunity"]

    assert found["__typename"] == "InvalidInput"
    assert {e["field"] for e in found["errors"]} == {"title", "skills", "closesOn", "url"}


def test_anonymous_callers_get_nothing(run, session):  # noqa: F811
    make_opportunity(session)

    found = run("{ opportunities(first: 5) { edges { node { title } } } }")
    recommended = run("{ recommendedOpportunities { reasons } }")
    posted = run(POST, {"input": _input()})

    assert found["data"] is None and "errors" in found
    assert recommended["data"] is None and "errors" in recommended
    assert posted["data"]["postOpportunity"]["__typename"] == "NotAuthenticated"


def test_another_organisations_opportunity_is_null_and_its_count_is_hidden(run, session):  # noqa: F811
    poster = make_member(session, organisation="Barts Health NHS Trust", region="London")
    theirs = make_opportunity(session, organisation_id=poster.organisation_id, posted_by=poster)
    everyone = make_opportunity(session, posted_by=poster)
    outsider = make_member(session, organisation="Leeds Teaching Hospitals NHS Trust")
    query = "query($id: ID!) { opportunity(id: $id) { title interestedCount } }"

    hidden = run(query, {"id": _gid(theirs.id)}, member=outsider)["data"]["opportunity"]
    seen = run(query, {"id": _gid(everyone.id)}, member=outsider)["data"]["opportunity"]
    own = run(query, {"id": _gid(everyone.id)}, member=poster)["data"]["opportunity"]

    assert hidden is None
    assert seen["interestedCount"] is None
    assert own["interestedCount"] == 0


def test_recommendations_save_and_interest(run, session):  # noqa: F811
    member = make_member(session, band="4", skills_sought=("quality-improvement",))
    best = make_opportunity(session, skills=("quality-improvement",), bands=("4",))
    make_opportunity(session, skills=("quality-improvement",), bands=("8a",))

    found = run(
        "{ recommendedOpportunities(first: 3) { score reasons reasonText "
        "opportunity { id title skills { name } } } }",
        member=member,
    )["data"]["recommendedOpportunities"]
    saved = run(
        "mutation($id: ID!) { saveOpportunity(input: {opportunityId: $id}) { __typename "
        "... on OpportunitySuccess { opportunity { saved } } } }",
        {"id": _gid(best.id)},
        member=member,
    )["data"]["saveOpportunity"]
    interested = run(
        "mutation($id: ID!) { markInterested(input: {opportunityId: $id}) { __typename "
        "... on OpportunitySuccess { opportunity { interested } } } }",
        {"id": _gid(best.id)},
        member=member,
    )["data"]["markInterested"]
    listed = run("{ savedOpportunities { title } }", member=member)["data"]["savedOpportunities"]

    assert [r["opportunity"]["id"] for r in found] == [_gid(best.id)]
    assert found[0]["reasons"] == [
        "develops a skill you want: quality improvement",
        "open to band 4",
    ]
    assert (
        found[0]["reasonText"] == "Develops a skill you want: quality improvement; open to band 4"
    )
    assert found[0]["opportunity"]["skills"] == [{"name": "Quality improvement"}]
    assert saved == {"__typename": "OpportunitySuccess", "opportunity": {"saved": True}}
    assert interested["opportunity"] == {"interested": True}
    assert [o["title"] for o in listed] == [best.title]


def test_interest_in_an_ineligible_one_is_a_conflict(run, session):  # noqa: F811
    member = make_member(session, band="4")
    senior = make_opportunity(session, bands=("8a",))

    found = run(
        "mutation($id: ID!) { markInterested(input: {opportunityId: $id}) { __typename "
        "... on Conflict { message } } }",
        {"id": _gid(senior.id)},
        member=member,
    )["data"]["markInterested"]

    assert found == {
        "__typename": "Conflict",
        "message": "This opportunity is not open to you: Band 8a.",
    }


CATALOGUE = (
    "{ opportunities(first: 50) { edges { node { title kind cost closesOn eligibleBands "
    "skills { name } saved interestedCount } } } "
    "recommendedOpportunities(first: 3) { reasons opportunity { title skills { name } } } "
    "savedOpportunities { title skills { name } } }"
)


def _grow(session, member_id: int, to: int) -> None:
    from tests.factories import make_opportunity_save

    member = session.get(Member, member_id)
    while True:
        count = len(run_count_rows(session))
        if count >= to:
            return
        opportunity = make_opportunity(
            session,
            skills=("quality-improvement", "budget-management"),
            bands=("4", "5"),
            regions=("North West",),
        )
        make_opportunity_save(session, opportunity=opportunity, member=member)


def run_count_rows(session):
    from sqlmodel import select

    from backend.opportunities.models import Opportunity

    return session.exec(select(Opportunity.id)).all()


def test_the_catalogue_costs_as_many_statements_with_20_as_with_2(run, session, count_queries):  # noqa: F811
    member = make_member(
        session, band="4", region="North West", skills_sought=("quality-improvement",)
    )
    member_id = member.id

    counts = []
    for size in (2, 20):
        _grow(session, member_id, size)
        session.rollback()
        session.expunge_all()
        viewer = session.get(Member, member_id)
        run(CATALOGUE, member=viewer)  # warm
        session.expunge_all()
        viewer = session.get(Member, member_id)
        count_queries.statements.clear()
        result = run(CATALOGUE, member=viewer)
        assert "errors" not in result, result["errors"]
        assert len(result["data"]["opportunities"]["edges"]) == size
        assert len(result["data"]["savedOpportunities"]) == size
        counts.append(count_queries.count)

    assert counts[0] == counts[1]


UPDATE = """
mutation($id: ID!, $input: PostOpportunityInput!) {
  updateOpportunity(id: $id, input: $input) {
    __typename
    ... on OpportunitySuccess { opportunity { title canChange eligibleBands } }
    ... on InvalidInput { errors { field message } }
    ... on NotAllowed { message }
    ... on Conflict { message }
  }
}
"""
WITHDRAW = """
mutation($id: ID!) {
  withdrawOpportunity(id: $id) {
    __typename
    ... on OpportunitySuccess { opportunity { withdrawn open canChange } }
    ... on NotAllowed { message }
    ... on Conflict { message }
  }
}
"""


def test_its_poster_changes_and_withdraws_it_and_nobody_else_may(run, session):  # noqa: F811
    poster = make_member(session)
    other = make_member(session)
    opportunity = make_opportunity(session, posted_by=poster)
    gid = _gid(opportunity.id)

    def update(who: Member, **fields: object) -> dict:
        return run(UPDATE, {"id": gid, "input": _input(**fields)}, member=who)["data"][
            "updateOpportunity"
        ]

    def withdraw(who: Member) -> dict:
        return run(WITHDRAW, {"id": gid}, member=who)["data"]["withdrawOpportunity"]

    refused = update(other)
    refused_withdrawal = withdraw(other)
    wrong = update(poster, title="", skillIds=[])
    changed = update(poster, title="Renamed secondment", eligibleBands=["BAND_5"])
    withdrawn = withdraw(poster)
    twice = withdraw(poster)
    after = update(poster)

    assert (
        refused
        == refused_withdrawal
        == {
            "__typename": "NotAllowed",
            "message": "Only its poster and the organisers covering it can change it.",
        }
    )
    assert wrong["__typename"] == "InvalidInput"
    assert {e["field"] for e in wrong["errors"]} == {"title", "skills"}
    assert changed == {
        "__typename": "OpportunitySuccess",
        "opportunity": {
            "title": "Renamed secondment",
            "canChange": True,
            "eligibleBands": ["BAND_5"],
        },
    }
    assert withdrawn == {
        "__typename": "OpportunitySuccess",
        "opportunity": {"withdrawn": True, "open": False, "canChange": False},
    }
    assert (
        twice
        == after
        == {
            "__typename": "Conflict",
            "message": "This opportunity has been withdrawn.",
        }
    )
    assert run(WITHDRAW, {"id": gid})["data"]["withdrawOpportunity"]["__typename"] == (
        "NotAuthenticated"
    )


def test_a_withdrawn_one_stays_on_the_saved_list_marked_withdrawn(run, session):  # noqa: F811
    from tests.factories import make_opportunity_save

    organiser = make_organiser(session)
    member = make_member(session)
    gone = make_opportunity(session, title="Gone")
    kept = make_opportunity(session, title="Kept")
    for opportunity in (gone, kept):
        make_opportunity_save(session, opportunity=opportunity, member=member)

    assert withdrawn_by(run, organiser, gone.id) == "OpportunitySuccess"
    listed = run(
        "{ savedOpportunities { title open withdrawn } "
        "opportunities(first: 5) { edges { node { title } } } }",
        member=member,
    )["data"]

    assert listed["savedOpportunities"] == [
        {"title": "Kept", "open": True, "withdrawn": False},
        {"title": "Gone", "open": False, "withdrawn": True},
    ]
    assert [e["node"]["title"] for e in listed["opportunities"]["edges"]] == ["Kept"]


def withdrawn_by(run, who: Member, opportunity_id: int) -> str:  # noqa: F811
    found = run(WITHDRAW, {"id": _gid(opportunity_id)}, member=who)["data"]
    return found["withdrawOpportunity"]["__typename"]
