"""Notifications through the pages: the list, the header count, mark read, email settings."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.notifications import service as notifications
from backend.notifications.models import Notification, NotificationPreference
from tests.factories import make_member
from tests.web.conftest import error_summary, log_in, post_form


def notify(session, member, title: str, link: str = "/mentoring") -> None:  # type: ignore[no-untyped-def]
    notifications.notify(
        session=session,
        member_id=member.id,
        email=member.email,
        kind="mentorship",
        title=title,
        body=f"Body of {title}",
        link=link,
    )
    session.commit()


def test_the_list_is_newest_first_with_unread_tagged_new(client, session):
    member = make_member(session)
    notify(session, member, "Older news")
    notify(session, member, "Newer news", link="/mentoring/suggestions")
    log_in(client, member.email)

    page = client.get("/notifications").text

    assert page.index("Newer news") < page.index("Older news")
    assert page.count(">New</strong>") == 2
    assert '<a href="/mentoring/suggestions">Newer news</a>' in page
    assert "Notifications (2" in page  # the header count, in words


def test_mark_all_as_read_clears_the_count(client, session):
    member = make_member(session)
    other = make_member(session)
    notify(session, member, "Mine")
    notify(session, other, "Theirs")
    log_in(client, member.email)

    response = post_form(client, "/notifications/mark-read", {}, page="/notifications")

    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "All your notifications are marked as read." in page
    assert ">New</strong>" not in page and "Notifications (" not in page
    session.expire_all()
    [theirs] = session.exec(select(Notification).where(Notification.member_id == other.id)).all()
    assert theirs.read_at is None


def test_settings_save_a_choice_per_kind(client, session):
    member = make_member(session)
    log_in(client, member.email)
    html = client.get("/notifications/settings").text
    assert 'name="community" type="radio" value="digest" checked' in html

    response = post_form(
        client,
        "/notifications/settings",
        {"round": "off", "community": "immediate", "mentorship": "digest"},
    )

    assert response.status_code == 303
    assert notifications.preferences(session=session, member_id=member.id)["round"] == "off"
    html = client.get(response.headers["location"]).text
    assert 'name="round" type="radio" value="off" checked' in html
    assert "Your email choices have been saved." in html


def test_an_unknown_mode_is_explained_and_nothing_is_saved(client, session):
    member = make_member(session)
    log_in(client, member.email)

    response = post_form(client, "/notifications/settings", {"round": "hourly", "community": "off"})

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "Choose how to hear about: matches proposed by a matching round."
    ]
    assert session.exec(select(NotificationPreference)).all() == []


@pytest.mark.parametrize("path", ["/notifications/mark-read", "/notifications/settings"])
def test_a_post_without_the_csrf_token_is_refused(client, session, path):
    member = make_member(session)
    notify(session, member, "Stay unread")
    log_in(client, member.email)

    response = client.post(path, data={"round": "off"})

    assert response.status_code == 403
    assert notifications.unread_count(session=session, member_id=member.id) == 1


def test_anonymous_visitors_are_asked_to_log_in(client):
    assert client.get("/notifications").status_code == 303
    assert client.get("/notifications/settings").status_code == 303
