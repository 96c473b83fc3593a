"""Moderation: reports, the organisers' queue, hiding and restoring with a note."""

from __future__ import annotations

import pytest

from backend.community import service as community
from backend.errors import Forbidden, Invalid, NotFound
from tests.factories import make_member, make_organiser


@pytest.fixture
def people(session):
    return (
        make_member(session, name="Ann"),
        make_member(session, name="Bob"),
        make_organiser(session, name="Olu"),
    )


def test_a_report_reaches_the_queue_once_per_reporter(session, people):
    ann, bob, olu = people
    post = community.create_post(session=session, author=ann, title="T", body="B")

    first = community.report(session=session, reporter=bob, post_id=post.id, reason="Rude")
    again = community.report(session=session, reporter=bob, post_id=post.id, reason="Rude!")

    assert first.id == again.id
    queue = community.moderation_queue(session=session, organiser=olu)
    assert [(i.kind, i.post.id, len(i.reports)) for i in queue] == [("post", post.id, 1)]


def test_members_cannot_see_the_queue_or_moderate(session, people):
    ann, bob, _ = people
    post = community.create_post(session=session, author=ann, title="T", body="B")

    with pytest.raises(Forbidden):
        community.moderation_queue(session=session, organiser=bob)
    with pytest.raises(Forbidden):
        community.hide(session=session, organiser=bob, post_id=post.id, note="no")


def test_a_report_needs_a_reason_and_one_target(session, people):
    ann, bob, _ = people
    post = community.create_post(session=session, author=ann, title="T", body="B")

    with pytest.raises(Invalid):
        community.report(session=session, reporter=bob, post_id=post.id, reason=" ")
    with pytest.raises(Invalid):
        community.report(session=session, reporter=bob, reason="x")


def test_hidden_posts_leave_members_feeds_but_organisers_still_see_them(session, people):
    ann, bob, olu = people
    post = community.create_post(session=session, author=ann, title="T", body="B")
    community.report(session=session, reporter=bob, post_id=post.id, reason="Spam")

    community.hide(session=session, organiser=olu, post_id=post.id, note="Advertising")

    assert community.feed(session=session, viewer=bob)[0] == []
    with pytest.raises(NotFound):
        community.get_post(session=session, viewer=bob, post_id=post.id)
    seen = community.feed(session=session, viewer=olu)[0]
    assert [(p.id, p.status, p.moderation_note) for p in seen] == [
        (post.id, "hidden", "Advertising")
    ]
    assert community.moderation_queue(session=session, organiser=olu) == []

    community.restore(session=session, organiser=olu, post_id=post.id, note="Checked: fine")
    assert [p.id for p in community.feed(session=session, viewer=bob)[0]] == [post.id]


def test_hidden_comments_leave_the_post_for_members(session, people):
    ann, bob, olu = people
    post = community.create_post(session=session, author=ann, title="T", body="B")
    comment = community.add_comment(session=session, author=bob, post_id=post.id, body="Nasty")
    community.report(session=session, reporter=ann, comment_id=comment.id, reason="Abusive")
    assert [i.kind for i in community.moderation_queue(session=session, organiser=olu)] == [
        "comment"
    ]

    community.hide(session=session, organiser=olu, comment_id=comment.id, note="Abuse")

    assert community.comments_for(session=session, viewer=ann, post_ids=[post.id]) == {post.id: []}
    assert community.comments_for(session=session, viewer=olu, post_ids=[post.id])[post.id][
        0
    ].status == ("hidden")


def test_hiding_needs_a_note(session, people):
    ann, _, olu = people
    post = community.create_post(session=session, author=ann, title="T", body="B")

    with pytest.raises(Invalid, match="note"):
        community.hide(session=session, organiser=olu, post_id=post.id, note="")


def test_dismissing_reports_keeps_the_post(session, people):
    ann, bob, olu = people
    post = community.create_post(session=session, author=ann, title="T", body="B")
    community.report(session=session, reporter=bob, post_id=post.id, reason="Hmm")

    assert community.dismiss_reports(session=session, organiser=olu, post_id=post.id) == 1
    assert community.moderation_queue(session=session, organiser=olu) == []
    assert community.get_post(session=session, viewer=bob, post_id=post.id).status == "visible"
