"""Relationship fields go through DataLoaders: SQL queries do not grow with the number of rows."""

from __future__ import annotations

from backend.members.models import Member
from tests.factories import make_member

DIRECTORY = """
query($first: Int!) {
  members(first: $first) {
    edges { node {
      name email roles organisation { name }
      skillsSought { id name } skillsOffered { name }
      mentoringOffer { capacity skillsOffered { id } }
    } }
  }
}
"""


def populate(session, count):
    organisations = ["Trust A", "Trust B", "Trust C"]
    for i in range(count):
        make_member(
            session,
            organisation=organisations[i % 3],
            skills_sought=("budget-management", "team-leadership"),
            skills_offered=("rota-management",),
            capacity=i % 4,
            roles=("organiser",) if i % 5 == 0 else (),
        )


def directory_selects(run, viewer, counter):
    counter.statements.clear()
    result = run(DIRECTORY, {"first": 50}, member=viewer)
    assert "errors" not in result
    selects = [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]
    return result["data"]["members"]["edges"], selects


def test_directory_queries_do_not_grow_with_members(run, session, count_queries):
    viewer = make_member(session)
    populate(session, 3)
    session.commit()
    few_edges, few = directory_selects(run, viewer, count_queries)

    populate(session, 27)
    session.commit()
    many_edges, many = directory_selects(run, viewer, count_queries)

    assert (len(few_edges), len(many_edges)) == (4, 31)
    assert all(e["node"]["skillsSought"] for e in many_edges if e["node"]["name"] != viewer.name)
    # The page, skills, skill names, organisations, roles and offers: one query each.
    assert len(many) == len(few) <= 6, many


# The main operations, on a small network and a larger one: the same statements for both. ------

OPERATIONS = {
    "mentorSuggestions": "query { mentorSuggestions(first: 10) { score reasons "
    "mentor { name band organisation { name } skillsOffered { name } } } }",
    "mentorRequests": "query { mentorRequests(direction: RECEIVED, first: 50) { edges { node { "
    "status message mentee { name organisation { name } } skills { name } } } } }",
    "notifications": "query { notifications(first: 50) { edges { node { title read } } } }",
    "feed": "query { feed(first: 50) { edges { node { title author { name } skills { name } "
    "usefulCount commentCount } } } }",
    "matchingRound": "query($id: ID!) { matchingRound(id: $id) { name proposals(first: 50) { "
    "edges { node { score mentee { name } mentor { name organisation { name } } } } } } }",
}


def _operation_statements(run, member, counter, query, variables):
    run(query, variables, member=member)  # warm: the first call after a change refits
    counter.statements.clear()
    result = run(query, variables, member=member)
    assert "errors" not in result, result["errors"]
    return result["data"], counter.count


def test_main_operations_do_not_grow_with_the_network(run, session, count_queries):
    from strawberry import relay

    from tests.web.test_query_counts import grow, network_for

    viewer_id, _, round_id = network_for(session)
    grow(session, viewer_id=viewer_id, round_id=round_id, count=2)
    viewer = session.get(Member, viewer_id)
    seeker = make_member(session, band="3", organisation="Elsewhere Trust")
    variables = {"id": str(relay.GlobalID("MatchingRound", str(round_id)))}
    small = {
        name: _operation_statements(
            run, seeker if name == "mentorSuggestions" else viewer, count_queries, query, variables
        )
        for name, query in OPERATIONS.items()
    }

    grow(session, viewer_id=viewer_id, round_id=round_id, count=6)
    large = {
        name: _operation_statements(
            run, seeker if name == "mentorSuggestions" else viewer, count_queries, query, variables
        )
        for name, query in OPERATIONS.items()
    }

    assert len(large["feed"][0]["feed"]["edges"]) > len(small["feed"][0]["feed"]["edges"])
    assert len(small["mentorSuggestions"][0]["mentorSuggestions"]) == 3  # every mentor
    assert len(large["mentorSuggestions"][0]["mentorSuggestions"]) == 9
    grew = {name: (small[name][1], large[name][1]) for name in OPERATIONS}
    assert {name: counts for name, counts in grew.items() if counts[0] != counts[1]} == {}
