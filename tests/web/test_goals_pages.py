"""Goals, check-ins, ending early and the needs-attention list, through the pages."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from backend.db import utcnow
from backend.members.models import Member
from backend.mentoring import check_ins
from backend.mentoring.models import CheckIn, MentorshipGoal
from tests.factories import make_member, make_mentee, make_mentorship, make_organiser
from tests.web.conftest import another_client, error_summary, log_in
from tests.web.test_mentoring_pages import submit, text_of


def test_the_pair_adds_a_goal_notes_progress_and_an_outsider_gets_not_found(
    client, engine, session
):
    mentorship = make_mentorship(
        session,
        mentee=make_mentee(session, goals=""),
        started_at=utcnow() - timedelta(days=31),
    )
    mentee = session.get(Member, mentorship.mentee_id)
    outsider = make_member(session)
    check_ins.create_due(session=session)
    session.commit()
    page = f"/mentoring/mentorships/{mentorship.id}"
    log_in(client, mentee.email)

    refused = submit(client, page, f"{page}/goals", {"title": "", "due_on-day": "31"})
    added = submit(
        client,
        page,
        f"{page}/goals",
        {
            "title": "Run my first budget round",
            "due_on-day": "30",
            "due_on-month": "6",
            "due_on-year": "2027",
            "measure": "Signed off by the board",
        },
    )
    goal_path = added.headers["location"].split("?")[0]
    noted = submit(client, goal_path, f"{goal_path}/notes", {"text": "Draft is with finance"})
    goal_page = text_of(client.get(goal_path).text)
    [check_in] = session.exec(select(CheckIn).where(CheckIn.member_id == mentee.id)).all()
    on_page = client.get(page).text
    answered = submit(client, page, f"/mentoring/check-ins/{check_in.id}", {"score": "4"})

    assert refused.status_code == 400
    assert error_summary(refused.text) == [
        "Say what the goal is.",
        "The date must be a real date, like 30 6 2027.",
    ]
    assert added.status_code == 303 and noted.status_code == 303
    assert "Run my first budget round" in goal_page and "30 June 2027" in goal_page
    assert "Draft is with finance" in goal_page
    assert "How is it going?" in on_page
    assert answered.status_code == 303
    session.expire_all()
    assert session.get(CheckIn, check_in.id).score == 4
    with another_client(engine) as other:
        log_in(other, outsider.email)
        assert other.get(goal_path).status_code == 404
        assert other.get(f"/mentoring/check-ins/{check_in.id}").status_code == 404
    assert session.exec(select(MentorshipGoal)).one().title == "Run my first budget round"


def test_ending_early_on_the_page_asks_why(client, session):
    mentorship = make_mentorship(session)
    mentee = session.get(Member, mentorship.mentee_id)
    session.commit()
    page = f"/mentoring/mentorships/{mentorship.id}/end"
    log_in(client, mentee.email)

    missing = submit(client, page, page, {"outcome": "ended_early"})
    ended = submit(client, page, page, {"outcome": "ended_early", "category": "no_time"})

    assert missing.status_code == 400
    assert error_summary(missing.text) == ["Choose why the mentorship is ending early."]
    assert ended.status_code == 303


def test_the_needs_attention_page_lists_quiet_pairs_for_organisers_only(client, engine, session):
    organiser = make_organiser(session)
    mentorship = make_mentorship(session, started_at=utcnow() - timedelta(weeks=9))
    mentee = session.get(Member, mentorship.mentee_id)
    session.commit()
    log_in(client, organiser.email)

    page = client.get("/organise/needs-attention")
    tools = client.get("/organise/insights").text

    assert page.status_code == 200
    body = text_of(page.text)
    assert mentee.name in body and "No session since it started 9 weeks ago" in body
    assert 'href="/organise/needs-attention"' in tools
    assert client.get("/organise/needs-attention?programme=abc").status_code == 400
    with another_client(engine) as other:
        log_in(other, mentee.email)
        assert other.get("/organise/needs-attention").status_code == 403
