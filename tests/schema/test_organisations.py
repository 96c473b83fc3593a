"""The organisation register over GraphQL: ``organisations`` with odsCode and inRegister,
``adminOrganisations`` / ``adminOrganisation`` (member counts), and the admin mutations
``importOrganisations``, ``updateOrganisation`` and ``mergeOrganisations``: admins only."""

from __future__ import annotations

import json

from sqlmodel import select
from strawberry import relay

from backend.audit import actions as a
from backend.members.models import Member
from backend.organisations.models import Organisation
from tests.factories import audit_events, make_member, make_organisation, make_organiser

ODS = (
    '"RR8","LEEDS TEACHING HOSPITALS NHS TRUST","Y63","QWO","","","","","","LS9 7TF",'
    '"19980401",""\n"RAE","BRADFORD TEACHING HOSPITALS NHS FOUNDATION TRUST","Y63"\n'
    '"TOO-LONG-CODE","X","Y63"\n'
)
IMPORT = """
mutation ($csv: String!, $type: OrganisationType) {
  importOrganisations(input: {csv: $csv, type: $type}) {
    __typename
    ... on ImportOrganisationsSuccess { created updated unchanged skippedClosed summary
                                        problems { line odsCode message } }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""
UPDATE = """
mutation ($id: ID!, $type: OrganisationType, $region: Region, $code: String) {
  updateOrganisation(input: {organisationId: $id, type: $type, region: $region,
                             odsCode: $code, addToRegister: true}) {
    __typename
    ... on UpdateOrganisationSuccess { organisation { memberCount
      organisation { name odsCode type region inRegister } } }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""
MERGE = """
mutation ($id: ID!, $into: ID!) {
  mergeOrganisations(input: {organisationId: $id, intoId: $into}) {
    __typename
    ... on MergeOrganisationsSuccess { membersMoved referencesMoved
      organisation { memberCount organisation { name odsCode } } }
    ... on Error { message }
    ... on InvalidInput { field }
  }
}
"""
LIST = """
query ($search: String, $listing: OrganisationListing) {
  adminOrganisations(search: $search, listing: $listing, first: 10) {
    edges { node { memberCount mergedInto { name }
                   organisation { name odsCode inRegister region type } } }
  }
}
"""
ONE = "query ($id: ID!) { adminOrganisation(id: $id) { memberCount mergedInto { name } } }"
PUBLIC = """
query ($inRegister: Boolean, $search: String) {
  organisations(inRegister: $inRegister, search: $search, first: 10) {
    edges { node { name odsCode inRegister closedOn } }
  }
}
"""


def gid(organisation: Organisation) -> str:
    return str(relay.GlobalID("Organisation", str(organisation.id)))


def test_members_and_organisers_are_refused_every_register_operation(run, session):  # type: ignore[no-untyped-def]
    organiser = make_organiser(session)
    member = make_member(session)
    typed = make_organisation(session, name="Typed Trust")
    kept = make_organisation(session, name="Kept Trust", status="register")
    session.commit()
    for who in (organiser, member):
        listed = run(LIST, member=who)
        assert listed["data"] is None
        assert listed["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
        one = run(ONE, {"id": gid(typed)}, member=who)
        assert one["errors"][0]["extensions"]["code"] == "NOT_ALLOWED"
        for query, variables in (
            (IMPORT, {"csv": ODS}),
            (UPDATE, {"id": gid(typed), "type": "ACUTE_TRUST"}),
            (MERGE, {"id": gid(typed), "into": gid(kept)}),
        ):
            [answer] = run(query, variables, member=who)["data"].values()
            assert answer["__typename"] == "NotAllowed", answer
    assert run(LIST)["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    [answer] = run(IMPORT, {"csv": ODS})["data"].values()
    assert answer["__typename"] in ("NotAuthenticated", "NotAllowed")
    session.expire_all()
    assert session.get(Organisation, typed.id).merged_into_id is None
    assert session.exec(select(Organisation).where(Organisation.ods_code == "RR8")).first() is None


def test_an_admin_imports_lists_edits_and_merges(run, session):  # type: ignore[no-untyped-def]
    admin = make_member(session, organisation="NHS England", roles=("admin",))
    typo = make_member(session, organisation="Leeds Teaching Hosp").organisation_id
    session.commit()

    [done] = run(IMPORT, {"csv": ODS, "type": "ACUTE_TRUST"}, member=admin)["data"].values()
    assert done["__typename"] == "ImportOrganisationsSuccess", done
    assert (done["created"], done["updated"]) == (2, 0)
    assert done["problems"] == [
        {
            "line": 3,
            "odsCode": "TOO-LONG-C",
            "message": "An ODS code is 3 to 10 letters and digits, for example RXN or Y12345.",
        }
    ]
    [again] = run(IMPORT, {"csv": ODS}, member=admin)["data"].values()
    assert (again["created"], again["unchanged"]) == (0, 2)
    [bad] = run(IMPORT, {"csv": ""}, member=admin)["data"].values()
    assert bad["__typename"] == "InvalidInput" and bad["field"] == "file"

    listed = run(LIST, {"search": "RR8"}, member=admin)["data"]["adminOrganisations"]["edges"]
    assert [e["node"]["organisation"] for e in listed] == [
        {
            "name": "Leeds Teaching Hospitals NHS Trust",
            "odsCode": "RR8",
            "inRegister": True,
            "region": "NORTH_EAST_AND_YORKSHIRE",
            "type": "ACUTE_TRUST",
        }
    ]
    waiting = run(LIST, {"listing": "OTHER"}, member=admin)["data"]["adminOrganisations"]
    names = {e["node"]["organisation"]["name"]: e["node"]["memberCount"] for e in waiting["edges"]}
    assert names == {"Leeds Teaching Hosp": 1, "NHS England": 1}

    leeds = session.exec(select(Organisation).where(Organisation.ods_code == "RR8")).one()
    typo_org = session.get(Organisation, typo)
    session.rollback()
    [merged] = run(MERGE, {"id": gid(typo_org), "into": gid(leeds)}, member=admin)["data"].values()
    assert merged["__typename"] == "MergeOrganisationsSuccess", merged
    assert merged["membersMoved"] == 1 and merged["referencesMoved"] == 1
    assert merged["organisation"] == {
        "memberCount": 1,
        "organisation": {"name": "Leeds Teaching Hospitals NHS Trust", "odsCode": "RR8"},
    }
    one = run(ONE, {"id": gid(typo_org)}, member=admin)["data"]["adminOrganisation"]
    assert one == {"memberCount": 0, "mergedInto": {"name": "Leeds Teaching Hospitals NHS Trust"}}
    [twice] = run(MERGE, {"id": gid(typo_org), "into": gid(leeds)}, member=admin)["data"].values()
    assert twice["__typename"] == "Conflict", twice
    [self_merge] = run(MERGE, {"id": gid(leeds), "into": gid(leeds)}, member=admin)["data"].values()
    assert self_merge["__typename"] == "InvalidInput"

    hospice = make_organisation(session, name="Wharfe Hospice", type="other", region=None)
    session.commit()
    [updated] = run(
        UPDATE,
        {"id": gid(hospice), "type": "COMMUNITY_TRUST", "region": "NORTH_WEST", "code": "rwh"},
        member=admin,
    )["data"].values()
    assert updated["organisation"]["organisation"] == {
        "name": "Wharfe Hospice",
        "odsCode": "RWH",
        "type": "COMMUNITY_TRUST",
        "region": "NORTH_WEST",
        "inRegister": True,
    }
    [taken] = run(UPDATE, {"id": gid(hospice), "code": "RR8"}, member=admin)["data"].values()
    assert taken["__typename"] == "Conflict"
    [wrong] = run(UPDATE, {"id": gid(hospice), "code": "R-8"}, member=admin)["data"].values()
    assert wrong["__typename"] == "InvalidInput" and wrong["field"] == "odsCode"
    [event] = audit_events(session, a.ORGANISATION_MERGED)
    assert json.loads(event.details)["members"] == 1
    assert session.exec(select(Member).where(Member.organisation_id == typo)).all() == []


def test_the_public_list_gives_ods_codes_and_can_keep_to_the_register(run, session):  # type: ignore[no-untyped-def]
    member = make_member(session, organisation="Typed Trust")
    make_organisation(session, name="Leeds Teaching Hospitals", ods_code="RR8", status="register")
    session.commit()
    everything = run(PUBLIC, member=member)["data"]["organisations"]["edges"]
    assert {e["node"]["name"]: e["node"]["odsCode"] for e in everything} == {
        "Leeds Teaching Hospitals": "RR8",
        "Typed Trust": None,
    }
    register = run(PUBLIC, {"inRegister": True}, member=member)["data"]["organisations"]["edges"]
    assert [e["node"] for e in register] == [
        {"name": "Leeds Teaching Hospitals", "odsCode": "RR8", "inRegister": True, "closedOn": None}
    ]
    by_code = run(PUBLIC, {"search": "rr8"}, member=member)["data"]["organisations"]["edges"]
    assert [e["node"]["name"] for e in by_code] == ["Leeds Teaching Hospitals"]
