"""In-app notifications and each member's choice of email per kind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend import text
from backend.community import service as community
from backend.db import utcnow
from backend.errors import FieldErrors
from backend.mentoring import service as mentoring
from backend.notifications import service as notifications
from backend.notifications.models import Notification, OutboxEmail
from backend.rounds import service as rounds
from tests.factories import make_member, make_organiser


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


# Texts built from what members typed must fit their columns (PostgreSQL enforces VARCHAR(n)).

LONG_NAME = ("Alexandra " + "Montgomery-" * 17)[:194] + "Smythe"  # 200 characters: allowed


def _fits(session) -> None:  # type: ignore[no-untyped-def]
    title_limit = text.column_length(Notification, "title")
    subject_limit = text.column_length(OutboxEmail, "subject")
    session.expire_all()
    titles = [n.title for n in session.exec(select(Notification)).all()]
    subjects = [e.subject for e in session.exec(select(OutboxEmail)).all()]
    assert titles
    assert all(len(t) <= title_limit and "\n" not in t and "\r" not in t for t in titles)
    assert all(len(s) <= subject_limit and "\n" not in s and "\r" not in s for s in subjects)


def test_a_long_title_is_shortened_with_an_ellipsis_and_kept_on_one_line(session):
    member = make_member(session)

    notice = tell(session, member, title="Reply from Eve\r\nBcc: everyone@example.com " + "x" * 300)

    assert len(notice.title) == text.column_length(Notification, "title")
    assert notice.title.startswith("Reply from Eve Bcc: everyone@example.com x")
    assert notice.title.endswith("\u2026")
    [email] = session.exec(select(OutboxEmail)).all()
    assert email.subject == notice.title


def test_a_200_character_name_can_request_a_mentor(session):
    assert len(LONG_NAME) == 200
    mentee = make_member(session, name=LONG_NAME)
    mentor = make_member(
        session,
        band="8a",
        organisation="Bradford District Care NHS Foundation Trust",
        capacity=2,
        skills_offered=("quality-improvement",),
    )

    mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Could you help me?"
    )
    session.commit()

    _fits(session)


def test_a_200_character_name_can_comment(session):
    author = make_member(session)
    commenter = make_member(session, name=LONG_NAME)
    post = community.create_post(session=session, author=author, title="Rotas", body="Plan early")
    session.commit()

    community.add_comment(session=session, author=commenter, post_id=post.id, body="Agreed")
    session.commit()

    _fits(session)


def test_a_200_character_name_does_not_block_publishing_a_round(session, engine):
    organiser = make_organiser(session, band="8b")
    mentor = make_member(
        session,
        name=LONG_NAME,
        band="8a",
        organisation="Mentor Trust",
        capacity=1,
        skills_offered=("quality-improvement",),
    )
    mentee = make_member(
        session,
        name=LONG_NAME.replace("Alexandra", "Bartholomew"[:9]),
        band="4",
        organisation="Mentee Trust",
        seeking_mentor=True,
        skills_sought=("quality-improvement",),
        goals="Lead a quality improvement project",
    )
    created = rounds.create_round(
        session=session, organiser=organiser, settings=rounds.RoundSettings(name="Spring cohort")
    )
    session.commit()
    assert rounds.run_round_job(created.id, engine=engine) == "ready"
    session.expire_all()

    published = rounds.publish_round(session=session, organiser=organiser, round_id=created.id)
    session.commit()

    assert published.status == "published"
    told = {n.member_id for n in session.exec(select(Notification)).all()}
    assert {mentor.id, mentee.id} <= told
    _fits(session)
