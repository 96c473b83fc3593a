"""Organiser scopes: the network, or chapters covering regions and organisations."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.chapters import service as chapters
from backend.errors import Forbidden
from backend.members.models import Member
from tests.factories import (
    make_chapter,
    make_member,
    make_organisation,
    make_organiser_scope,
)


@pytest.fixture
def two_chapters(session):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    trust = make_organisation(session, name="Barts Health", region="London")
    london_ics = make_chapter(
        session,
        name="North East London ICS",
        kind="integrated-care-system",
        regions=(),
        organisations=(trust,),
    )
    manchester = make_member(session, name="Nia North", region="North West")
    barts = make_member(session, name="Lou London", region="London", organisation=trust.name)
    elsewhere = make_member(session, name="Sam South", region="South West")
    return north_west, london_ics, manchester, barts, elsewhere


def _covered(session, scope) -> set[str]:
    return set(
        session.exec(
            select(Member.name).where(chapters.members_in(session=session, scope=scope))
        ).all()
    )


def test_a_chapter_organiser_covers_only_the_members_of_their_chapter(session, two_chapters):
    north_west, london_ics, *_ = two_chapters
    organiser = make_organiser_scope(session, chapter=north_west)
    member = session.get(Member, organiser.member_id)

    scope = chapters.scope_of(session=session, member=member)

    assert scope.chapter_ids == {north_west.id} and not scope.network
    assert "Nia North" in _covered(session, scope)
    assert {"Lou London", "Sam South"}.isdisjoint(_covered(session, scope))
    assert scope.covers_chapter(north_west.id)
    assert not scope.covers_chapter(london_ics.id)
    assert not scope.covers_chapter(None)  # network-wide things are the network's organisers'


def test_an_ics_chapter_covers_its_organisations_members(session, two_chapters):
    _, london_ics, *_ = two_chapters
    organiser = make_organiser_scope(session, chapter=london_ics)
    scope = chapters.scope_of(session=session, member=session.get(Member, organiser.member_id))

    assert _covered(session, scope) >= {"Lou London"}
    assert "Nia North" not in _covered(session, scope)


def test_network_organisers_and_admins_cover_everyone(session, two_chapters):
    for role in ("organiser", "admin"):
        member = make_member(session, roles=(role,))
        scope = chapters.scope_of(session=session, member=member)
        assert scope.network and scope.covers_chapter(None)
        assert {"Nia North", "Lou London", "Sam South"} <= _covered(session, scope)


def test_a_member_without_a_scope_is_refused(session, two_chapters):
    member = make_member(session)

    assert not chapters.scope_of(session=session, member=member).is_organiser
    with pytest.raises(Forbidden):
        chapters.require_scope(session=session, member=member)


def test_a_chapter_organiser_is_refused_another_chapter(session, two_chapters):
    north_west, london_ics, *_ = two_chapters
    organiser = session.get(Member, make_organiser_scope(session, chapter=north_west).member_id)

    assert chapters.require_chapter(session=session, member=organiser, chapter_id=north_west.id)
    with pytest.raises(Forbidden, match="outside the chapters you organise"):
        chapters.require_chapter(session=session, member=organiser, chapter_id=london_ics.id)


def test_chapters_of_a_member_by_region_and_organisation(session, two_chapters):
    north_west, london_ics, manchester, barts, elsewhere = two_chapters

    assert [c.id for c in chapters.chapters_of(session=session, member=manchester)] == [
        north_west.id
    ]
    assert [c.id for c in chapters.chapters_of(session=session, member=barts)] == [london_ics.id]
    assert chapters.chapters_of(session=session, member=elsewhere) == []
    assert chapters.chapter_ids_of(session=session, members=[manchester, barts, elsewhere]) == {
        manchester.id: {north_west.id},
        barts.id: {london_ics.id},
        elsewhere.id: set(),
    }
