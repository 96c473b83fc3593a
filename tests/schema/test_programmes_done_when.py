"""Issue 12's "Done when", through GraphQL over HTTP, end to end.

The admin makes an organiser of the North West chapter; she creates a programme for bands 3-5
with one application question and publishes it; a band 4 member applies and is accepted; a band
8a member is told why they are not eligible; the organiser runs the round over the accepted
applicants and publishes it; an organiser of the London chapter cannot see the programme, its
members or its figures; the audit log shows each step.
"""

from __future__ import annotations

import time

from tests.factories import PASSWORD, make_chapter, make_member, make_mentor, make_organiser_scope
from tests.schema.test_journey import post
from tests.schema.test_mentoring import gid, log_in
from tests.schema.test_programmes import APPLY, CREATE, DECIDE, PUBLISH, QUESTIONS
from tests.schema.test_rounds import CREATE as CREATE_ROUND
from tests.schema.test_rounds import PUBLISH as PUBLISH_ROUND

GRANT = """mutation($input: OrganiserScopeInput!) { grantOrganiserScope(input: $input) {
  __typename ... on OrganiserScopeSuccess { organiserScopes { name } }
  ... on Error { message } } }"""
PROGRAMME = "query($id: ID!) { programme(id: $id) { id name notEligibleBecause } }"
APPLICANTS = """query($id: ID!) { programmeApplications(programmeId: $id) {
  edges { node { id status applicant { name } } } } }"""
FUNNEL = """query($id: ID!) { programmeFunnel(programmeId: $id, dimension: BAND) { title } }"""
ROUND = """query($id: ID!) { matchingRound(id: $id) { status programme { name }
  proposals { edges { node { status mentee { name } mentor { name } } } } } }"""
AUDIT = "{ auditEvents(first: 100) { edges { node { action actorId } } } }"


def _ok(result, field, typename):
    assert "errors" not in result, result
    payload = result["data"][field]
    assert payload["__typename"] == typename, payload
    return payload


def test_issue_12_done_when_through_graphql(session, make_client):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    admin = make_member(session, name="Ada Admin", roles=("admin",), region="London")
    nia = make_member(session, name="Nia Organiser", band="8b", region="North West")
    lou = session.get(
        type(nia), make_organiser_scope(session, chapter=london).member_id
    )  # London's organiser
    bea = make_member(session, name="Bea Four", band="4", region="North West")
    ade = make_member(session, name="Ade Eight", band="8a", region="North West")
    make_mentor(session, name="Mo Mentor", band="8c", region="North West", capacity=2)
    session.commit()
    clients = {}
    for person in (admin, nia, lou, bea, ade):
        clients[person.name] = make_client()
        log_in(clients[person.name], person)

    def as_(person, query, variables=None):
        return post(clients[person.name], query, variables)

    # The admin makes Nia an organiser of the North West chapter (a step-up: her password).
    granted = _ok(
        as_(
            admin,
            GRANT,
            {
                "input": {
                    "memberId": gid("Member", nia.id),
                    "chapterId": gid("Chapter", north_west.id),
                    "password": PASSWORD,
                }
            },
        ),
        "grantOrganiserScope",
        "OrganiserScopeSuccess",
    )
    assert granted["organiserScopes"] == [{"name": "North West"}]

    # She creates a programme for bands 3-5 with one question, and publishes it.
    created = _ok(
        as_(
            nia,
            CREATE,
            {
                "input": {
                    "name": "Into management",
                    "eligibleBands": ["BAND_3", "BAND_4", "BAND_5"],
                    "chapterId": north_west.id,
                    "places": 5,
                    "pairing": "ROUND",
                }
            },
        ),
        "createProgramme",
        "ProgrammeSuccess",
    )
    pid = created["programme"]["id"]
    questions = _ok(
        as_(
            nia,
            QUESTIONS,
            {"input": {"programmeId": pid, "questions": [{"text": "Why this programme?"}]}},
        ),
        "setProgrammeQuestions",
        "ProgrammeSuccess",
    )
    [question] = questions["programme"]["questions"]
    _ok(as_(nia, PUBLISH, {"id": pid}), "publishProgramme", "ProgrammeSuccess")

    # A band 4 member applies and is accepted.
    applied = _ok(
        as_(
            bea,
            APPLY,
            {
                "input": {
                    "programmeId": pid,
                    "answers": [{"questionId": question["id"], "value": "To lead a team"}],
                }
            },
        ),
        "applyToProgramme",
        "ProgrammeApplicationSuccess",
    )
    decided = _ok(
        as_(
            nia,
            DECIDE,
            {
                "input": {
                    "applicationId": applied["application"]["id"],
                    "decision": "ACCEPTED",
                    "message": "Welcome aboard.",
                }
            },
        ),
        "decideProgrammeApplication",
        "ProgrammeApplicationSuccess",
    )
    assert decided["application"]["status"] == "ACCEPTED"

    # A band 8a member is told why they are not eligible, and cannot apply.
    seen = as_(ade, PROGRAMME, {"id": pid})["data"]["programme"]
    assert seen["notEligibleBecause"] == ["This programme is for bands 3 to 5. Your band is 8a."]
    refused = as_(ade, APPLY, {"input": {"programmeId": pid, "answers": []}})
    assert refused["data"]["applyToProgramme"]["__typename"] != "ProgrammeApplicationSuccess"

    # The organiser runs the round over the accepted applicants, and publishes it.
    made = _ok(
        as_(nia, CREATE_ROUND, {"input": {"name": "Spring cohort", "programmeId": pid}}),
        "createMatchingRound",
        "MatchingRoundSuccess",
    )
    round_id = made["round"]["id"]
    found = as_(nia, ROUND, {"id": round_id})["data"]["matchingRound"]
    deadline = time.monotonic() + 120  # the round's job runs in the background
    while found["status"] in ("QUEUED", "RUNNING") and time.monotonic() < deadline:
        time.sleep(0.2)
        found = as_(nia, ROUND, {"id": round_id})["data"]["matchingRound"]
    assert found["status"] == "READY", found
    assert found["programme"] == {"name": "Into management"}
    pairs = [e["node"] for e in found["proposals"]["edges"]]
    assert [(p["mentee"]["name"], p["mentor"]["name"]) for p in pairs] == [
        ("Bea Four", "Mo Mentor")
    ]  # only the accepted applicant; not Ade, nor anyone else seeking
    published = _ok(
        as_(nia, PUBLISH_ROUND, {"id": round_id}), "publishMatchingRound", "MatchingRoundSuccess"
    )
    assert published["round"]["status"] == "PUBLISHED"

    # London's organiser sees neither the programme, nor its applicants, nor its figures, nor
    # its round.
    assert as_(lou, PROGRAMME, {"id": pid})["data"]["programme"] is None
    hidden = as_(lou, APPLICANTS, {"id": pid})
    assert hidden.get("data") is None or not hidden["data"]["programmeApplications"]["edges"]
    assert "errors" in hidden or hidden["data"]["programmeApplications"]["edges"] == []
    figures = as_(lou, FUNNEL, {"id": pid})
    assert figures.get("errors") and not (figures.get("data") or {}).get("programmeFunnel")
    assert as_(lou, ROUND, {"id": round_id})["data"]["matchingRound"] is None
    # ...while Nia sees her programme's applicants.
    mine = as_(nia, APPLICANTS, {"id": pid})["data"]["programmeApplications"]["edges"]
    assert [e["node"]["applicant"]["name"] for e in mine] == ["Bea Four"]

    # The audit log shows each step, by whom.
    events = [e["node"] for e in as_(admin, AUDIT)["data"]["auditEvents"]["edges"]]
    by_action = {}
    for event in events:
        by_action.setdefault(event["action"], set()).add(event["actorId"])
    expected = {
        "organiser_scope.granted": gid("Member", admin.id),
        "programme.created": gid("Member", nia.id),
        "programme.questions_set": gid("Member", nia.id),
        "programme.published": gid("Member", nia.id),
        "programme_application.decided": gid("Member", nia.id),
        "round.created": gid("Member", nia.id),
        "round.published": gid("Member", nia.id),
    }
    for action, actor in expected.items():
        assert actor in by_action.get(action, set()), (action, by_action)
