"""Changing and cancelling events: updated invitations with a higher SEQUENCE, the capacity
never below the places taken and a larger one filled from the waiting list, the calendar
cancellation, who may change an event, and events created by members when the network allows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from backend.errors import Conflict, FieldErrors, Forbidden, NotFound
from backend.events import service as events
from backend.events.models import Event, EventRsvp
from backend.members.models import Member
from backend.notifications.models import Notification
from backend.settings import get_settings
from tests.events.test_events import SUMMER, invites, settings
from tests.factories import (
    make_chapter,
    make_member,
    make_organiser,
    make_organiser_scope,
    make_programme,
)

HOME = "North East and Yorkshire"  # make_member's region


@pytest.fixture
def members_create(monkeypatch):
    """The network lets members create events."""
    monkeypatch.setattr(get_settings(), "members_create_events", True)


def told(session, member: Member) -> list[tuple[str, str]]:
    return [
        (n.title, n.body)
        for n in session.exec(
            select(Notification)
            .where(Notification.member_id == member.id)
            .order_by(col(Notification.id))
        ).all()
    ]


def sequence_of(invite) -> int:
    [vevent] = invite.walk("VEVENT")
    return int(vevent["SEQUENCE"])


def full_event(session, mail_dir, *, capacity: int = 1, waiting: int = 1):
    """An organiser's event with ``capacity`` people going and ``waiting`` more waiting; the
    invitations so far delivered and set aside."""
    organiser = make_organiser(session)
    event = events.create_event(
        session=session, organiser=organiser, settings=settings(capacity=capacity)
    )
    people = [make_member(session) for _ in range(capacity + waiting)]
    for person in people:
        events.rsvp(session=session, member=person, event_id=event.id)
    first = invites(session, mail_dir)
    return organiser, event, people, first


# Changing ---------------------------------------------------------------------------------------


def test_a_new_time_re_invites_those_going_with_a_higher_sequence_and_tells_those_waiting(
    session, mail_dir
):
    organiser, event, (going, waiting), first = full_event(session, mail_dir)
    [(_, _, original)] = first

    events.update_event(
        session=session,
        organiser=organiser,
        event_id=event.id,
        settings=settings(capacity=1, start="19:00", end="8:30pm", location="Room 4"),
    )
    [(to, method, updated)] = invites(session, mail_dir)

    assert (to, method) == (going.email, "REQUEST")
    [vevent] = updated.walk("VEVENT")
    start = datetime(SUMMER.year, SUMMER.month, SUMMER.day, 18, 0, tzinfo=UTC)
    assert vevent.decoded("DTSTART").astimezone(UTC) == start
    assert str(vevent["UID"]) == str(original.walk("VEVENT")[0]["UID"])
    assert sequence_of(updated) > sequence_of(original)
    going_title, going_body = told(session, going)[-1]
    assert going_title.startswith("Changed:")
    assert "The time has changed: it is now 14 July 2027, 7pm to 8:30pm" in going_body
    assert "The place has changed: it is now Room 4." in going_body
    waiting_title, waiting_body = told(session, waiting)[-1]
    assert waiting_title.startswith("Changed:")
    assert "still on the waiting list" in waiting_body


def test_the_capacity_never_goes_below_those_going_and_a_rise_fills_from_the_waiting_list(
    session, mail_dir
):
    organiser, event, (first, second, third), _ = full_event(session, mail_dir, waiting=2)

    events.update_event(
        session=session, organiser=organiser, event_id=event.id, settings=settings(capacity=2)
    )
    with pytest.raises(FieldErrors) as error:
        events.update_event(
            session=session, organiser=organiser, event_id=event.id, settings=settings(capacity=1)
        )

    assert error.value.errors == {
        "capacity": "Capacity cannot be less than the 2 people already going."
    }
    statuses = dict(session.exec(select(EventRsvp.member_id, EventRsvp.status)).all())
    assert statuses == {first.id: "going", second.id: "going", third.id: "waiting"}
    assert told(session, second)[-1][0].startswith("A place for you")
    # Only the capacity changed: the promoted one is invited, nobody else is told anything.
    assert [(to, method) for to, method, _ in invites(session, mail_dir)] == [
        (second.email, "REQUEST")
    ]
    assert not any(title.startswith("Changed") for title, _ in told(session, third))


def test_a_started_or_cancelled_event_cannot_be_changed(session):
    organiser = make_organiser(session)
    event = events.create_event(session=session, organiser=organiser, settings=settings())
    later = event.starts_at + timedelta(minutes=5)

    with pytest.raises(Conflict) as started:
        events.update_event(
            session=session, organiser=organiser, event_id=event.id, settings=settings(), now=later
        )
    with pytest.raises(Conflict):
        events.cancel_event(
            session=session, organiser=organiser, event_id=event.id, reason="x", now=later
        )
    events.cancel_event(session=session, organiser=organiser, event_id=event.id, reason="Ill")
    with pytest.raises(Conflict) as cancelled:
        events.update_event(
            session=session, organiser=organiser, event_id=event.id, settings=settings()
        )

    assert "already started" in started.value.message
    assert cancelled.value.message == "This event has already been cancelled."


def test_a_change_is_checked_like_a_new_event(session):
    organiser = make_organiser(session)
    event = events.create_event(session=session, organiser=organiser, settings=settings())

    with pytest.raises(FieldErrors) as error:
        events.update_event(
            session=session,
            organiser=organiser,
            event_id=event.id,
            settings=settings(title=" ", end="5pm"),
        )

    assert set(error.value.errors) == {"title", "end"}


# Cancelling -------------------------------------------------------------------------------------


def test_cancelling_sends_the_calendar_cancellation_tells_those_waiting_and_closes_rsvps(
    session, mail_dir
):
    organiser, event, (going, waiting), first = full_event(session, mail_dir)
    [(_, _, original)] = first

    with pytest.raises(FieldErrors) as no_reason:
        events.cancel_event(session=session, organiser=organiser, event_id=event.id, reason=" ")
    events.cancel_event(
        session=session, organiser=organiser, event_id=event.id, reason="The speaker is ill."
    )
    [(to, method, cancel)] = invites(session, mail_dir)

    assert no_reason.value.errors == {"reason": "Enter why the event is cancelled."}
    session.expire_all()
    stored = session.get(Event, event.id)
    assert stored is not None and stored.cancel_reason == "The speaker is ill."
    assert stored.cancelled_at is not None
    assert (to, method) == (going.email, "CANCEL")
    assert str(cancel.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    assert sequence_of(cancel) > sequence_of(original)
    assert "The reason given: The speaker is ill." in told(session, going)[-1][1]
    assert told(session, waiting)[-1][0].startswith("Event cancelled")
    with pytest.raises(Conflict) as again:
        events.cancel_event(session=session, organiser=organiser, event_id=event.id, reason="x")
    assert again.value.message == "This event has already been cancelled."
    with pytest.raises(Conflict):
        events.rsvp(session=session, member=make_member(session), event_id=event.id)
    assert event.id not in {e.id for e in events.upcoming_for(session=session, member=going)}
    assert events.send_reminders(session=session, now=event.starts_at - timedelta(hours=2)) == 0


# Who may change an event --------------------------------------------------------------------


def test_only_the_events_organisers_may_change_or_cancel_it(session):
    chapter, elsewhere = make_chapter(session, regions=(HOME,)), make_chapter(session)
    network_event = events.create_event(
        session=session, organiser=make_organiser(session), settings=settings()
    )
    chapter_event = events.create_event(
        session=session, organiser=make_organiser(session), settings=settings(chapter_id=chapter.id)
    )
    member = make_member(session)
    outsider = make_organiser_scope(
        session, member=make_member(session, region="London"), chapter=elsewhere
    )
    outsider = session.get(Member, outsider.member_id)
    insider = session.get(Member, make_organiser_scope(session, chapter=chapter).member_id)

    for who, event, refused in (
        (member, network_event, Forbidden),
        (outsider, network_event, Forbidden),  # a chapter organiser: not the network's events
        (outsider, chapter_event, NotFound),  # not theirs to see
    ):
        with pytest.raises(refused):
            events.update_event(
                session=session, organiser=who, event_id=event.id, settings=settings()
            )
        with pytest.raises(refused):
            events.cancel_event(session=session, organiser=who, event_id=event.id, reason="x")

    changed = events.update_event(
        session=session,
        organiser=insider,
        event_id=chapter_event.id,
        settings=settings(chapter_id=chapter.id, title="Renamed"),
    )
    assert changed.title == "Renamed"
    assert events.can_change(session, chapter_event, insider)
    assert not events.can_change(session, chapter_event, member)


# Events members create -------------------------------------------------------------------------


def test_members_create_events_only_when_the_network_allows(session):
    member = make_member(session)

    assert not events.may_create(session, member)
    with pytest.raises(Forbidden):
        events.create_event(session=session, organiser=member, settings=settings(kind="meetup"))


def test_when_allowed_a_member_creates_changes_and_cancels_their_own_network_or_chapter_event(
    session, members_create
):
    mine, other = make_chapter(session, regions=(HOME,)), make_chapter(session)
    creator, neighbour = make_member(session), make_member(session)
    organiser = make_organiser(session)

    assert events.may_create(session, creator)
    made = events.create_event(
        session=session, organiser=creator, settings=settings(kind="meetup", location="Leeds")
    )
    in_chapter = events.create_event(
        session=session, organiser=creator, settings=settings(chapter_id=mine.id)
    )
    with pytest.raises(FieldErrors) as learning_set:
        events.create_event(
            session=session, organiser=creator, settings=settings(kind="learning_set")
        )
    with pytest.raises(FieldErrors) as programme:
        events.create_event(
            session=session,
            organiser=creator,
            settings=settings(programme_id=make_programme(session).id),
        )
    with pytest.raises(Forbidden):
        events.create_event(
            session=session, organiser=creator, settings=settings(chapter_id=other.id)
        )

    assert (made.organiser_id, in_chapter.chapter_id) == (creator.id, mine.id)
    assert "kind" in learning_set.value.errors
    assert "programme_id" in programme.value.errors
    changed = events.update_event(
        session=session,
        organiser=creator,
        event_id=made.id,
        settings=settings(kind="meetup", location="Leeds", capacity=8),
    )
    assert changed.capacity == 8
    with pytest.raises(Forbidden):
        events.cancel_event(session=session, organiser=neighbour, event_id=made.id, reason="x")
    events.cancel_event(session=session, organiser=creator, event_id=made.id, reason="Clash")
    events.cancel_event(
        session=session, organiser=organiser, event_id=in_chapter.id, reason="Duplicate"
    )
    assert (made.status, in_chapter.status) == ("cancelled", "cancelled")
