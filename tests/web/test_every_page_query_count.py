"""Every page costs as many SQL statements with 2 rows of each thing as with 20.

The network grows on every surface at once (``tests.perf.networks.grow``: requests,
notifications, posts, comments, reports, proposals, offers, rounds, mentorships, sessions
logged, circle members, follows); each page is fetched signed in as the member who sees all of
it, and the statements the request sent are counted on the engine
(``before_cursor_execute``). An N+1 (a query per row shown) makes a count grow and fails here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.factories import make_member
from tests.perf.networks import Hub, grow, make_hub
from tests.web.conftest import another_client, log_in

PAGES = [
    "/",
    "/about",
    "/privacy",
    "/accessibility",
    "/code-of-conduct",
    "/account",
    "/members",
    "/members?text=rota",
    "/members?q=rota",
    "/members/{mentor}",
    "/profile",
    "/profile/edit",
    "/mentoring-offer",
    "/mentors",
    "/mentoring",
    "/mentoring/suggestions",
    "/mentoring/requests",
    "/mentoring/requests?direction=sent",
    "/mentoring/requests/new?mentor={mentor}",
    "/mentoring/requests/{request}",
    "/mentoring/mentorships/{mentorship}",
    "/mentoring/mentorships/{mentorship}/end",
    "/mentoring/proposals/{offered}",
    "/notifications",
    "/notifications/settings",
    "/community",
    "/community?following=yes",
    "/community/posts/new",
    "/community/posts/{post}",
    "/community/posts/{post}/edit",
    "/community/posts/{post}/report",
    "/community/comments/{comment}/report",
    "/community/moderation",
    "/circles",
    "/circles/{circle}",
    "/organise/import",
    "/organise/import/{import_}",
    "/organise/import/{import_}/rejects.csv",
    "/organise/rounds",
    "/organise/rounds/{round}",
    "/organise/rounds/{round}/publish",
    "/organise/rounds/{round}/export.csv",
    "/organise/rounds/{round}/proposals/{proposal}",
    "/organise/insights",
    "/organise/insights/by-band.csv",
    "/my-data",
    "/my-data/download",
    "/my-data/diversity",
    "/my-data/erase",
    "/admin",
    "/admin/members",
    "/admin/members?text=member&status=active&confirmed=yes",
    "/admin/members/{mentor}",
    "/admin/members/{mentor}/suspend?reason=conduct",
    "/admin/skills",
    "/admin/skills/team-leadership",
    "/admin/organisations",
    "/admin/organisations?status=other",
    "/admin/audit",
    "/admin/audit?action=round.exported",
    "/admin/audit.csv",
]


def _paths(hub: Hub) -> list[str]:
    return [
        page.format(
            mentor=hub.last_mentor_id,
            request=hub.request_id,
            mentorship=hub.mentorship_id,
            offered=hub.offered_id,
            post=hub.post_id,
            comment=hub.comment_id,
            circle=hub.circle_id,
            import_=hub.import_id,
            round=hub.review_round_id,
            proposal=hub.proposal_id,
        )
        for page in PAGES
    ]


def _statements(client, engine, path: str) -> tuple[int, int]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return len(seen), len(response.text)


@pytest.fixture
def hub(session):
    return make_hub(session)


def test_no_page_costs_more_statements_with_more_rows(client, session, engine, hub):
    seeker = make_member(session, band="3", organisation="Elsewhere Trust", seeking_mentor=True)
    seeker_email = seeker.email
    session.rollback()
    grow(session, hub, to=2)
    log_in(client, hub.email)
    seeker_client = another_client(engine)
    log_in(seeker_client, seeker_email)  # suggestions for someone every mentor is above
    paths = _paths(hub)
    seeker_client.get("/mentoring/suggestions")  # the first request after a change fits
    small = {path: _statements(client, engine, path) for path in paths}
    small["seeker"] = _statements(seeker_client, engine, "/mentoring/suggestions")

    grow(session, hub, to=20)
    seeker_client.get("/mentoring/suggestions")
    large = {path: _statements(client, engine, path) for path in paths}
    large["seeker"] = _statements(seeker_client, engine, "/mentoring/suggestions")
    paths.append("seeker")

    # The pages that list things show more of them...
    for path in (
        "/members",
        "/admin/members",
        f"/community/posts/{hub.post_id}",
        f"/circles/{hub.circle_id}",
    ):
        assert large[path][1] > small[path][1], path
    assert (
        large[f"/mentoring/mentorships/{hub.mentorship_id}"][1]
        > small[f"/mentoring/mentorships/{hub.mentorship_id}"][1]
    )
    # ...for the same number of statements on every page.
    grew = {p: (small[p][0], large[p][0]) for p in paths if small[p][0] != large[p][0]}
    assert grew == {}
