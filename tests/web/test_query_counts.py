"""Query counts are pinned for the main pages: a page costs as many SQL statements for a small
network as for a larger one, so an N+1 (a query per row shown) fails here.

Each page is fetched once on a small network and again after it has grown; the statements
the app sent for the request are counted on the engine (``before_cursor_execute``).
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from backend.community import service as community
from backend.mentoring import service as mentoring
from backend.rounds.models import MatchingRound
from tests.factories import make_member, make_proposal, make_round
from tests.web.conftest import log_in

PAGES = [
    "/members",
    "/members?text=rota",
    "/members/{mentor}",
    "/mentors",
    "/mentoring",
    "/mentoring/suggestions",
    "/mentoring/requests",
    "/community",
    "/notifications",
    "/organise/rounds",
    "/organise/rounds/{round}",
    "/profile",
]


def grow(session, *, viewer_id: int, round_id: int, count: int) -> int:
    """Add ``count`` mentors and mentees: requests to the viewer, posts, round proposals."""
    last_mentor = 0
    matching_round = session.get(MatchingRound, round_id)
    for i in range(count):
        organisation = f"Trust {i % 3}"
        mentor = make_member(
            session,
            band="8a",
            organisation=organisation,
            job_title="Rota lead",
            capacity=2,
            skills_offered=("team-leadership",),
        )
        mentee = make_member(
            session,
            band="4",
            organisation=organisation,
            job_title="Rota officer",
            seeking_mentor=True,
            skills_sought=("team-leadership",),
        )
        mentoring.request_mentor(
            session=session, mentee=mentee, mentor_id=viewer_id, message="Could you mentor me?"
        )
        community.create_post(
            session=session,
            author=mentor,
            title=f"What I learnt about rotas, part {mentor.id}",
            body="Share the rota early and ask the team.",
            skills=("team-leadership",),
        )
        make_proposal(
            session,
            matching_round=matching_round,
            mentee=mentee,
            mentor=mentor,
            score=40 + i % 50,
            reasons="skills sought",
        )
        last_mentor = mentor.id  # type: ignore[assignment]
    session.commit()
    return last_mentor


def network_for(session) -> tuple[int, str, int]:
    """An organiser who mentors (band 9, ten places) and a round ready for review."""
    viewer = make_member(
        session,
        name="Viewer Vee",
        band="9",
        organisation="Viewer Trust",
        capacity=10,
        skills_offered=("team-leadership",),
        roles=("organiser",),
    )
    matching_round = make_round(session, organiser=viewer, name="Spring round")
    return viewer.id, viewer.email, matching_round.id  # type: ignore[return-value]


@pytest.fixture
def network(session):
    return network_for(session)


def _statements(client, engine, path: str) -> tuple[int, int]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.text[:300])
    return len(seen), len(response.text)


def test_main_pages_do_not_grow_with_the_network(client, session, engine, network):
    viewer_id, email, round_id = network
    mentor = grow(session, viewer_id=viewer_id, round_id=round_id, count=2)
    log_in(client, email)
    paths = [p.format(mentor=mentor, round=round_id) for p in PAGES]
    small = {path: _statements(client, engine, path) for path in paths}

    grow(session, viewer_id=viewer_id, round_id=round_id, count=6)
    large = {path: _statements(client, engine, path) for path in paths}

    # The larger network shows more on the pages that list things...
    assert large["/members"][1] > small["/members"][1]
    assert large[f"/organise/rounds/{round_id}"][1] > small[f"/organise/rounds/{round_id}"][1]
    # ...for the same number of statements on every page.
    grew = {p: (small[p][0], large[p][0]) for p in paths if small[p][0] != large[p][0]}
    assert grew == {}
