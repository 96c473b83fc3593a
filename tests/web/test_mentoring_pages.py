"""Finding a mentor, requests, the mentor's inbox and mentorships, through the pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from backend.db import utcnow
from backend.london import london_today
from backend.members.models import MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentoringSession, MentorRequest, Mentorship
from backend.notifications.models import Notification
from tests.factories import GONE, make_member, make_mentorship
from tests.web.conftest import another_client, error_summary, forms_of, log_in


def submit(client, page: str, action: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    """Fill in the form posting to ``action`` on ``page`` (keeping its hidden fields) and send."""
    response = client.get(page)
    assert response.status_code == 200, response.text
    [form] = [f for f in forms_of(response.text) if f["action"] == action]
    hidden = {k: v for k, v in form["fields"].items() if k in ("csrf_token", "idempotency_key")}
    hidden.update({k: v for k, v in form["fields"].items() if k == "mentor"})
    return client.post(action, data={**hidden, **(data or {})})


def text_of(html: str) -> str:
    """The page's main text, tags stripped, spaces collapsed."""
    main = html.split('id="maincontent"', 1)[-1]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


@pytest.fixture
def pair(session):
    """A band 4 mentee looking for help with quality improvement, and a band 8a mentor."""
    mentee = make_member(
        session,
        name="Amara Okafor",
        band="4",
        seeking_mentor=True,
        skills_sought=("quality-improvement", "rota-management"),
        goals="Run my first improvement project.",
    )
    mentor = make_member(
        session,
        name="Grace Mensah",
        band="8a",
        organisation="Sheffield Teaching Hospitals NHS Foundation Trust",
        capacity=2,
        skills_offered=("quality-improvement", "budget-management"),
    )
    return mentee, mentor


def send_request(client, mentor_id: int, message: str = "I would value your help."):  # type: ignore[no-untyped-def]
    return submit(
        client,
        f"/mentoring/requests/new?mentor={mentor_id}",
        "/mentoring/requests/new",
        {"message": message, "skills": ["quality-improvement"]},
    )


def request_id_of(response) -> int:  # type: ignore[no-untyped-def]
    return int(re.search(r"/mentoring/requests/(\d+)", response.headers["location"]).group(1))


def test_suggestions_show_match_reasons_and_a_way_to_ask(client, session, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)

    page = client.get("/mentoring/suggestions")

    assert page.status_code == 200
    body = text_of(page.text)
    assert "Grace Mensah" in body and re.search(r"\d+% match", body)
    assert "Two free places out of two" in body
    assert f'href="/mentoring/requests/new?mentor={mentor.id}"' in page.text
    assert f'href="/members/{mentor.id}"' in page.text
    assert "Ask to be your mentor" in body


def test_suggestions_have_a_friendly_empty_state(client, session):
    lonely = make_member(session, band="4", seeking_mentor=True)
    log_in(client, lonely.email)

    body = text_of(client.get("/mentoring/suggestions").text)

    assert "No mentors have a free place that fits you right now" in body


def test_the_request_form_ticks_the_mentees_own_skills(client, session, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)

    html = client.get(f"/mentoring/requests/new?mentor={mentor.id}").text

    assert 'value="quality-improvement" checked' in html
    assert 'value="rota-management" checked' in html
    assert 'value="budget-management">' in html  # the mentor's, not ticked
    assert re.search(r'name="idempotency_key" value="[\w-]{16,}"', html)


def test_request_accept_session_and_end_with_feedback(client, session, engine, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)

    sent = send_request(client, mentor.id)
    assert sent.status_code == 303
    request_id = request_id_of(sent)
    page = client.get(sent.headers["location"]).text
    assert "Your request has been sent." in page and "Waiting for an answer" in page

    with another_client(engine) as mentor_client:
        log_in(mentor_client, mentor.email)
        header = mentor_client.get("/mentoring").text
        assert "Notifications (1" in header
        inbox = text_of(mentor_client.get("/mentoring/requests").text)
        assert "Amara Okafor" in inbox and "Waiting for an answer" in inbox
        detail = text_of(mentor_client.get(f"/mentoring/requests/{request_id}").text)
        assert "I would value your help." in detail and "Quality improvement" in detail

        accepted = submit(
            mentor_client,
            f"/mentoring/requests/{request_id}",
            f"/mentoring/requests/{request_id}/accept",
        )
        assert accepted.status_code == 303
        mentorship_path = accepted.headers["location"].split("?")[0]
        mentorship_id = int(mentorship_path.rsplit("/", 1)[1])
        assert "Your mentee" in mentor_client.get(mentorship_path).text
        assert "Amara Okafor" in text_of(mentor_client.get("/mentoring").text)

    overview = text_of(client.get("/mentoring").text)
    assert "Grace Mensah" in overview and "My mentor" in overview
    assert "Your mentor" in client.get(mentorship_path).text

    agreed = submit(
        client,
        mentorship_path,
        f"{mentorship_path}/agreement",
        {"goals": "Lead a QI project", "meeting_rhythm": "Monthly, video", "planned_months": "9"},
    )
    assert agreed.status_code == 303
    held = london_today()  # the mentorship started today: no session can be earlier
    logged = submit(
        client,
        mentorship_path,
        f"{mentorship_path}/sessions",
        {
            "held_on-day": str(held.day),
            "held_on-month": str(held.month),
            "held_on-year": str(held.year),
            "duration_minutes": "50",
            "notes": "Talked about <b>driver diagrams</b>",
        },
    )
    assert logged.status_code == 303
    page = client.get(mentorship_path).text
    assert "50 minutes" in page and "&lt;b&gt;driver diagrams&lt;/b&gt;" in page
    assert '<option value="9" selected>' in page

    ended = submit(
        client,
        f"{mentorship_path}/end",
        f"{mentorship_path}/end",
        {"outcome": "completed", "rating": "5", "feedback": "Really useful", "reason": "Done"},
    )
    assert ended.status_code == 303
    page = text_of(client.get(mentorship_path).text)
    assert "Completed" in page and "You rated this mentorship 5 out of 5" in page

    session.expire_all()
    mentorship = session.get(Mentorship, mentorship_id)
    assert (mentorship.status, mentorship.planned_months) == ("completed", 9)
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0
    [logged_session] = session.exec(select(MentoringSession)).all()
    assert (logged_session.held_on, logged_session.duration_minutes) == (held, 50)

    # The mentor gives their feedback afterwards.
    with another_client(engine) as mentor_client:
        log_in(mentor_client, mentor.email)
        feedback = submit(
            mentor_client,
            mentorship_path,
            f"{mentorship_path}/feedback",
            {"rating": "4", "feedback": "Keen mentee"},
        )
        assert feedback.status_code == 303
        assert "You rated this mentorship 4 out of 5" in text_of(
            mentor_client.get(mentorship_path).text
        )


def test_decline_tells_the_mentee_and_links_to_fresh_suggestions(client, session, engine, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)
    request_id = request_id_of(send_request(client, mentor.id))

    with another_client(engine) as mentor_client:
        log_in(mentor_client, mentor.email)
        declined = submit(
            mentor_client,
            f"/mentoring/requests/{request_id}",
            f"/mentoring/requests/{request_id}/decline",
            {"reason": "My places are full this spring."},
        )
        assert declined.status_code == 303

    notes = client.get("/notifications").text
    assert "Notifications (1" in notes and ">New<" in notes
    assert 'href="/mentoring/suggestions"' in notes
    assert "cannot mentor you at the moment" in notes
    detail = text_of(client.get(f"/mentoring/requests/{request_id}").text)
    assert "Declined" in detail and "My places are full this spring." in detail
    assert client.get("/mentoring/suggestions").status_code == 200


def test_the_mentee_can_withdraw(client, session, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)
    request_id = request_id_of(send_request(client, mentor.id))

    withdrawn = submit(
        client, f"/mentoring/requests/{request_id}", f"/mentoring/requests/{request_id}/withdraw"
    )

    assert withdrawn.status_code == 303
    assert "Withdrawn" in text_of(client.get(f"/mentoring/requests/{request_id}").text)
    again = client.post(
        f"/mentoring/requests/{request_id}/withdraw",
        data={"csrf_token": forms_of(client.get("/mentoring").text)[0]["fields"]["csrf_token"]},
    )
    assert again.status_code == 400
    assert error_summary(again.text) == ["This request is no longer open."]


def test_a_double_submit_creates_one_request(client, session, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)
    html = client.get(f"/mentoring/requests/new?mentor={mentor.id}").text
    [form] = [f for f in forms_of(html) if f["action"] == "/mentoring/requests/new"]
    data = {**form["fields"], "message": "Hello", "skills": "quality-improvement"}

    first = client.post("/mentoring/requests/new", data=data)
    second = client.post("/mentoring/requests/new", data=data)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(session.exec(select(MentorRequest)).all()) == 1


def test_a_second_request_to_the_same_mentor_shows_the_duplicate_message(client, session, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)
    send_request(client, mentor.id)

    again = send_request(client, mentor.id, "Me again")

    assert again.status_code == 400
    assert error_summary(again.text) == ["You already have an open request to Grace Mensah."]
    assert "Me again" in again.text  # what was typed is kept
    assert len(session.exec(select(MentorRequest)).all()) == 1


def test_a_full_mentor_shows_the_capacity_message(client, session):
    mentee = make_member(session, band="4")
    full = make_member(session, name="Full Mentor", band="8a", capacity=1)
    log_in(client, mentee.email)
    # The form was opened while a place was free; the last place then went to someone else.
    opened = client.get(f"/mentoring/requests/new?mentor={full.id}")
    [form] = [f for f in forms_of(opened.text) if f["action"] == "/mentoring/requests/new"]
    offer = session.get(MentoringOffer, full.id)
    offer.active_mentees = 1
    session.add(offer)
    session.commit()

    profile = text_of(client.get(f"/members/{full.id}").text)
    response = client.post(
        "/mentoring/requests/new",
        data={
            **form["fields"],
            "message": "I would value your help.",
            "skills": ["quality-improvement"],
        },
    )

    assert "No free places at the moment" in profile
    assert "Full Mentor has no free mentoring places at the moment." in profile
    assert "Ask to be your mentor" not in profile
    form = client.get(f"/mentoring/requests/new?mentor={full.id}")
    assert form.status_code == 200
    assert "Full Mentor has no free mentoring places at the moment." in text_of(form.text)
    assert 'name="message"' not in form.text
    assert response.status_code == 400
    assert error_summary(response.text) == [
        "Full Mentor has no free mentoring places at the moment."
    ]


def test_a_bad_request_form_is_explained(client, session, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)

    response = send_request(client, mentor.id, message="   ")

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "Write a short message saying what you would like help with."
    ]
    assert 'href="#message"' in response.text


def test_bad_session_dates_and_lengths_are_explained_together(client, session, engine, pair):
    mentee, mentor = pair
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    log_in(client, mentee.email)
    path = f"/mentoring/mentorships/{mentorship.id}"

    response = submit(
        client,
        path,
        f"{path}/sessions",
        {
            "held_on-day": "31",
            "held_on-month": "2",
            "held_on-year": "2026",
            "duration_minutes": "x",
        },
    )

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "The date of the session must be a real date, like 14 3 2026.",
        "Duration must be a whole number of minutes, like 45.",
    ]
    assert 'value="31"' in response.text
    assert session.exec(select(MentoringSession)).all() == []

    empty = submit(
        client,
        path,
        f"{path}/sessions",
        {"held_on-day": "4", "held_on-month": "3", "held_on-year": "2026", "duration_minutes": ""},
    )
    assert empty.status_code == 400
    assert "Enter how long the session was, in minutes, like 45." in error_summary(empty.text)


def test_a_session_before_the_mentorship_started_is_explained_on_the_page(client, session, pair):
    mentee, mentor = pair
    started = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee, started_at=started)
    log_in(client, mentee.email)
    path = f"/mentoring/mentorships/{mentorship.id}"

    response = submit(
        client,
        path,
        f"{path}/sessions",
        {
            "held_on-day": "4",
            "held_on-month": "3",
            "held_on-year": "2026",
            "duration_minutes": "45",
        },
    )

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "The date of the session must be on or after 5 March 2026, when the mentorship started."
    ]
    assert session.exec(select(MentoringSession)).all() == []


def test_a_former_member_is_shown_as_such(client, session, pair):
    mentee, _mentor = pair
    mentorship = make_mentorship(session, mentor=GONE, mentee=mentee, status="ended_early")
    log_in(client, mentee.email)

    body = text_of(client.get(f"/mentoring/mentorships/{mentorship.id}").text)

    assert "Former member" in body and "How did it go?" in body


def test_strangers_get_not_found_for_others_requests_and_mentorships(client, session, engine, pair):
    mentee, mentor = pair
    stranger = make_member(session, name="Nosy Parker")
    log_in(client, mentee.email)
    request_id = request_id_of(send_request(client, mentor.id))
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)

    with another_client(engine) as nosy:
        log_in(nosy, stranger.email)
        token = forms_of(nosy.get("/mentoring").text)[0]["fields"]["csrf_token"]
        for path in (
            f"/mentoring/requests/{request_id}",
            f"/mentoring/mentorships/{mentorship.id}",
            f"/mentoring/mentorships/{mentorship.id}/end",
            "/mentoring/requests/99999999999",
        ):
            assert nosy.get(path).status_code == 404, path
        for path in (
            f"/mentoring/requests/{request_id}/accept",
            f"/mentoring/requests/{request_id}/withdraw",
            f"/mentoring/mentorships/{mentorship.id}/sessions",
            f"/mentoring/mentorships/{mentorship.id}/end",
        ):
            assert nosy.post(path, data={"csrf_token": token}).status_code == 404, path
    session.expire_all()
    assert session.get(MentorRequest, request_id).status == "open"


def test_a_text_search_of_the_mentor_directory_finds_only_mentors_with_a_free_place(
    client, session
):
    viewer = make_member(session, band="4")
    make_member(session, name="Priya Open", band="8a", capacity=2)
    make_member(session, name="Priya Learner", band="5")  # not offering mentoring
    full = make_member(session, name="Priya Full", band="8a", capacity=1)
    offer = session.get(MentoringOffer, full.id)
    offer.active_mentees = 1
    session.add(offer)
    paused = make_member(session, name="Priya Paused", band="8a", capacity=2)
    paused_offer = session.get(MentoringOffer, paused.id)
    paused_offer.paused = True
    session.add(paused_offer)
    session.commit()
    log_in(client, viewer.email)

    for url in ("/mentors?searched=yes&text=Priya", "/mentors?q=Priya", "/mentors?text=Priya"):
        body = text_of(client.get(url).text)
        assert "Priya Open" in body, url
        assert "Two free places out of two" in body, url
        for absent in ("Priya Learner", "Priya Full", "Priya Paused"):
            assert absent not in body, (url, absent)


def test_the_directory_filters_and_pages(client, session):
    viewer = make_member(session, band="4")
    for i in range(23):
        make_member(
            session,
            name=f"Mentor {i:02d}",
            band="8a",
            region="London" if i % 2 else "North West",
            capacity=1,
            skills_offered=("budget-management",),
        )
    make_member(session, name="Paused Mentor", band="8a", capacity=0)
    log_in(client, viewer.email)

    first = client.get("/mentors")
    assert first.status_code == 200
    body = text_of(first.text)
    assert "Mentor 00" in body and "One free place out of one" in body
    assert "Paused Mentor" not in body
    assert 'href="/mentors?searched=yes&amp;page=2"' in first.text
    second = text_of(client.get("/mentors?searched=yes&page=2").text)
    assert "Mentor 22" in second and "Mentor 00" not in second

    london = text_of(client.get("/mentors?searched=yes&region=London").text)
    assert "Mentor 01" in london and "Mentor 00" not in london

    bad = client.get("/mentors?searched=yes&region=Atlantis")
    assert bad.status_code == 400
    assert [html.unescape(m) for m in error_summary(bad.text)] == [
        "'Atlantis' is not a known region."
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/mentoring/requests/new",
        "/mentoring/requests/1/accept",
        "/mentoring/requests/1/decline",
        "/mentoring/requests/1/withdraw",
        "/mentoring/mentorships/1/agreement",
        "/mentoring/mentorships/1/sessions",
        "/mentoring/mentorships/1/end",
        "/mentoring/mentorships/1/feedback",
        "/mentoring/proposals/1/accept",
        "/mentoring/proposals/1/decline",
    ],
)
def test_a_post_without_the_csrf_token_is_refused(client, session, path):
    member = make_member(session)
    log_in(client, member.email)

    response = client.post(path, data={"message": "Hi", "mentor": "1"})

    assert response.status_code == 403
    assert session.exec(select(MentorRequest)).all() == []


@pytest.mark.parametrize(
    "path",
    ["/mentoring", "/mentoring/suggestions", "/mentors", "/mentoring/requests"],
)
def test_mentoring_pages_ask_anonymous_visitors_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_notifications_appear_for_both_sides(client, session, engine, pair):
    mentee, mentor = pair
    log_in(client, mentee.email)
    send_request(client, mentor.id)

    session.expire_all()
    [note] = session.exec(select(Notification).where(Notification.member_id == mentor.id)).all()
    assert note.link.startswith("/mentoring/requests/")


def test_an_expired_request_reads_to_the_mentee_as_closed_for_no_answer(client, session, pair):
    mentee, mentor = pair
    other = make_member(session, name="Other Mentor", band="8b", capacity=2)
    expiring = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Please help"
    )
    overtaken = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=other.id, message="Please help too"
    )
    session.commit()
    assert mentoring.expire_requests(session=session, now=utcnow() + timedelta(days=15)) == 2
    session.commit()
    session.expire_all()
    assert session.get(MentorRequest, expiring.id).closed_reason == "no_answer"
    log_in(client, mentee.email)

    page = text_of(client.get(f"/mentoring/requests/{expiring.id}").text)
    assert "Closed: no answer" in page
    assert "This request closed because it was not answered in time." in page
    assert "Withdrawn" not in page
    assert "Closed: no answer" in text_of(client.get(f"/mentoring/requests/{overtaken.id}").text)


def test_a_request_closed_by_another_mentorship_is_not_shown_as_withdrawn(client, session, pair):
    mentee, mentor = pair
    other = make_member(session, name="Other Mentor", band="8b", capacity=2)
    first = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Please help"
    )
    second = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=other.id, message="Please help too"
    )
    mentoring.respond_to_request(session=session, mentor=other, request_id=second.id, accept=True)
    session.commit()
    log_in(client, mentee.email)

    page = text_of(client.get(f"/mentoring/requests/{first.id}").text)
    assert "Closed: you found a mentor" in page and "Withdrawn" not in page

    # Only the mentee's own withdrawal reads "Withdrawn".
    asker = make_member(session, band="4")
    mine = mentoring.request_mentor(
        session=session, mentee=asker, mentor_id=mentor.id, message="Hi"
    )
    mentoring.withdraw_request(session=session, mentee=asker, request_id=mine.id)
    session.commit()
    session.expire_all()
    closure = mentoring.request_closure(session.get(MentorRequest, mine.id), for_mentor=False)
    assert closure is not None and closure.status == "Withdrawn"


def test_the_requests_list_says_why_a_request_closed(client, session, engine, pair):
    mentee, mentor = pair
    other = make_member(session, name="Other Mentor", band="8b", capacity=2)
    third = make_member(session, name="Third Mentor", band="8b", capacity=2)
    mentoring.request_mentor(session=session, mentee=mentee, mentor_id=mentor.id, message="Hi")
    session.commit()
    assert mentoring.expire_requests(session=session, now=utcnow() + timedelta(days=15)) == 1
    session.commit()
    mentoring.request_mentor(session=session, mentee=mentee, mentor_id=other.id, message="Hi")
    found = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=third.id, message="Hi"
    )
    mentoring.respond_to_request(session=session, mentor=third, request_id=found.id, accept=True)
    session.commit()
    log_in(client, mentee.email)

    page = text_of(client.get("/mentoring/requests").text)
    assert "Closed: no answer" in page
    assert "Closed: you found a mentor" in page
    assert "Withdrawn" not in page

    mentor_browser = another_client(engine)
    log_in(mentor_browser, mentor.email)
    assert "Closed: no answer" in text_of(mentor_browser.get("/mentoring/requests").text)
