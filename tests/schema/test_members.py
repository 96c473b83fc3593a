"""Who may see what, and changing one's own profile and mentoring offer."""

from __future__ import annotations

import pytest
from strawberry import relay

from backend.members.models import Member as MemberModel
from backend.members.models import MentoringOffer
from tests.factories import make_member

PROFILE = """
query($id: ID!) {
  member(id: $id) {
    name email organisation { name } contactVisibility emailVerified accessTokens { id }
  }
}
"""
UPDATE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    __typename
    ... on UpdateProfileSuccess { member { name bio contactVisibility skillsSought { id } } }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""
OFFER = """
mutation($input: SetMentoringOfferInput!) {
  setMentoringOffer(input: $input) {
    __typename
    ... on SetMentoringOfferSuccess {
      mentoringOffer { capacity paused skillsOffered { id } }
      member { meetingFormat skillsOffered { id } }
    }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""


def gid(member: MemberModel) -> str:
    return str(relay.GlobalID("Member", str(member.id)))


def test_me_is_null_when_anonymous(run):
    assert run("{ me { name } }")["data"] == {"me": None}


def test_member_by_id_needs_a_signed_in_member(run, session):
    other = make_member(session)

    result = run(PROFILE, {"id": gid(other)})

    assert result["data"] == {"member": None}
    assert result["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_email_hidden_when_contact_visibility_is_nobody(run, session):
    viewer = make_member(session)
    private = make_member(session, contact_visibility="nobody")

    seen = run(PROFILE, {"id": gid(private)}, member=viewer)

    assert "errors" not in seen
    assert seen["data"]["member"] == {
        "name": private.name,
        "email": None,
        "organisation": None,
        "contactVisibility": None,
        "emailVerified": None,
        "accessTokens": [],
    }


def test_email_shown_to_members_when_shared_and_always_to_oneself(run, session):
    viewer = make_member(session)
    sharing = make_member(session, contact_visibility="members")
    private = make_member(session, contact_visibility="nobody")

    shared = run(PROFILE, {"id": gid(sharing)}, member=viewer)["data"]["member"]
    own = run(PROFILE, {"id": gid(private)}, member=private)["data"]["member"]

    assert shared["email"] == sharing.email
    assert shared["organisation"] == {"name": "Leeds Teaching Hospitals NHS Trust"}
    assert own["email"] == private.email
    assert own["contactVisibility"] == "NOBODY"


def test_node_applies_the_same_rules(run, session):
    viewer = make_member(session)
    private = make_member(session, contact_visibility="nobody")
    query = "query($id: ID!) { node(id: $id) { ... on Member { name email } } }"

    anonymous = run(query, {"id": gid(private)})
    signed_in = run(query, {"id": gid(private)}, member=viewer)

    assert anonymous["data"] == {"node": None}
    assert anonymous["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    assert signed_in["data"] == {"node": {"name": private.name, "email": None}}


@pytest.mark.parametrize(
    "bad_id",
    ["not base64 at all", "TWVtYmVyOmFiYw==", str(relay.GlobalID("Member", "99999999999999")), ""],
)
def test_bad_member_ids_are_clear_errors(run, session, bad_id):
    viewer = make_member(session)
    result = run(PROFILE, {"id": bad_id}, member=viewer)
    assert result["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def test_unknown_member_is_null(run, session):
    viewer = make_member(session)
    result = run(PROFILE, {"id": str(relay.GlobalID("Member", "424242"))}, member=viewer)
    assert result == {"data": {"member": None}}


def test_update_profile_changes_only_given_fields(run, session):
    member = make_member(session, bio="Old bio")

    result = run(
        UPDATE,
        {"input": {"contactVisibility": "NOBODY", "skillsSought": ["quality-improvement"]}},
        member=member,
    )["data"]["updateProfile"]

    assert result == {
        "__typename": "UpdateProfileSuccess",
        "member": {
            "name": member.name,
            "bio": "Old bio",
            "contactVisibility": "NOBODY",
            "skillsSought": [{"id": "quality-improvement"}],
        },
    }


def test_update_profile_when_anonymous_is_not_authenticated(run):
    result = run(UPDATE, {"input": {"bio": "hello"}})["data"]["updateProfile"]
    assert result["__typename"] == "NotAuthenticated"


def test_update_profile_reports_every_problem_and_changes_nothing(run, session):
    member = make_member(session, bio="Kept")

    result = run(
        UPDATE,
        {
            "input": {
                "name": "",
                "bio": "x" * 5000,
                "managementYears": 99,
                "skillsSought": ["no-such-skill"],
            }
        },
        member=member,
    )["data"]["updateProfile"]

    assert result["__typename"] == "InvalidInput"
    assert {e["field"] for e in result["errors"]} == {
        "name",
        "bio",
        "managementYears",
        "skillsSought",
    }
    session.expire_all()
    assert session.get(MemberModel, member.id).bio == "Kept"


def test_set_mentoring_offer(run, session):
    member = make_member(session)

    result = run(
        OFFER,
        {
            "input": {
                "capacity": 3,
                "skillsOffered": ["budget-management", "rota-management"],
                "meetingFormat": "REMOTE",
            }
        },
        member=member,
    )["data"]["setMentoringOffer"]

    offered = [{"id": "budget-management"}, {"id": "rota-management"}]
    assert result == {
        "__typename": "SetMentoringOfferSuccess",
        "mentoringOffer": {"capacity": 3, "paused": False, "skillsOffered": offered},
        "member": {"meetingFormat": "REMOTE", "skillsOffered": offered},
    }


@pytest.mark.parametrize("capacity", [-1, 11])
def test_mentoring_capacity_out_of_range_is_invalid(run, session, capacity):
    member = make_member(session)

    result = run(
        OFFER,
        {"input": {"capacity": capacity, "skillsOffered": ["budget-management"]}},
        member=member,
    )["data"]["setMentoringOffer"]

    assert result["__typename"] == "InvalidInput"
    assert result["errors"][0]["field"] == "capacity"
    assert session.get(MentoringOffer, member.id) is None


def test_directory_lists_members_in_pages(run, session):
    viewer = make_member(session, name="Aaron Viewer")
    for letter in "BCDE":
        make_member(session, name=f"{letter} Member")
    query = """
      query($after: String) {
        members(first: 2, after: $after) {
          edges { cursor node { name } } pageInfo { hasNextPage endCursor }
        }
      }
    """

    first = run(query, member=viewer)["data"]["members"]
    second = run(query, {"after": first["pageInfo"]["endCursor"]}, member=viewer)["data"]["members"]

    assert [e["node"]["name"] for e in first["edges"]] == ["Aaron Viewer", "B Member"]
    assert [e["node"]["name"] for e in second["edges"]] == ["C Member", "D Member"]
    assert second["pageInfo"]["hasNextPage"] is True


def test_reference_data_is_public(run, session):
    make_member(session, organisation="Barts Health NHS Trust", region="London")
    result = run(
        "{ skills { id group } regions { value label } bands { value label } "
        'roleFamilies { value } professions { value } organisations(search: "barts") '
        "{ edges { node { id name region } } } }"
    )["data"]

    assert len(result["skills"]) == 25
    assert {"value": "LONDON", "label": "London"} in result["regions"]
    assert {"value": "BAND_8A", "label": "Band 8a"} in result["bands"]
    [org] = result["organisations"]["edges"]
    assert org["node"]["name"] == "Barts Health NHS Trust"
    assert org["node"]["region"] == "LONDON"
