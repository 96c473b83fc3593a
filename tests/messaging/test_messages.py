"""Messages: only current participants read and post; unread counts; one notice per burst;
the privacy choice in emails; rate and size limits; reports; export and erasure."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.community import circles
from backend.errors import Conflict, Invalid, NotFound, RateLimited
from backend.messaging import service as messaging
from backend.messaging.models import Message
from backend.notifications import service as notifications
from backend.notifications.models import Notification, OutboxEmail
from backend.privacy import service as privacy
from tests.factories import (
    PASSWORD,
    make_chapter,
    make_circle,
    make_member,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser,
    make_organiser_scope,
)


@pytest.fixture
def pair(session):
    mentor = make_mentor(session, name="Ada Mentor")
    mentee = make_mentee(session, name="Ben Mentee")
    return mentor, mentee, make_mentorship(session, mentor=mentor, mentee=mentee)


def _emails_to(session, address):
    return session.exec(
        select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
    ).all()


def test_the_pair_exchange_messages_with_unread_counts_and_nobody_else_reads(session, pair):
    mentor, mentee, mentorship = pair
    outsider, organiser = make_member(session), make_organiser(session)

    sent = messaging.send(
        session=session, author=mentee, mentorship_id=mentorship.id, body="Hello\n<b>Ada</b>"
    )
    session.commit()

    assert messaging.unread_total(session=session, member_id=mentor.id) == 1
    assert messaging.unread_total(session=session, member_id=mentee.id) == 0
    view = messaging.get_thread(session=session, viewer=mentor, thread_id=sent.thread_id)
    assert view.title == "Mentorship with Ben Mentee" and view.unread == 1 and view.can_post
    page, _ = messaging.messages_page(session=session, viewer=mentor, thread_id=sent.thread_id)
    assert [m.body for m in page] == ["Hello\n<b>Ada</b>"]
    for stranger in (outsider, organiser):
        with pytest.raises(NotFound):
            messaging.get_thread(session=session, viewer=stranger, thread_id=sent.thread_id)
        with pytest.raises(NotFound):
            messaging.messages_page(session=session, viewer=stranger, thread_id=sent.thread_id)
        with pytest.raises(NotFound):
            messaging.send(session=session, author=stranger, thread_id=sent.thread_id, body="Hi")
        with pytest.raises(NotFound):
            messaging.report(session=session, reporter=stranger, message_id=sent.id, reason="x")
        assert messaging.list_threads(session=session, viewer=stranger) == []

    assert messaging.mark_read(session=session, member=mentor, thread_id=sent.thread_id) == 1
    session.commit()
    assert messaging.unread_total(session=session, member_id=mentor.id) == 0
    reply = messaging.send(
        session=session, author=mentor, thread_id=sent.thread_id, body="Hi Ben", reply_to_id=sent.id
    )
    assert reply.reply_to_id == sent.id
    assert [t.thread.id for t in messaging.list_threads(session=session, viewer=mentee)] == [
        sent.thread_id
    ]


def test_an_ended_mentorship_is_read_only_and_bad_bodies_are_refused(session, pair):
    mentor, mentee, mentorship = pair
    with pytest.raises(Invalid, match="Write a message") as empty:
        messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body="  \n ")
    assert empty.value.field == "body"
    with pytest.raises(Invalid, match="5,000 characters"):
        messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body="x" * 5001)
    first = messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body="Hi")
    again = messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body="Hi")
    assert again.id == first.id  # a double submission sends one message

    mentorship.status = "completed"
    session.add(mentorship)
    session.commit()

    view = messaging.get_thread(session=session, viewer=mentor, thread_id=first.thread_id)
    assert not view.can_post and "has ended" in view.read_only_reason
    with pytest.raises(Conflict, match="has ended"):
        messaging.send(session=session, author=mentor, thread_id=first.thread_id, body="Thanks")


def test_circle_members_talk_and_one_who_left_no_longer_reads(session):
    ann, bob, cas = (make_member(session) for _ in range(3))
    circle = make_circle(session, name="Peer circle 9", members=[ann, bob, cas])

    sent = messaging.send(session=session, author=ann, circle_id=circle.id, body="Welcome all")
    session.commit()
    assert messaging.unread_total(session=session, member_id=bob.id) == 1
    assert messaging.get_thread(session=session, viewer=cas, thread_id=sent.thread_id).title == (
        "Peer circle 9"
    )

    circles.leave(session=session, member=cas)
    session.commit()
    with pytest.raises(NotFound):
        messaging.get_thread(session=session, viewer=cas, thread_id=sent.thread_id)
    assert messaging.unread_total(session=session, member_id=cas.id) == 0


def test_one_notice_per_thread_until_read_without_the_text_unless_chosen(session, pair):
    mentor, mentee, mentorship = pair

    for body in ("Secret one", "Secret two", "Secret three"):
        messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body=body)
    session.commit()

    emails = _emails_to(session, mentor.email)
    assert len(emails) == 1
    assert emails[0].subject == "Ben Mentee sent you a message"
    assert "Secret" not in emails[0].body_text
    thread_id = session.exec(select(Message.thread_id)).first()
    assert f"/messages/{thread_id}" in emails[0].body_text
    assert (
        len(session.exec(select(Notification).where(Notification.member_id == mentor.id)).all())
        == 1
    )

    messaging.mark_read(session=session, member=mentor, thread_id=thread_id)
    messaging.set_preference(session=session, member=mentor, show_text_in_emails=True)
    messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body="Now shown")
    session.commit()
    emails = _emails_to(session, mentor.email)
    assert len(emails) == 2 and "Now shown" in emails[-1].body_text
    assert notifications.unread_count(session=session, member_id=mentor.id) == 1

    # Email off: the notice is in the app only.
    notifications.set_preferences(session=session, member_id=mentee.id, modes={"message": "off"})
    messaging.send(session=session, author=mentor, thread_id=thread_id, body="Reply")
    session.commit()
    assert _emails_to(session, mentee.email) == []


def test_sending_is_rate_limited_with_a_clear_error(session, pair, monkeypatch):
    _mentor, mentee, mentorship = pair
    limited = messaging.get_settings().model_copy(update={"messages_per_hour": 2})
    monkeypatch.setattr(messaging, "get_settings", lambda: limited)
    for body in ("one", "two"):
        messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body=body)
    with pytest.raises(RateLimited, match="You can add 2 messages an hour") as error:
        messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body="three")
    assert error.value.retry_after > 0


def test_a_report_shows_organisers_in_scope_only_that_message_and_its_neighbours(session, pair):
    mentor, mentee, mentorship = pair
    bodies = ["First", "Second", "Rude one", "Fourth", "Fifth"]
    sent = [
        messaging.send(
            session=session,
            author=mentor if i % 2 else mentee,
            mentorship_id=mentorship.id,
            body=body,
        )
        for i, body in enumerate(bodies)
    ]
    organiser = make_organiser(session)
    london = make_organiser_scope(session, chapter=make_chapter(session, regions=("London",)))
    session.commit()
    assert messaging.moderation_queue(session=session, organiser=organiser) == []
    with pytest.raises(Invalid):
        messaging.report(session=session, reporter=mentee, message_id=sent[2].id, reason="Mine")
    with pytest.raises(Invalid, match="Say what is wrong"):
        messaging.report(session=session, reporter=mentor, message_id=sent[2].id, reason=" ")

    messaging.report(session=session, reporter=mentor, message_id=sent[2].id, reason="Rude")
    messaging.report(session=session, reporter=mentor, message_id=sent[2].id, reason="Rude")
    session.commit()

    [item] = messaging.moderation_queue(session=session, organiser=organiser)
    assert (item.before.body, item.message.body, item.after.body) == (
        "Second",
        "Rude one",
        "Fourth",
    )
    assert len(item.reports) == 1
    from backend.members.models import Member

    outside = session.get(Member, london.member_id)
    assert messaging.moderation_queue(session=session, organiser=outside) == []
    with pytest.raises(NotFound):
        messaging.moderate(session=session, organiser=outside, message_id=sent[2].id, hide=True)
    with pytest.raises(NotFound):  # an unreported message stays out of reach
        messaging.moderate(session=session, organiser=organiser, message_id=sent[1].id, hide=True)

    hidden = messaging.moderate(
        session=session, organiser=organiser, message_id=sent[2].id, hide=True
    )
    session.commit()
    assert messaging.shown_body(hidden) == messaging.HIDDEN_TEXT
    assert messaging.moderation_queue(session=session, organiser=organiser) == []


def test_export_holds_own_messages_and_erasure_empties_them_for_the_other_side(session, pair):
    mentor, mentee, mentorship = pair
    mine = messaging.send(session=session, author=mentee, mentorship_id=mentorship.id, body="Mine")
    messaging.send(session=session, author=mentor, thread_id=mine.thread_id, body="Theirs")
    messaging.set_preference(session=session, member=mentee, show_text_in_emails=True)
    session.commit()

    data = privacy.export_my_data(session=session, member=mentee)["messages"]
    assert [m["body"] for m in data["messages_sent"]] == ["Mine"]
    assert [t["id"] for t in data["threads"]] == [mine.thread_id]
    assert data["preference"][0]["show_text_in_emails"] is True

    privacy.erase_my_account(session=session, member=mentee, password=PASSWORD, confirm=True)
    session.commit()

    page, _ = messaging.messages_page(session=session, viewer=mentor, thread_id=mine.thread_id)
    assert [messaging.shown_body(m) for m in page] == [messaging.ERASED_TEXT, "Theirs"]
    assert page[0].body == "" and page[0].author_id is None
    assert session.exec(select(Message).where(Message.body == "Mine")).all() == []
