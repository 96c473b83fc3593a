"""Directory full-text search (FTS5 / tsvector), privacy on the page, and paging."""

from __future__ import annotations

from sqlalchemy import text

from backend.members import directory
from backend.members.directory import DirectoryFilter
from backend.members.models import Member
from backend.organisations.models import Organisation
from tests.factories import make_member
from tests.web.conftest import log_in


def names(session, viewer, words):
    rows, _ = directory.search(
        session=session, viewer=viewer, filter=DirectoryFilter(text=words), limit=100
    )
    return sorted(m.name for m in rows)


def test_words_match_word_starts_across_columns(session):
    viewer = make_member(session, name="Viewer")
    make_member(
        session,
        name="Priya Shah",
        job_title="Deputy Finance Manager",
        organisation="Harrowby Community Trust",
        bio="Interested in théatre scheduling",
    )

    assert names(session, viewer, "fin harrow") == ["Priya Shah"]
    assert names(session, viewer, "PRIYA deputy") == ["Priya Shah"]
    assert names(session, viewer, "théatre") == ["Priya Shah"]
    assert names(session, viewer, "priya nowhere") == []


def test_the_index_follows_profile_and_organisation_changes(session):
    viewer = make_member(session, name="Viewer")
    person = make_member(session, name="Sam Old", organisation="Oldtown Trust")

    person.name = "Sam Newname"
    session.add(person)
    session.commit()
    org = session.get(Organisation, person.organisation_id)
    org.name = "Renamed Health Board"
    session.add(org)
    session.commit()

    assert names(session, viewer, "newname") == ["Sam Newname"]
    assert names(session, viewer, "old") == []
    assert names(session, viewer, "renamed") == ["Sam Newname"]
    session.delete(session.get(Member, person.id))
    session.commit()
    assert names(session, viewer, "newname") == []


def test_postgresql_can_answer_from_the_gin_index(session):
    if session.get_bind().dialect.name != "postgresql":
        return
    make_member(session)
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = session.execute(
        text(
            "EXPLAIN SELECT member_id FROM member_fts_document "
            "WHERE document @@ to_tsquery('simple'::regconfig, 'finance:*')"
        )
    ).all()
    session.rollback()

    assert any("ix_member_fts_document" in row[0] for row in plan), plan


def test_the_members_page_searches_filters_pages_and_respects_privacy(client, session):
    viewer = make_member(session, name="Viewer")
    make_member(
        session,
        name="Open Olive",
        job_title="Rota lead",
        organisation="Visible Trust",
        band="6",
    )
    make_member(
        session,
        name="Private Pat",
        job_title="Rota lead",
        organisation="Secret Trust",
        contact_visibility="nobody",
        band="6",
    )
    for i in range(21):
        make_member(session, name=f"Zed {i:02d}", job_title="Analyst")
    log_in(client, viewer.email)

    page = client.get("/members?text=rota&band=6")
    first = client.get("/members?text=analyst")
    second = client.get("/members?text=analyst&page=2")
    bad = client.get("/members?band=99")

    assert "Open Olive" in page.text and "Visible Trust" in page.text
    assert "Private Pat" in page.text and "Secret Trust" not in page.text
    assert "Zed 00" in first.text and "Zed 20" not in first.text
    assert 'rel="next"' in first.text
    assert "Zed 20" in second.text
    assert bad.status_code == 400
