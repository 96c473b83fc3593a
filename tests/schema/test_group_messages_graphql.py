"""A mentoring group's conversation through GraphQL (``sendMessage`` with ``groupId``), and
``myMentoringGroups`` costing the same statements for one group or many."""

from __future__ import annotations

from strawberry import relay

from backend.members.models import Member
from backend.mentoring.models import Mentorship
from tests.factories import (
    make_group_session,
    make_group_session_attendance,
    make_member,
    make_mentee,
    make_mentor,
    make_mentoring_group,
    make_programme,
)

SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  __typename
  ... on SendMessageSuccess { sentMessage { body } thread { id kind title groupId canPost } }
  ... on NotFound { message }
} }"""
MINE = """{ myMentoringGroups { name mentor { name } members { name }
  sessions { heldOn notes attended { name } loggedBy { name } } } }"""


def _join(session, group, mentee):
    session.add(
        Mentorship(
            programme_id=group.programme_id,
            mentor_id=group.mentor_id,
            mentee_id=mentee.id,
            group_id=group.id,
        )
    )
    session.flush()


def test_a_member_messages_the_group_and_an_outsider_cannot(run, session):
    group = make_mentoring_group(session, name="Team leads")
    ann = make_mentee(session, name="Ann Member")
    _join(session, group, ann)
    outsider = make_member(session)
    session.commit()
    group_id = relay.to_base64("MentoringGroup", group.id)

    sent = run(SEND, {"input": {"groupId": group_id, "body": "Hello all"}}, member=ann)
    refused = run(SEND, {"input": {"groupId": group_id, "body": "Hi"}}, member=outsider)

    result = sent["data"]["sendMessage"]
    assert result["__typename"] == "SendMessageSuccess"
    assert result["sentMessage"]["body"] == "Hello all"
    assert result["thread"]["kind"] == "GROUP" and result["thread"]["title"] == "Team leads"
    assert result["thread"]["groupId"] == group_id and result["thread"]["canPost"]
    assert refused["data"]["sendMessage"]["__typename"] == "NotFound"


def test_my_mentoring_groups_costs_the_same_statements_for_one_or_many(run, session, count_queries):
    mentor = make_mentor(session)
    programme = make_programme(session, type="group", group_size=4)

    def grow(count: int) -> int:
        for _ in range(count):
            group = make_mentoring_group(session, mentor=mentor, programme=programme)
            mentee = make_mentee(session)
            _join(session, group, mentee)
            held = make_group_session(session, group=group, notes="Notes")
            make_group_session_attendance(session, group_session=held, member=mentee)
            # the mentor has one active group per programme: close it before the next
            group.status = "closed"
            session.add(group)
            session.flush()
        session.commit()
        session.expunge_all()
        count_queries.statements.clear()
        result = run(MINE, member=session.get(Member, mentor.id))
        assert all(g["members"] and g["sessions"] for g in result["data"]["myMentoringGroups"])
        assert len(result["data"]["myMentoringGroups"]) >= count
        return count_queries.count

    assert grow(1) == grow(4)
