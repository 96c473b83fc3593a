"""Mentoring over GraphQL: the journey, typed errors, privacy of the pair, bad input, queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func
from sqlmodel import select
from strawberry import relay

from backend import london
from backend.db import utcnow
from backend.london import london_today
from backend.members.models import Member as MemberModel
from backend.members.models import MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentoringSession, MentorRequest, Mentorship
from tests.factories import PASSWORD, make_member
from tests.schema.test_journey import LOG_IN, post

REQUEST = """
mutation($input: RequestMentorInput!) {
  requestMentor(input: $input) {
    __typename
    ... on RequestMentorSuccess {
      request { id status message skills { id } mentor { name } mentee { name } }
    }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
REQUESTS = """
query($direction: MentorRequestDirection!, $status: MentorRequestStatus) {
  mentorRequests(direction: $direction, status: $status) {
    edges { node { id status message mentee { name } mentor { name } skills { name } } }
    pageInfo { hasNextPage }
  }
}
"""
RESPOND = """
mutation($input: RespondToMentorRequestInput!) {
  respondToMentorRequest(input: $input) {
    __typename
    ... on RespondToMentorRequestSuccess {
      request { status declineReason } mentorship { id status partnerName myRole }
    }
    ... on Error { message }
  }
}
"""
WITHDRAW = """
mutation($id: ID!) {
  withdrawMentorRequest(input: {requestId: $id}) {
    __typename ... on WithdrawMentorRequestSuccess { request { status } } ... on Error { message }
  }
}
"""
MENTORSHIPS = """
query($status: MentorshipStatus) {
  mentorships(status: $status) {
    id status goals { title status } plannedMonths meetingRhythm myRole partnerName
    mentor { name } mentee { name } partner { name }
    sessions { heldOn durationMinutes notes loggedByMe loggedBy { name } }
    myFeedback { rating text }
  }
}
"""
MENTORSHIP = """
query($id: ID!) {
  mentorship(id: $id) { id status partnerName sessions { heldOn notes } }
}
"""
LOG_SESSION = """
mutation($input: LogMentoringSessionInput!) {
  logMentoringSession(input: $input) {
    __typename
    ... on LogMentoringSessionSuccess { session { heldOn durationMinutes notes } }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
AGREEMENT = """
mutation($input: UpdateMentorshipAgreementInput!) {
  updateMentorshipAgreement(input: $input) {
    __typename
    ... on MentorshipSuccess { mentorship { goals { title } meetingRhythm plannedMonths } }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""
END = """
mutation($input: EndMentorshipInput!) {
  endMentorship(input: $input) {
    __typename
    ... on MentorshipSuccess { mentorship { status endReason myFeedback { rating text } } }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""
FEEDBACK = """
mutation($input: GiveMentorshipFeedbackInput!) {
  giveMentorshipFeedback(input: $input) {
    __typename
    ... on GiveMentorshipFeedbackSuccess { feedback { rating text } mentorship { status } }
    ... on Error { message }
  }
}
"""
DIRECTORY = """
query($filter: MemberFilter) {
  members(filter: $filter) {
    edges { node { id name mentoringOffer { capacity freePlaces paused meetingFormat
      skillsOffered { id } } } }
  }
}
"""
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


def gid(type_name: str, pk: int) -> str:
    return str(relay.GlobalID(type_name, str(pk)))


def make_mentor(session, **fields):
    defaults = {
        "band": "8a",
        "organisation": "Northfield Community Trust",
        "capacity": 2,
        "skills_offered": ("quality-improvement",),
        "meeting_format": "remote",
    }
    return make_member(session, **{**defaults, **fields})


def ask_input(mentor, **fields):
    return {
        "input": {
            "mentorId": gid("Member", mentor.id),
            "message": "I would like help with quality improvement.",
            "skills": ["quality-improvement"],
            **fields,
        }
    }


def log_in(client, member):
    result = post(client, LOG_IN, {"email": member.email, "password": PASSWORD})
    assert result["data"]["logIn"]["__typename"] == "LogInSuccess", result


def count_rows(session, model):
    session.rollback()  # a fresh snapshot, and no lock held on SQLite
    total = session.exec(select(func.count()).select_from(model)).one()
    session.rollback()
    return total


def accepted_pair(session, *, capacity=2):
    mentor = make_mentor(session, capacity=capacity)
    mentee = make_member(session, name="Mentee Mo")
    request = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Please help"
    )
    mentoring.respond_to_request(session=session, mentor=mentor, request_id=request.id, accept=True)
    [mentorship] = mentoring.list_mentorships(session=session, member=mentee)
    return mentor, mentee, request, mentorship


# The journey, over HTTP with two cookie jars --------------------------------------------------


def test_mentee_asks_mentor_accepts_both_log_and_read_sessions_and_end(session, make_client):
    mentor = make_mentor(session, name="Mentor Maya")
    mentee = make_member(session, name="Mentee Mo", goals="Lead a service")
    session.commit()
    mentee_client, mentor_client = make_client(), make_client()
    log_in(mentee_client, mentee)
    log_in(mentor_client, mentor)

    # The mentee finds a mentor with a free place.
    found = post(
        mentee_client,
        DIRECTORY,
        {
            "filter": {
                "skillOffered": "quality-improvement",
                "mentorsWithFreeCapacity": True,
                "meetingFormat": "REMOTE",
                "excludeSelf": True,
            }
        },
    )["data"]["members"]["edges"]
    assert [e["node"]["name"] for e in found] == ["Mentor Maya"]
    assert found[0]["node"]["mentoringOffer"] == {
        "capacity": 2,
        "freePlaces": 2,
        "paused": False,
        "meetingFormat": "REMOTE",
        "skillsOffered": [{"id": "quality-improvement"}],
    }

    # ... and asks.
    sent = post(mentee_client, REQUEST, ask_input(mentor, idempotencyKey="k1"))["data"]
    sent = sent["requestMentor"]
    assert sent["__typename"] == "RequestMentorSuccess", sent
    assert sent["request"]["status"] == "OPEN"
    assert sent["request"]["mentor"] == {"name": "Mentor Maya"}
    request_id = sent["request"]["id"]

    # The mentor sees it among the requests received, and a notification.
    inbox = post(mentor_client, REQUESTS, {"direction": "RECEIVED"})["data"]["mentorRequests"]
    assert [e["node"]["id"] for e in inbox["edges"]] == [request_id]
    assert inbox["edges"][0]["node"]["mentee"] == {"name": "Mentee Mo"}
    assert post(mentor_client, "{ me { unreadNotificationCount } }")["data"]["me"] == {
        "unreadNotificationCount": 1
    }
    outbox = post(mentee_client, REQUESTS, {"direction": "RECEIVED"})["data"]["mentorRequests"]
    assert outbox["edges"] == []

    # The mentor accepts.
    answered = post(mentor_client, RESPOND, {"input": {"requestId": request_id, "accept": True}})
    answered = answered["data"]["respondToMentorRequest"]
    assert answered["__typename"] == "RespondToMentorRequestSuccess", answered
    assert answered["request"]["status"] == "ACCEPTED"
    assert answered["mentorship"]["partnerName"] == "Mentee Mo"
    assert answered["mentorship"]["myRole"] == "MENTOR"
    mentorship_id = answered["mentorship"]["id"]

    # Both see the mentorship, each from their own side.
    as_mentee = post(mentee_client, MENTORSHIPS)["data"]["mentorships"]
    as_mentor = post(mentor_client, MENTORSHIPS, {"status": "ACTIVE"})["data"]["mentorships"]
    assert [m["id"] for m in as_mentee] == [m["id"] for m in as_mentor] == [mentorship_id]
    assert as_mentee[0]["myRole"] == "MENTEE"
    assert as_mentee[0]["partner"] == {"name": "Mentor Maya"}
    assert as_mentee[0]["goals"] == [{"title": "Lead a service", "status": "OPEN"}]

    # The mentor records the agreement; the mentee logs a session; the mentor reads it.
    agreed = post(
        mentor_client,
        AGREEMENT,
        {
            "input": {
                "mentorshipId": mentorship_id,
                "goals": "Lead a QI project",
                "meetingRhythm": "Monthly on Teams",
                "plannedMonths": 9,
            }
        },
    )["data"]["updateMentorshipAgreement"]
    assert agreed["__typename"] == "MentorshipSuccess", agreed
    # The deprecated free-text goals: each new line becomes a tracked goal.
    assert [g["title"] for g in agreed["mentorship"]["goals"]] == [
        "Lead a service",
        "Lead a QI project",
    ]
    today = utcnow().date().isoformat()
    logged = post(
        mentee_client,
        LOG_SESSION,
        {
            "input": {
                "mentorshipId": mentorship_id,
                "heldOn": today,
                "durationMinutes": 45,
                "notes": "Talked about the <b>QI</b> charter.",
            }
        },
    )["data"]["logMentoringSession"]
    assert logged["__typename"] == "LogMentoringSessionSuccess", logged
    [read] = post(mentor_client, MENTORSHIPS)["data"]["mentorships"]
    assert read["sessions"] == [
        {
            "heldOn": today,
            "durationMinutes": 45,
            "notes": "Talked about the <b>QI</b> charter.",
            "loggedByMe": False,
            "loggedBy": {"name": "Mentee Mo"},
        }
    ]
    assert read["plannedMonths"] == 9

    # The mentee ends it with feedback; the mentor gives theirs; the place is free again.
    ended = post(
        mentee_client,
        END,
        {
            "input": {
                "mentorshipId": mentorship_id,
                "outcome": "COMPLETED",
                "rating": 5,
                "feedback": "Really helpful.",
            }
        },
    )["data"]["endMentorship"]
    assert ended == {
        "__typename": "MentorshipSuccess",
        "mentorship": {
            "status": "COMPLETED",
            "endReason": "",
            "myFeedback": {"rating": 5, "text": "Really helpful."},
        },
    }
    given = post(mentor_client, FEEDBACK, {"input": {"mentorshipId": mentorship_id, "rating": 4}})[
        "data"
    ]["giveMentorshipFeedback"]
    assert given == {
        "__typename": "GiveMentorshipFeedbackSuccess",
        "feedback": {"rating": 4, "text": ""},
        "mentorship": {"status": "COMPLETED"},
    }
    again = post(mentor_client, FEEDBACK, {"input": {"mentorshipId": mentorship_id, "rating": 3}})
    assert again["data"]["giveMentorshipFeedback"]["__typename"] == "Conflict"
    offer = post(mentor_client, "{ me { mentoringOffer { freePlaces } } }")["data"]["me"]
    assert offer == {"mentoringOffer": {"freePlaces": 2}}


def test_a_retried_request_with_the_same_key_creates_one_row(run, session):
    mentor = make_mentor(session)
    mentee = make_member(session)

    first = run(REQUEST, ask_input(mentor, idempotencyKey="try-1"), member=mentee)
    second = run(REQUEST, ask_input(mentor, idempotencyKey="try-1"), member=mentee)

    assert first["data"]["requestMentor"] == second["data"]["requestMentor"]
    assert count_rows(session, MentorRequest) == 1


# Typed errors ---------------------------------------------------------------------------------


def typename(result, field):
    return result["data"][field]["__typename"]


def test_a_second_open_request_to_the_same_mentor_is_a_duplicate_request(run, session):
    mentor = make_mentor(session)
    mentee = make_member(session)
    run(REQUEST, ask_input(mentor), member=mentee)

    again = run(REQUEST, ask_input(mentor), member=mentee)

    assert typename(again, "requestMentor") == "DuplicateRequest"
    assert "already have an open request" in again["data"]["requestMentor"]["message"]
    assert count_rows(session, MentorRequest) == 1


def test_a_full_mentor_is_capacity_reached(run, session):
    mentor, _mentee, _request, _mentorship = accepted_pair(session, capacity=1)
    newcomer = make_member(session)

    result = run(REQUEST, ask_input(mentor), member=newcomer)

    assert typename(result, "requestMentor") == "CapacityReached"
    assert count_rows(session, MentorRequest) == 1


def test_accepting_past_capacity_is_capacity_reached_and_changes_nothing(run, session):
    mentor = make_mentor(session, capacity=1)
    first, second = make_member(session), make_member(session)
    requests = [
        mentoring.request_mentor(session=session, mentee=m, mentor_id=mentor.id, message="Hi")
        for m in (first, second)
    ]
    accept = {"input": {"requestId": gid("MentorRequest", requests[0].id), "accept": True}}
    assert typename(run(RESPOND, accept, member=mentor), "respondToMentorRequest") == (
        "RespondToMentorRequestSuccess"
    )

    second_accept = {"input": {"requestId": gid("MentorRequest", requests[1].id), "accept": True}}
    result = run(RESPOND, second_accept, member=mentor)

    assert typename(result, "respondToMentorRequest") == "CapacityReached"
    assert count_rows(session, Mentorship) == 1
    assert session.get(MentorRequest, requests[1].id).status == "open"


def test_a_fourth_open_request_is_too_many_open_requests(run, session):
    mentee = make_member(session)
    mentors = [make_mentor(session) for _ in range(4)]
    for mentor in mentors[:3]:
        assert typename(run(REQUEST, ask_input(mentor), member=mentee), "requestMentor") == (
            "RequestMentorSuccess"
        )

    result = run(REQUEST, ask_input(mentors[3]), member=mentee)

    assert typename(result, "requestMentor") == "TooManyOpenRequests"
    assert count_rows(session, MentorRequest) == 3


def test_asking_oneself_is_invalid_input_on_mentor_id(run, session):
    mentor = make_mentor(session)

    result = run(REQUEST, ask_input(mentor), member=mentor)

    assert result["data"]["requestMentor"]["__typename"] == "InvalidInput"
    assert result["data"]["requestMentor"]["field"] == "mentorId"
    assert count_rows(session, MentorRequest) == 0


def test_an_unverified_member_is_not_allowed_and_anonymous_must_log_in(run, session):
    mentor = make_mentor(session)
    unverified = make_member(session, verified=False)

    assert typename(run(REQUEST, ask_input(mentor), member=unverified), "requestMentor") == (
        "NotAllowed"
    )
    assert typename(run(REQUEST, ask_input(mentor)), "requestMentor") == "NotAuthenticated"
    anonymous = run(REQUESTS, {"direction": "SENT"})
    assert anonymous["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_decline_with_a_reason_and_withdraw(run, session):
    mentor = make_mentor(session)
    mentee = make_member(session)
    first = run(REQUEST, ask_input(mentor), member=mentee)["data"]["requestMentor"]["request"]

    declined = run(
        RESPOND,
        {"input": {"requestId": first["id"], "accept": False, "reason": "Full this term"}},
        member=mentor,
    )["data"]["respondToMentorRequest"]
    assert declined["request"] == {"status": "DECLINED", "declineReason": "Full this term"}
    assert declined["mentorship"] is None

    second = run(REQUEST, ask_input(mentor), member=mentee)["data"]["requestMentor"]["request"]
    withdrawn = run(WITHDRAW, {"id": second["id"]}, member=mentee)["data"]
    assert withdrawn["withdrawMentorRequest"]["request"] == {"status": "WITHDRAWN"}
    twice = run(WITHDRAW, {"id": second["id"]}, member=mentee)["data"]
    assert twice["withdrawMentorRequest"]["__typename"] == "Conflict"

    sent = run(REQUESTS, {"direction": "SENT", "status": "DECLINED"}, member=mentee)
    assert [e["node"]["status"] for e in sent["data"]["mentorRequests"]["edges"]] == ["DECLINED"]


# Only the pair ------------------------------------------------------------------------------


def test_a_stranger_cannot_read_or_touch_others_requests_mentorships_or_notes(run, session):
    mentor, mentee, request, mentorship = accepted_pair(session)
    mentoring.log_session(
        session=session,
        member=mentee,
        mentorship_id=mentorship.id,
        log=mentoring.SessionLog(
            held_on=london_today(), duration_minutes=30, notes="Private notes"
        ),
    )
    stranger = make_member(session)
    request_gid, mentorship_gid = gid("MentorRequest", request.id), gid("Mentorship", mentorship.id)

    assert run(MENTORSHIP, {"id": mentorship_gid}, member=stranger) == {
        "data": {"mentorship": None}
    }
    assert run(
        "query($id: ID!) { mentorRequest(id: $id) { message } }",
        {"id": request_gid},
        member=stranger,
    ) == {"data": {"mentorRequest": None}}
    for node_id in (request_gid, mentorship_gid):
        assert run(NODE, {"id": node_id}, member=stranger) == {"data": {"node": None}}
    assert run(MENTORSHIPS, member=stranger)["data"]["mentorships"] == []
    for direction in ("SENT", "RECEIVED"):
        edges = run(REQUESTS, {"direction": direction}, member=stranger)["data"]
        assert edges["mentorRequests"]["edges"] == []

    # Nor change them.
    assert typename(
        run(WITHDRAW, {"id": request_gid}, member=stranger), "withdrawMentorRequest"
    ) == ("NotFound")
    log = {
        "input": {
            "mentorshipId": mentorship_gid,
            "heldOn": london_today().isoformat(),
            "durationMinutes": 30,
        }
    }
    assert typename(run(LOG_SESSION, log, member=stranger), "logMentoringSession") == "NotFound"
    end = {"input": {"mentorshipId": mentorship_gid, "outcome": "ENDED_EARLY"}}
    assert typename(run(END, end, member=stranger), "endMentorship") == "NotFound"
    assert count_rows(session, MentoringSession) == 1
    assert session.get(Mentorship, mentorship.id).status == "active"

    # The pair themselves can read the notes, also through node.
    seen = run(MENTORSHIP, {"id": mentorship_gid}, member=mentor)["data"]["mentorship"]
    assert seen["sessions"][0]["notes"] == "Private notes"
    via_node = run(NODE, {"id": mentorship_gid}, member=mentee)["data"]["node"]
    assert via_node == {"__typename": "Mentorship", "id": mentorship_gid}


def test_a_mentee_cannot_answer_their_own_request(run, session):
    mentor = make_mentor(session)
    mentee = make_member(session)
    request = run(REQUEST, ask_input(mentor), member=mentee)["data"]["requestMentor"]["request"]

    result = run(RESPOND, {"input": {"requestId": request["id"], "accept": True}}, member=mentee)

    assert typename(result, "respondToMentorRequest") == "NotFound"
    assert count_rows(session, Mentorship) == 0


def test_a_partner_who_erased_their_account_shows_as_former_member(run, session):
    mentor, mentee, _request, _mentorship = accepted_pair(session)
    session.execute(delete(MemberModel).where(MemberModel.id == mentee.id))
    session.commit()

    [seen] = run(MENTORSHIPS, member=mentor)["data"]["mentorships"]

    assert seen["mentee"] is None
    assert seen["partner"] is None
    assert seen["partnerName"] == "Former member"
    assert seen["mentor"]["name"] == mentor.name
    assert seen["myRole"] == "MENTOR"


# Bad input ------------------------------------------------------------------------------------


def test_unknown_enum_values_are_clear_errors_and_change_nothing(run, session):
    _mentor, mentee, _request, mentorship = accepted_pair(session)
    end = {"input": {"mentorshipId": gid("Mentorship", mentorship.id), "outcome": "MAYBE"}}

    result = run(END, end, member=mentee)
    listing = run(REQUESTS, {"direction": "SIDEWAYS"}, member=mentee)

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "MAYBE" in result["errors"][0]["message"]
    assert listing["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert session.get(Mentorship, mentorship.id).status == "active"


@pytest.mark.parametrize("held_on", ["2026-02-30", "yesterday", "14/03/2026", ""])
def test_a_bad_date_is_a_clear_error_over_http_and_no_row_is_written(session, make_client, held_on):
    _mentor, mentee, _request, mentorship = accepted_pair(session)
    session.commit()
    client = make_client()
    log_in(client, mentee)

    result = post(
        client,
        LOG_SESSION,
        {
            "input": {
                "mentorshipId": gid("Mentorship", mentorship.id),
                "heldOn": held_on,
                "durationMinutes": 30,
            }
        },
    )

    assert result["data"] is None
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "heldOn" in result["errors"][0]["message"]
    assert count_rows(session, MentoringSession) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"heldOn": (date.today() + timedelta(days=3)).isoformat()}, "heldOn"),
        ({"durationMinutes": 0}, "durationMinutes"),
        ({"durationMinutes": 100_000}, "durationMinutes"),
        ({"notes": "x" * 20_000}, "notes"),
    ],
)
def test_bad_session_values_are_invalid_input(run, session, fields, field):
    _mentor, mentee, _request, mentorship = accepted_pair(session)
    values = {
        "mentorshipId": gid("Mentorship", mentorship.id),
        "heldOn": london_today().isoformat(),
        "durationMinutes": 30,
        **fields,
    }

    result = run(LOG_SESSION, {"input": values}, member=mentee)["data"]["logMentoringSession"]

    assert result["__typename"] == "InvalidInput"
    assert result["field"] == field
    assert count_rows(session, MentoringSession) == 0


def test_a_session_before_the_mentorship_started_is_invalid_input_naming_the_day(run, session):
    _mentor, mentee, _request, mentorship = accepted_pair(session)
    started = london_today()
    result = run(
        LOG_SESSION,
        {
            "input": {
                "mentorshipId": gid("Mentorship", mentorship.id),
                "heldOn": (started - timedelta(days=1)).isoformat(),
                "durationMinutes": 30,
            }
        },
        member=mentee,
    )["data"]["logMentoringSession"]

    assert result["__typename"] == "InvalidInput"
    assert result["field"] == "heldOn"
    assert result["message"] == (
        f"The date of the session must be on or after {london.format_date(started)}, "
        "when the mentorship started."
    )
    assert count_rows(session, MentoringSession) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message": "x" * 50_000}, "message"),
        ({"message": "x" * 2_001}, "message"),
        ({"message": "   "}, "message"),
        ({"skills": ["no-such-skill"]}, "skills"),
        ({"skills": ["quality-improvement"] * 101}, "skills"),
        ({"mentorId": "not an id"}, "mentorId"),
        ({"mentorId": gid("Mentorship", 1)}, "mentorId"),
        ({"idempotencyKey": "k" * 101}, "idempotencyKey"),
    ],
)
def test_bad_request_input_is_invalid_input_and_writes_nothing(run, session, fields, field):
    mentor = make_mentor(session)
    mentee = make_member(session)

    result = run(REQUEST, ask_input(mentor, **fields), member=mentee)["data"]["requestMentor"]

    assert result["__typename"] == "InvalidInput", result
    assert result["field"] == field
    assert count_rows(session, MentorRequest) == 0
    session.refresh(mentee)
    assert mentee.open_requests == 0


def test_a_huge_message_over_http_is_refused_without_a_500(session, make_client):
    mentor = make_mentor(session)
    mentee = make_member(session)
    session.commit()
    client = make_client()
    log_in(client, mentee)

    result = post(client, REQUEST, ask_input(mentor, message="x" * 500_000))

    assert result["data"]["requestMentor"]["__typename"] == "InvalidInput"
    assert count_rows(session, MentorRequest) == 0


# Query counts ---------------------------------------------------------------------------------


def selects(counter):
    return [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]


def inbox_selects(run, mentor, counter):
    counter.statements.clear()
    query = """
    { mentorRequests(direction: RECEIVED) { edges { node {
        status skills { name }
        mentee { name skillsSought { id } mentoringOffer { freePlaces } }
        mentor { name }
    } } } }
    """
    result = run(query, member=mentor)
    assert "errors" not in result, result
    return result["data"]["mentorRequests"]["edges"], selects(counter)


def test_request_lists_take_the_same_queries_for_3_or_12_requests(run, session, count_queries):
    mentor = make_mentor(session, capacity=1)

    def ask_from(n):
        for _ in range(n):
            mentee = make_member(session, skills_sought=("quality-improvement",))
            mentoring.request_mentor(
                session=session,
                mentee=mentee,
                mentor_id=mentor.id,
                message="Hello",
                skills=["quality-improvement"],
            )

    ask_from(3)
    few_edges, few = inbox_selects(run, mentor, count_queries)
    ask_from(9)
    many_edges, many = inbox_selects(run, mentor, count_queries)

    assert (len(few_edges), len(many_edges)) == (3, 12)
    assert len(many) == len(few) <= 5, many


def test_mentorship_lists_take_the_same_queries_for_1_or_5_mentorships(run, session, count_queries):
    mentor = make_mentor(session, capacity=10)

    def pair_with(n):
        for _ in range(n):
            mentee = make_member(session)
            request = mentoring.request_mentor(
                session=session, mentee=mentee, mentor_id=mentor.id, message="Hello"
            )
            mentoring.respond_to_request(
                session=session, mentor=mentor, request_id=request.id, accept=True
            )
            [mentorship] = mentoring.list_mentorships(session=session, member=mentee)
            mentoring.log_session(
                session=session,
                member=mentee,
                mentorship_id=mentorship.id,
                log=mentoring.SessionLog(
                    held_on=london_today(), duration_minutes=30, notes="Notes"
                ),
            )

    def listing():
        count_queries.statements.clear()
        result = run(MENTORSHIPS, member=mentor)
        assert "errors" not in result, result
        return result["data"]["mentorships"], selects(count_queries)

    pair_with(1)
    few_rows, few = listing()
    pair_with(4)
    many_rows, many = listing()

    assert (len(few_rows), len(many_rows)) == (1, 5)
    assert all(len(m["sessions"]) == 1 for m in many_rows)
    assert len(many) == len(few) <= 5, many


def test_directory_with_offers_takes_the_same_queries(run, session, count_queries):
    viewer = make_member(session)

    def listing():
        count_queries.statements.clear()
        result = run(DIRECTORY, {"filter": {"mentorsWithFreeCapacity": True}}, member=viewer)
        assert "errors" not in result, result
        return result["data"]["members"]["edges"], selects(count_queries)

    for _ in range(2):
        make_mentor(session)
    few_edges, few = listing()
    for _ in range(8):
        make_mentor(session)
    many_edges, many = listing()

    assert (len(few_edges), len(many_edges)) == (2, 10)
    assert len(many) == len(few) <= 4, many
    assert session.exec(select(MentoringOffer)).all()
