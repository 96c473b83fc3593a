"""The member directory: text search, filters, free capacity, paging and LIKE escaping."""

from __future__ import annotations

import pytest
from sqlalchemy import event, insert

from backend.db import utcnow
from backend.errors import FieldErrors, NotAuthenticated
from backend.members import directory
from backend.members.directory import DirectoryFilter
from backend.members.models import Member, MentoringOffer
from backend.organisations.models import Organisation
from tests.factories import make_member


def names(session, viewer, **fields):
    rows, _more = directory.search(
        session=session, viewer=viewer, filter=DirectoryFilter(**fields), offset=0, limit=100
    )
    return [m.name for m in rows]


@pytest.fixture
def network(session):
    viewer = make_member(session, name="Viewer Vee")
    alice = make_member(
        session,
        name="Alice Adams",
        job_title="Finance Manager",
        bio="Budgets and business cases.",
        region="London",
        band="8a",
        role_family="finance",
        meeting_format="remote",
        skills_offered=("budget-management",),
        capacity=2,
    )
    bob = make_member(
        session,
        name="Bob Brown",
        job_title="Rota co-ordinator",
        organisation="Northfield Community Trust",
        region="Midlands",
        band="5",
        meeting_format="in-person",
        skills_sought=("budget-management",),
    )
    carol = make_member(
        session,
        name="Carol Clark",
        job_title="Service manager",
        organisation="Eastshire ICB",
        bio="Integrated care and 100% committed",
        band="8a",
        meeting_format="either",
        skills_offered=("team-leadership",),
        capacity=1,
    )
    org = session.get(Organisation, carol.organisation_id)
    org.type = "integrated-care-board"
    session.add(org)
    session.commit()
    return viewer, alice, bob, carol


def test_only_signed_in_members_can_search(session):
    with pytest.raises(NotAuthenticated):
        directory.search(session=session, viewer=None, filter=DirectoryFilter())


def test_everyone_active_by_name_then_id(session, network):
    viewer, *_ = network
    hidden = make_member(session, name="Aaron Gone", is_active=False)
    twin_a = make_member(session, name="Zed Twin")
    twin_b = make_member(session, name="Zed Twin")

    rows, more = directory.search(session=session, viewer=viewer, filter=DirectoryFilter())

    assert [m.name for m in rows] == [
        "Alice Adams",
        "Bob Brown",
        "Carol Clark",
        "Viewer Vee",
        "Zed Twin",
        "Zed Twin",
    ]
    assert [m.id for m in rows[-2:]] == sorted([twin_a.id, twin_b.id])
    assert hidden.id not in {m.id for m in rows}
    assert more is False


def test_text_matches_name_title_organisation_and_bio_ignoring_case(session, network):
    viewer, *_ = network

    assert names(session, viewer, text="aLiCe") == ["Alice Adams"]
    assert names(session, viewer, text="finance manager") == ["Alice Adams"]
    assert names(session, viewer, text="northfield") == ["Bob Brown"]
    assert names(session, viewer, text="business CASES") == ["Alice Adams"]
    # Every word must match somewhere, not necessarily in the same column.
    assert names(session, viewer, text="service eastshire") == ["Carol Clark"]
    assert names(session, viewer, text="service northfield") == []
    assert names(session, viewer, text="   ") == names(session, viewer)


def test_like_wildcards_match_only_themselves(session, network):
    viewer, *_ = network
    make_member(session, name="Dana 50_50 Dee", job_title="Lead")
    make_member(session, name="Ed 50x50 Eve", job_title="Lead")

    assert names(session, viewer, text="%") == ["Carol Clark"]  # "100% committed"
    assert names(session, viewer, text="100%") == ["Carol Clark"]
    assert names(session, viewer, text="50_50") == ["Dana 50_50 Dee"]
    assert names(session, viewer, text="_") == ["Dana 50_50 Dee"]
    assert names(session, viewer, text="\\") == []


def test_filters_on_skills_region_band_role_family_and_organisation_type(session, network):
    viewer, *_ = network

    assert names(session, viewer, skill_offered="budget-management") == ["Alice Adams"]
    assert names(session, viewer, skill_sought="budget-management") == ["Bob Brown"]
    assert names(session, viewer, skill_offered="no-such-skill") == []
    assert names(session, viewer, region="Midlands") == ["Bob Brown"]
    assert names(session, viewer, band="8a") == ["Alice Adams", "Carol Clark"]
    assert names(session, viewer, role_family="finance") == ["Alice Adams"]
    assert names(session, viewer, organisation_type="integrated-care-board") == ["Carol Clark"]
    assert names(session, viewer, band="8a", region="London") == ["Alice Adams"]


def test_meeting_format_includes_members_happy_either_way(session, network):
    viewer, *_ = network

    def formats(value):
        return names(session, viewer, meeting_format=value, exclude_self=True)

    assert formats("remote") == ["Alice Adams", "Carol Clark"]
    assert formats("in-person") == ["Bob Brown", "Carol Clark"]
    assert formats("either") == ["Carol Clark"]


def test_mentors_with_free_capacity_leaves_out_full_and_paused_mentors(session, network):
    viewer, alice, _bob, carol = network
    assert names(session, viewer, mentors_with_free_capacity=True) == [
        "Alice Adams",
        "Carol Clark",
    ]

    full = session.get(MentoringOffer, carol.id)
    full.active_mentees = 1
    paused = session.get(MentoringOffer, alice.id)
    paused.paused = True
    session.add_all([full, paused])
    session.commit()

    assert names(session, viewer, mentors_with_free_capacity=True) == []


def test_exclude_self(session, network):
    viewer, *_ = network
    assert "Viewer Vee" in names(session, viewer)
    assert "Viewer Vee" not in names(session, viewer, exclude_self=True)


def test_pages_follow_on_without_gaps(session, network):
    viewer, *_ = network
    seen = []
    offset = 0
    while True:
        rows, more = directory.search(
            session=session, viewer=viewer, filter=DirectoryFilter(), offset=offset, limit=3
        )
        seen += [m.name for m in rows]
        offset += 3
        if not more:
            break
    assert seen == names(session, viewer)


def test_one_query_per_page(session, engine, network):
    viewer, *_ = network
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        directory.search(
            session=session,
            viewer=viewer,
            filter=DirectoryFilter(
                text="a",
                skill_offered="budget-management",
                band="8a",
                organisation_type="other",
                mentors_with_free_capacity=True,
                exclude_self=True,
            ),
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


@pytest.mark.parametrize(
    ("fields", "offset", "limit", "field"),
    [
        ({"region": "Atlantis"}, 0, 10, "region"),
        ({"band": "1"}, 0, 10, "band"),
        ({"meeting_format": "carrier pigeon"}, 0, 10, "meeting_format"),
        ({"organisation_type": "pub"}, 0, 10, "organisation_type"),
        ({"role_family": "x"}, 0, 10, "role_family"),
        ({"text": "x" * 201}, 0, 10, "text"),
        ({"skill_offered": "x" * 61}, 0, 10, "skill_offered"),
        ({}, 0, 101, "limit"),
        ({}, 0, 0, "limit"),
        ({}, -1, 10, "offset"),
        ({}, 10_001, 10, "offset"),
    ],
)
def test_bad_filters_are_refused_clearly(session, network, fields, offset, limit, field):
    viewer, *_ = network
    with pytest.raises(FieldErrors) as caught:
        directory.search(
            session=session,
            viewer=viewer,
            filter=DirectoryFilter(**fields),
            offset=offset,
            limit=limit,
        )
    assert field in caught.value.errors


def _explained(session, viewer, words):
    """The plan PostgreSQL makes for the directory's own statement for ``words``."""
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "to_tsquery" in statement:
            seen.append((statement, parameters))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", keep)
    try:
        found = names(session, viewer, text=words)
    finally:
        event.remove(connection, "before_cursor_execute", keep)
    statement, parameters = seen[-1]
    plan = "\n".join(
        row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    )
    return found, plan


def test_postgresql_text_search_is_one_match_on_the_document_index(session, network):
    """Several words, organisation name among them: one match on the one GIN index."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the GIN index is PostgreSQL's (SQLite uses FTS5)")
    viewer, *_ = network
    # A tiny table is cheaper to scan; forbid that so the plan shows what the index can do.
    session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
    found, plan = _explained(session, viewer, "carol eastshire")
    session.rollback()

    assert found == ["Carol Clark"]  # the organisation's name is in her document
    assert plan.count("ix_member_fts_document") == 1, plan


def test_postgresql_chooses_the_index_on_a_large_directory(session, network):
    """Ten thousand members, statistics fresh, nothing forced: the planner takes the index."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the GIN index is PostgreSQL's (SQLite uses FTS5)")
    viewer, alice, *_ = network
    now = utcnow()
    rows = [
        {
            "email": f"bulk{i}@example.nhs.uk",
            "name": f"Bulk Person {i}",
            "job_title": "Ward clerk",
            "organisation_id": alice.organisation_id,
            "region": alice.region,
            "role_family": alice.role_family,
            "band": "4",
            "profession": alice.profession,
            "management_years": 0,
            "bio": f"Keeps ward {i % 97} running; rota {i % 89}, audit {i % 83}, clinic {i}.",
            "goals": "",
            "meeting_format": "either",
            "seeking_mentor": False,
            "outside_organisation_only": False,
            "priority_access": False,
            "contact_visibility": "members",
            "open_requests": 0,
            "is_active": True,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(10_000)
    ]
    session.execute(insert(Member), rows)
    session.commit()
    session.connection().exec_driver_sql("ANALYZE member_fts_document")
    session.commit()

    found, plan = _explained(session, viewer, "alice budgets")
    session.rollback()

    assert found == ["Alice Adams"]
    assert "ix_member_fts_document" in plan, plan
    assert "Seq Scan on member_fts_document" not in plan, plan
    assert "Seq Scan on member " not in plan, plan
