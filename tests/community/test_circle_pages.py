"""Circle and peer connect pages: opting in, forming, the circle page, leaving, moving."""

from __future__ import annotations

import re

from sqlmodel import select

from backend.community import circles
from backend.community.models import CircleMember, CommunityPreference, PeerPairing
from tests.factories import (
    make_chapter,
    make_member,
    make_organiser,
    make_organiser_scope,
    make_peer_pairing,
)
from tests.web.conftest import another_client, log_in, post_form


def test_a_member_opts_in_to_circles_and_peer_connect(client, session):
    ann = make_member(session)
    log_in(client, ann.email)

    response = post_form(
        client, "/circles/preferences", {"circles": "yes", "peer_connect": "yes"}, page="/circles"
    )

    assert response.status_code == 303
    session.rollback()
    saved = session.get(CommunityPreference, ann.id)
    assert saved.circles and saved.peer_connect


def test_organiser_forms_circles_and_members_discuss_then_leave(client, session):
    olu = make_organiser(session)
    members = []
    for i in range(8):
        member = make_member(session, organisation=f"Trust {i}", name=f"Peer {i}")
        circles.set_preferences(session=session, member=member, circles=True)
        members.append(member)
    session.commit()
    log_in(client, olu.email)
    assert "8 members waiting" in client.get("/circles").text

    formed = post_form(client, "/circles/form", {}, page="/circles")

    assert formed.status_code == 303
    session.rollback()
    rows = session.exec(select(CircleMember)).all()
    first = rows[0]
    member = next(m for m in members if m.id == first.member_id)
    client.cookies.clear()
    log_in(client, member.email)
    page = client.get(f"/circles/{first.circle_id}")
    assert page.status_code == 200 and member.name in page.text
    posted = post_form(
        client,
        f"/circles/{first.circle_id}/posts",
        {"title": "Our first set", "body": "Welcome *all*"},
        page=f"/circles/{first.circle_id}",
    )
    assert posted.status_code == 303
    assert "Our first set" in client.get(f"/circles/{first.circle_id}").text
    assert "Our first set" not in client.get("/community").text
    other = next(r for r in rows if r.circle_id != first.circle_id)
    assert client.get(f"/circles/{other.circle_id}").status_code == 404

    left = post_form(client, "/circles/leave", {}, page=f"/circles/{first.circle_id}")

    assert left.status_code == 303
    assert client.get(f"/circles/{first.circle_id}").status_code == 404


def test_organiser_moves_a_member_and_runs_peer_connect(client, session):
    olu = make_organiser(session)
    for i in range(8):
        member = make_member(session, organisation=f"Trust {i}", band="6")
        circles.set_preferences(session=session, member=member, circles=True, peer_connect=True)
    first, second = circles.form(session=session, organiser=olu).new
    mover = circles.get(session=session, viewer=olu, circle_id=first.id).members[0]
    session.commit()
    log_in(client, olu.email)

    moved = post_form(
        client,
        f"/circles/{first.id}/move",
        {"member_id": str(mover.id), "target_id": str(second.id)},
        page=f"/circles/{first.id}",
    )
    paired = post_form(client, "/circles/peer-connect", {}, page="/circles")

    assert moved.status_code == paired.status_code == 303
    session.rollback()
    assert (
        session.exec(select(CircleMember.circle_id).where(CircleMember.member_id == mover.id)).one()
        == second.id
    )
    assert len(session.exec(select(PeerPairing)).all()) == 4


def test_members_cannot_form_circles(client, session):
    ann = make_member(session)
    log_in(client, ann.email)

    assert post_form(client, "/circles/form", {}, page="/circles").status_code == 403


def test_chapter_organisers_run_the_circles_of_their_chapters_through_the_page(
    client, session, engine
):
    north_west = make_chapter(session, name="North West", regions=("North West",))
    london = make_chapter(session, name="London", regions=("London",))
    nadia = make_member(session, name="Nadia North", region="North West")
    make_organiser_scope(session, member=nadia, chapter=north_west)
    lee = make_member(session, name="Lee London", region="London")
    make_organiser_scope(session, member=lee, chapter=london)
    for i in range(8):
        member = make_member(session, organisation=f"Trust {i}", region="North West")
        circles.set_preferences(session=session, member=member, circles=True)
    session.commit()

    # North West's organiser sees the controls for her chapter's members and forms circles.
    log_in(client, nadia.email)
    page = client.get("/circles").text
    assert "8 members waiting for a circle in your chapters" in page
    assert 'action="/circles/form"' in page and 'action="/circles/peer-connect"' not in page
    formed = post_form(client, "/circles/form", {}, page="/circles")
    assert formed.status_code == 303
    session.rollback()
    first, second = sorted({row.circle_id for row in session.exec(select(CircleMember))})
    listed = client.get("/circles").text
    assert f'href="/circles/{first}"' in listed and f'href="/circles/{second}"' in listed
    circle_page = client.get(f"/circles/{first}")
    assert circle_page.status_code == 200 and f'action="/circles/{first}/move"' in circle_page.text
    mover = session.exec(
        select(CircleMember.member_id).where(CircleMember.circle_id == first)
    ).first()
    session.rollback()

    def circle_of_mover() -> int:
        session.rollback()
        query = select(CircleMember.circle_id).where(CircleMember.member_id == mover)
        return session.exec(query).one()

    moved = post_form(
        client,
        f"/circles/{first}/move",
        {"member_id": str(mover), "target_id": str(second)},
        page=f"/circles/{first}",
    )
    assert moved.status_code == 303
    assert circle_of_mover() == second

    # London's organiser has no one waiting, sees neither circle, and cannot move anyone.
    londoner = another_client(engine)
    log_in(londoner, lee.email)
    page = londoner.get("/circles").text
    assert "0 members waiting for a circle in your chapters" in page
    assert f'href="/circles/{first}"' not in page and 'action="/circles/form"' not in page
    assert londoner.get(f"/circles/{second}").status_code == 404
    refused = post_form(
        londoner,
        f"/circles/{second}/move",
        {"member_id": str(mover), "target_id": str(first)},
        page="/circles",
    )
    assert refused.status_code == 404
    assert circle_of_mover() == second


def test_a_members_peer_connect_pairs_are_listed_by_month_name(client, session):
    ann = make_member(session)
    peer = make_member(session, name="Tom Eze")
    make_peer_pairing(session, first=ann, second=peer, period="2026-12")
    session.commit()
    log_in(client, ann.email)

    page = client.get("/circles")

    assert page.status_code == 200
    text = " ".join(re.sub(r"<[^>]+>", " ", page.text).split())
    assert "December 2026: Tom Eze" in text and "2026-12" not in text
