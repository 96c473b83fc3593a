"""Programmes through GraphQL: create, questions, publish, apply, decide; two chapters."""

from __future__ import annotations

from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.members.models import Member
from backend.programmes.models import Programme, ProgrammeApplication
from tests.factories import (
    make_chapter,
    make_member,
    make_organiser_scope,
    make_programme,
    make_programme_application,
)

CREATE = """
mutation($input: ProgrammeInput!) {
  createProgramme(input: $input) {
    __typename
    ... on ProgrammeSuccess { programme { id name status eligibleBands eligibility chapterName } }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
QUESTIONS = """
mutation($input: SetProgrammeQuestionsInput!) {
  setProgrammeQuestions(input: $input) {
    __typename
    ... on ProgrammeSuccess { programme { questions { id kind text choices } } }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""
PUBLISH = """
mutation($id: ID!) {
  publishProgramme(input: {programmeId: $id}) {
    __typename ... on ProgrammeSuccess { programme { status } } ... on Error { message }
  }
}
"""
APPLY = """
mutation($input: ApplyToProgrammeInput!) {
  applyToProgramme(input: $input) {
    __typename
    ... on ProgrammeApplicationSuccess { application { id status role } }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""
DECIDE = """
mutation($input: DecideProgrammeApplicationInput!) {
  decideProgrammeApplication(input: $input) {
    __typename
    ... on ProgrammeApplicationSuccess { application { status decisionMessage } }
    ... on Error { message }
  }
}
"""
BROWSE = """
{ programmes { edges { node { id name applicationsOpen notEligibleBecause eligibility
  myApplication { status decisionMessage } } } } }
"""
APPLICATIONS = """
query($id: ID!, $status: ProgrammeApplicationStatus) {
  programmeApplications(programmeId: $id, status: $status) {
    edges { node { id status applicant { name } answers { question values } } }
  }
  programmeApplicationCounts(programmeId: $id) { status count }
}
"""


def _chapters(session):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    nw = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)
    ldn = session.get(Member, make_organiser_scope(session, chapter=london).member_id)
    return north_west, london, nw, ldn


def test_the_whole_journey_through_graphql(session, run):
    north_west, _, organiser, london_organiser = _chapters(session)
    band4 = make_member(session, name="Bea Four", region="North West", band="4")
    band8a = make_member(session, name="Ade Eight", region="North West", band="8a")
    session.commit()

    created = run(
        CREATE,
        {
            "input": {
                "name": "Into management",
                "eligibleBands": ["BAND_3", "BAND_4", "BAND_5"],
                "chapterId": north_west.id,
                "places": 5,
            }
        },
        member=organiser,
    )["data"]["createProgramme"]
    assert created["__typename"] == "ProgrammeSuccess", created
    programme = created["programme"]
    assert programme["eligibility"] == ["For bands 3 to 5."]
    assert programme["chapterName"] == "North West"
    pid = programme["id"]

    bad = run(
        QUESTIONS,
        {"input": {"programmeId": pid, "questions": [{"text": "Pick", "kind": "SINGLE_CHOICE"}]}},
        member=organiser,
    )["data"]["setProgrammeQuestions"]
    assert bad["__typename"] == "InvalidInput"
    assert "at least 2 choices" in bad["errors"][0]["message"]
    questions = run(
        QUESTIONS,
        {"input": {"programmeId": pid, "questions": [{"text": "Why this programme?"}]}},
        member=organiser,
    )["data"]["setProgrammeQuestions"]["programme"]["questions"]
    [question] = questions

    assert run(PUBLISH, {"id": pid}, member=organiser)["data"]["publishProgramme"] == {
        "__typename": "ProgrammeSuccess",
        "programme": {"status": "PUBLISHED"},
    }

    seen = run(BROWSE, member=band8a)["data"]["programmes"]["edges"]
    assert [e["node"]["notEligibleBecause"] for e in seen] == [
        ["This programme is for bands 3 to 5. Your band is 8a."]
    ]
    refused = run(APPLY, {"input": {"programmeId": pid}}, member=band8a)["data"]
    assert refused["applyToProgramme"]["__typename"] == "NotAllowed"

    missing = run(APPLY, {"input": {"programmeId": pid}}, member=band4)["data"]
    assert missing["applyToProgramme"]["errors"][0]["message"] == "Question 1: enter your answer."
    applied = run(
        APPLY,
        {
            "input": {
                "programmeId": pid,
                "answers": [{"questionId": question["id"], "value": "To lead a team"}],
            }
        },
        member=band4,
    )["data"]["applyToProgramme"]
    assert applied["application"]["status"] == "SUBMITTED"

    # The London organiser cannot see the programme or decide on its applications.
    hidden = run(APPLICATIONS, {"id": pid}, member=london_organiser)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    other = run(
        DECIDE,
        {"input": {"applicationId": applied["application"]["id"], "decision": "ACCEPTED"}},
        member=london_organiser,
    )["data"]["decideProgrammeApplication"]
    assert other["__typename"] == "NotFound"

    listed = run(APPLICATIONS, {"id": pid, "status": "SUBMITTED"}, member=organiser)["data"]
    [edge] = listed["programmeApplications"]["edges"]
    assert edge["node"]["applicant"]["name"] == "Bea Four"
    assert edge["node"]["answers"] == [
        {"question": "Why this programme?", "values": ["To lead a team"]}
    ]
    counts = {c["status"]: c["count"] for c in listed["programmeApplicationCounts"]}
    assert counts["SUBMITTED"] == 1

    decided = run(
        DECIDE,
        {
            "input": {
                "applicationId": applied["application"]["id"],
                "decision": "ACCEPTED",
                "message": "See you on the 1st",
            }
        },
        member=organiser,
    )["data"]["decideProgrammeApplication"]
    assert decided["application"] == {"status": "ACCEPTED", "decisionMessage": "See you on the 1st"}
    mine = run(BROWSE, member=band4)["data"]["programmes"]["edges"][0]["node"]["myApplication"]
    assert mine == {"status": "ACCEPTED", "decisionMessage": "See you on the 1st"}
    actions = set(session.exec(select(AuditEvent.action)).all())
    assert {
        "programme.created",
        "programme.questions_set",
        "programme.published",
        "programme_application.decided",
    } <= actions


def test_members_cannot_use_organiser_mutations_and_nothing_is_written(session, run):
    north_west, *_ = _chapters(session)
    member = make_member(session, region="North West")
    programme = make_programme(session, chapter_id=north_west.id)
    application = make_programme_application(session, programme=programme)
    session.commit()
    before = len(session.exec(select(Programme)).all())

    created = run(CREATE, {"input": {"name": "Mine"}}, member=member)["data"]["createProgramme"]
    decided = run(
        DECIDE,
        {
            "input": {
                "applicationId": _gid("ProgrammeApplication", application.id),
                "decision": "ACCEPTED",
            }
        },
        member=member,
    )["data"]["decideProgrammeApplication"]

    assert created["__typename"] == "NotAllowed"
    assert decided["__typename"] == "NotAllowed"
    assert len(session.exec(select(Programme)).all()) == before
    session.expire_all()
    assert session.get(ProgrammeApplication, application.id).status == "submitted"


def test_another_chapters_programme_is_null_to_its_members(session, run):
    north_west, *_ = _chapters(session)
    londoner = make_member(session, region="London")
    programme = make_programme(session, chapter_id=north_west.id)
    session.commit()
    query = "query($id: ID!) { programme(id: $id) { name } node(id: $id) { id } }"

    result = run(query, {"id": _gid("Programme", programme.id)}, member=londoner)

    assert result["data"] == {"programme": None, "node": None}
    assert run(BROWSE, member=londoner)["data"]["programmes"]["edges"] == []


def _gid(kind: str, value: int) -> str:
    from strawberry import relay

    return str(relay.GlobalID(kind, str(value)))


def test_an_applicant_withdraws_once_and_sees_their_application_by_id(session, run):
    north_west, *_ = _chapters(session)
    member = make_member(session, region="North West")
    programme = make_programme(session, chapter_id=north_west.id)
    application = make_programme_application(session, programme=programme, member=member)
    stranger = make_member(session, region="North West")
    session.commit()
    withdraw = """
    mutation($id: ID!) { withdrawProgrammeApplication(input: {applicationId: $id}) {
      __typename ... on ProgrammeApplicationSuccess { application { status } }
      ... on Error { message } } }
    """
    node = "query($id: ID!) { node(id: $id) { ... on ProgrammeApplication { status } } }"
    gid = _gid("ProgrammeApplication", application.id)

    assert run(node, {"id": gid}, member=stranger)["data"]["node"] is None
    assert (
        run(withdraw, {"id": gid}, member=stranger)["data"]["withdrawProgrammeApplication"][
            "__typename"
        ]
        == "NotFound"
    )
    first = run(withdraw, {"id": gid}, member=member)["data"]["withdrawProgrammeApplication"]
    again = run(withdraw, {"id": gid}, member=member)["data"]["withdrawProgrammeApplication"]

    assert first == {
        "__typename": "ProgrammeApplicationSuccess",
        "application": {"status": "WITHDRAWN"},
    }
    assert again["__typename"] == "Conflict"
    assert run(node, {"id": gid}, member=member)["data"]["node"] == {"status": "WITHDRAWN"}
