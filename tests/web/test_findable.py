"""Issue 14, item 2: the directory, moderation and organisers' tools reachable from the header
for the roles that use them, and hidden posts and comments restorable from the pages."""

from __future__ import annotations

import re

from sqlmodel import select

from backend.community.models import Comment
from tests.factories import (
    make_chapter,
    make_comment,
    make_member,
    make_organiser,
    make_organiser_scope,
    make_post,
    make_report,
)
from tests.web.conftest import log_in, post_form


def menu_of(html: str) -> list[str]:
    """The header menu's link texts, tags stripped, spaces collapsed."""
    [menu] = re.findall(r'<nav class="nhsuk-header__navigation".*?</nav>', html, re.S)
    links = re.findall(r"<a [^>]*>(.*?)</a>", menu, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", link).split()) for link in links]


def hub_of(html: str) -> list[str]:
    return re.findall(r'<h2 class="nhsuk-heading-s[^"]*"><a href="([^"]+)">', html)


def test_a_member_finds_the_directory_but_no_organisers_tools(client, session):
    member = make_member(session)
    log_in(client, member.email)

    menu = menu_of(client.get("/").text)

    assert "Members" in menu
    assert "Organise" not in menu
    assert not [m for m in menu if m.startswith("Moderation")]
    assert client.get("/organise").status_code == 403


def test_an_organiser_sees_the_hub_and_how_many_reports_wait(client, session):
    organiser = make_organiser(session)
    post = make_post(session)
    make_report(session, post=post)
    make_report(session, comment=make_comment(session, post=post))
    session.commit()
    log_in(client, organiser.email)

    menu = menu_of(client.get("/").text)
    hub = client.get("/organise")

    assert "Organise" in menu and "Members" in menu
    assert "Moderation (2 waiting)" in menu
    assert hub.status_code == 200
    assert hub_of(hub.text) == [
        "/organise/rounds",
        "/organise/programmes",
        "/circles",
        "/community/moderation",
        "/organise/needs-attention",
        "/organise/insights",
        "/organise/impact",
        "/organise/import",
    ]


def test_a_chapter_organiser_sees_only_the_tools_of_their_scope(client, session):
    chapter = make_chapter(session, regions=("North West",))
    lead = make_member(session, region="North West")
    make_organiser_scope(session, member=lead, chapter=chapter)
    make_report(session, post=make_post(session, author=make_member(session, region="London")))
    session.commit()
    log_in(client, lead.email)

    menu = menu_of(client.get("/").text)
    hub = hub_of(client.get("/organise").text)

    assert "Moderation (0 waiting)" in menu  # the London report is outside the chapter
    assert "/organise/import" not in hub and "/admin" not in hub
    assert "/organise/rounds" in hub


def test_an_admin_finds_the_admin_console_in_the_hub(client, session):
    admin = make_member(session, roles=("organiser", "admin"))
    session.commit()
    log_in(client, admin.email)

    assert hub_of(client.get("/organise").text)[-2:] == ["/organise/import", "/admin"]


def test_a_hidden_comment_is_restored_from_the_moderation_page(client, session):
    organiser = make_organiser(session, name="Olu Organiser")
    post = make_post(session, title="Rota tips")
    comment = make_comment(session, post=post, body="A comment hidden by mistake")
    make_report(session, comment=comment)
    reader = make_member(session)
    session.commit()
    log_in(client, organiser.email)
    note = {"kind": "comment", "target_id": str(comment.id), "note": "Names a patient"}
    assert post_form(client, "/community/moderation", {**note, "action": "hide"}).status_code == 303

    page = client.get("/community/moderation").text
    hidden_part = page.split('id="hidden"')[1]
    assert "A comment hidden by mistake" in hidden_part
    assert "Hidden by Olu Organiser" in hidden_part and "Names a patient" in hidden_part
    assert 'value="restore"' in hidden_part

    empty = post_form(client, "/community/moderation", {**note, "note": "", "action": "restore"})
    assert empty.status_code == 400
    restored = post_form(
        client,
        "/community/moderation",
        {**note, "note": "The report was mistaken", "action": "restore"},
    )
    assert restored.status_code == 303
    session.expire_all()
    assert session.exec(select(Comment).where(Comment.id == comment.id)).one().status == "visible"
    assert "Nothing is hidden." in client.get("/community/moderation").text

    client.cookies.clear()
    log_in(client, reader.email)
    assert "A comment hidden by mistake" in client.get(f"/community/posts/{post.id}").text
    again = {**note, "note": "Mine now", "action": "hide"}
    assert client.get("/community/moderation").status_code == 403
    assert post_form(client, "/community/moderation", again, page="/").status_code == 403
