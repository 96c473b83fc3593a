"""mentorSuggestions over HTTP: ranked mentors with scores and reasons, within the hard rules."""

from __future__ import annotations

from strawberry import relay

from tests.factories import make_member
from tests.schema.test_journey import post
from tests.schema.test_mentoring import log_in

SUGGESTIONS = """
query($first: Int) {
  mentorSuggestions(first: $first) {
    score reasons mentor { id name mentoringOffer { freePlaces } }
  }
}
"""


def gid(pk: int) -> str:
    return str(relay.GlobalID("Member", str(pk)))


def test_ranked_with_scores_and_reasons_never_oneself_or_ones_manager(session, client):
    manager = make_member(
        session, name="My Manager", band="8b", capacity=2, skills_offered=("quality-improvement",)
    )
    me = make_member(
        session,
        name="Me",
        band="4",
        capacity=1,
        line_manager_id=manager.id,
        skills_sought=("quality-improvement", "performance-measurement"),
    )
    good = make_member(
        session,
        name="Good Match",
        band="7",
        organisation="Riverside Trust",
        capacity=2,
        skills_offered=("quality-improvement", "performance-measurement"),
    )
    weak = make_member(
        session,
        name="Weak Match",
        band="7",
        organisation="Hillside Trust",
        capacity=2,
        skills_offered=("rota-management",),
    )
    session.commit()
    log_in(client, me)

    found = post(client, SUGGESTIONS)["data"]["mentorSuggestions"]

    assert [s["mentor"]["id"] for s in found] == [gid(good.id), gid(weak.id)]
    assert [s["mentor"]["name"] for s in found] == ["Good Match", "Weak Match"]
    assert 0 <= found[1]["score"] < found[0]["score"] <= 100
    assert all(isinstance(s["score"], int) for s in found)
    assert any("skills sought" in reason for reason in found[0]["reasons"])
    assert found[0]["mentor"]["mentoringOffer"] == {"freePlaces": 2}
    ids = {s["mentor"]["id"] for s in found}
    assert gid(me.id) not in ids and gid(manager.id) not in ids

    only_one = post(client, SUGGESTIONS, {"first": 1})["data"]["mentorSuggestions"]
    assert [s["mentor"]["name"] for s in only_one] == ["Good Match"]


def test_first_is_capped_and_anonymous_callers_are_refused(session, client):
    me = make_member(session, band="4")
    session.commit()

    anonymous = post(client, SUGGESTIONS)
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"

    log_in(client, me)
    for first in (0, 51, -3):
        refused = post(client, SUGGESTIONS, {"first": first})
        assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT", refused
        assert "from 1 to 50" in refused["errors"][0]["message"]
    assert post(client, SUGGESTIONS, {"first": 50})["data"]["mentorSuggestions"] == []
