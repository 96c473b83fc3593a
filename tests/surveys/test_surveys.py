"""Surveys end to end in the service: organisers build them per programme and stage, the
periodic step invites each side once when their stage comes (time travel with ``now=``),
members answer once, organisers read disclosure-controlled results and the end feedback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from backend import audit
from backend.errors import Conflict, FieldErrors, NotFound
from backend.insights import disclosure as dc
from backend.members.models import Member
from backend.mentoring.models import Mentorship
from backend.notifications.models import Notification
from backend.privacy import service as privacy
from backend.programmes import pairing
from backend.surveys import service as surveys
from backend.surveys.models import SurveyAnswer, SurveyInvitation, SurveyResponse
from tests.factories import (
    PASSWORD,
    audit_events,
    make_chapter,
    make_feedback,
    make_member,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser_scope,
    make_programme,
    make_survey,
    make_survey_answer,
    make_survey_invitation,
    make_survey_question,
    make_survey_response,
)
from tests.races import race

STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
Q = surveys.QuestionSettings


@pytest.fixture
def world(session):
    """A North West programme with its organiser, and London's organiser."""
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    nw_organiser = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)
    london_organiser = session.get(Member, make_organiser_scope(session, chapter=london).member_id)
    programme = make_programme(session, name="Aspiring leaders", chapter_id=north_west.id)
    return programme, nw_organiser, london_organiser


def keys_hiding(ids: list[int], count: int) -> dc.CellKeys:
    """Cell keys under which ``count`` records with these ids stay below 8 once perturbed
    (most secrets do; the test then knows the cell must show '*')."""
    for n in range(100):
        keys = dc.CellKeys(f"survey test secret {n}".encode())
        key = dc.cell_key(keys.record_keys("survey-response", ids))
        if keys.perturb(count, key) < dc.SMALLEST_SHOWN:
            return keys
    raise AssertionError("no secret hides the cell")


def test_an_organiser_builds_publishes_and_closes_a_survey_with_frozen_questions(session, world):
    programme, organiser, _ = world
    survey = surveys.create_survey(
        session=session,
        organiser=organiser,
        programme_id=programme.id,
        settings=surveys.SurveySettings("start", "Getting started"),
    )
    with pytest.raises(FieldErrors) as raised:
        surveys.add_question(
            session=session,
            organiser=organiser,
            survey_id=survey.id,
            question=Q("choice", "How did you meet?", choices=["Online"]),
        )
    assert raised.value.errors == {"choices": "Give at least 2 options, one a line."}
    with pytest.raises(Conflict):  # nothing to answer yet
        surveys.publish_survey(session=session, organiser=organiser, survey_id=survey.id)
    for question in (
        Q("agreement", "We agreed clear goals."),
        Q("recommend", "Would you recommend the programme?"),
        Q("choice", "How did you meet?", choices=["Online", "In person"]),
        Q("text", "Anything else?", required=False),
    ):
        surveys.add_question(
            session=session, organiser=organiser, survey_id=survey.id, question=question
        )

    published = surveys.publish_survey(session=session, organiser=organiser, survey_id=survey.id)

    assert published.status == "published" and published.published_at is not None
    assert [q.kind for q in surveys.questions_of(session=session, survey_id=survey.id)] == [
        "agreement",
        "recommend",
        "choice",
        "text",
    ]
    with pytest.raises(Conflict, match="questions can no longer change"):
        surveys.add_question(
            session=session, organiser=organiser, survey_id=survey.id, question=Q("text", "Late")
        )
    second = surveys.create_survey(
        session=session,
        organiser=organiser,
        programme_id=programme.id,
        settings=surveys.SurveySettings("start", "Another start survey"),
    )
    surveys.add_question(
        session=session, organiser=organiser, survey_id=second.id, question=Q("text", "Hello?")
    )
    with pytest.raises(Conflict, match="already has a published survey"):
        surveys.publish_survey(session=session, organiser=organiser, survey_id=second.id)
    closed = surveys.close_survey(session=session, organiser=organiser, survey_id=survey.id)
    assert closed.status == "closed"
    assert [e.subject_id for e in audit_events(session, audit.actions.SURVEY_PUBLISHED)] == [
        survey.id
    ]


def test_the_standard_end_survey_is_offered_once_and_other_chapters_see_nothing(session, world):
    programme, organiser, london_organiser = world

    survey = surveys.create_default_end_survey(
        session=session, organiser=organiser, programme_id=programme.id
    )

    kinds = [q.kind for q in surveys.questions_of(session=session, survey_id=survey.id)]
    assert survey.stage == "end" and survey.status == "draft"
    assert set(kinds) == {"agreement", "recommend", "choice", "text"}
    with pytest.raises(Conflict):
        surveys.create_default_end_survey(
            session=session, organiser=organiser, programme_id=programme.id
        )
    with pytest.raises(NotFound):
        surveys.surveys_of(session=session, organiser=london_organiser, programme_id=programme.id)
    with pytest.raises(NotFound):
        surveys.survey_results(session=session, organiser=london_organiser, survey_id=survey.id)
    with pytest.raises(NotFound):
        surveys.publish_survey(session=session, organiser=london_organiser, survey_id=survey.id)


def _invited(session, survey_id):
    return session.exec(
        select(SurveyInvitation.member_id).where(SurveyInvitation.survey_id == survey_id)
    ).all()


def test_start_and_middle_invitations_go_once_when_their_time_comes(session, world):
    programme, *_ = world
    start = make_survey(session, programme=programme, stage="start", published_at=STARTED)
    middle = make_survey(session, programme=programme, stage="middle", published_at=STARTED)
    mentor, mentee = make_mentor(session), make_mentee(session)
    mentorship = make_mentorship(
        session,
        mentor=mentor,
        mentee=mentee,
        programme_id=programme.id,
        started_at=STARTED,
        planned_months=6,
    )
    session.commit()

    assert surveys.send_due_invitations(session=session, now=STARTED + timedelta(days=6)) == 0
    assert surveys.send_due_invitations(session=session, now=STARTED + timedelta(days=8)) == 2
    assert sorted(_invited(session, start.id)) == sorted([mentor.id, mentee.id])
    assert _invited(session, middle.id) == []
    # a second pass, or a second worker, sends nothing more
    assert surveys.send_due_invitations(session=session, now=STARTED + timedelta(days=9)) == 0
    assert surveys.send_due_invitations(session=session, now=STARTED + timedelta(days=92)) == 2
    notes = session.exec(
        select(Notification)
        .where(Notification.member_id == mentee.id)
        .where(Notification.kind == "survey")
        .order_by(col(Notification.id))
    ).all()
    assert [n.link for n in notes] == [
        f"/surveys/{start.id}/mentorships/{mentorship.id}",
        f"/surveys/{middle.id}/mentorships/{mentorship.id}",
    ]
    pending = surveys.pending_for(session=session, member=mentee)
    assert [p.survey.id for p in pending] == [start.id, middle.id]


def test_two_workers_at_once_send_each_invitation_once(session, engine, world):
    programme, *_ = world
    make_survey(session, programme=programme, stage="start", published_at=STARTED)
    mentee = make_mentee(session)
    make_mentorship(session, mentee=mentee, programme_id=programme.id, started_at=STARTED)
    mentee_id = mentee.id
    counts: list[int] = []
    when = STARTED + timedelta(days=8)

    outcomes = race(
        engine,
        session,
        [lambda own: counts.append(surveys.send_due_invitations(session=own, now=when))] * 2,
    )

    assert outcomes == {"ok": 2}
    assert sum(counts) == 2
    sent = session.exec(
        select(Notification)
        .where(Notification.member_id == mentee_id)
        .where(Notification.kind == "survey")
    ).all()
    assert len(sent) == 1


def test_a_survey_published_late_does_not_reach_old_mentorships(session, world):
    programme, *_ = world
    make_survey(session, programme=programme, stage="start", published_at=STARTED)
    make_mentorship(session, programme_id=programme.id, started_at=STARTED - timedelta(days=90))
    session.commit()

    assert surveys.send_due_invitations(session=session, now=STARTED + timedelta(days=1)) == 0


def test_the_programmes_end_closes_its_mentorships_with_the_end_survey(session, world):
    programme, *_ = world
    programme.ends_on = date(2026, 9, 30)
    session.add(programme)
    end = make_survey(session, programme=programme, stage="end", published_at=STARTED)
    mentor, mentee = make_mentor(session), make_mentee(session)
    mentorship = make_mentorship(
        session, mentor=mentor, mentee=mentee, programme_id=programme.id, started_at=STARTED
    )
    session.commit()
    after_the_end = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)

    assert surveys.send_due_invitations(session=session, now=after_the_end) == 0
    assert pairing.end_programmes(session=session, now=after_the_end) == 1
    assert surveys.send_due_invitations(session=session, now=after_the_end) == 2

    session.expire_all()
    assert session.get(Mentorship, mentorship.id).status == "completed"
    assert sorted(_invited(session, end.id)) == sorted([mentor.id, mentee.id])


def test_members_answer_once_and_missing_required_answers_are_named(session, world):
    programme, *_ = world
    survey = make_survey(session, programme=programme)
    scale = make_survey_question(session, survey=survey, text="It helped me.", position=1)
    words = make_survey_question(
        session, survey=survey, kind="text", text="Tell us more", required=False, position=2
    )
    invitation = make_survey_invitation(session, survey=survey)
    mentee = session.get(Member, invitation.member_id)
    stranger = make_member(session)
    key = {"survey_id": survey.id, "mentorship_id": invitation.mentorship_id}

    with pytest.raises(FieldErrors) as raised:
        surveys.answer_survey(session=session, member=mentee, given=surveys.GivenAnswers({}), **key)
    assert raised.value.errors == {f"question_{scale.id}": "Answer question 1: It helped me."}
    with pytest.raises(FieldErrors):
        surveys.answer_survey(
            session=session, member=mentee, given=surveys.GivenAnswers({scale.id: "9"}), **key
        )
    with pytest.raises(NotFound):
        surveys.answer_survey(
            session=session, member=stranger, given=surveys.GivenAnswers({scale.id: "4"}), **key
        )
    response = surveys.answer_survey(
        session=session,
        member=mentee,
        given=surveys.GivenAnswers({scale.id: "4", words.id: "Great pairing"}),
        **key,
    )

    assert response.role == "mentee"
    stored = session.exec(select(SurveyAnswer).where(SurveyAnswer.response_id == response.id))
    assert {(a.value, a.shareable) for a in stored} == {("4", False), ("Great pairing", False)}
    assert surveys.pending_for(session=session, member=mentee) == []
    with pytest.raises(Conflict, match="already answered"):
        surveys.answer_survey(
            session=session, member=mentee, given=surveys.GivenAnswers({scale.id: "5"}), **key
        )


def _responses(session, survey, question, values, *, shared_text=None):
    """Responses from new members to ``survey``, one each of ``values`` to ``question``."""
    mentorship = make_mentorship(
        session, status="completed", ended_at=STARTED, programme_id=survey.programme_id
    )
    ids = []
    for value in values:
        member = make_member(session)
        invitation = make_survey_invitation(
            session, survey=survey, mentorship=mentorship, member=member
        )
        response = make_survey_response(session, invitation=invitation)
        make_survey_answer(session, response=response, question=question, value=value)
        if shared_text is not None:
            text, shared = shared_text(member)
            make_survey_answer(
                session,
                response=response,
                question=shared_text.question,
                value=text,
                shareable=shared,
            )
        ids.append(response.id)
    return ids


def test_results_hide_a_count_of_three_and_show_only_shared_text_without_names(session, world):
    programme, organiser, _ = world
    survey = make_survey(session, programme=programme)
    scale = make_survey_question(session, survey=survey, position=1)
    words = make_survey_question(session, survey=survey, kind="text", text="More?", position=2)
    names = []

    def text(member):
        names.append(member.name)
        shared = len(names) == 1
        return (f"Shared thought {len(names)}" if shared else f"Private {member.name}", shared)

    text.question = words  # type: ignore[attr-defined]
    ids = _responses(session, survey, scale, ["4", "4", "4"], shared_text=text)

    results = surveys.survey_results(
        session=session,
        organiser=organiser,
        survey_id=survey.id,
        keys=keys_hiding(ids, 3),
    )

    agreement, free_text = results.questions
    assert [line.count.text for line in agreement.lines] == ["0", "0", "0", "*", "0"]
    assert agreement.answered.text == "*" and agreement.mean is None
    assert results.responses.text == "*"
    assert free_text.texts == ["Shared thought 1"]
    assert not any(name in t for t in free_text.texts for name in names)
    assert audit_events(session, audit.actions.SURVEY_RESULTS_VIEWED)


def test_results_round_larger_counts_and_give_the_mean_and_nps(session, world):
    programme, organiser, _ = world
    survey = make_survey(session, programme=programme)
    scale = make_survey_question(session, survey=survey, position=1)
    recommend = make_survey_question(session, survey=survey, kind="recommend", position=2)
    ids = _responses(session, survey, scale, ["5"] * 20)
    for response_id in ids:
        make_survey_answer(
            session,
            response=session.get(SurveyResponse, response_id),
            question=recommend,
            value="10",
        )

    results = surveys.programme_survey_results(
        session=session, organiser=organiser, programme_id=programme.id
    )

    (only,) = results
    agreement, nps = only.questions
    strongly = agreement.lines[4].count.value
    assert strongly is not None and strongly % 5 == 0 and 15 <= strongly <= 25
    assert agreement.mean == 5.0
    assert nps.nps == 100.0
    assert [line.count.text for line in nps.nps_groups][:2] == ["0", "0"]


def test_organisers_read_the_end_feedback_with_names_as_the_form_promises(session, world):
    programme, organiser, london_organiser = world
    mentor = make_mentor(session, name="Maya Mentor")
    mentee = make_mentee(session, name="Tom Mentee")
    mentorship = make_mentorship(
        session,
        mentor=mentor,
        mentee=mentee,
        status="completed",
        ended_at=STARTED,
        programme_id=programme.id,
    )
    make_feedback(session, mentorship=mentorship, author_role="mentee", rating=5, text="Superb")
    make_feedback(session, mentorship=mentorship, author_role="mentor", rating=4)

    report = surveys.mentorship_feedback(
        session=session, organiser=organiser, programme_id=programme.id
    )

    assert [(e.mentor_name, e.mentee_name, e.author_role, e.text) for e in report.entries] == [
        ("Maya Mentor", "Tom Mentee", "mentee", "Superb")
    ]
    assert report.rated.text == "*" and report.mean is None  # two ratings: never shown
    (event,) = audit_events(session, audit.actions.FEEDBACK_VIEWED)
    assert event.actor_id == organiser.id and event.subject_id == programme.id
    with pytest.raises(NotFound):
        surveys.mentorship_feedback(
            session=session, organiser=london_organiser, programme_id=programme.id
        )


def test_export_holds_the_members_answers_and_erasure_removes_them(session, world):
    programme, *_ = world
    survey = make_survey(session, programme=programme, title="End of programme")
    question = make_survey_question(session, survey=survey, kind="text", text="Thoughts?")
    invitation = make_survey_invitation(session, survey=survey)
    member = session.get(Member, invitation.member_id)
    response = make_survey_response(session, invitation=invitation)
    make_survey_answer(session, response=response, question=question, value="Lovely")

    exported = privacy.export_my_data(session=session, member=member)

    (mine,) = exported["survey_responses"]
    assert mine["survey"] == "End of programme"
    assert mine["answers"] == [
        {"question": "Thoughts?", "answer": "Lovely", "organisers_may_read": False}
    ]
    privacy.erase_my_account(session=session, member=member, password=PASSWORD, confirm=True)
    session.expire_all()
    assert session.exec(select(SurveyResponse)).all() == []
    assert session.exec(select(SurveyAnswer)).all() == []
    assert session.exec(select(SurveyInvitation)).all() == []
