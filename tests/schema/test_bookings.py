"""Booking sessions over GraphQL: propose, pick, reschedule, cancel; typed errors; the pair only."""

from __future__ import annotations

import pytest
from strawberry import relay

from tests.factories import make_member, make_mentee, make_mentor, make_mentorship

PROPOSE = """
mutation($input: ProposeSessionTimesInput!) {
  proposeSessionTimes(input: $input) {
    __typename
    ... on SessionBookingSuccess {
      bookedSession { id status proposedByMe options { id startsAt startsAtLondon format } }
    }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
RESULT = """
  __typename
  ... on SessionBookingSuccess {
    bookedSession {
      id status sequence calendarUid startsAt startsAtLondon durationMinutes format videoLink
      icsUrl logged canBeLogged
    }
  }
  ... on InvalidInput { field errors { field message } }
  ... on Error { message }
"""
PICK = (
    f"mutation($input: PickSessionTimeInput!) {{ pickSessionTime(input: $input) {{ {RESULT} }} }}"
)
MOVE = (
    "mutation($input: RescheduleSessionInput!) "
    f"{{ rescheduleSession(input: $input) {{ {RESULT} }} }}"
)
CANCEL = f"mutation($input: CancelSessionInput!) {{ cancelSession(input: $input) {{ {RESULT} }} }}"
MENTORSHIP = """
query($id: ID!) {
  mentorship(id: $id) {
    sessionProposals { id proposedByMe options { id startsAtLondon durationMinutes } }
    bookedSessions { id status sequence startsAt }
  }
}
"""


@pytest.fixture
def pair(session):
    mentor = make_mentor(session, name="Gita Mentor")
    mentee = make_mentee(session, name="Hal Mentee")
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    session.commit()
    return mentor, mentee, str(relay.GlobalID("Mentorship", str(mentorship.id)))


def time(day: str, start: str, **more: object) -> dict[str, object]:
    return {"date": day, "startTime": start, "durationMinutes": 60, "format": "VIDEO", **more}


def test_the_pair_propose_pick_reschedule_and_cancel_with_london_times(run, pair):
    mentor, mentee, mentorship_id = pair

    proposed = run(
        PROPOSE,
        {
            "input": {
                "mentorshipId": mentorship_id,
                "times": [time("2027-01-12", "10:30"), time("2027-07-06", "10:30am")],
                "message": "Either works for me",
            }
        },
        member=mentee,
    )["data"]["proposeSessionTimes"]
    assert proposed["__typename"] == "SessionBookingSuccess", proposed
    seen = run(MENTORSHIP, {"id": mentorship_id}, member=mentor)["data"]["mentorship"]
    [proposal] = seen["sessionProposals"]
    assert proposal["proposedByMe"] is False
    assert [o["startsAtLondon"] for o in proposal["options"]] == [
        "2027-01-12T10:30+00:00",  # GMT
        "2027-07-06T10:30+01:00",  # British Summer Time
    ]
    summer = proposal["options"][1]["id"]

    picked = run(PICK, {"input": {"bookingId": proposal["id"], "optionId": summer}}, member=mentor)[
        "data"
    ]["pickSessionTime"]
    moved = run(
        MOVE,
        {"input": {"bookingId": proposal["id"], "time": time("2027-01-19", "9am")}},
        member=mentee,
    )["data"]["rescheduleSession"]
    cancelled = run(CANCEL, {"input": {"bookingId": proposal["id"]}}, member=mentor)["data"][
        "cancelSession"
    ]

    booked = picked["bookedSession"]
    assert (booked["status"], booked["sequence"]) == ("BOOKED", 0)
    assert booked["startsAt"].startswith("2027-07-06T09:30:00")
    assert booked["icsUrl"].endswith(".ics") and booked["calendarUid"].startswith("session-")
    assert moved["bookedSession"]["sequence"] == 1
    assert moved["bookedSession"]["startsAtLondon"] == "2027-01-19T09:00+00:00"
    assert moved["bookedSession"]["calendarUid"] == booked["calendarUid"]
    assert (cancelled["bookedSession"]["status"], cancelled["bookedSession"]["sequence"]) == (
        "CANCELLED",
        2,
    )
    after = run(MENTORSHIP, {"id": mentorship_id}, member=mentee)["data"]["mentorship"]
    assert after["sessionProposals"] == []
    assert [b["status"] for b in after["bookedSessions"]] == ["CANCELLED"]


def test_typed_errors_name_the_field_and_outsiders_find_nothing(run, pair, session):
    _, mentee, mentorship_id = pair
    outsider = make_member(session, name="Ivy Outsider")
    session.commit()

    past = run(
        PROPOSE,
        {"input": {"mentorshipId": mentorship_id, "times": [time("2020-01-01", "10:00")]}},
        member=mentee,
    )["data"]["proposeSessionTimes"]
    skipped = run(
        PROPOSE,
        {"input": {"mentorshipId": mentorship_id, "times": [time("2027-03-28", "01:30")]}},
        member=mentee,
    )["data"]["proposeSessionTimes"]
    too_many = run(
        PROPOSE,
        {"input": {"mentorshipId": mentorship_id, "times": [time("2027-01-12", "10:30")] * 4}},
        member=mentee,
    )["data"]["proposeSessionTimes"]
    stranger = run(
        PROPOSE,
        {"input": {"mentorshipId": mentorship_id, "times": [time("2027-01-12", "10:30")]}},
        member=outsider,
    )["data"]["proposeSessionTimes"]
    mine = run(
        PROPOSE,
        {"input": {"mentorshipId": mentorship_id, "times": [time("2027-01-12", "10:30")]}},
        member=mentee,
    )["data"]["proposeSessionTimes"]["bookedSession"]
    option = mine["options"][0]["id"]
    own_pick = run(PICK, {"input": {"bookingId": mine["id"], "optionId": option}}, member=mentee)
    outsider_pick = run(
        PICK, {"input": {"bookingId": mine["id"], "optionId": option}}, member=outsider
    )
    bad_id = run(CANCEL, {"input": {"bookingId": "nonsense"}}, member=mentee)

    assert past["__typename"] == "InvalidInput" and past["field"] == "time1Date"
    assert skipped["field"] == "time1Start"
    assert "does not exist in London" in skipped["errors"][0]["message"]
    assert too_many["field"] == "times"
    assert stranger["__typename"] == "NotFound"
    assert own_pick["data"]["pickSessionTime"]["__typename"] == "NotAllowed"
    assert outsider_pick["data"]["pickSessionTime"]["__typename"] == "NotFound"
    assert bad_id["data"]["cancelSession"]["__typename"] == "InvalidInput"
    assert run(MENTORSHIP, {"id": mentorship_id}, member=outsider)["data"]["mentorship"] is None
