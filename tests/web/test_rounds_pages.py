"""Organisers' matching rounds through the pages: create, watch, review, publish, answer."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlmodel import select

from backend import jobs
from backend.mentoring.models import Mentorship
from backend.rounds.models import MatchingRound, MatchProposal
from matching.rules import about_the_mentee
from tests.factories import make_member, make_organiser, make_round
from tests.web.conftest import another_client, error_summary, forms_of, log_in, post_form
from tests.web.test_mentoring_pages import submit, text_of


@pytest.fixture
def inline_jobs(monkeypatch):
    """Run background jobs inside the request, so a round is ready when the redirect lands."""

    def run_now(path, *args, engine=None):  # type: ignore[no-untyped-def]
        jobs._resolve(path)(*args, engine=engine)

    monkeypatch.setattr(jobs, "enqueue", run_now)


def publish(client, round_id: int):  # type: ignore[no-untyped-def]
    """Publish through the pages: the round page's button, then the confirmation."""
    check = submit(client, f"/organise/rounds/{round_id}", f"/organise/rounds/{round_id}/publish")
    assert check.status_code == 200 and "Check before you publish" in check.text
    [form] = [f for f in forms_of(check.text) if f["action"].endswith("/publish")]
    return client.post(form["action"], data=form["fields"])


def create_round(client, **fields):  # type: ignore[no-untyped-def]
    """Send the create form as a browser would: its defaults, changed by ``fields``."""
    html = client.get("/organise/rounds").text
    [form] = [f for f in forms_of(html) if f["action"] == "/organise/rounds"]
    data = {k: v or "" for k, v in form["fields"].items() if k != "priority"}
    return client.post("/organise/rounds", data={**data, "name": "Spring cohort", **fields})


def round_id_of(response) -> int:  # type: ignore[no-untyped-def]
    return int(re.search(r"/organise/rounds/(\d+)", response.headers["location"]).group(1))


def test_the_create_form_shows_default_weights_with_hints(client, session, network):
    organiser, _, _ = network
    log_in(client, organiser.email)

    html = client.get("/organise/rounds").text

    assert 'name="weight_skills" type="text" value="35"' in html
    assert "Days to answer" in html and "priority access" in html
    assert "Matching rounds</a>" in html  # in the organiser's menu


def test_a_round_from_creation_to_both_sides_accepting(
    client, session, engine, network, inline_jobs
):
    organiser, _, _ = network
    log_in(client, organiser.email)

    created = create_round(client, respond_days="5", priority="yes")
    assert created.status_code == 303
    round_id = round_id_of(created)
    page = client.get(f"/organise/rounds/{round_id}")
    body = text_of(page.text)
    assert "Ready for review" in body and 'http-equiv="refresh"' not in page.text
    assert "Matched 3 of 4" in body
    assert "Pairs across organisations 100%" in body
    # Three pairs; the fourth row is the mentee found nobody, said so beside the count.
    assert "Proposed pairs (3)" in body and "Nobody found" in body
    assert "also shows the 1 mentee the round found no mentor for" in body
    assert re.search(r"Mentors with a free place \d+ \(\d+ places? in all\)", body), body
    proposed = session.exec(select(MatchProposal).where(MatchProposal.status == "proposed")).all()
    assert len(proposed) == 3

    removed = submit(
        client,
        f"/organise/rounds/{round_id}",
        f"/organise/rounds/{round_id}/proposals/{proposed[0].id}/remove",
    )
    assert removed.status_code == 303
    assert (
        "The pair has been taken out of the round." in client.get(removed.headers["location"]).text
    )

    keep = proposed[1:]
    before = {p.id: p.mentor_id for p in keep}
    swapped = submit(
        client,
        f"/organise/rounds/{round_id}",
        f"/organise/rounds/{round_id}/swap",
        {"first": str(keep[0].id), "second": str(keep[1].id)},
    )
    assert swapped.status_code == 303
    session.expire_all()
    after = {p.id: session.get(MatchProposal, p.id).mentor_id for p in keep}
    assert after == {keep[0].id: before[keep[1].id], keep[1].id: before[keep[0].id]}

    side = client.get(f"/organise/rounds/{round_id}/proposals/{keep[0].id}")
    assert side.status_code == 200
    mentee = session.get(type(organiser), keep[0].mentee_id)
    mentor = session.get(type(organiser), after[keep[0].id])
    assert mentee.name in side.text and mentor.name in side.text

    published = publish(client, round_id)
    assert published.status_code == 303
    session.expire_all()
    assert session.get(MatchingRound, round_id).status == "published"
    assert session.get(MatchProposal, proposed[0].id).status == "removed"

    exported = client.get(f"/organise/rounds/{round_id}/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 4 and {r["status"] for r in rows} == {"offered", "removed", "unmatched"}

    offer = keep[0]
    with another_client(engine) as mentee_client, another_client(engine) as mentor_client:
        log_in(mentee_client, mentee.email)
        log_in(mentor_client, mentor.email)
        assert f"/mentoring/proposals/{offer.id}" in mentee_client.get("/mentoring").text
        page = text_of(mentee_client.get(f"/mentoring/proposals/{offer.id}").text)
        assert mentor.name in page and "% match" in page and "Why we matched you" in page

        first = submit(
            mentee_client,
            f"/mentoring/proposals/{offer.id}",
            f"/mentoring/proposals/{offer.id}/accept",
        )
        assert first.status_code == 303
        assert "waiting for" in text_of(mentee_client.get(first.headers["location"]).text)
        second = submit(
            mentor_client,
            f"/mentoring/proposals/{offer.id}",
            f"/mentoring/proposals/{offer.id}/accept",
        )
        assert second.status_code == 303
        assert "/mentoring/mentorships/" in second.headers["location"]
        assert mentee.name in mentor_client.get(second.headers["location"]).text
        assert mentor.name in text_of(mentee_client.get("/mentoring").text)
    session.expire_all()
    [mentorship] = session.exec(select(Mentorship)).all()
    assert (mentorship.mentee_id, mentorship.mentor_id) == (mentee.id, mentor.id)


def test_a_declined_offer_can_give_a_reason(client, session, engine, network, inline_jobs):
    organiser, _, _ = network
    log_in(client, organiser.email)
    round_id = round_id_of(create_round(client))
    publish(client, round_id)
    offer = session.exec(select(MatchProposal).where(MatchProposal.status == "offered")).first()
    mentee = session.get(type(organiser), offer.mentee_id)
    session.rollback()

    with another_client(engine) as mentee_client:
        log_in(mentee_client, mentee.email)
        declined = submit(
            mentee_client,
            f"/mentoring/proposals/{offer.id}",
            f"/mentoring/proposals/{offer.id}/decline",
            {"reason": "I have just changed jobs."},
        )
        assert declined.status_code == 303, error_summary(declined.text)
    session.expire_all()
    assert session.get(MatchProposal, offer.id).decline_reason == "I have just changed jobs."


def test_while_the_round_runs_the_page_shows_progress_in_a_polite_live_region(
    client, session, network, monkeypatch
):
    organiser, _, _ = network
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)
    log_in(client, organiser.email)

    round_id = round_id_of(create_round(client))
    page = client.get(f"/organise/rounds/{round_id}").text

    assert 'http-equiv="refresh"' not in page  # no timed refresh (WCAG 2.2.1)
    assert "Waiting to start" in page and "0% done" in page
    assert '<p role="status" aria-live="polite"' in page
    assert f'<a href="/organise/rounds/{round_id}">Refresh this page</a>' in page
    assert '<script type="module" src="/static/progress.js"' in page

    status = client.get(f"/organise/rounds/{round_id}/progress")
    assert status.status_code == 200
    assert status.json() == {"running": True, "message": "Waiting to start.", "percent": 0}


def test_a_round_s_progress_is_not_shown_to_a_member(client, session, network):
    organiser, mentors, _ = network
    matching_round = make_round(session, organiser=organiser, status="running")
    log_in(client, mentors[0].email)

    response = client.get(f"/organise/rounds/{matching_round.id}/progress")

    assert response.status_code in (303, 403, 404)
    assert "Waiting" not in response.text


def test_bad_round_settings_are_explained_and_nothing_is_created(client, session, network):
    organiser, _, _ = network
    log_in(client, organiser.email)

    for weight in ("lots", "-1", "nan", "5000"):
        response = create_round(client, name=" ", respond_days="90", weight_goals=weight)
        assert response.status_code == 400
        messages = [html.unescape(m) for m in error_summary(response.text)]
        assert messages[0] == "Give the round a name, like 'Spring 2026 cohort'."
        assert len(messages) == 3 and "Weights must be" in messages[1]
        assert 'href="#weight_goals"' in response.text
        assert '<details class="nhsuk-details" open>' in response.text
        assert f'value="{weight}"' in response.text
    assert session.exec(select(MatchingRound)).all() == []


def test_publishing_twice_is_explained(client, session, network, inline_jobs):
    organiser, _, _ = network
    log_in(client, organiser.email)
    round_id = round_id_of(create_round(client))
    publish(client, round_id)

    token = forms_of(client.get("/organise/rounds").text)[0]["fields"]["csrf_token"]
    again = client.post(f"/organise/rounds/{round_id}/publish", data={"csrf_token": token})

    assert again.status_code == 400
    assert error_summary(again.text) == ["Only a round that is ready for review can be published."]


@pytest.mark.parametrize(
    "path",
    ["/organise/rounds", "/organise/rounds/1", "/organise/rounds/1/export.csv"],
)
def test_members_who_are_not_organisers_get_403(client, session, path):
    member = make_member(session)
    log_in(client, member.email)

    assert client.get(path).status_code == 403
    response = post_form(client, "/organise/rounds", {"name": "Mine"}, page="/mentoring")
    assert response.status_code == 403
    assert session.exec(select(MatchingRound)).all() == []


def test_strangers_get_404_for_others_proposals(client, session, engine, network, inline_jobs):
    organiser, _, _ = network
    stranger = make_member(session)
    log_in(client, organiser.email)
    round_id = round_id_of(create_round(client))
    publish(client, round_id)
    offer = session.exec(select(MatchProposal).where(MatchProposal.status == "offered")).first()
    session.rollback()

    with another_client(engine) as nosy:
        log_in(nosy, stranger.email)
        token = forms_of(nosy.get("/mentoring").text)[0]["fields"]["csrf_token"]
        assert nosy.get(f"/mentoring/proposals/{offer.id}").status_code == 404
        accepted = nosy.post(f"/mentoring/proposals/{offer.id}/accept", data={"csrf_token": token})
        assert accepted.status_code == 404
    # An organiser opening a member's offer is taken to the side-by-side review.
    response = client.get(f"/mentoring/proposals/{offer.id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/organise/rounds/{round_id}/proposals/{offer.id}"


@pytest.mark.parametrize(
    "path",
    [
        "/organise/rounds",
        "/organise/rounds/1/proposals/1/remove",
        "/organise/rounds/1/swap",
        "/organise/rounds/1/publish",
    ],
)
def test_a_post_without_the_csrf_token_is_refused(client, session, path):
    organiser = make_organiser(session)
    log_in(client, organiser.email)

    response = client.post(path, data={"name": "Sneaky"})

    assert response.status_code == 403
    assert session.exec(select(MatchingRound)).all() == []


def test_publishing_asks_first_and_says_how_many_will_be_emailed(
    client, session, network, inline_jobs
):
    organiser, _, _ = network
    log_in(client, organiser.email)
    round_id = round_id_of(create_round(client))

    check = submit(client, f"/organise/rounds/{round_id}", f"/organise/rounds/{round_id}/publish")

    assert check.status_code == 200
    session.expire_all()
    assert session.get(MatchingRound, round_id).status == "ready"  # nothing sent yet
    pairs = session.exec(select(MatchProposal).where(MatchProposal.status == "proposed")).all()
    people = len({p.mentee_id for p in pairs} | {p.mentor_id for p in pairs})
    body = text_of(check.text)
    assert f"People emailed now {people}" in body
    assert f"Publish and email {people} people" in body

    [form] = [f for f in forms_of(check.text) if f["action"].endswith("/publish")]
    stale = client.post(form["action"], data={**form["fields"], "expected_emails": "999"})
    assert stale.status_code == 409
    assert error_summary(stale.text)[0].startswith("The round changed since you checked")
    session.expire_all()
    assert session.get(MatchingRound, round_id).status == "ready"


def test_the_review_page_names_each_mentee_without_a_mentor_and_why(
    client, session, network, inline_jobs
):
    organiser, _, _ = network
    log_in(client, organiser.email)
    round_id = round_id_of(create_round(client))
    [unmatched] = session.exec(
        select(MatchProposal).where(MatchProposal.status == "unmatched")
    ).all()
    mentee = session.get(type(organiser), unmatched.mentee_id)

    body = text_of(client.get(f"/organise/rounds/{round_id}").text)

    assert "Mentees without a mentor (1)" in body
    # Written to the mentee ("could take you"); the organiser reads it about them.
    assert "could take you" in unmatched.reasons
    assert f"{mentee.name} Why {about_the_mentee(unmatched.reasons)}" in body
    assert "could take them" in body and "could take you" not in body


def test_a_round_whose_worker_stopped_says_why_and_can_be_run_again(
    client, session, engine, network, monkeypatch
):
    from datetime import timedelta

    from backend.db import utcnow

    organiser, _, mentees = network
    log_in(client, organiser.email)
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)  # the worker is dead
    round_id = round_id_of(create_round(client))
    # Its worker died mid-round: running, and silent for an hour.
    stuck = session.get(MatchingRound, round_id)
    stuck.status, stuck.attempts = "running", 1
    stuck.heartbeat_at = utcnow() - timedelta(hours=1)
    session.add(stuck)
    session.commit()

    assert jobs.run_once(engine)["rounds_stalled"] == 1
    page = client.get(f"/organise/rounds/{round_id}").text
    assert "The worker running this round stopped (no heartbeat since" in html.unescape(page)
    [retry] = [f for f in forms_of(page) if f["action"] == f"/organise/rounds/{round_id}/retry"]

    monkeypatch.setattr(
        jobs, "enqueue", lambda path, *args, engine=None: jobs._resolve(path)(*args, engine=engine)
    )
    response = post_form(client, retry["action"], {}, page=f"/organise/rounds/{round_id}")

    assert response.status_code == 303
    session.expire_all()
    finished = session.get(MatchingRound, round_id)
    assert (finished.status, finished.attempts) == ("ready", 2)
    proposals = session.exec(select(MatchProposal).where(MatchProposal.round_id == round_id)).all()
    assert sorted(p.mentee_id for p in proposals) == sorted(m.id for m in mentees)
    # A round that is ready cannot be "run again".
    again = post_form(client, retry["action"], {}, page=f"/organise/rounds/{round_id}")
    assert again.status_code == 409


def test_an_unreadable_seed_or_answer_time_is_named_and_nothing_is_created(
    client, session, network
):
    organiser, _, _ = network
    log_in(client, organiser.email)

    response = create_round(client, seed="lucky", respond_days="a week", weight_skills="lots")

    assert response.status_code == 400
    messages = [html.unescape(m) for m in error_summary(response.text)]
    assert messages == [
        "Weights must be numbers of 0 or more, and not all 0.",
        "Time to answer must be from 1 to 60 days.",
        "Seed must be a whole number from 0 to 2147483647.",
    ]
    assert 'href="#seed"' in response.text and 'href="#respond_days"' in response.text
    assert 'href="#weight_skills"' in response.text
    assert 'value="lucky"' in response.text and 'value="a week"' in response.text
    assert session.exec(select(MatchingRound)).all() == []

    empty = create_round(client, respond_days="")
    assert empty.status_code == 400
    assert error_summary(empty.text) == [
        "Enter how many days mentors and mentees have to answer, from 1 to 60."
    ]
    assert session.exec(select(MatchingRound)).all() == []
