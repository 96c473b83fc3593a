"""Group mentoring: the group's conversation (its mentor and active members only, read-only
once the group closes), the group closing when its last mentorship or its programme ends, and
organisers' read-only view of a group in their scope."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from backend.errors import Conflict, NotFound
from backend.mentoring import groups, lifecycle
from backend.mentoring.models import MentoringGroup, Mentorship
from backend.messaging import service as messaging
from backend.notifications.models import Notification
from backend.privacy import service as privacy
from backend.programmes import pairing
from tests.factories import (
    PASSWORD,
    make_chapter,
    make_group_session,
    make_member,
    make_mentee,
    make_mentor,
    make_mentoring_group,
    make_organiser,
    make_organiser_scope,
    make_programme,
)


def _group(session, *, mentees=2, **programme_fields):
    programme = make_programme(session, type="group", group_size=4, **programme_fields)
    mentor = make_mentor(session, name="Grace Mentor")
    group = make_mentoring_group(session, programme=programme, mentor=mentor, name="Team leads")
    people = [make_mentee(session, name=f"Member {i}") for i in range(mentees)]
    ships = []
    for person in people:
        ship = Mentorship(
            programme_id=programme.id, mentor_id=mentor.id, mentee_id=person.id, group_id=group.id
        )
        session.add(ship)
        ships.append(ship)
    session.flush()
    return group, mentor, people, ships


def test_the_group_talks_and_an_outsider_or_a_former_member_cannot_read(session):
    group, mentor, (ann, bob, cat), ships = _group(session, mentees=3)
    outsider, organiser = make_member(session), make_organiser(session)
    lifecycle.move_mentorship(session=session, mentorship_id=ships[2].id, to="ended_early")

    sent = messaging.send(session=session, author=ann, group_id=group.id, body="Hello all")
    session.commit()

    view = messaging.get_thread(session=session, viewer=mentor, thread_id=sent.thread_id)
    assert view.kind == "group" and view.title == "Team leads" and view.can_post
    assert {p.id for p in view.participants} == {mentor.id, ann.id, bob.id}
    assert messaging.unread_total(session=session, member_id=bob.id) == 1
    assert [t.thread.id for t in messaging.list_threads(session=session, viewer=mentor)] == [
        sent.thread_id
    ]
    told = session.exec(select(Notification).where(Notification.kind == "message")).all()
    assert {n.member_id for n in told} == {mentor.id, bob.id}
    assert all(n.link == f"/messages/{sent.thread_id}" for n in told)
    for stranger in (outsider, organiser, cat):
        with pytest.raises(NotFound):
            messaging.get_thread(session=session, viewer=stranger, thread_id=sent.thread_id)
        with pytest.raises(NotFound):
            messaging.thread_for_group(session=session, member=stranger, group_id=group.id)
        with pytest.raises(NotFound):
            messaging.send(session=session, author=stranger, group_id=group.id, body="Hi")
        assert messaging.unread_total(session=session, member_id=stranger.id) == 0
    # the same thread however it is reached
    again = messaging.thread_for_group(session=session, member=bob, group_id=group.id)
    assert again.id == sent.thread_id


def test_the_last_mentorship_ending_closes_the_group_and_its_conversation_is_read_only(session):
    group, mentor, (ann, bob), ships = _group(session)
    sent = messaging.send(session=session, author=mentor, group_id=group.id, body="Welcome")
    lifecycle.close_mentorship(session=session, mentorship=ships[0], to="completed")
    session.refresh(group)
    assert group.status == "active"  # Bob is still in it

    lifecycle.close_mentorship(session=session, mentorship=ships[1], to="ended_early")
    session.commit()
    session.refresh(group)

    assert group.status == "closed"
    view = messaging.get_thread(session=session, viewer=ann, thread_id=sent.thread_id)
    assert not view.can_post and "closed" in view.read_only_reason
    with pytest.raises(Conflict):
        messaging.send(session=session, author=mentor, thread_id=sent.thread_id, body="Still?")
    # Ann saw it through and still reads it; Bob left early and does not
    with pytest.raises(NotFound):
        messaging.get_thread(session=session, viewer=bob, thread_id=sent.thread_id)


def test_the_programme_ending_closes_its_groups(session):
    group, _, _, ships = _group(session, ends_on=date(2026, 3, 31))
    empty = make_mentoring_group(session)
    empty_in_programme = MentoringGroup(
        programme_id=group.programme_id, mentor_id=make_mentor(session).id, name="Nobody yet"
    )
    session.add(empty_in_programme)
    session.commit()

    assert pairing.end_programmes(session=session, now=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))

    session.expire_all()
    assert session.get(MentoringGroup, group.id).status == "closed"
    assert session.get(MentoringGroup, empty_in_programme.id).status == "closed"
    assert session.get(MentoringGroup, empty.id).status == "active"  # another programme's
    assert {session.get(Mentorship, s.id).status for s in ships} == {"completed"}


def test_export_holds_a_members_group_messages_and_erasure_empties_them(session):
    group, mentor, (ann, _), _ = _group(session)
    sent = messaging.send(session=session, author=ann, group_id=group.id, body="My words")
    session.commit()

    data = privacy.export_my_data(session=session, member=ann)["messages"]
    assert [m["body"] for m in data["messages_sent"]] == ["My words"]
    assert [t["mentoring_group_id"] for t in data["threads"]] == [group.id]

    privacy.erase_my_account(session=session, member=ann, password=PASSWORD, confirm=True)
    session.commit()
    page, _ = messaging.messages_page(session=session, viewer=mentor, thread_id=sent.thread_id)
    assert [(m.body, m.author_id) for m in page] == [("", None)]
    assert messaging.shown_body(page[0]) == messaging.ERASED_TEXT


def test_an_organiser_in_scope_sees_the_group_without_its_notes_and_others_do_not(session):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    group, mentor, people, _ = _group(session, chapter_id=north_west.id)
    make_group_session(session, group=group, notes="Private to the group")
    ours = make_organiser_scope(session, chapter=north_west).member_id
    theirs = make_organiser_scope(session, chapter=london).member_id
    session.commit()
    ours_member, theirs_member = (session.get(type(mentor), i) for i in (ours, theirs))

    view = groups.get_group(
        session=session, member=ours_member, group_id=group.id, as_organiser=True
    )
    assert view.for_organiser and len(view.sessions) == 1
    assert {m.id for m in view.members} == {p.id for p in people}
    with pytest.raises(NotFound):
        groups.get_group(
            session=session, member=theirs_member, group_id=group.id, as_organiser=True
        )
    with pytest.raises(NotFound):  # not through the members' path (GraphQL)
        groups.get_group(session=session, member=ours_member, group_id=group.id)
    assert groups.get_group(session=session, member=mentor, group_id=group.id).notes_shown
