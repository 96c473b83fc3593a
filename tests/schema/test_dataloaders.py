"""Relationship fields go through DataLoaders: SQL queries do not grow with the number of rows."""

from __future__ import annotations

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
