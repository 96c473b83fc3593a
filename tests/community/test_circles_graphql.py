"""Circles and peer connect in GraphQL."""

from __future__ import annotations

from strawberry import relay

from backend.community import circles
from tests.factories import make_member, make_organiser

PREFS = """
mutation($input: SetCommunityPreferencesInput!) {
  setCommunityPreferences(input: $input) {
    __typename
    ... on SetCommunityPreferencesSuccess { preferences { circles peerConnect } }
  }
}
"""
MY_CIRCLE = """
{ myCircle { id name members { name } posts(first: 5) { edges { node { title } } } } }
"""


def test_opt_in_form_and_see_my_circle(run, session):
    olu = make_organiser(session)
    people = [make_member(session, organisation=f"Trust {i}", name=f"P{i}") for i in range(4)]
    for person in people:
        saved = run(PREFS, {"input": {"circles": True}}, member=person)
        assert saved["data"]["setCommunityPreferences"]["preferences"] == {
            "circles": True,
            "peerConnect": False,
        }

    denied = run("mutation { formCircles { __typename } }", member=people[0])
    formed = run(
        "mutation { formCircles { ... on FormCirclesSuccess { circles { id name } } } }",
        member=olu,
    )

    assert denied["data"]["formCircles"]["__typename"] == "NotAllowed"
    [circle] = formed["data"]["formCircles"]["circles"]
    posted = run(
        'mutation($c: ID!) { createPost(input: {title: "Hello set", body: "Hi", circleId: $c})'
        " { __typename } }",
        {"c": circle["id"]},
        member=people[1],
    )
    assert posted["data"]["createPost"]["__typename"] == "PostSuccess"
    mine = run(MY_CIRCLE, member=people[0])["data"]["myCircle"]
    assert sorted(m["name"] for m in mine["members"]) == ["P0", "P1", "P2", "P3"]
    assert [e["node"]["title"] for e in mine["posts"]["edges"]] == ["Hello set"]
    outsider = make_member(session)
    query = "query($id: ID!) { circle(id: $id) { name } }"
    assert run(query, {"id": circle["id"]}, member=outsider)["data"]["circle"] is None
    assert run(MY_CIRCLE, member=outsider)["data"]["myCircle"] is None


def test_leave_move_and_run_peer_connect(run, session):
    olu = make_organiser(session)
    people = [make_member(session, organisation=f"Trust {i}", band="6") for i in range(8)]
    for person in people:
        circles.set_preferences(session=session, member=person, circles=True, peer_connect=True)
    first, second = circles.form(session=session, organiser=olu).new
    member = circles.get(session=session, viewer=olu, circle_id=first.id).members[0]

    moved = run(
        "mutation($m: ID!, $c: ID!) { moveCircleMember(input: {memberId: $m, circleId: $c}) {"
        " ... on CircleChangeSuccess { circle { name } } } }",
        {"m": relay.to_base64("Member", member.id), "c": relay.to_base64("Circle", second.id)},
        member=olu,
    )
    left = run("mutation { leaveCircle { __typename } }", member=member)
    again = run("mutation { leaveCircle { __typename } }", member=member)
    paired = run(
        "mutation { runPeerConnect { ... on RunPeerConnectSuccess { pairsMade } } }", member=olu
    )
    pairs = run("{ peerConnectPairs { period peer { name } } }", member=people[0])

    assert moved["data"]["moveCircleMember"] == {"circle": {"name": second.name}}
    assert left["data"]["leaveCircle"]["__typename"] == "CircleChangeSuccess"
    assert again["data"]["leaveCircle"]["__typename"] == "Conflict"
    assert paired["data"]["runPeerConnect"] == {"pairsMade": 4}
    assert len(pairs["data"]["peerConnectPairs"]) == 1


def test_forming_says_who_was_placed_and_who_still_waits(run, session):
    olu = make_organiser(session)
    fours = [make_member(session, organisation=f"Trust {i}", band="5") for i in range(4)]
    far = make_member(session, organisation="Trust far", band="9")
    for person in (*fours, far):
        run(PREFS, {"input": {"circles": True}}, member=person)
    waiting = "{ myCircleWaiting }"
    assert run(waiting, member=far)["data"]["myCircleWaiting"] is True

    formed = run(
        "mutation { formCircles { ... on FormCirclesSuccess {"
        " circles { name } toppedUp { name } placed stillWaiting } } }",
        member=olu,
    )["data"]["formCircles"]

    assert formed == {
        "circles": [{"name": "Peer circle 1"}],
        "toppedUp": [],
        "placed": 4,
        "stillWaiting": 1,
    }
    assert run(waiting, member=far)["data"]["myCircleWaiting"] is True
    assert run(waiting, member=fours[0])["data"]["myCircleWaiting"] is False
    # A newcomer who fits tops up the circle rather than waiting for three more.
    newcomer = make_member(session, organisation="Trust new", band="6")
    run(PREFS, {"input": {"circles": True}}, member=newcomer)
    again = run(
        "mutation { formCircles { ... on FormCirclesSuccess {"
        " circles { name } toppedUp { name } placed stillWaiting } } }",
        member=olu,
    )["data"]["formCircles"]
    assert again == {
        "circles": [],
        "toppedUp": [{"name": "Peer circle 1"}],
        "placed": 1,
        "stillWaiting": 1,
    }
