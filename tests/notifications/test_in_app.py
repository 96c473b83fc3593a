"""In-app notifications and each member's choice of email per kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.db import utcnow
from backend.errors import FieldErrors
from backend.notifications import service as notifications
from backend.notifications.models import Notification, OutboxEmail
from tests.factories import make_member


def tell(session, member, kind="request_received", title="Hello"):
    notice = notifications.notify(
        session=session,
        member_id=member.id,
        email=member.email,
        kind=kind,
        title=title,
        body="Body",
        link="/somewhere",
    )
    session.commit()
    return notice


def test_immediate_kinds_are_emailed_at_once_and_counted_unread(session):
    member = make_member(session)

    tell(session, member)

    assert notifications.unread_count(session=session, member_id=member.id) == 1
    [email] = session.exec(select(OutboxEmail)).all()
    assert email.subject == "Hello" and "http://testserver/somewhere" in email.body_text


def test_off_means_in_app_only(session):
    member = make_member(session)
    notifications.set_preferences(
        session=session, member_id=member.id, modes={"request_received": "off"}
    )

    tell(session, member)

    assert session.exec(select(OutboxEmail)).all() == []
    assert notifications.unread_count(session=session, member_id=member.id) == 1


def test_digest_kinds_wait_a_week_then_go_in_one_email(session):
    member = make_member(session)
    notifications.set_preferences(
        session=session, member_id=member.id, modes={"request_received": "digest"}
    )
    tell(session, member, title="First")
    tell(session, member, title="Second")

    assert notifications.send_digests(session=session) == 0
    assert notifications.send_digests(session=session, now=utcnow() + timedelta(days=8)) == 1
    assert notifications.send_digests(session=session, now=utcnow() + timedelta(days=9)) == 0

    [digest] = session.exec(select(OutboxEmail)).all()
    assert "2 updates" in digest.subject
    assert "- First" in digest.body_text and "- Second" in digest.body_text


def test_marking_read_touches_only_my_own(session):
    me, other = make_member(session), make_member(session)
    mine = tell(session, me)
    theirs = tell(session, other)

    assert (
        notifications.mark_read(session=session, member_id=me.id, notification_ids=[theirs.id]) == 0
    )
    assert (
        notifications.mark_read(session=session, member_id=me.id, notification_ids=[mine.id]) == 1
    )

    assert notifications.unread_count(session=session, member_id=me.id) == 0
    assert notifications.unread_count(session=session, member_id=other.id) == 1
    assert [n.title for n in notifications.list_for(session=session, member_id=me.id)] == ["Hello"]


def test_unknown_kinds_or_modes_are_refused_whole(session):
    member = make_member(session)

    with pytest.raises(FieldErrors):
        notifications.set_preferences(
            session=session,
            member_id=member.id,
            modes={"request_received": "digest", "mentorship": "hourly"},
        )

    assert notifications.preferences(session=session, member_id=member.id)["request_received"] == (
        "immediate"
    )
    assert session.exec(select(Notification)).all() == []
