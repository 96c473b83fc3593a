"""Programme types over GraphQL: a mentoring group and its sessions, and mentor suggestions
under a reciprocal programme's rule."""

from __future__ import annotations

from datetime import timedelta

from strawberry import relay

from backend import london
from backend.mentoring.models import MentoringGroup, Mentorship
from matching.rules import RECIPROCAL_REASON
from tests.factories import make_mentee, make_mentor, make_programme

GROUP = """
query($id: ID!) { mentoringGroup(id: $id) {
  name programmeName mentor { name } members { name }
  sessions { heldOn durationMinutes notes attended { name } loggedBy { name } }
} }
"""
MINE = "{ myMentoringGroups { id name members { name } } }"
LOG = """
mutation($input: LogGroupSessionInput!) { logGroupSession(input: $input) {
  __typename
  ... on LogGroupSessionSuccess { session { durationMinutes attended { name } }
                                  group { sessions { notes } } }
  ... on InvalidInput { errors { field message } }
} }
"""
SUGGEST = """
query($programme: ID) { mentorSuggestions(first: 5, programmeId: $programme) {
  mentor { name } reasons
} }
"""


def gid(kind, raw):
    return relay.to_base64(kind, raw)


def _group(session):
    programme = make_programme(session, name="Team leads", type="group", group_size=3)
    mentor = make_mentor(session, name="Grace Mentor")
    members = [make_mentee(session, name=f"Member {n}") for n in ("Ann", "Bo")]
    outsider = make_mentee(session, name="Out Sider")
    group = MentoringGroup(programme_id=programme.id, mentor_id=mentor.id, name="Team leads group")
    session.add(group)
    session.flush()
    for member in members:
        session.add(
            Mentorship(
                programme_id=programme.id,
                mentor_id=mentor.id,
                mentee_id=member.id,
                group_id=group.id,
            )
        )
    session.commit()
    return group, mentor, members, outsider


def test_a_member_logs_a_group_session_and_the_group_sees_it(run, session):
    group, mentor, (ann, bo), outsider = _group(session)
    today = london.london_today().isoformat()

    logged = run(
        LOG,
        {
            "input": {
                "groupId": gid("MentoringGroup", group.id),
                "heldOn": today,
                "durationMinutes": 50,
                "notes": "Shared rota templates",
                "attendedIds": [gid("Member", mentor.id), gid("Member", ann.id)],
            }
        },
        member=bo,
    )
    seen = run(GROUP, {"id": gid("MentoringGroup", group.id)}, member=mentor)
    hidden = run(GROUP, {"id": gid("MentoringGroup", group.id)}, member=outsider)
    mine = run(MINE, member=ann)

    result = logged["data"]["logGroupSession"]
    assert result["__typename"] == "LogGroupSessionSuccess"
    assert {p["name"] for p in result["session"]["attended"]} == {"Grace Mentor", "Member Ann"}
    view = seen["data"]["mentoringGroup"]
    assert view["mentor"]["name"] == "Grace Mentor"
    assert {m["name"] for m in view["members"]} == {"Member Ann", "Member Bo"}
    assert view["sessions"][0]["notes"] == "Shared rota templates"
    assert view["sessions"][0]["loggedBy"]["name"] == "Member Bo"
    assert hidden["data"]["mentoringGroup"] is None
    assert [g["name"] for g in mine["data"]["myMentoringGroups"]] == ["Team leads group"]


def test_a_bad_group_session_names_each_field(run, session):
    group, mentor, _, outsider = _group(session)
    tomorrow = (london.london_today() + timedelta(days=1)).isoformat()

    result = run(
        LOG,
        {
            "input": {
                "groupId": gid("MentoringGroup", group.id),
                "heldOn": tomorrow,
                "durationMinutes": 1,
                "attendedIds": [gid("Member", outsider.id)],
            }
        },
        member=mentor,
    )["data"]["logGroupSession"]

    assert result["__typename"] == "InvalidInput"
    assert {e["field"] for e in result["errors"]} == {"heldOn", "durationMinutes", "attendedIds"}


def test_suggestions_under_a_reciprocal_programme_state_its_rule(run, session):
    programme = make_programme(session, type="reciprocal")
    mentee = make_mentee(session, band="4", priority_access=True)
    make_mentor(session, band="7", name="Band Seven")
    make_mentor(session, band="8c", name="Senior Leader")

    found = run(SUGGEST, {"programme": gid("Programme", programme.id)}, member=mentee)

    suggestions = found["data"]["mentorSuggestions"]
    assert [s["mentor"]["name"] for s in suggestions] == ["Senior Leader"]
    assert suggestions[0]["reasons"][0] == RECIPROCAL_REASON
