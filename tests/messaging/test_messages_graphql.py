"""Messages through GraphQL: send, read, unread on ``me``, typed errors, reports, and that
nobody outside a conversation (an organiser included) reads a message."""

from __future__ import annotations

from strawberry import relay

from backend.community import circles
from tests.factories import (
    make_circle,
    make_member,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_message,
    make_message_thread,
    make_organiser,
)

SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  __typename
  ... on SendMessageSuccess { sentMessage { id body author { name } } thread { id unreadCount } }
  ... on InvalidInput { field message }
  ... on Conflict { message }
  ... on NotFound { message }
} }"""
THREAD = """query($id: ID!) { messageThread(id: $id) { title canPost unreadCount
  participants { name }
  messages(first: 10) { edges { node { body author { name } } } pageInfo { hasNextPage } } } }"""
THREADS = "{ messageThreads { title unreadCount participants { name } } me { unreadMessages } }"


def gid(kind: str, value: int) -> str:
    return relay.to_base64(kind, value)


def test_the_pair_talk_and_nobody_else_reads_through_graphql(run, session):
    mentor = make_mentor(session, name="Ada Mentor")
    mentee = make_mentee(session, name="Ben Mentee")
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    outsider, organiser = make_member(session), make_organiser(session)

    empty = run(
        SEND,
        {"input": {"mentorshipId": gid("Mentorship", mentorship.id), "body": " "}},
        member=mentee,
    )["data"]["sendMessage"]
    assert empty == {
        "__typename": "InvalidInput",
        "field": "body",
        "message": "Write a message before sending it.",
    }
    sent = run(
        SEND,
        {"input": {"mentorshipId": gid("Mentorship", mentorship.id), "body": "Hello Ada"}},
        member=mentee,
    )["data"]["sendMessage"]
    assert sent["__typename"] == "SendMessageSuccess"
    thread_id, message_id = sent["thread"]["id"], sent["sentMessage"]["id"]

    mine = run(THREADS, member=mentor)["data"]
    assert mine["me"]["unreadMessages"] == 1
    assert mine["messageThreads"][0]["title"] == "Mentorship with Ben Mentee"
    thread = run(THREAD, {"id": thread_id}, member=mentor)["data"]["messageThread"]
    assert thread["messages"]["edges"][0]["node"] == {
        "body": "Hello Ada",
        "author": {"name": "Ben Mentee"},
    }

    for stranger in (outsider, organiser):
        assert run(THREAD, {"id": thread_id}, member=stranger)["data"]["messageThread"] is None
        assert run(THREADS, member=stranger)["data"]["messageThreads"] == []
        node = run("query($id: ID!) { node(id: $id) { id } }", {"id": message_id}, member=stranger)
        assert node["data"]["node"] is None
        posted = run(
            SEND, {"input": {"threadId": thread_id, "body": "Let me in"}}, member=stranger
        )["data"]["sendMessage"]
        assert posted["__typename"] == "NotFound"
    assert run(THREAD, {"id": thread_id})["errors"][0]["extensions"]["code"] == (
        "NOT_AUTHENTICATED"
    )

    read = run(
        "mutation($t: ID!) { markThreadRead(input: {threadId: $t}) { "
        "... on MarkThreadReadSuccess { markedRead thread { unreadCount } } } }",
        {"t": thread_id},
        member=mentor,
    )["data"]["markThreadRead"]
    assert read == {"markedRead": 1, "thread": {"unreadCount": 0}}
    assert run(THREADS, member=mentor)["data"]["me"]["unreadMessages"] == 0

    report = """mutation($m: ID!, $r: String!) { reportMessage(input: {messageId: $m, reason: $r})
      { __typename ... on ReportMessageSuccess { reported } } }"""
    assert run(report, {"m": message_id, "r": "Spam"}, member=outsider)["data"][
        "reportMessage"
    ] == {"__typename": "NotFound"}
    queue = "{ reportedMessages { reasons message { body } before { body } } }"
    assert run(queue, member=organiser)["data"]["reportedMessages"] == []
    assert run(report, {"m": message_id, "r": "Rude"}, member=mentor)["data"]["reportMessage"] == {
        "__typename": "ReportMessageSuccess",
        "reported": True,
    }
    assert run(queue, member=organiser)["data"]["reportedMessages"] == [
        {"reasons": ["Rude"], "message": {"body": "Hello Ada"}, "before": None}
    ]
    assert run(queue, member=outsider)["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"

    mentorship.status = "completed"
    session.add(mentorship)
    session.commit()
    ended = run(SEND, {"input": {"threadId": thread_id, "body": "Bye"}}, member=mentor)
    assert ended["data"]["sendMessage"]["__typename"] == "Conflict"


def test_listing_threads_costs_the_same_statements_for_one_or_many(run, session, count_queries):
    viewer = make_member(session)

    def grow(mentorships: int) -> int:
        for _ in range(mentorships):
            pairing = make_mentorship(session, mentor=viewer, status="completed")
            make_message(session, thread=make_message_thread(session, mentorship=pairing))
        circle = make_circle(session, members=[viewer, make_member(session)])
        make_message(session, thread=make_message_thread(session, circle=circle), author=viewer)
        session.expunge_all()
        count_queries.statements.clear()
        result = run(THREADS, member=session.get(type(viewer), viewer.id))
        assert len(result["data"]["messageThreads"]) >= mentorships + 1
        return count_queries.count

    small = grow(1)
    circles.leave(session=session, member=viewer)  # one circle at a time
    session.commit()
    assert grow(4) == small
