"""Pairing inside a programme over GraphQL: requestMentor and createMatchingRound take a
programmeId; Mentorship and MatchingRound name their programme."""

from __future__ import annotations

import pytest

from backend import jobs
from backend.programmes.service import default_programme_id
from tests.factories import make_programme, make_programme_application
from tests.schema.test_journey import post
from tests.schema.test_mentoring import gid, log_in

REQUEST = """
mutation($input: RequestMentorInput!) {
  requestMentor(input: $input) {
    __typename
    ... on RequestMentorSuccess { request { id status } }
    ... on Conflict { field message }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
RESPOND = """
mutation($id: ID!) {
  respondToMentorRequest(input: {requestId: $id, accept: true}) {
    __typename
    ... on RespondToMentorRequestSuccess { mentorship { id programme { id name isDefault } } }
    ... on Error { message }
  }
}
"""
MENTORSHIPS = "query { mentorships { id programme { name isDefault } } }"
CREATE = """
mutation($input: CreateMatchingRoundInput!) {
  createMatchingRound(input: $input) {
    __typename
    ... on MatchingRoundSuccess { round { id status programme { id name } } }
    ... on Conflict { field message }
    ... on Error { message }
  }
}
"""


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    def run_now(path, *args, engine=None):
        jobs._resolve(path)(*args, engine=engine)

    monkeypatch.setattr(jobs, "enqueue", run_now)


def test_a_request_within_a_programme_starts_a_mentorship_that_names_it(
    session, make_client, network
):
    _, mentors, mentees = network
    programme = make_programme(session, name="Into management", pairing="requests")
    make_programme_application(session, programme=programme, member=mentees[0], status="accepted")
    session.commit()
    mentee_client, mentor_client = make_client(), make_client()
    log_in(mentee_client, mentees[0])
    log_in(mentor_client, mentors[0])

    sent = post(
        mentee_client,
        REQUEST,
        {
            "input": {
                "mentorId": gid("Member", mentors[0].id),
                "message": "Please",
                "programmeId": gid("Programme", programme.id),
            }
        },
    )["data"]["requestMentor"]
    assert sent["__typename"] == "RequestMentorSuccess", sent
    answered = post(mentor_client, RESPOND, {"id": sent["request"]["id"]})["data"][
        "respondToMentorRequest"
    ]

    assert answered["mentorship"]["programme"] == {
        "id": gid("Programme", programme.id),
        "name": "Into management",
        "isDefault": False,
    }
    listed = post(mentee_client, MENTORSHIPS)["data"]["mentorships"]
    assert [m["programme"]["name"] for m in listed] == ["Into management"]


def test_a_request_in_a_programme_one_may_not_ask_in_is_a_conflict_naming_the_field(
    session, make_client, network
):
    _, mentors, mentees = network
    programme = make_programme(session, name="Into management", pairing="round")
    make_programme_application(session, programme=programme, member=mentees[0], status="accepted")
    session.commit()
    client = make_client()
    log_in(client, mentees[0])

    refused = post(
        client,
        REQUEST,
        {
            "input": {
                "mentorId": gid("Member", mentors[0].id),
                "message": "Please",
                "programmeId": gid("Programme", programme.id),
            }
        },
    )["data"]["requestMentor"]
    bad_id = post(
        client,
        REQUEST,
        {
            "input": {
                "mentorId": gid("Member", mentors[0].id),
                "message": "Please",
                "programmeId": gid("Member", programme.id),
            }
        },
    )["data"]["requestMentor"]

    assert refused["__typename"] == "Conflict" and refused["field"] == "programmeId"
    assert "matching round" in refused["message"]
    assert bad_id["__typename"] == "InvalidInput" and bad_id["field"] == "programmeId"


def test_a_round_in_a_programme_names_it_and_a_default_round_names_the_default(
    session, make_client, network
):
    organiser, _, mentees = network
    programme = make_programme(session, name="Into management", pairing="round")
    make_programme_application(session, programme=programme, member=mentees[0], status="accepted")
    requests_only = make_programme(session, name="Requests only", pairing="requests")
    session.commit()
    client = make_client()
    log_in(client, organiser)

    made = post(
        client,
        CREATE,
        {"input": {"name": "NW spring", "programmeId": gid("Programme", programme.id)}},
    )["data"]["createMatchingRound"]
    default = post(client, CREATE, {"input": {"name": "Open round"}})["data"]["createMatchingRound"]
    refused = post(
        client,
        CREATE,
        {"input": {"name": "No", "programmeId": gid("Programme", requests_only.id)}},
    )["data"]["createMatchingRound"]

    assert made["__typename"] == "MatchingRoundSuccess", made
    assert made["round"]["programme"]["name"] == "Into management"
    assert made["round"]["status"] == "READY"
    assert default["round"]["programme"]["id"] == gid(
        "Programme", default_programme_id(session=session)
    )
    assert refused["__typename"] == "Conflict" and refused["field"] == "programmeId"
