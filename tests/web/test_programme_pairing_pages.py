"""Pairing inside a programme through the pages: asking within a programme, a round over its
accepted applicants, and the programme named on the mentoring pages."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend import jobs
from backend.mentoring.models import MentorRequest
from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import make_mentorship, make_programme, make_programme_application
from tests.web.conftest import error_summary, forms_of, log_in
from tests.web.test_mentoring_pages import text_of
from tests.web.test_rounds_pages import create_round, round_id_of


@pytest.fixture
def inline_jobs(monkeypatch):
    def run_now(path, *args, engine=None):  # type: ignore[no-untyped-def]
        jobs._resolve(path)(*args, engine=engine)

    monkeypatch.setattr(jobs, "enqueue", run_now)


def ask(client, mentor_id, programme_id):  # type: ignore[no-untyped-def]
    page = client.get(f"/mentoring/requests/new?mentor={mentor_id}&programme={programme_id}")
    assert page.status_code == 200, page.text
    [form] = [f for f in forms_of(page.text) if f["action"] == "/mentoring/requests/new"]
    fields = {k: v for k, v in form["fields"].items() if k != "skills"}
    return page, client.post(
        "/mentoring/requests/new", data={**fields, "message": "Please help me in the programme."}
    )


def test_an_accepted_mentee_asks_within_the_programme_and_sees_it_named(client, session, network):
    _, mentors, mentees = network
    programme = make_programme(session, name="Into management", pairing="requests")
    make_programme_application(session, programme=programme, member=mentees[0], status="accepted")
    session.commit()
    log_in(client, mentees[0].email)

    page, sent = ask(client, mentors[0].id, programme.id)

    assert "Into management" in text_of(page.text)
    assert sent.status_code == 303, sent.text
    [request] = session.exec(select(MentorRequest)).all()
    assert request.programme_id == programme.id


def test_a_mentee_not_accepted_is_told_why_and_nothing_is_sent(client, session, network):
    _, mentors, mentees = network
    programme = make_programme(session, name="Into management", pairing="requests")
    session.commit()
    log_in(client, mentees[0].email)

    _, sent = ask(client, mentors[0].id, programme.id)

    assert sent.status_code == 400
    assert any(
        "once your application as a mentee is accepted" in e for e in error_summary(sent.text)
    )
    assert session.exec(select(MentorRequest)).all() == []


def test_mentorship_pages_name_the_programme(client, session, network):
    _, mentors, mentees = network
    programme = make_programme(session, name="Into management")
    mentorship = make_mentorship(
        session, mentor=mentors[0], mentee=mentees[0], programme_id=programme.id
    )
    session.commit()
    log_in(client, mentees[0].email)

    assert "Programme Into management" in text_of(
        client.get(f"/mentoring/mentorships/{mentorship.id}").text
    )
    assert "In Into management, since" in text_of(client.get("/mentoring").text)


def test_an_organiser_runs_a_round_in_a_programme_from_the_page(
    client, session, network, inline_jobs
):
    organiser, _, mentees = network
    programme = make_programme(session, name="Into management", pairing="round")
    make_programme(session, name="Requests only", pairing="requests")
    for mentee in mentees[:2]:
        make_programme_application(session, programme=programme, member=mentee, status="accepted")
    session.commit()
    log_in(client, organiser.email)

    form = client.get("/organise/rounds").text
    assert "Into management" in form and "Requests only" not in form
    created = create_round(client, programme=str(programme.id))

    assert created.status_code == 303, created.text
    round_id = round_id_of(created)
    assert session.get(MatchingRound, round_id).programme_id == programme.id
    paired = {
        p.mentee_id
        for p in session.exec(select(MatchProposal).where(MatchProposal.round_id == round_id))
    }
    assert paired == {mentees[0].id, mentees[1].id}
    assert "Matching round in Into management" in text_of(
        client.get(f"/organise/rounds/{round_id}").text
    )
    assert "Into management" in text_of(client.get("/organise/rounds").text)
