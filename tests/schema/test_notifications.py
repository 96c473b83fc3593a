"""Notifications over GraphQL: the list, unread count, marking read, email preferences."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from strawberry import relay

from backend.db import utcnow
from backend.notifications import service as notifications
from backend.notifications.models import Notification, NotificationPreference
from tests.factories import make_member

LIST = """
query($first: Int, $after: String) {
  notifications(first: $first, after: $after) {
    edges { cursor node { id kind title body link read readAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MARK = """
mutation($input: MarkNotificationsReadInput) {
  markNotificationsRead(input: $input) {
    __typename
    ... on MarkNotificationsReadSuccess { markedCount unreadCount }
    ... on InvalidInput { field }
    ... on Error { message }
  }
}
"""
PREFERENCES = "{ me { notificationPreferences { kind mode } } }"
SET_PREFERENCES = """
mutation($input: SetNotificationPreferencesInput!) {
  setNotificationPreferences(input: $input) {
    __typename
    ... on SetNotificationPreferencesSuccess { preferences { kind mode } }
    ... on InvalidInput { field message }
    ... on Error { message }
  }
}
"""


def notify(session, member, title, *, minutes_ago=0):
    notification = notifications.notify(
        session=session,
        member_id=member.id,
        email=member.email,
        kind="mentorship",
        title=title,
        body=f"About {title}",
        link="/mentoring",
    )
    notification.created_at = utcnow() - timedelta(minutes=minutes_ago)
    session.commit()
    return notification


def gid(notification):
    return str(relay.GlobalID("Notification", str(notification.id)))


def test_the_list_is_newest_first_and_pages(run, session):
    member = make_member(session)
    for i in range(5):
        notify(session, member, f"N{i}", minutes_ago=10 - i)

    first = run(LIST, {"first": 3}, member=member)["data"]["notifications"]
    rest = run(LIST, {"first": 3, "after": first["pageInfo"]["endCursor"]}, member=member)["data"][
        "notifications"
    ]

    assert [e["node"]["title"] for e in first["edges"]] == ["N4", "N3", "N2"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["title"] for e in rest["edges"]] == ["N1", "N0"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert first["edges"][0]["node"]["kind"] == "MENTORSHIP"
    assert first["edges"][0]["node"]["read"] is False


def test_only_ones_own_notifications_are_listed_counted_or_fetched(run, session):
    member = make_member(session)
    other = make_member(session)
    theirs = notify(session, other, "Theirs")
    notify(session, member, "Mine")

    listed = run(LIST, member=member)["data"]["notifications"]["edges"]
    count = run("{ me { unreadNotificationCount } }", member=member)["data"]["me"]
    someone_else = run(
        "query($id: ID!) { member(id: $id) { unreadNotificationCount notificationPreferences "
        "{ kind } } }",
        {"id": str(relay.GlobalID("Member", str(other.id)))},
        member=member,
    )["data"]["member"]
    by_node = run("query($id: ID!) { node(id: $id) { id } }", {"id": gid(theirs)}, member=member)

    assert [e["node"]["title"] for e in listed] == ["Mine"]
    assert count == {"unreadNotificationCount": 1}
    assert someone_else == {"unreadNotificationCount": None, "notificationPreferences": []}
    assert by_node == {"data": {"node": None}}
    assert run(LIST)["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_mark_some_read_then_all(run, session):
    member = make_member(session)
    other = make_member(session)
    first, second, _third = (notify(session, member, f"N{i}") for i in range(3))
    theirs = notify(session, other, "Theirs")

    some = run(MARK, {"input": {"ids": [gid(first), gid(second), gid(theirs)]}}, member=member)
    rest = run(MARK, member=member)

    assert some["data"]["markNotificationsRead"] == {
        "__typename": "MarkNotificationsReadSuccess",
        "markedCount": 2,
        "unreadCount": 1,
    }
    assert rest["data"]["markNotificationsRead"]["markedCount"] == 1
    assert rest["data"]["markNotificationsRead"]["unreadCount"] == 0
    session.expire_all()
    assert session.get(Notification, theirs.id).read_at is None
    listed = run(LIST, member=member)["data"]["notifications"]["edges"]
    assert len(listed) == 3 and all(e["node"]["read"] and e["node"]["readAt"] for e in listed)


def test_mark_read_refuses_bad_ids_and_long_lists(run, session):
    member = make_member(session)
    notify(session, member, "Mine")

    bad = run(MARK, {"input": {"ids": ["not-an-id"]}}, member=member)
    long = run(MARK, {"input": {"ids": ["x"] * 101}}, member=member)

    for result in (bad, long):
        refused = result["data"]["markNotificationsRead"]
        assert (refused["__typename"], refused["field"]) == ("InvalidInput", "ids")
    assert notifications.unread_count(session=session, member_id=member.id) == 1


def test_preferences_default_then_saved(run, session):
    member = make_member(session)

    defaults = run(PREFERENCES, member=member)["data"]["me"]["notificationPreferences"]
    saved = run(
        SET_PREFERENCES,
        {
            "input": {
                "preferences": [
                    {"kind": "COMMUNITY", "mode": "OFF"},
                    {"kind": "REQUEST_RECEIVED", "mode": "DIGEST"},
                ]
            }
        },
        member=member,
    )["data"]["setNotificationPreferences"]

    assert {p["kind"]: p["mode"] for p in defaults}["COMMUNITY"] == "DIGEST"
    assert saved["__typename"] == "SetNotificationPreferencesSuccess"
    modes = {p["kind"]: p["mode"] for p in saved["preferences"]}
    assert (modes["COMMUNITY"], modes["REQUEST_RECEIVED"], modes["MENTORSHIP"]) == (
        "OFF",
        "DIGEST",
        "IMMEDIATE",
    )
    again = run(PREFERENCES, member=member)["data"]["me"]["notificationPreferences"]
    assert again == saved["preferences"]


def test_bad_preferences_change_nothing(run, session):
    member = make_member(session)

    twice = run(
        SET_PREFERENCES,
        {
            "input": {
                "preferences": [
                    {"kind": "COMMUNITY", "mode": "OFF"},
                    {"kind": "COMMUNITY", "mode": "IMMEDIATE"},
                ]
            }
        },
        member=member,
    )
    unknown = run(
        SET_PREFERENCES,
        {"input": {"preferences": [{"kind": "COMMUNITY", "mode": "HOURLY"}]}},
        member=member,
    )

    assert twice["data"]["setNotificationPreferences"]["__typename"] == "InvalidInput"
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert session.exec(select(NotificationPreference)).all() == []
