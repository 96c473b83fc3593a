"""Survey pages without JavaScript: an organiser adds the standard end survey and publishes
it, the member it is sent to answers it (an error summary names a missing answer), the
organiser reads the results and the end feedback; another chapter's organiser sees nothing."""

from __future__ import annotations

from sqlmodel import select

from backend import audit
from backend.members.models import Member
from backend.surveys import service as surveys
from backend.surveys.models import Survey, SurveyAnswer, SurveyQuestion
from tests.factories import (
    audit_events,
    make_chapter,
    make_feedback,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser_scope,
    make_programme,
)
from tests.web.conftest import another_client, error_summary, log_in, post_form
from tests.web.test_mentoring_pages import text_of

PROMISE = (
    "The organisers of {programme} read what you write here, with your names; "
    "your partner never sees your rating."
)


def test_standard_end_survey_answered_and_read_through_the_pages(session, client, engine):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    organiser = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)
    londoner = session.get(Member, make_organiser_scope(session, chapter=london).member_id)
    programme = make_programme(session, name="Aspiring leaders", chapter_id=north_west.id)
    mentee = make_mentee(session, name="Tom Mentee")
    mentorship = make_mentorship(
        session,
        mentor=make_mentor(session, name="Maya Mentor"),
        mentee=mentee,
        programme_id=programme.id,
    )
    make_feedback(session, mentorship=mentorship, rating=5, text="It changed how I lead")
    session.commit()
    log_in(client, organiser.email)
    page = f"/organise/programmes/{programme.id}/surveys"

    assert "Add the standard end survey" in client.get(page).text
    made = post_form(client, page, {"standard": "yes"}, page=page)
    assert made.status_code == 303, error_summary(made.text)
    survey = session.exec(select(Survey).where(Survey.programme_id == programme.id)).one()
    survey_page = f"{page}/{survey.id}"
    published = post_form(client, f"{survey_page}/publish", {}, page=survey_page)
    assert published.status_code == 303, error_summary(published.text)
    session.expire_all()
    # the mentorship ends: the periodic step sends the end survey
    mentorship = session.merge(mentorship)
    mentorship.status, mentorship.ended_at = "completed", surveys.utcnow()
    session.add(mentorship)
    session.commit()
    assert surveys.send_due_invitations(session=session) == 2

    member = another_client(engine)
    log_in(member, mentee.email)
    assert "How did your mentorship go?" in member.get("/surveys").text
    # reached from the home page and from the mentorship itself, not only from the notification
    assert '<a href="/surveys">Surveys waiting (1)</a>' in member.get("/").text
    mentorship_page = f"/mentoring/mentorships/{mentorship.id}"
    assert (
        f'href="{surveys.answer_link(survey.id, mentorship.id)}"'
        in member.get(mentorship_page).text
    )
    form = surveys.answer_link(survey.id, mentorship.id)
    questions = session.exec(
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey.id)
        .order_by(SurveyQuestion.position)
    ).all()
    answers = {f"question_{q.id}": "4" for q in questions if q.kind == "agreement"}
    missing = post_form(member, form, answers)
    assert missing.status_code == 400
    assert error_summary(missing.text) == [
        "Answer question 4: How likely are you to recommend this programme to a colleague?",
        "Answer question 5: Would you take part in a programme like this again?",
    ]
    recommend, again, words = questions[3], questions[4], questions[5]
    answers |= {
        f"question_{recommend.id}": "9",
        f"question_{again.id}": "Yes, as a mentor",
        f"question_{words.id}": "More time together",
        f"question_{words.id}_share": "yes",
    }
    sent = post_form(member, form, answers)
    assert sent.status_code == 303, error_summary(sent.text)
    assert session.exec(select(SurveyAnswer).where(SurveyAnswer.shareable)).one().value == (
        "More time together"
    )
    assert "no surveys waiting" in member.get("/surveys").text
    assert "Surveys waiting" not in member.get("/").text
    assert "A survey is waiting" not in member.get(mentorship_page).text

    results = text_of(client.get(survey_page).text)
    assert "Responses: *" in results and "More time together" in results
    assert "Tom Mentee" not in results
    feedback = text_of(client.get(f"/organise/programmes/{programme.id}/feedback").text)
    assert "It changed how I lead" in feedback and "Maya Mentor (mentor)" in feedback
    assert PROMISE.format(programme="Aspiring leaders") in feedback
    assert audit_events(session, audit.actions.FEEDBACK_VIEWED, end_read=True)

    other = another_client(engine)
    log_in(other, londoner.email)
    for path in (page, survey_page, f"/organise/programmes/{programme.id}/feedback"):
        assert other.get(path).status_code == 404
    assert member.get(survey_page).status_code in (403, 404)


def test_the_end_form_says_exactly_who_reads_the_feedback(session, client):
    programme = make_programme(session, name="Aspiring leaders")
    mentee = make_mentee(session)
    mentorship = make_mentorship(session, mentee=mentee, programme_id=programme.id)
    session.commit()
    log_in(client, mentee.email)
    promise = PROMISE.format(programme="Aspiring leaders")
    assert promise in text_of(client.get(f"/mentoring/mentorships/{mentorship.id}/end").text)
    assert (
        "Only the network's organisers"
        not in client.get(f"/mentoring/mentorships/{mentorship.id}/end").text
    )
