"""Sharing learning: posts, feeds, comments, the useful reaction, following, own edits."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.community import service as community
from backend.community.models import Post
from backend.errors import FieldErrors, Forbidden, Invalid, NotAuthenticated, NotFound, RateLimited
from backend.notifications.models import Notification
from tests.factories import make_member


def _post(session, author, title="What I learned", body="Plan rotas **early**.", **kw):
    return community.create_post(session=session, author=author, title=title, body=body, **kw)


def test_a_verified_member_shares_learning_with_skill_tags(session):
    ann = make_member(session, name="Ann")

    post = _post(session, ann, skills=["rota-management", "rota-management"])

    stored = session.exec(select(Post.title, Post.author_id).where(Post.id == post.id)).one()
    assert tuple(stored) == ("What I learned", ann.id)
    assert community.skills_for(session=session, post_ids=[post.id]) == {
        post.id: ["rota-management"]
    }


def test_an_unverified_member_cannot_post_or_comment(session):
    ann = make_member(session)
    newcomer = make_member(session, verified=False)
    post = _post(session, ann)

    with pytest.raises(Forbidden, match="Confirm your email"):
        _post(session, newcomer)
    with pytest.raises(Forbidden):
        community.add_comment(session=session, author=newcomer, post_id=post.id, body="Hi")


def test_anonymous_callers_must_log_in(session):
    with pytest.raises(NotAuthenticated):
        community.feed(session=session, viewer=None)


def test_every_problem_with_a_post_is_reported_at_once(session):
    ann = make_member(session)

    with pytest.raises(FieldErrors) as caught:
        _post(session, ann, title=" ", body="", skills=["no-such-skill"])

    assert set(caught.value.errors) == {"title", "body", "skills"}


def test_a_double_submitted_post_is_created_once(session):
    ann = make_member(session)

    first = _post(session, ann)
    second = _post(session, ann)

    assert first.id == second.id
    assert len(session.exec(select(Post)).all()) == 1


def test_the_feed_is_newest_first_and_pages_never_skip_or_repeat(session):
    ann = make_member(session)
    ids = [_post(session, ann, title=f"Post {i}").id for i in range(5)]

    page1, more1 = community.feed(session=session, viewer=ann, limit=2)
    page2, more2 = community.feed(session=session, viewer=ann, limit=2, before_id=page1[-1].id)
    page3, more3 = community.feed(session=session, viewer=ann, limit=2, before_id=page2[-1].id)

    seen = [p.id for p in page1 + page2 + page3]
    assert seen == list(reversed(ids))
    assert (more1, more2, more3) == (True, True, False)


def test_feeds_by_skill_and_from_people_i_follow(session):
    ann, bob, cat = make_member(session), make_member(session), make_member(session)
    rota = _post(session, ann, title="Rotas", skills=["rota-management"])
    other = _post(session, bob, title="Budgets")

    by_skill, _ = community.feed(
        session=session, viewer=cat, filter=community.FeedFilter(skill="rota-management")
    )
    community.follow(session=session, follower=cat, member_id=bob.id)
    followed, _ = community.feed(
        session=session, viewer=cat, filter=community.FeedFilter(following=True)
    )

    assert [p.id for p in by_skill] == [rota.id]
    assert [p.id for p in followed] == [other.id]


def test_follow_is_idempotent_and_never_of_yourself(session):
    ann, bob = make_member(session), make_member(session)

    community.follow(session=session, follower=ann, member_id=bob.id)
    community.follow(session=session, follower=ann, member_id=bob.id)
    assert community.following_ids(session=session, follower_id=ann.id) == {bob.id}
    with pytest.raises(Invalid):
        community.follow(session=session, follower=ann, member_id=ann.id)
    community.unfollow(session=session, follower=ann, member_id=bob.id)
    assert community.following_ids(session=session, follower_id=ann.id) == set()


def test_authors_edit_and_delete_only_their_own_posts(session):
    ann, bob = make_member(session), make_member(session)
    post = _post(session, ann)

    with pytest.raises(Forbidden):
        community.edit_post(session=session, member=bob, post_id=post.id, title="X", body="Y")
    with pytest.raises(Forbidden):
        community.delete_post(session=session, member=bob, post_id=post.id)
    edited = community.edit_post(
        session=session, member=ann, post_id=post.id, title="Better", body="Clearer"
    )
    assert edited.title == "Better" and edited.edited_at is not None

    community.delete_post(session=session, member=ann, post_id=post.id)

    assert session.get(Post, post.id).deleted_at is not None  # kept for the record
    assert community.feed(session=session, viewer=bob)[0] == []
    with pytest.raises(NotFound):
        community.get_post(session=session, viewer=ann, post_id=post.id)


def test_comments_notify_the_author_and_count(session):
    ann, bob = make_member(session), make_member(session, name="Bob")
    post = _post(session, ann)

    community.add_comment(session=session, author=bob, post_id=post.id, body="Thanks!")
    community.add_comment(session=session, author=ann, post_id=post.id, body="You are welcome")

    views = community.describe(session=session, viewer=ann, posts=[post], with_comments=True)
    assert views[0].comment_count == 2
    assert [c.body for c in views[0].comments] == ["Thanks!", "You are welcome"]
    notes = session.exec(select(Notification).where(Notification.member_id == ann.id)).all()
    assert [n.kind for n in notes] == ["community"]
    assert notes[0].link == f"/community/posts/{post.id}"


def test_useful_is_one_per_member_and_toggles(session):
    ann, bob = make_member(session), make_member(session)
    post = _post(session, ann)

    assert community.toggle_useful(session=session, member=bob, post_id=post.id) is True
    assert community.set_useful(session=session, member=bob, post_id=post.id, useful=True)
    assert community.useful_counts(session=session, post_ids=[post.id]) == {post.id: 1}
    assert community.toggle_useful(session=session, member=bob, post_id=post.id) is False
    assert community.useful_counts(session=session, post_ids=[post.id]) == {post.id: 0}


def test_posting_is_rate_limited_with_a_clear_message(session, monkeypatch):
    monkeypatch.setattr(
        community,
        "rate_limits",
        lambda: community.RateLimits(posts_per_hour=2, comments_per_hour=1),
    )
    ann = make_member(session)
    post = _post(session, ann, title="One")
    _post(session, ann, title="Two")

    with pytest.raises(RateLimited, match="2 posts an hour") as caught:
        _post(session, ann, title="Three")
    assert 0 < caught.value.retry_after <= 3600
    community.add_comment(session=session, author=ann, post_id=post.id, body="a")
    with pytest.raises(RateLimited, match="1 comments an hour"):
        community.add_comment(session=session, author=ann, post_id=post.id, body="b")
