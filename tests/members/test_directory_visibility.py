"""The directory honours each member's visibility choice: what a viewer cannot see, they
cannot match (issue 11: a hidden organisation was recoverable by text search and type filter).
"""

from __future__ import annotations

import dataclasses

import pytest
from sqlmodel import select

from backend.members import directory
from backend.members import service as member_service
from backend.members.directory import FILTER_VISIBILITY, DirectoryFilter
from backend.members.models import Member
from backend.organisations.models import Organisation
from tests.factories import make_member, make_organiser
from tests.schema.conftest import run  # noqa: F401 - fixture


def names(session, viewer, **fields):
    rows, _more = directory.search(
        session=session, viewer=viewer, filter=DirectoryFilter(**fields), offset=0, limit=100
    )
    return sorted(m.name for m in rows)


def _typed(session, member, kind):
    organisation = session.get(Organisation, member.organisation_id)
    organisation.type = kind
    session.add(organisation)
    session.commit()


@pytest.fixture
def people(session):
    viewer = make_member(session, name="Viewer Vee", organisation="Viewer Valley Trust")
    hidden = make_member(
        session,
        name="Hana Hidden",
        job_title="Estates lead",
        bio="Keeps the boilers going.",
        organisation="Quarrybank 100% Community Trust",
        contact_visibility="nobody",
    )
    shown = make_member(
        session,
        name="Sid Shown",
        job_title="Estates lead",
        organisation="Quarrybank 50% Community Care",
        contact_visibility="members",
    )
    _typed(session, hidden, "community-trust")
    _typed(session, shown, "community-trust")
    return viewer, hidden, shown


@pytest.mark.parametrize(
    "text",
    ["Quarrybank", "quarry", "quarrybank community", "Community Quarrybank", "Quarry estates"],
)
def test_a_hidden_organisation_is_not_found_by_its_name(session, people, text):
    viewer, *_ = people
    assert names(session, viewer, text=text) == ["Sid Shown"]


def test_a_hidden_organisation_is_not_found_by_a_like_only_term(session, people):
    """'%' has no letters, so the LIKE alone matches it; it must not see a hidden name."""
    viewer, *_ = people
    assert names(session, viewer, text="%") == ["Sid Shown"]
    assert names(session, viewer, text="100%") == []
    assert names(session, viewer, text="50%") == ["Sid Shown"]


def test_a_hidden_organisation_is_not_found_by_its_type(session, people):
    viewer, *_ = people
    assert names(session, viewer, organisation_type="community-trust") == ["Sid Shown"]
    assert names(session, viewer, organisation_type="community-trust", text="estates") == [
        "Sid Shown"
    ]


def test_what_every_member_sees_still_finds_a_hidden_member(session, people):
    viewer, hidden, _shown = people
    assert names(session, viewer, text="hana") == ["Hana Hidden"]
    assert names(session, viewer, text="boilers") == ["Hana Hidden"]
    assert names(session, viewer, text="estates") == ["Hana Hidden", "Sid Shown"]
    assert "Hana Hidden" in names(session, viewer, region=hidden.region, band=hidden.band)


def test_the_member_themself_finds_their_own_hidden_organisation(session, people):
    _viewer, hidden, _shown = people
    assert names(session, hidden, text="Quarrybank") == ["Hana Hidden", "Sid Shown"]
    assert names(session, hidden, text="100%") == ["Hana Hidden"]
    assert names(session, hidden, text="quarrybank boilers") == ["Hana Hidden"]
    assert names(session, hidden, organisation_type="community-trust") == [
        "Hana Hidden",
        "Sid Shown",
    ]


def test_organisers_cannot_match_a_hidden_organisation_either(session, people):
    """Organisers see no one's hidden contact details (can_see_contact), so cannot search them."""
    organiser = make_organiser(session, name="Olu Organiser")
    assert names(session, organiser, text="Quarrybank") == ["Sid Shown"]
    assert names(session, organiser, organisation_type="community-trust") == ["Sid Shown"]


def test_changing_visibility_moves_the_organisation_in_and_out_of_search(session, people):
    viewer, hidden, shown = people
    member_service.update_profile(
        session=session,
        member=hidden,
        update=member_service.ProfileUpdate(contact_visibility="members"),
    )
    member_service.update_profile(
        session=session,
        member=shown,
        update=member_service.ProfileUpdate(contact_visibility="nobody"),
    )
    session.commit()
    assert names(session, viewer, text="Quarrybank") == ["Hana Hidden"]
    assert names(session, viewer, organisation_type="community-trust") == ["Hana Hidden"]


def test_a_renamed_organisation_stays_hidden(session, people):
    viewer, hidden, shown = people
    for member, name in ((hidden, "Rowanhurst Trust"), (shown, "Rowanhurst Care")):
        organisation = session.get(Organisation, member.organisation_id)
        organisation.name = name
        session.add(organisation)
    session.commit()
    assert names(session, viewer, text="Rowanhurst") == ["Sid Shown"]
    assert names(session, viewer, text="Quarrybank") == []
    assert names(session, hidden, text="Rowanhurst") == ["Hana Hidden", "Sid Shown"]


def test_moving_to_another_organisation_keeps_it_hidden(session, people):
    viewer, hidden, _shown = people
    member_service.update_profile(
        session=session,
        member=hidden,
        update=member_service.ProfileUpdate(organisation="Larkspur Health Partnership"),
    )
    session.commit()
    assert names(session, viewer, text="Larkspur") == []
    assert names(session, hidden, text="Larkspur") == ["Hana Hidden"]


def test_every_filter_says_whose_visibility_it_needs():
    """A new filter must be classified, so a contact field is never searchable by accident."""
    fields = {field.name for field in dataclasses.fields(DirectoryFilter)}
    assert set(FILTER_VISIBILITY) == fields
    assert set(FILTER_VISIBILITY.values()) <= {"public", "contact"}


def test_the_sql_rule_agrees_with_can_see_contact(session, people):
    viewer, hidden, shown = people
    organiser = make_organiser(session)
    everyone = session.exec(select(Member)).all()
    for looker in (viewer, hidden, shown, organiser):
        visible = set(
            session.exec(select(Member.id).where(member_service.contact_visible_to(looker))).all()
        )
        expected = {
            m.id for m in everyone if member_service.can_see_contact(member=m, viewer=looker)
        }
        assert visible == expected


DIRECTORY = """
query ($filter: MemberFilter) {
  members(filter: $filter, first: 50) { edges { node { name organisation { name } } } }
}
"""


def test_graphql_directory_does_not_match_a_hidden_organisation(session, people, run):  # noqa: F811
    viewer, hidden, _shown = people
    by_text = run(DIRECTORY, {"filter": {"text": "Quarrybank"}}, member=viewer)
    by_type = run(DIRECTORY, {"filter": {"organisationType": "COMMUNITY_TRUST"}}, member=viewer)
    own = run(DIRECTORY, {"filter": {"text": "Quarrybank"}}, member=hidden)

    for result in (by_text, by_type):
        assert "errors" not in result, result
        assert [e["node"]["name"] for e in result["data"]["members"]["edges"]] == ["Sid Shown"]
    assert sorted(e["node"]["name"] for e in own["data"]["members"]["edges"]) == [
        "Hana Hidden",
        "Sid Shown",
    ]
