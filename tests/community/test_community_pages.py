"""Community pages: sharing, commenting, useful, following, reports and moderation."""

from __future__ import annotations

from sqlmodel import select

from backend.community.models import Comment, Post
from tests.factories import make_member, make_organiser
from tests.web.conftest import error_summary, log_in, post_form


def _share(client, title="Rota tips", body="Plan **early**", skills=("rota-management",)):
    return post_form(
        client,
        "/community/posts/new",
        {"title": title, "body": body, "skills": list(skills)},
    )


def test_a_member_shares_a_post_and_it_shows_in_the_feed(client, session):
    ann = make_member(session, name="Ann Author")
    log_in(client, ann.email)

    response = _share(client, body="<script>alert(1)</script> **learned**")

    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "Your post has been shared." in page.text
    assert "<strong>learned</strong>" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    feed = client.get("/community")
    assert "Rota tips" in feed.text and "Ann Author" in feed.text
    by_skill = client.get("/community?skill=budget-management")
    assert "Rota tips" not in by_skill.text


def test_problems_are_shown_in_the_form(client, session):
    ann = make_member(session)
    log_in(client, ann.email)

    response = _share(client, title="", body="", skills=())

    assert response.status_code == 400
    assert error_summary(response.text) == ["Give your post a title.", "Write what you learned."]


def test_unverified_members_are_refused_and_anonymous_go_to_log_in(client, session):
    assert client.get("/community").status_code == 303
    newcomer = make_member(session, verified=False)
    log_in(client, newcomer.email)

    for path in ("/community", "/community/posts/new"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Confirm your email address first" in response.text
        assert 'action="/verify/resend"' in response.text


def test_comment_useful_and_follow(client, session):
    ann = make_member(session, name="Ann")
    bob = make_member(session, name="Bob")
    log_in(client, ann.email)
    location = _share(client).headers["location"]
    post_path = location.split("?")[0]
    client.cookies.clear()
    log_in(client, bob.email)

    commented = post_form(client, f"{post_path}/comments", {"body": "Thanks *Ann*"}, page=post_path)
    useful = post_form(client, f"{post_path}/useful", {}, page=post_path)
    followed = post_form(
        client,
        f"/community/follow/{ann.id}",
        {"back": post_path, "follow": "yes"},
        page=post_path,
    )

    assert commented.status_code == useful.status_code == followed.status_code == 303
    page = client.get(post_path)
    assert "<em>Ann</em>" in page.text
    assert "1 found this useful" in page.text
    assert "Stop following Ann" in page.text
    assert "Rota tips" in client.get("/community?following=yes").text


def test_authors_edit_and_delete_their_posts(client, session):
    ann = make_member(session)
    log_in(client, ann.email)
    post_path = _share(client).headers["location"].split("?")[0]

    edited = post_form(
        client,
        f"{post_path}/edit",
        {"title": "Better title", "body": "Edited body", "skills": []},
    )
    deleted = post_form(client, f"{post_path}/delete", {}, page=post_path)

    assert edited.status_code == deleted.status_code == 303
    session.rollback()
    post = session.exec(select(Post)).one()
    assert post.title == "Better title" and post.deleted_at is not None
    assert client.get(post_path).status_code == 404


def test_others_cannot_edit_a_post(client, session):
    ann, bob = make_member(session), make_member(session)
    log_in(client, ann.email)
    post_path = _share(client).headers["location"].split("?")[0]
    client.cookies.clear()
    log_in(client, bob.email)

    assert client.get(f"{post_path}/edit").status_code == 404


def test_a_post_without_csrf_changes_nothing(client, session):
    ann = make_member(session)
    log_in(client, ann.email)

    response = client.post("/community/posts/new", data={"title": "T", "body": "B"})

    assert response.status_code == 403
    assert session.exec(select(Post)).all() == []


def test_report_then_organiser_hides_with_a_note(client, session):
    ann, bob = make_member(session), make_member(session, name="Bob")
    olu = make_organiser(session)
    log_in(client, ann.email)
    post_path = _share(client, title="Buy my course").headers["location"].split("?")[0]
    post_id = int(post_path.rsplit("/", 1)[1])
    client.cookies.clear()
    log_in(client, bob.email)
    reported = post_form(client, f"{post_path}/report", {"reason": "Advertising"})
    assert reported.status_code == 303
    assert client.get("/community/moderation").status_code == 403
    client.cookies.clear()
    log_in(client, olu.email)

    queue = client.get("/community/moderation")
    missing_note = post_form(
        client,
        "/community/moderation",
        {"kind": "post", "target_id": str(post_id), "action": "hide", "note": ""},
    )
    hidden = post_form(
        client,
        "/community/moderation",
        {"kind": "post", "target_id": str(post_id), "action": "hide", "note": "Advertising"},
    )

    assert "Advertising" in queue.text and "Buy my course" in queue.text
    assert missing_note.status_code == 400
    assert hidden.status_code == 303
    assert "Hidden" in client.get("/community").text
    client.cookies.clear()
    log_in(client, bob.email)
    assert "Buy my course" not in client.get("/community").text
    assert client.get(post_path).status_code == 404


def test_comments_can_be_reported(client, session):
    ann, bob = make_member(session), make_member(session)
    log_in(client, ann.email)
    post_path = _share(client).headers["location"].split("?")[0]
    post_form(client, f"{post_path}/comments", {"body": "Mine"}, page=post_path)
    session.rollback()
    comment = session.exec(select(Comment)).one()
    client.cookies.clear()
    log_in(client, bob.email)

    response = post_form(client, f"/community/comments/{comment.id}/report", {"reason": "Rude"})

    assert response.status_code == 303


def test_the_code_of_conduct_is_public(client):
    page = client.get("/code-of-conduct")

    assert page.status_code == 200
    assert "Code of conduct" in page.text and "5 posts" in page.text


def test_the_rate_limit_is_explained_on_the_form(client, session, monkeypatch):
    from backend.community import service as community

    monkeypatch.setattr(community, "rate_limits", lambda: community.RateLimits(posts_per_hour=1))
    ann = make_member(session)
    log_in(client, ann.email)
    assert _share(client, title="One").status_code == 303

    response = _share(client, title="Two")

    assert response.status_code == 429
    assert "You can add 1 posts an hour" in error_summary(response.text)[0]
