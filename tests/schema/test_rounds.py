"""Matching rounds over HTTP: an organiser runs, reviews and publishes; both sides answer."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func
from sqlmodel import select

from backend import jobs
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound, MatchProposal
from tests.schema.test_journey import post
from tests.schema.test_mentoring import NODE, count_rows, gid, log_in

CREATE = """
mutation($input: CreateMatchingRoundInput!) {
  createMatchingRound(input: $input) {
    __typename
    ... on MatchingRoundSuccess { round { id name status cohort progress stage respondDays
      weights { skills seniority } createdBy { name } } }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
ROUND = """
query($id: ID!, $status: ProposedMatchStatus) {
  matchingRound(id: $id) {
    id name status progress stage
    figures { mentees mentors places matched bound unmatched unmatchedWhy { reason count }
      crossOrganisationShare skillsCovered priority priorityRate otherRate priorityScoreCost
      blockingPairs }
    proposals(status: $status) {
      edges { node { id status score reasons mentee { name } mentor { name } } }
      pageInfo { hasNextPage }
    }
  }
}
"""
ROUNDS = "query { matchingRounds { edges { node { id name status } } pageInfo { hasNextPage } } }"
REMOVE = """
mutation($id: ID!) {
  removeProposedMatch(input: {proposalId: $id}) {
    __typename ... on ProposedMatchSuccess { proposedMatch { id status } } ... on Error { message }
  }
}
"""
SWAP = """
mutation($a: ID!, $b: ID!) {
  swapProposedMentors(input: {proposalId: $a, otherProposalId: $b}) {
    __typename
    ... on SwapProposedMentorsSuccess {
      proposedMatch { mentor { name } reasons } otherProposedMatch { mentor { name } }
    }
    ... on Error { message }
  }
}
"""
PUBLISH = """
mutation($id: ID!) {
  publishMatchingRound(input: {roundId: $id}) {
    __typename ... on MatchingRoundSuccess { round { status respondBy publishedAt } }
    ... on Error { message }
  }
}
"""
MINE = """
query { myProposedMatches { id status score reasons myRole mentee { name } mentor { name } } }
"""
RESPOND = """
mutation($input: RespondToProposedMatchInput!) {
  respondToProposedMatch(input: $input) {
    __typename
    ... on RespondToProposedMatchSuccess {
      proposedMatch { id status menteeAccepted mentorAccepted declineReason }
      mentorship { id status myRole partnerName }
    }
    ... on Error { message }
  }
}
"""
PROPOSAL = "query($id: ID!) { proposedMatch(id: $id) { id status mentee { name } } }"
EXPORT = "query($id: ID!) { exportMatchingRound(roundId: $id) }"


@pytest.fixture(autouse=True)
def inline_jobs(monkeypatch):
    """Run a round's job at once, in the request, instead of on a thread."""

    def run_now(path, *args, engine=None):
        jobs._resolve(path)(*args, engine=engine)

    monkeypatch.setattr(jobs, "enqueue", run_now)


def create(client, **fields):
    data = post(client, CREATE, {"input": {"name": "Spring cohort", **fields}})
    return data["data"]["createMatchingRound"]


def proposals(client, round_id, status=None):
    found = post(client, ROUND, {"id": round_id, "status": status})["data"]["matchingRound"]
    return [edge["node"] for edge in found["proposals"]["edges"]]


def by_name(members, name):
    return next(m for m in members if m.name == name)


def test_organiser_runs_reviews_publishes_and_both_sides_accept(session, make_client, network):
    organiser, mentors, mentees = network
    organiser_client = make_client()
    log_in(organiser_client, organiser)

    created = create(organiser_client, weights={"skills": 50}, respondDays=10)
    assert created["__typename"] == "MatchingRoundSuccess", created
    matching_round = created["round"]
    assert matching_round["status"] == "READY"  # the job ran inline
    assert matching_round["cohort"] == "SEEKING"
    assert matching_round["weights"] == {"skills": 50.0, "seniority": 15.0}
    assert matching_round["createdBy"] == {"name": "Olu Organiser"}
    round_id = matching_round["id"]

    listed = post(organiser_client, ROUNDS)["data"]["matchingRounds"]["edges"]
    assert [e["node"]["id"] for e in listed] == [round_id]

    found = post(organiser_client, ROUND, {"id": round_id})["data"]["matchingRound"]
    assert (found["status"], found["progress"]) == ("READY", 1.0)
    figures = found["figures"]
    assert (figures["mentees"], figures["mentors"], figures["places"]) == (4, 3, 3)
    assert (figures["matched"], figures["bound"], figures["unmatched"]) == (3, 3, 1)
    assert sum(why["count"] for why in figures["unmatchedWhy"]) == 1
    assert figures["crossOrganisationShare"] == 1.0
    # The four mentees are alike (band, trust, skill, goals), so each mentor scores them alike
    # and every mentor is full: no mentee can displace another, so no pair blocks.
    assert figures["blockingPairs"] == 0
    proposed = [p for p in proposals(organiser_client, round_id) if p["status"] == "PROPOSED"]
    assert len(proposed) == 3
    assert all(0 < p["score"] <= 100 and p["reasons"] and p["mentor"] for p in proposed)
    [unmatched] = proposals(organiser_client, round_id, "UNMATCHED")
    assert unmatched["mentor"] is None and unmatched["reasons"]

    # Swap two pairs' mentors, then take the third pair out.
    first, second, third = proposed
    swapped = post(organiser_client, SWAP, {"a": first["id"], "b": second["id"]})
    swapped = swapped["data"]["swapProposedMentors"]
    assert swapped["__typename"] == "SwapProposedMentorsSuccess", swapped
    assert swapped["proposedMatch"]["mentor"] == second["mentor"]
    assert swapped["otherProposedMatch"]["mentor"] == first["mentor"]
    removed = post(organiser_client, REMOVE, {"id": third["id"]})["data"]["removeProposedMatch"]
    assert removed["proposedMatch"] == {"id": third["id"], "status": "REMOVED"}

    exported = post(organiser_client, EXPORT, {"id": round_id})["data"]["exportMatchingRound"]
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"proposed", "removed", "unmatched"}

    published = post(organiser_client, PUBLISH, {"id": round_id})["data"]["publishMatchingRound"]
    assert published["__typename"] == "MatchingRoundSuccess", published
    assert published["round"]["status"] == "PUBLISHED" and published["round"]["respondBy"]
    again = post(organiser_client, PUBLISH, {"id": round_id})["data"]["publishMatchingRound"]
    assert again["__typename"] == "Conflict"

    # Both sides of the first pair see the offer and accept: a mentorship starts.
    pair = proposals(organiser_client, round_id, "OFFERED")[0]
    mentee = by_name(mentees, pair["mentee"]["name"])
    mentor = by_name(mentors, pair["mentor"]["name"])
    mentee_client, mentor_client = make_client(), make_client()
    log_in(mentee_client, mentee)
    log_in(mentor_client, mentor)
    [offer] = post(mentee_client, MINE)["data"]["myProposedMatches"]
    assert (offer["id"], offer["myRole"], offer["status"]) == (pair["id"], "MENTEE", "OFFERED")
    [offer] = post(mentor_client, MINE)["data"]["myProposedMatches"]
    assert (offer["id"], offer["myRole"]) == (pair["id"], "MENTOR")

    answer = {"input": {"proposalId": pair["id"], "accept": True}}
    first_yes = post(mentee_client, RESPOND, answer)["data"]["respondToProposedMatch"]
    assert first_yes["__typename"] == "RespondToProposedMatchSuccess", first_yes
    assert first_yes["proposedMatch"]["menteeAccepted"] is True
    assert first_yes["proposedMatch"]["mentorAccepted"] is None
    assert first_yes["mentorship"] is None
    twice = post(mentee_client, RESPOND, answer)["data"]["respondToProposedMatch"]
    assert twice["__typename"] == "Conflict"
    second_yes = post(mentor_client, RESPOND, answer)["data"]["respondToProposedMatch"]
    assert second_yes["proposedMatch"]["status"] == "ACCEPTED"
    assert second_yes["mentorship"]["status"] == "ACTIVE"
    assert second_yes["mentorship"]["myRole"] == "MENTOR"
    assert second_yes["mentorship"]["partnerName"] == mentee.name
    mentorships = post(mentee_client, "{ mentorships { id partnerName } }")["data"]["mentorships"]
    assert mentorships == [{"id": second_yes["mentorship"]["id"], "partnerName": mentor.name}]

    # The other mentee declines: the worker's next pass offers them the next best free mentor.
    other = proposals(organiser_client, round_id, "OFFERED")[0]
    other_mentee = by_name(mentees, other["mentee"]["name"])
    other_client = make_client()
    log_in(other_client, other_mentee)
    no = {"input": {"proposalId": other["id"], "accept": False, "reason": "Bad timing"}}
    declined = post(other_client, RESPOND, no)["data"]["respondToProposedMatch"]
    assert declined["proposedMatch"]["status"] == "DECLINED"
    assert declined["proposedMatch"]["declineReason"] == "Bad timing"
    assert post(other_client, MINE)["data"]["myProposedMatches"] == []
    session.rollback()
    # Two offers: the next free mentor for them, and the place they freed for the round's
    # unmatched mentee.
    assert rounds.reoffer_pending(session=session) == 2
    [reoffer] = post(other_client, MINE)["data"]["myProposedMatches"]
    assert reoffer["id"] != other["id"] and reoffer["status"] == "OFFERED"
    assert reoffer["mentor"]["name"] not in (other["mentor"]["name"], mentor.name)


def test_members_see_no_rounds_and_only_their_own_proposals(session, make_client, network):
    organiser, _, mentees = network
    organiser_client, mentee_client, outsider_client = make_client(), make_client(), make_client()
    log_in(organiser_client, organiser)
    round_id = create(organiser_client)["round"]["id"]
    post(organiser_client, PUBLISH, {"id": round_id})
    offered = proposals(organiser_client, round_id, "OFFERED")
    mine, theirs = offered[0], offered[1]
    mentee = by_name(mentees, mine["mentee"]["name"])
    outsider = by_name(
        mentees,
        next(p for p in proposals(organiser_client, round_id, "UNMATCHED"))["mentee"]["name"],
    )
    log_in(mentee_client, mentee)
    log_in(outsider_client, outsider)

    for query, variables in (
        (ROUNDS, None),
        (ROUND, {"id": round_id}),
        (EXPORT, {"id": round_id}),
        (NODE, {"id": round_id}),
    ):
        refused = post(mentee_client, query, variables)
        assert refused["errors"][0]["extensions"]["code"] == "NOT_ALLOWED", (query, refused)
        assert not (refused["data"] or {}).get("matchingRounds")

    own = post(mentee_client, PROPOSAL, {"id": mine["id"]})["data"]["proposedMatch"]
    assert own == {"id": mine["id"], "status": "OFFERED", "mentee": mine["mentee"]}
    assert post(mentee_client, NODE, {"id": mine["id"]})["data"]["node"] == {
        "__typename": "ProposedMatch",
        "id": mine["id"],
    }
    assert post(mentee_client, PROPOSAL, {"id": theirs["id"]})["data"]["proposedMatch"] is None
    assert post(mentee_client, NODE, {"id": theirs["id"]})["data"]["node"] is None
    assert post(outsider_client, MINE)["data"]["myProposedMatches"] == []

    # Answering someone else's offer is NotFound, and changes nothing.
    meddle = {"input": {"proposalId": theirs["id"], "accept": False}}
    answered = post(mentee_client, RESPOND, meddle)["data"]["respondToProposedMatch"]
    assert answered["__typename"] == "NotFound"
    for mutation, variables, field in (
        (REMOVE, {"id": theirs["id"]}, "removeProposedMatch"),
        (PUBLISH, {"id": round_id}, "publishMatchingRound"),
        (SWAP, {"a": mine["id"], "b": theirs["id"]}, "swapProposedMentors"),
    ):
        refused = post(mentee_client, mutation, variables)["data"][field]
        assert refused["__typename"] == "NotAllowed", (field, refused)

    # Organisers see every proposal, by id and by node.
    assert post(organiser_client, PROPOSAL, {"id": theirs["id"]})["data"]["proposedMatch"]
    node = post(organiser_client, NODE, {"id": round_id})["data"]["node"]
    assert node == {"__typename": "MatchingRound", "id": round_id}
    session.rollback()
    statuses = session.exec(select(MatchProposal.status)).all()
    session.rollback()
    assert sorted(statuses).count("offered") == 3


def test_bad_round_settings_are_named_and_nothing_is_created(session, client, network):
    organiser, mentors, _ = network
    mentor_id = gid("Member", mentors[0].id)
    log_in(client, organiser)

    bad = create(client, name=" ", respondDays=90, weights={"skills": -1}, seed=-1)
    assert bad["__typename"] == "InvalidInput", bad
    assert {e["field"] for e in bad["errors"]} == {"name", "respondDays", "weights", "seed"}

    no_members = create(client, cohort="MEMBERS")
    assert no_members["__typename"] == "InvalidInput" and no_members["field"] == "cohort"
    bad_id = create(client, cohort="MEMBERS", memberIds=["not-an-id"])
    assert bad_id["__typename"] == "InvalidInput" and bad_id["field"] == "memberIds"
    too_many = create(client, cohort="MEMBERS", memberIds=[gid("Member", 1)] * 101)
    assert too_many["__typename"] == "InvalidInput" and too_many["field"] == "memberIds"
    unknown = post(client, CREATE, {"input": {"name": "X", "cohort": "EVERYONE"}})
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    huge = create(client, name="x" * 20_000)
    assert huge["__typename"] == "InvalidInput" and huge["field"] == "name"
    assert count_rows(session, MatchingRound) == 0

    chosen = create(client, cohort="MEMBERS", memberIds=[mentor_id])
    assert chosen["__typename"] == "MatchingRoundSuccess", chosen
    assert chosen["round"]["cohort"] == "MEMBERS"

    wrong_id = post(client, ROUND, {"id": gid("Member", 1)})
    assert wrong_id["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    missing = post(client, ROUND, {"id": gid("MatchingRound", 999_999)})
    assert missing["data"]["matchingRound"] is None
    bad_remove = post(client, REMOVE, {"id": "nonsense"})["data"]["removeProposedMatch"]
    assert bad_remove["__typename"] == "InvalidInput"


def test_a_member_cannot_create_rounds(session, client, network):
    _, mentors, _ = network
    log_in(client, mentors[0])

    refused = create(client)

    assert refused["__typename"] == "NotAllowed"
    session.rollback()
    assert session.exec(select(func.count()).select_from(MatchingRound)).one() == 0
    session.rollback()


def test_through_schema_execute_with_loaders_batching_members(session, run, network, count_queries):
    organiser, _, _ = network
    organiser_id = organiser.id

    created = run(CREATE, {"input": {"name": "Direct"}}, member=organiser)
    matching_round = created["data"]["createMatchingRound"]["round"]
    assert matching_round["status"] == "READY"  # started on the session's own engine
    session.commit()

    count_queries.statements.clear()
    found = run(
        ROUND, {"id": matching_round["id"]}, member=session.get(type(organiser), organiser_id)
    )
    names = [
        e["node"]["mentee"]["name"] for e in found["data"]["matchingRound"]["proposals"]["edges"]
    ]
    assert len(names) == 4
    member_reads = [s for s in count_queries.statements if "FROM member " in s and " IN " in s]
    assert len(member_reads) == 1  # every mentee and mentor in one batch


PREVIEW = """
query($id: ID!) {
  matchingRound(id: $id) {
    publishPreview { pairs people emailed }
    unmatchedMentees { edges { node { mentee { name } reason } } pageInfo { hasNextPage } }
    proposals(status: UNMATCHED) { edges { node { mentee { name } reasons } } }
  }
}
"""
CONFIRMED_PUBLISH = """
mutation($id: ID!, $expected: Int) {
  publishMatchingRound(input: {roundId: $id, expectedEmails: $expected}) {
    __typename ... on MatchingRoundSuccess { round { status } }
    ... on Conflict { message field }
  }
}
"""
RETRY = """
mutation($id: ID!) {
  retryMatchingRound(input: {roundId: $id}) {
    __typename
    ... on MatchingRoundSuccess { round { status attempts error stalled } }
    ... on Error { message }
  }
}
"""


def test_the_api_previews_who_is_emailed_and_publishing_checks_the_count(
    session, make_client, network
):
    organiser, _, _ = network
    client = make_client()
    log_in(client, organiser)
    round_id = create(client)["round"]["id"]
    found = post(client, PREVIEW, {"id": round_id})["data"]["matchingRound"]
    preview = found["publishPreview"]
    offered = proposals(client, round_id, "PROPOSED")
    names = {p["mentee"]["name"] for p in offered} | {p["mentor"]["name"] for p in offered}
    assert preview == {"pairs": len(offered), "people": len(names), "emailed": len(names)}
    [unmatched] = found["proposals"]["edges"]
    assert found["unmatchedMentees"]["edges"] == [
        {
            "node": {
                "mentee": unmatched["node"]["mentee"],
                "reason": "; ".join(unmatched["node"]["reasons"]),
            }
        }
    ]
    assert found["unmatchedMentees"]["pageInfo"] == {"hasNextPage": False}

    stale = post(client, CONFIRMED_PUBLISH, {"id": round_id, "expected": len(names) + 3})
    assert stale["data"]["publishMatchingRound"]["__typename"] == "Conflict"
    assert stale["data"]["publishMatchingRound"]["field"] == "expectedEmails"
    done = post(client, CONFIRMED_PUBLISH, {"id": round_id, "expected": len(names)})
    assert done["data"]["publishMatchingRound"]["round"]["status"] == "PUBLISHED"


def test_a_failed_round_is_run_again_through_the_api(session, client, network, monkeypatch):
    organiser, _, mentees = network
    log_in(client, organiser)
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)  # no worker yet
    round_id = create(client)["round"]["id"]
    refused = post(client, RETRY, {"id": round_id})["data"]["retryMatchingRound"]
    assert refused["__typename"] == "Conflict"  # queued, not failed: nothing to retry
    session.rollback()
    stuck = session.exec(select(MatchingRound)).one()
    stuck.status, stuck.attempts, stuck.error = "failed", 1, "The worker ... Run it again."
    session.add(stuck)
    session.commit()

    monkeypatch.setattr(
        jobs, "enqueue", lambda path, *args, engine=None: jobs._resolve(path)(*args, engine=engine)
    )
    done = post(client, RETRY, {"id": round_id})["data"]["retryMatchingRound"]

    assert done["round"] == {"status": "READY", "attempts": 2, "error": "", "stalled": False}
    session.rollback()
    mentee_ids = session.exec(select(MatchProposal.mentee_id)).all()
    assert sorted(mentee_ids) == sorted(m.id for m in mentees)
    session.rollback()


def test_an_unreadable_seed_or_answer_time_is_named_and_nothing_is_created(
    session, client, network
):
    organiser, _, _ = network
    log_in(client, organiser)

    for field, value in (("seed", "lucky"), ("respondDays", "a week"), ("seed", 2**31)):
        answer = post(client, CREATE, {"input": {"name": "Spring cohort", field: value}})
        assert answer.get("data") is None, answer
        [error] = answer["errors"]
        assert f"at .{field}:" in error["message"] and "Int" in error["message"], error
    assert session.exec(select(func.count()).select_from(MatchingRound)).one() == 0
