"""The self-assessment's pages: the form's error summary, the results' chart and table, the
suggested skills button, and the prompt on a mentorship's page."""

from __future__ import annotations

import re

from backend.assessments.models import DIMENSION_IDS
from backend.members import service as member_service
from backend.members.models import Member
from tests.factories import make_member, make_mentorship, make_self_assessment
from tests.web.conftest import error_summary, log_in, post_form

FORM = "/my-development/self-assessment"


def test_a_missing_dimension_is_named_in_the_error_summary_and_the_rest_kept(client, session):
    me = make_member(session, email="rater@example.nhs.uk")
    session.rollback()
    log_in(client, "rater@example.nhs.uk")
    answers = {d: "3" for d in DIMENSION_IDS if d != "holding-to-account"}

    response = post_form(client, FORM, {**answers, "occasion": "own_choice"})

    assert response.status_code == 400
    assert error_summary(response.text) == ["Choose a level for holding to account."]
    assert 'href="#holding-to-account"' in response.text
    legend = '<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">'
    assert f"{legend}7. Holding to account</legend>" in response.text
    assert re.search(
        r'id="leading-with-care-3" name="leading-with-care" type="radio" value="3" checked',
        response.text,
    )
    assert member_service.skills_of(session=session, member_id=me.id)["sought"] == []


def test_results_show_an_accessible_chart_and_a_table_and_add_suggestions_on_request(
    client, session
):
    me = make_member(session, email="rater@example.nhs.uk")
    make_self_assessment(session, member=me, levels=2)
    session.rollback()
    log_in(client, "rater@example.nhs.uk")
    answers = {d: "3" for d in DIMENSION_IDS}
    answers.update({"holding-to-account": "1", "engaging-the-team": "2"})

    saved = post_form(client, FORM, {**answers, "occasion": "own_choice"})
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text

    assert page.count('role="img"') == 9
    assert '<title id="hlm-leading-with-care-title">Leading with care</title>' in page
    assert "First (" in page and "Latest (" in page and "Up 1 level." in page
    assert "Down 1 level." in page  # holding to account: 2 then 1
    assert (
        '<caption class="nhsuk-table__caption">Your levels on each dimension, by date</caption>'
        in page
    )
    assert "Strong (3)" in page and "Essential (1)" in page
    assert "Holding to account: essential (level 1 of 4)" in page
    assert member_service.skills_of(session=session, member_id=me.id)["sought"] == []

    added = post_form(
        client,
        "/my-development/self-assessment/suggested-skills",
        {},
        page=saved.headers["location"],
    )
    assert added.status_code == 303
    session.rollback()
    assert sorted(member_service.skills_of(session=session, member_id=me.id)["sought"]) == [
        "engaging-the-team",
        "holding-to-account",
    ]


def test_the_mentorship_page_invites_the_start_then_links_the_results(client, session):
    mentorship = make_mentorship(session)
    mentee = session.get(Member, mentorship.mentee_id)
    email = mentee.email
    session.rollback()
    log_in(client, email)
    page = client.get(f"/mentoring/mentorships/{mentorship.id}").text
    start = f"{FORM}?mentorship={mentorship.id}&amp;occasion=start"
    assert start in page

    form = client.get(start.replace("&amp;", "&")).text
    assert "Start of your mentorship with" in form
    response = post_form(
        client,
        FORM,
        {**{d: "2" for d in DIMENSION_IDS}, "occasion": "start", "mentorship": str(mentorship.id)},
    )
    assert response.status_code == 303
    page = client.get(f"/mentoring/mentorships/{mentorship.id}").text
    assert start not in page and "See your leadership self-assessment results" in page

    ended = post_form(
        client,
        f"/mentoring/mentorships/{mentorship.id}/end",
        {"outcome": "completed"},
    )
    assert ended.status_code == 303
    page = client.get(f"/mentoring/mentorships/{mentorship.id}").text
    assert f"{FORM}?mentorship={mentorship.id}&amp;occasion=end" in page
    assert "Take the end self-assessment" in page
