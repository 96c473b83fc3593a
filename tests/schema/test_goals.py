"""Goals, check-ins and relationship health through GraphQL, with authorisation: no one outside
the pair reads a goal (organisers neither); a check-in is the answerer's own; health and the
needs-attention list are for organisers."""

from __future__ import annotations

from datetime import timedelta

from strawberry import relay

from backend.db import utcnow
from backend.members.models import Member
from backend.mentoring import check_ins
from backend.mentoring.models import Mentorship
from tests.factories import make_member, make_mentee, make_mentorship, make_organiser


def gid(type_name: str, value: int) -> str:
    return relay.to_base64(type_name, value)


ADD_GOAL = """
mutation($input: AddGoalInput!) {
  addGoal(input: $input) {
    __typename
    ... on GoalSuccess { goal { id title dueOn measure status } }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""
UPDATE_GOAL = """
mutation($input: UpdateGoalInput!) {
  updateGoal(input: $input) {
    __typename ... on GoalSuccess { goal { status title } } ... on Error { message }
  }
}
"""
ADD_NOTE = """
mutation($input: AddGoalNoteInput!) {
  addGoalNote(input: $input) {
    __typename
    ... on GoalNoteSuccess { goal { notes { text writtenByMe } } }
    ... on Error { message }
  }
}
"""
GOALS = """
query($id: ID!) { mentorship(id: $id) { goals { title notes { text } } pendingCheckIns { id } } }
"""
GOAL = "query($id: ID!) { mentorshipGoal(id: $id) { title notes { text } } }"
NODE = "query($id: ID!) { node(id: $id) { ... on Mentorship { goals { title } } } }"
ANSWER = """
mutation($input: AnswerCheckInInput!) {
  answerCheckIn(input: $input) {
    __typename
    ... on AnswerCheckInSuccess { checkIn { score comment shareWithOrganisers answeredAt } }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""
MY_CHECK_INS = "{ myCheckIns(pending: true) { id mentorshipId } }"
ATTENTION = """
query($programme: ID) {
  mentorshipsNeedingAttention(programmeId: $programme) {
    menteeName mentorName weeksQuiet reasons programme { name }
  }
}
"""
HEALTH = """
query($programme: ID!) {
  mentorshipHealth(programmeId: $programme) {
    activePairs { shown hidden } recentSessionShare needingAttention { shown }
    endedEarlyByCategory { category label count { shown } } meanCheckInScore
  }
}
"""
END = """
mutation($input: EndMentorshipInput!) {
  endMentorship(input: $input) {
    __typename ... on MentorshipSuccess { mentorship { status endReasonCategory } }
    ... on InvalidInput { errors { field message } }
  }
}
"""


def _pair(session, **fields):
    mentorship = make_mentorship(session, mentee=make_mentee(session, goals=""), **fields)
    return (
        mentorship,
        session.get(Member, mentorship.mentor_id),
        session.get(Member, mentorship.mentee_id),
    )


def test_the_pair_tracks_goals_and_no_one_else_reads_or_changes_them(run, session):
    mentorship, mentor, mentee = _pair(session)
    outsider, organiser = make_member(session), make_organiser(session)
    mid = gid("Mentorship", mentorship.id)

    added = run(
        ADD_GOAL,
        {
            "input": {
                "mentorshipId": mid,
                "title": "Run a budget round",
                "dueOn": "2027-06-30",
                "measure": "Signed off",
            }
        },
        member=mentee,
    )["data"]["addGoal"]
    assert added["__typename"] == "GoalSuccess", added
    goal_id = added["goal"]["id"]
    changed = run(UPDATE_GOAL, {"input": {"goalId": goal_id, "status": "ACHIEVED"}}, member=mentor)[
        "data"
    ]["updateGoal"]
    assert changed == {
        "__typename": "GoalSuccess",
        "goal": {"status": "ACHIEVED", "title": "Run a budget round"},
    }
    noted = run(ADD_NOTE, {"input": {"goalId": goal_id, "text": "Done"}}, member=mentor)
    assert noted["data"]["addGoalNote"]["goal"]["notes"] == [{"text": "Done", "writtenByMe": True}]

    read = run(GOALS, {"id": mid}, member=mentee)["data"]["mentorship"]
    assert read["goals"] == [{"title": "Run a budget round", "notes": [{"text": "Done"}]}]
    for stranger in (outsider, organiser):
        assert run(GOAL, {"id": goal_id}, member=stranger)["data"]["mentorshipGoal"] is None
        assert run(GOALS, {"id": mid}, member=stranger)["data"]["mentorship"] is None
        assert run(NODE, {"id": mid}, member=stranger)["data"]["node"] is None
        for query, variables, field in (
            (UPDATE_GOAL, {"input": {"goalId": goal_id, "title": "Mine now"}}, "updateGoal"),
            (ADD_NOTE, {"input": {"goalId": goal_id, "text": "Snooping"}}, "addGoalNote"),
            (ADD_GOAL, {"input": {"mentorshipId": mid, "title": "Mine"}}, "addGoal"),
        ):
            result = run(query, variables, member=stranger)["data"][field]
            assert result["__typename"] == "NotFound", result
    signed_out = run(GOAL, {"id": goal_id})
    assert not (signed_out["data"] or {}).get("mentorshipGoal") and signed_out["errors"]
    again = run(GOAL, {"id": goal_id}, member=mentor)["data"]["mentorshipGoal"]
    assert again == {"title": "Run a budget round", "notes": [{"text": "Done"}]}


def test_a_goal_without_a_title_is_refused_naming_the_field(run, session):
    mentorship, _, mentee = _pair(session)

    result = run(
        ADD_GOAL,
        {"input": {"mentorshipId": gid("Mentorship", mentorship.id), "title": "  "}},
        member=mentee,
    )["data"]["addGoal"]

    assert result["__typename"] == "InvalidInput"
    assert result["errors"][0]["field"] == "title"


def test_a_check_in_is_answered_by_its_member_only_and_once(run, session):
    mentorship, mentor, mentee = _pair(session, started_at=utcnow() - timedelta(days=31))
    check_ins.create_due(session=session)
    session.commit()
    [pending] = run(MY_CHECK_INS, member=mentee)["data"]["myCheckIns"]
    assert pending["mentorshipId"] == gid("Mentorship", mentorship.id)
    on_page = run(GOALS, {"id": pending["mentorshipId"]}, member=mentee)["data"]["mentorship"]
    assert on_page["pendingCheckIns"] == [{"id": pending["id"]}]

    as_partner = run(ANSWER, {"input": {"checkInId": pending["id"], "score": 1}}, member=mentor)[
        "data"
    ]["answerCheckIn"]
    bad = run(ANSWER, {"input": {"checkInId": pending["id"], "score": 9}}, member=mentee)["data"][
        "answerCheckIn"
    ]
    good = run(
        ANSWER,
        {"input": {"checkInId": pending["id"], "score": 4, "comment": "Going well"}},
        member=mentee,
    )["data"]["answerCheckIn"]
    twice = run(ANSWER, {"input": {"checkInId": pending["id"], "score": 2}}, member=mentee)["data"][
        "answerCheckIn"
    ]

    assert as_partner["__typename"] == "NotFound"
    assert bad["__typename"] == "InvalidInput" and bad["errors"][0]["field"] == "score"
    assert good["checkIn"]["score"] == 4 and good["checkIn"]["shareWithOrganisers"] is False
    assert twice["__typename"] == "Conflict"
    assert run(MY_CHECK_INS, member=mentee)["data"]["myCheckIns"] == []


def test_organisers_see_quiet_pairs_and_health_figures_and_members_do_not(run, session):
    organiser = make_organiser(session)
    mentorship, _, mentee = _pair(session, started_at=utcnow() - timedelta(weeks=10))
    programme = gid("Programme", mentorship.programme_id)
    session.commit()

    listed = run(ATTENTION, {"programme": programme}, member=organiser)
    health = run(HEALTH, {"programme": programme}, member=organiser)
    as_member = run(ATTENTION, {"programme": None}, member=mentee)
    health_as_member = run(HEALTH, {"programme": programme}, member=mentee)

    [item] = listed["data"]["mentorshipsNeedingAttention"]
    assert item["menteeName"] == mentee.name and item["weeksQuiet"] == 10
    assert item["reasons"][0] == "No session since it started 10 weeks ago"
    figures = health["data"]["mentorshipHealth"]
    assert figures["activePairs"] == {"shown": "*", "hidden": True}
    assert figures["recentSessionShare"] is None and figures["meanCheckInScore"] is None
    assert {c["category"] for c in figures["endedEarlyByCategory"]} >= {"NO_TIME", None}
    assert as_member["data"] is None and as_member["errors"]
    assert health_as_member["data"] is None and health_as_member["errors"]


def test_ending_early_through_the_api_keeps_the_category_optional(run, session):
    first, _, mentee = _pair(session)
    second, _, other_mentee = _pair(session)

    without = run(
        END,
        {"input": {"mentorshipId": gid("Mentorship", first.id), "outcome": "ENDED_EARLY"}},
        member=mentee,
    )["data"]["endMentorship"]
    with_category = run(
        END,
        {
            "input": {
                "mentorshipId": gid("Mentorship", second.id),
                "outcome": "ENDED_EARLY",
                "reasonCategory": "NOT_A_GOOD_FIT",
            }
        },
        member=other_mentee,
    )["data"]["endMentorship"]

    assert without["mentorship"] == {"status": "ENDED_EARLY", "endReasonCategory": None}
    assert with_category["mentorship"]["endReasonCategory"] == "NOT_A_GOOD_FIT"
    assert session.get(Mentorship, second.id).end_category == "not_a_good_fit"
