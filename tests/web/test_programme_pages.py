"""Programme pages without JavaScript: organisers create, ask, publish and decide; members
browse, apply (with an error summary) and see the decision; another chapter sees nothing."""

from __future__ import annotations

from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.members.models import Member
from backend.programmes.models import Programme, ProgrammeApplication, ProgrammeQuestion
from tests.factories import make_chapter, make_member, make_organiser_scope, make_programme
from tests.web.conftest import another_client, error_summary, log_in, post_form
from tests.web.test_mentoring_pages import submit, text_of


def _world(session):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    nw = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)
    ldn = session.get(Member, make_organiser_scope(session, chapter=london).member_id)
    band4 = make_member(session, name="Bea Four", region="North West", band="4")
    band8a = make_member(session, name="Ade Eight", region="North West", band="8a")
    session.commit()
    return north_west, london, nw, ldn, band4, band8a


def _create(client, **fields):  # type: ignore[no-untyped-def]
    data = {"name": "Into management", "type": "one-to-one", "pairing": "both", **fields}
    return submit(client, "/organise/programmes/new", "/organise/programmes", data)


def test_create_ask_publish_apply_and_decide_through_the_pages(session, client, engine):
    north_west, _, nw, ldn, band4, band8a = _world(session)
    log_in(client, nw.email)

    created = _create(client, bands=["3", "4", "5"], chapter_id=str(north_west.id), places="1")
    assert created.status_code == 303, error_summary(created.text)
    programme = session.exec(select(Programme).where(Programme.name == "Into management")).one()
    page = f"/organise/programmes/{programme.id}"
    assert created.headers["location"].startswith(page)

    questions = f"{page}/questions"
    blank = client.get(questions).text
    assert 'id="required_new" name="required_new" type="checkbox" value="yes" checked' in blank
    assert 'id="kind_new" name="kind_new" type="radio" value="short-text" checked' in blank
    bad = submit(
        client,
        questions,
        questions,
        {"action": "add", "text_new": "Pick", "kind_new": "single-choice", "choices_new": "A"},
    )
    assert bad.status_code == 400
    assert error_summary(bad.text) == ["Question 1: Give at least 2 choices, one per line."]
    added = submit(
        client,
        questions,
        questions,
        {
            "action": "add",
            "text_new": "Why this programme?",
            "kind_new": "long-text",
            "required_new": "yes",
        },
    )
    assert added.status_code == 303
    [question] = session.exec(select(ProgrammeQuestion)).all()

    published = submit(client, page, f"{page}/publish")
    assert published.status_code == 303

    # A band 8a member is told why not, naming their band.
    other = another_client(engine)
    log_in(other, band8a.email)
    listing = text_of(other.get("/programmes").text)
    assert "Into management" in listing
    assert "This programme is for bands 3 to 5. Your band is 8a." in listing
    refused = submit(
        other,
        f"/programmes/{programme.id}/apply",
        f"/programmes/{programme.id}/apply",
        {"role": "mentee", f"question_{question.id}": "Please"},
    )
    assert refused.status_code == 409
    assert error_summary(refused.text) == ["This programme is for bands 3 to 5. Your band is 8a."]

    # A band 4 member applies: the empty answer is named first.
    member = another_client(engine)
    log_in(member, band4.email)
    apply = f"/programmes/{programme.id}/apply"
    empty = submit(member, apply, apply, {"role": "mentee"})
    assert empty.status_code == 400
    assert error_summary(empty.text) == ["Question 1: enter your answer."]
    assert f'href="#question_{question.id}"' in empty.text
    sent = submit(member, apply, apply, {"role": "mentee", f"question_{question.id}": "To lead"})
    assert sent.status_code == 303

    # The organiser sees the answer and accepts with a message.
    review = client.get(f"{page}/applications?status=submitted")
    assert "Bea Four" in review.text and "To lead" in review.text and "Band 4" in review.text
    application = session.exec(select(ProgrammeApplication)).one()
    decide = f"{page}/applications/{application.id}/decide"
    accepted = submit(
        client,
        f"{page}/applications",
        decide,
        {f"decision_{application.id}": "accepted", f"message_{application.id}": "Welcome"},
    )
    assert accepted.status_code == 303
    mine = text_of(member.get(f"/programmes/{programme.id}").text)
    assert "Accepted" in mine and "Welcome" in mine

    # The London organiser cannot see it, on any page.
    london_client = another_client(engine)
    log_in(london_client, ldn.email)
    for path in (page, f"{page}/applications", f"{page}/questions"):
        assert london_client.get(path).status_code == 404, path
    assert "Into management" not in london_client.get("/organise/programmes").text
    events = session.exec(select(AuditEvent.action).where(AuditEvent.actor_id == nw.id)).all()
    assert {"programme.created", "programme.published", "programme_application.decided"} <= set(
        events
    )


def test_places_full_says_use_the_waiting_list(session, client):
    north_west, _, nw, _, band4, band8a = _world(session)
    programme = make_programme(session, chapter_id=north_west.id, places=1)
    from tests.factories import make_programme_application

    make_programme_application(session, programme=programme, member=band4, status="accepted")
    second = make_programme_application(session, programme=programme, member=band8a)
    session.commit()
    log_in(client, nw.email)
    page = f"/organise/programmes/{programme.id}/applications"

    refused = submit(
        client, page, f"{page}/{second.id}/decide", {f"decision_{second.id}": "accepted"}
    )

    assert refused.status_code == 409
    [message] = error_summary(refused.text)
    assert "All 1 places are taken" in message and "waiting list" in message
    session.expire_all()
    assert session.get(ProgrammeApplication, second.id).status == "submitted"


def test_bad_dates_are_named_in_the_error_summary_and_nothing_is_created(session, client):
    north_west, _, nw, *_ = _world(session)
    log_in(client, nw.email)

    response = _create(
        client,
        chapter_id=str(north_west.id),
        **{
            "applications_open_on-day": "10",
            "applications_open_on-month": "3",
            "applications_open_on-year": "2027",
            "applications_close_on-day": "1",
            "applications_close_on-month": "3",
            "applications_close_on-year": "2027",
            "starts_on-day": "31",
            "starts_on-month": "2",
            "starts_on-year": "2027",
        },
    )

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "The applications close date must be on or after the applications open date "
        "(10 March 2027).",
        "The start date must be a real date, for example 31 3 2027 (or leave it empty).",
    ]
    assert 'href="#applications_close_on-day"' in response.text
    assert session.exec(select(Programme).where(Programme.name == "Into management")).all() == []


def test_members_cannot_open_organiser_pages_and_see_the_nav_link(session, client):
    *_, band4, _ = _world(session)
    log_in(client, band4.email)

    assert client.get("/organise/programmes").status_code == 403
    assert (
        post_form(client, "/organise/programmes", {"name": "x"}, page="/programmes").status_code
        == 403
    )
    assert 'href="/programmes">Programmes</a>' in client.get("/programmes").text


def test_not_yet_open_applications_say_when_they_open(session, client):
    *_, band4, _ = _world(session)
    from datetime import date

    programme = make_programme(
        session, applications_open_on=date(2099, 5, 1), applications_close_on=date(2099, 5, 31)
    )
    session.commit()
    log_in(client, band4.email)

    page = client.get(f"/programmes/{programme.id}/apply")

    assert "Applications open on 1 May 2099 until 31 May 2099." in text_of(page.text)
    assert "Send my application" not in page.text
