"""Where a member is logged in, over GraphQL: ``mySessions`` lists, ``endSession`` ends one."""

from __future__ import annotations

from fastapi.testclient import TestClient

from peerbridge.app import create_app
from tests.factories import PASSWORD, make_member
from tests.schema.test_journey import LOG_IN, ME, post

SESSIONS = "{ mySessions { id device current lastSeenAt } }"
END = """
mutation($id: ID!) { endSession(input: {id: $id}) {
  __typename ... on EndSessionSuccess { message } ... on Error { message }
} }
"""
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; rv:120.0) Gecko/20100101 Firefox/120.0"


def test_a_member_lists_their_sessions_and_ends_another(client, session, engine):
    member = make_member(session)
    stranger = make_member(session)
    session.commit()
    with (
        TestClient(create_app(engine=engine)) as laptop,
        TestClient(create_app(engine=engine)) as theirs,
    ):
        post(
            laptop,
            LOG_IN,
            {"email": member.email, "password": PASSWORD},
            headers={"user-agent": FIREFOX},
        )
        post(theirs, LOG_IN, {"email": stranger.email, "password": PASSWORD})
        post(client, LOG_IN, {"email": member.email, "password": PASSWORD})

        listed = post(client, SESSIONS)["data"]["mySessions"]

        assert sorted((s["device"], s["current"]) for s in listed) == [
            ("Firefox on Windows", False),
            ("Unknown device", True),
        ]
        [laptop_id] = [s["id"] for s in listed if not s["current"]]
        their_ids = {s["id"] for s in post(theirs, SESSIONS)["data"]["mySessions"]}
        assert laptop_id not in their_ids

        refused = post(theirs, END, {"id": laptop_id})["data"]["endSession"]
        assert refused["__typename"] == "NotFound"
        assert post(laptop, ME)["data"]["me"]["email"] == member.email

        ended = post(client, END, {"id": laptop_id})["data"]["endSession"]

        assert ended["__typename"] == "EndSessionSuccess"
        assert post(laptop, ME)["data"]["me"] is None
        assert post(client, ME)["data"]["me"]["email"] == member.email
        again = post(client, END, {"id": laptop_id})["data"]["endSession"]
        assert again["__typename"] == "NotFound"
        assert [s["current"] for s in post(client, SESSIONS)["data"]["mySessions"]] == [True]


def test_sessions_need_sign_in(client):
    answer = client.post("/graphql", json={"query": SESSIONS}).json()

    assert answer["data"] is None or answer["data"]["mySessions"] is None
    assert answer["errors"]
