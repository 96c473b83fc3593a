"""The self-assessment over GraphQL: the reference, taking it (typed errors naming a missing
dimension), one's own sittings only, and the suggested skills."""

from __future__ import annotations

from strawberry import relay

from backend.assessments.models import DIMENSION_IDS
from backend.members.models import Member
from tests.factories import make_member, make_mentorship, make_self_assessment

TAKE = """
mutation($input: TakeSelfAssessmentInput!) {
  takeSelfAssessment(input: $input) {
    __typename
    ... on TakeSelfAssessmentSuccess {
      assessment { occasion mentorshipId ratings { dimension level value } }
      suggestedSkills { skillId name level alreadySought }
    }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
MINE = "{ mySelfAssessments { id occasion takenAt ratings { dimension value } } }"
ADD = """
mutation { addSuggestedSkills { __typename
  ... on AddSuggestedSkillsSuccess { added { id } skillsSought { id } }
  ... on Error { message } } }
"""


def enum_name(dimension: str) -> str:
    return dimension.replace("-", "_").upper()


def ratings(level: str = "STRONG", **overrides: str) -> list[dict[str, str]]:
    return [
        {"dimension": enum_name(d), "level": overrides.get(enum_name(d), level)}
        for d in DIMENSION_IDS
    ]


def test_the_reference_names_nine_dimensions_and_four_levels(run):
    result = run(
        "{ selfAssessmentDimensions { dimensions { dimension name description } "
        "levels { level value name } } }"
    )
    reference = result["data"]["selfAssessmentDimensions"]
    assert [d["dimension"] for d in reference["dimensions"]] == [
        enum_name(d) for d in DIMENSION_IDS
    ]
    assert all(d["description"] for d in reference["dimensions"])
    assert [(lv["level"], lv["value"]) for lv in reference["levels"]] == [
        ("ESSENTIAL", 1),
        ("PROFICIENT", 2),
        ("STRONG", 3),
        ("EXEMPLARY", 4),
    ]


def test_a_missing_dimension_is_an_invalid_input_naming_it(run, session):
    me = make_member(session)
    given = [r for r in ratings() if r["dimension"] != "LEADING_WITH_CARE"]

    result = run(TAKE, {"input": {"ratings": given}}, member=me)

    payload = result["data"]["takeSelfAssessment"]
    assert payload["__typename"] == "InvalidInput"
    assert payload["field"] == "ratings"
    assert payload["errors"] == [
        {"field": "ratings", "message": "Choose a level for leading with care."}
    ]
    assert run(MINE, member=me)["data"]["mySelfAssessments"] == []


def test_taking_it_at_the_start_suggests_skills_and_only_i_read_it(run, session):
    mentorship = make_mentorship(session)
    mentee = session.get(Member, mentorship.mentee_id)
    other = make_member(session)
    make_self_assessment(session, member=other)
    mentorship_id = str(relay.GlobalID("Mentorship", str(mentorship.id)))
    given = ratings(HOLDING_TO_ACCOUNT="ESSENTIAL", SHARING_THE_VISION="PROFICIENT")

    result = run(
        TAKE,
        {"input": {"ratings": given, "occasion": "START", "mentorshipId": mentorship_id}},
        member=mentee,
    )

    payload = result["data"]["takeSelfAssessment"]
    assert payload["__typename"] == "TakeSelfAssessmentSuccess"
    assert payload["assessment"]["occasion"] == "START"
    assert payload["assessment"]["mentorshipId"] == mentorship_id
    assert [s["skillId"] for s in payload["suggestedSkills"]] == [
        "holding-to-account",
        "sharing-the-vision",
    ]
    mine = run(MINE, member=mentee)["data"]["mySelfAssessments"]
    assert len(mine) == 1 and mine[0]["occasion"] == "START"
    assert {r["dimension"]: r["value"] for r in mine[0]["ratings"]}["HOLDING_TO_ACCOUNT"] == 1

    again = run(
        TAKE,
        {"input": {"ratings": given, "occasion": "START", "mentorshipId": mentorship_id}},
        member=mentee,
    )["data"]["takeSelfAssessment"]
    assert again["__typename"] == "Conflict"

    added = run(ADD, member=mentee)["data"]["addSuggestedSkills"]
    assert [s["id"] for s in added["added"]] == ["holding-to-account", "sharing-the-vision"]


def test_someone_elses_mentorship_is_not_found_and_anonymous_callers_are_refused(run, session):
    mentorship = make_mentorship(session)
    stranger = make_member(session)
    mentorship_id = str(relay.GlobalID("Mentorship", str(mentorship.id)))

    result = run(
        TAKE,
        {"input": {"ratings": ratings(), "occasion": "START", "mentorshipId": mentorship_id}},
        member=stranger,
    )
    assert result["data"]["takeSelfAssessment"]["__typename"] == "NotFound"

    anonymous = run(MINE)
    assert anonymous["data"] is None
    assert anonymous["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
