"""The admin console over GraphQL: ``adminMembers`` and ``adminMember`` for admins only, and
``suspendMember``, ``reactivateMember`` and ``resendInvitation``, each audited."""

from __future__ import annotations

import json

from sqlmodel import select
from strawberry import relay

from backend.audit import actions as a
from backend.members.models import Member
from backend.notifications.models import OutboxEmail
from schema.ids import decode
from tests.factories import audit_events, make_access_token, make_member, make_organiser

MEMBERS = """
query ($first: Int, $after: String, $filter: AdminMemberFilter) {
  adminMembers(first: $first, after: $after, filter: $filter) {
    edges { node { email roles active confirmed invited secondFactor lastSignInAt
                   member { id name } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
ACCOUNT = "query ($id: ID!) { adminMember(id: $id) { email roles active secondFactor } }"
SUSPEND = """
mutation ($id: ID!, $reason: SuspensionReason!) {
  suspendMember(input: {memberId: $id, reason: $reason}) {
    __typename
    ... on SuspendMemberSuccess { account { active member { name } } }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""
REACTIVATE = """
mutation ($id: ID!, $reason: ReactivationReason!) {
  reactivateMember(input: {memberId: $id, reason: $reason}) {
    __typename
    ... on ReactivateMemberSuccess { account { active } }
    ... on Error { message }
  }
}
"""
RESEND = """
mutation ($id: ID!) {
  resendInvitation(input: {memberId: $id}) {
    __typename
    ... on ResendInvitationSuccess { kind sent }
    ... on Error { message }
  }
}
"""


def gid(member: Member) -> str:
    return str(relay.GlobalID("Member", str(member.id)))


def test_organisers_are_refused_every_admin_operation(run, session):  # type: ignore[no-untyped-def]
    organiser = make_organiser(session)
    target = make_member(session)
    session.commit()
    listed = run(MEMBERS, member=organiser)
    assert listed["data"] is None
    assert listed["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    assert listed["errors"][0]["message"] == "Only admins can use the admin console."
    one = run(ACCOUNT, {"id": gid(target)}, member=organiser)
    assert one["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
    for query, variables in (
        (SUSPEND, {"id": gid(target), "reason": "CONDUCT"}),
        (REACTIVATE, {"id": gid(target), "reason": "RETURNED"}),
        (RESEND, {"id": gid(target)}),
    ):
        result = run(query, variables, member=organiser)
        [answer] = result["data"].values()
        assert answer["__typename"] == "NotAllowed", answer
    assert session.get(Member, target.id).is_active
    assert run(MEMBERS)["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_admin_members_pages_exactly_through_one_name(run, session):  # type: ignore[no-untyped-def]
    admin = make_member(session, roles=("admin",))
    twins = sorted(make_member(session, name="Tie Twin").id for _ in range(5))
    session.commit()
    seen: list[str] = []
    variables: dict = {"first": 2, "filter": {"text": "tie twin"}}
    pages = 0
    while True:
        page = run(MEMBERS, variables, member=admin)["data"]["adminMembers"]
        seen += [e["node"]["member"]["id"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables = {**variables, "after": page["pageInfo"]["endCursor"]}
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    assert [decode(i, type_name="Member") for i in seen] == twins
    offset_cursor = relay.to_base64("offset", 1)  # another connection's cursor is refused
    wrong = run(MEMBERS, {"after": offset_cursor}, member=admin)
    assert wrong["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_admins_find_and_page_through_members(run, session):  # type: ignore[no-untyped-def]
    admin = make_member(session, roles=("admin",))
    for number in range(3):
        make_member(session, name=f"Rota {number}", email=f"rota{number}@example.nhs.uk")
    make_member(session, name="Rota Gone", is_active=False)
    invited = make_member(session, name="Rota Invited", verified=False, password=None)
    session.commit()

    first = run(MEMBERS, {"first": 2, "filter": {"text": "rota", "active": True}}, member=admin)
    assert "errors" not in first, first
    page = first["data"]["adminMembers"]
    assert [e["node"]["member"]["name"] for e in page["edges"]] == ["Rota 0", "Rota 1"]
    assert page["pageInfo"]["hasNextPage"] is True
    node = page["edges"][0]["node"]
    assert node["email"] == "rota0@example.nhs.uk" and node["roles"] == ["MEMBER"]
    assert node["active"] and node["confirmed"] and not node["secondFactor"]
    rest = run(
        MEMBERS,
        {"after": page["pageInfo"]["endCursor"], "filter": {"text": "rota", "active": True}},
        member=admin,
    )["data"]["adminMembers"]
    assert [e["node"]["member"]["name"] for e in rest["edges"]] == [
        "Rota 2",
        "Rota Invited",
    ]
    assert rest["edges"][1]["node"]["invited"] is True
    gone = run(MEMBERS, {"filter": {"active": False}}, member=admin)["data"]["adminMembers"]
    assert [e["node"]["member"]["name"] for e in gone["edges"]] == ["Rota Gone"]
    admins = run(MEMBERS, {"filter": {"role": "ADMIN"}}, member=admin)["data"]["adminMembers"]
    assert [e["node"]["roles"] for e in admins["edges"]] == [["MEMBER", "ADMIN"]]
    too_long = run(MEMBERS, {"filter": {"text": "x" * 101}}, member=admin)
    assert too_long["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert invited.id


def test_suspend_and_reactivate_with_a_reason(run, session, client):  # type: ignore[no-untyped-def]
    admin = make_member(session, roles=("admin",))
    target = make_member(session, name="Tess Target")
    _, secret = make_access_token(session, member=target)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.post("/graphql", json={"query": "{ me { name } }"}, headers=bearer).json()[
        "data"
    ]["me"] == {"name": "Tess Target"}

    done = run(SUSPEND, {"id": gid(target), "reason": "SECURITY"}, member=admin)
    answer = done["data"]["suspendMember"]
    assert answer == {
        "__typename": "SuspendMemberSuccess",
        "account": {"active": False, "member": {"name": "Tess Target"}},
    }
    refused = client.post("/graphql", json={"query": "{ me { name } }"}, headers=bearer)
    assert refused.status_code == 401  # the token was revoked with the suspension
    again = run(SUSPEND, {"id": gid(target), "reason": "SECURITY"}, member=admin)
    assert again["data"]["suspendMember"]["__typename"] == "Conflict"
    myself = run(SUSPEND, {"id": gid(admin), "reason": "SECURITY"}, member=admin)
    assert myself["data"]["suspendMember"]["__typename"] == "Conflict"
    bad = run(SUSPEND, {"id": gid(target), "reason": "because"}, member=admin)
    assert bad["errors"]  # not one of the listed reasons: refused before anything runs

    back = run(REACTIVATE, {"id": gid(target), "reason": "SUSPENDED_IN_ERROR"}, member=admin)
    assert back["data"]["reactivateMember"] == {
        "__typename": "ReactivateMemberSuccess",
        "account": {"active": True},
    }
    assert [json.loads(e.details)["reason"] for e in audit_events(session, a.MEMBER_SUSPENDED)] == [
        "security"
    ]
    assert [json.loads(e.details) for e in audit_events(session, a.MEMBER_REACTIVATED)] == [
        {"reason": "suspended_in_error"}
    ]
    account = run(ACCOUNT, {"id": gid(target)}, member=admin)["data"]["adminMember"]
    assert account["active"] is True and account["roles"] == ["MEMBER"]


def test_resend_invitation(run, session):  # type: ignore[no-untyped-def]
    admin = make_member(session, roles=("admin",))
    invited = make_member(session, email="ivy@example.nhs.uk", verified=False, password=None)
    confirmed = make_member(session)
    session.commit()
    sent = run(RESEND, {"id": gid(invited)}, member=admin)["data"]["resendInvitation"]
    assert sent == {"__typename": "ResendInvitationSuccess", "kind": "invitation", "sent": True}
    emails = session.exec(
        select(OutboxEmail.kind).where(OutboxEmail.to_address == "ivy@example.nhs.uk")
    ).all()
    assert list(emails) == ["invite"]
    refused = run(RESEND, {"id": gid(confirmed)}, member=admin)["data"]["resendInvitation"]
    assert refused["__typename"] == "Conflict"
    assert len(audit_events(session, a.INVITATION_RESENT)) == 1


SKILL_CHANGE = "... on SkillChangeSuccess { skill { id name retired } } ... on Error { message }"
RETIRE = (
    "mutation ($id: ID!) { retireSkill(input: {skillId: $id}) { __typename "
    f"{SKILL_CHANGE} }} }}"
)


def test_skills_framework_mutations(run, session):  # type: ignore[no-untyped-def]
    admin = make_member(session, roles=("admin",))
    organiser = make_organiser(session)
    session.commit()
    add = (
        'mutation { addSkill(input: {name: "Rota design", group: "Core management skills"}) '
        f"{{ __typename {SKILL_CHANGE} }} }}"
    )
    refused = run(add, member=organiser)["data"]["addSkill"]
    assert refused["__typename"] == "NotAllowed"
    added = run(add, member=admin)["data"]["addSkill"]
    assert added["skill"] == {"id": "rota-design", "name": "Rota design", "retired": False}
    renamed = run(
        'mutation { renameSkill(input: {skillId: "rota-design", name: "Rota planning"}) '
        f"{{ __typename {SKILL_CHANGE} }} }}",
        member=admin,
    )["data"]["renameSkill"]
    assert renamed["skill"]["name"] == "Rota planning"
    retired = run(
        RETIRE,
        {"id": "rota-design"},
        member=admin,
    )["data"]["retireSkill"]
    assert retired["skill"]["retired"] is True
    choices = run("{ skills { id } }", member=admin)["data"]["skills"]
    assert "rota-design" not in [s["id"] for s in choices]
    every = run("{ skills(includeRetired: true) { id retired } }", member=admin)["data"]["skills"]
    assert {"id": "rota-design", "retired": True} in every
    unknown = run(RETIRE, {"id": "nope"}, member=admin)["data"]["retireSkill"]
    assert unknown["__typename"] == "NotFound"
