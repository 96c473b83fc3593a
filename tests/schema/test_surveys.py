"""Surveys through GraphQL: organisers in scope build, publish and read results; members
answer their own; a London organiser never sees a North West programme's results, and members
never see results or feedback."""

from __future__ import annotations

from strawberry import relay

from backend.members.models import Member
from backend.surveys import service as surveys
from tests.factories import (
    make_chapter,
    make_feedback,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser_scope,
    make_programme,
    make_survey,
    make_survey_invitation,
    make_survey_question,
)

CREATE = """mutation($input: CreateSurveyInput!) { createSurvey(input: $input) {
  __typename ... on SurveySuccess { survey { id stage status questions { kind } } }
  ... on Error { message } } }"""
ADD = """mutation($input: AddSurveyQuestionInput!) { addSurveyQuestion(input: $input) {
  __typename ... on SurveySuccess { survey { questions { kind text choices } } }
  ... on InvalidInput { errors { field message } } ... on Error { message } } }"""
PUBLISH = """mutation($id: ID!) { publishSurvey(input: {surveyId: $id}) {
  __typename ... on SurveySuccess { survey { status } } ... on Error { message } } }"""
CLOSE = """mutation($id: ID!) { closeSurvey(input: {surveyId: $id}) {
  __typename ... on SurveySuccess { survey { status } } ... on Error { message } } }"""
LIST = "query($p: ID!) { programmeSurveys(programmeId: $p) { id title status } }"
RESULTS = """query($id: ID!) { surveyResults(surveyId: $id) { responses { shown }
  questions { question { text } answered { shown hidden } mean nps
  distribution { label count { shown } } sharedTexts } } }"""
MINE = """{ mySurveys { survey { id title questions { id kind text } } mentorshipId
  programmeName partnerName myRole } }"""
ANSWER = """mutation($input: AnswerSurveyInput!) { answerSurvey(input: $input) {
  __typename ... on AnswerSurveySuccess { survey { title } }
  ... on InvalidInput { errors { field message } } ... on Error { message } } }"""
FEEDBACK = """query($p: ID!) { mentorshipFeedback(programmeId: $p) { rated { shown }
  ratings { label count { shown } } entries { mentorName menteeName authorRole text } } }"""


def gid(kind: str, value: int) -> str:
    return str(relay.GlobalID(kind, str(value)))


def _world(session):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    nw = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)
    ldn = session.get(Member, make_organiser_scope(session, chapter=london).member_id)
    programme = make_programme(session, name="Aspiring leaders", chapter_id=north_west.id)
    return programme, nw, ldn


def test_an_organiser_builds_publishes_and_closes_a_survey(run, session):
    programme, organiser, london = _world(session)
    made = run(
        CREATE,
        {
            "input": {
                "programmeId": gid("Programme", programme.id),
                "stage": "MIDDLE",
                "title": "Half way",
            }
        },
        member=organiser,
    )["data"]["createSurvey"]
    assert made["__typename"] == "SurveySuccess", made
    survey_id = made["survey"]["id"]

    bad = run(
        ADD,
        {"input": {"surveyId": survey_id, "kind": "CHOICE", "text": "Where?", "choices": ["Here"]}},
        member=organiser,
    )["data"]["addSurveyQuestion"]
    assert bad["__typename"] == "InvalidInput"
    assert bad["errors"] == [
        {"field": "choices", "message": "Give at least 2 options, one a line."}
    ]
    added = run(
        ADD,
        {"input": {"surveyId": survey_id, "kind": "RECOMMEND", "text": "Recommend us?"}},
        member=organiser,
    )["data"]["addSurveyQuestion"]
    assert added["survey"]["questions"] == [
        {"kind": "RECOMMEND", "text": "Recommend us?", "choices": []}
    ]
    assert run(PUBLISH, {"id": survey_id}, member=organiser)["data"]["publishSurvey"] == {
        "__typename": "SurveySuccess",
        "survey": {"status": "PUBLISHED"},
    }
    frozen = run(
        ADD, {"input": {"surveyId": survey_id, "kind": "TEXT", "text": "Late"}}, member=organiser
    )["data"]["addSurveyQuestion"]
    assert frozen["__typename"] == "Conflict"
    standard = run(
        CREATE,
        {
            "input": {
                "programmeId": gid("Programme", programme.id),
                "stage": "END",
                "standardEndSurvey": True,
            }
        },
        member=organiser,
    )["data"]["createSurvey"]
    assert standard["survey"]["stage"] == "END" and len(standard["survey"]["questions"]) == 6
    assert run(CLOSE, {"id": survey_id}, member=organiser)["data"]["closeSurvey"]["survey"] == {
        "status": "CLOSED"
    }
    # London's organiser can neither list nor change the North West programme's surveys
    hidden = run(LIST, {"p": gid("Programme", programme.id)}, member=london)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    refused = run(PUBLISH, {"id": standard["survey"]["id"]}, member=london)
    assert refused["data"]["publishSurvey"]["__typename"] == "NotFound"


def test_a_member_answers_and_only_organisers_in_scope_read_the_results(run, session):
    programme, organiser, london = _world(session)
    survey = make_survey(session, programme=programme, title="How did it go?")
    scale = make_survey_question(session, survey=survey, text="It helped me.", position=1)
    words = make_survey_question(
        session, survey=survey, kind="text", text="Tell us more", required=False, position=2
    )
    invitation = make_survey_invitation(session, survey=survey)
    mentee = session.get(Member, invitation.member_id)
    session.commit()

    (pending,) = run(MINE, member=mentee)["data"]["mySurveys"]
    assert pending["survey"]["title"] == "How did it go?" and pending["myRole"] == "mentee"
    answer = {
        "surveyId": pending["survey"]["id"],
        "mentorshipId": pending["mentorshipId"],
        "answers": [],
    }
    missing = run(ANSWER, {"input": answer}, member=mentee)["data"]["answerSurvey"]
    assert missing["__typename"] == "InvalidInput"
    assert missing["errors"][0]["message"] == "Answer question 1: It helped me."
    answer["answers"] = [
        {"questionId": gid("SurveyQuestion", scale.id), "value": "5"},
        {
            "questionId": gid("SurveyQuestion", words.id),
            "value": "A thoughtful mentor",
            "shareWithOrganisers": True,
        },
    ]
    saved = run(ANSWER, {"input": answer}, member=mentee)["data"]["answerSurvey"]
    assert saved["__typename"] == "AnswerSurveySuccess", saved
    again = run(ANSWER, {"input": answer}, member=mentee)["data"]["answerSurvey"]
    assert again["__typename"] == "Conflict"
    assert run(MINE, member=mentee)["data"]["mySurveys"] == []

    results = run(RESULTS, {"id": gid("Survey", survey.id)}, member=organiser)
    assert "errors" not in results, results
    scale_result, text_result = results["data"]["surveyResults"]["questions"]
    assert results["data"]["surveyResults"]["responses"]["shown"] == "*"
    assert scale_result["answered"] == {"shown": "*", "hidden": True}
    assert scale_result["mean"] is None
    assert text_result["sharedTexts"] == ["A thoughtful mentor"]
    for outsider in (london, mentee):
        refused = run(RESULTS, {"id": gid("Survey", survey.id)}, member=outsider)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "NOT_ALLOWED")
    assert surveys.pending_for(session=session, member=mentee) == []


def test_organisers_in_scope_read_the_end_feedback_and_members_cannot(run, session):
    programme, organiser, london = _world(session)
    mentorship = make_mentorship(
        session,
        mentor=make_mentor(session, name="Maya Mentor"),
        mentee=make_mentee(session, name="Tom Mentee"),
        status="completed",
        programme_id=programme.id,
    )
    make_feedback(session, mentorship=mentorship, rating=5, text="It changed how I lead")
    session.commit()

    report = run(FEEDBACK, {"p": gid("Programme", programme.id)}, member=organiser)

    assert "errors" not in report, report
    feedback = report["data"]["mentorshipFeedback"]
    assert feedback["entries"] == [
        {
            "mentorName": "Maya Mentor",
            "menteeName": "Tom Mentee",
            "authorRole": "mentee",
            "text": "It changed how I lead",
        }
    ]
    assert feedback["rated"]["shown"] == "*"
    mentee = session.get(Member, mentorship.mentee_id)
    for outsider in (london, mentee):
        refused = run(FEEDBACK, {"p": gid("Programme", programme.id)}, member=outsider)
        assert refused["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "NOT_ALLOWED")
