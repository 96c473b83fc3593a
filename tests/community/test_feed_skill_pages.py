"""The community feed's side: the member's next events ('Coming up'), and on a skill's page
the open opportunities that develop it, in a fixed number of statements."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import pairwise

from backend import london
from backend.db import utcnow
from tests.factories import make_event, make_member, make_opportunity
from tests.web.conftest import log_in

TODAY = london.london_today()


def _headings(html: str) -> list[tuple[int, str]]:
    found = re.findall(r"<h([1-6])[^>]*>(.*?)</h\1>", html, re.S)
    return [(int(level), " ".join(re.sub(r"<[^>]+>", "", text).split())) for level, text in found]


def _in_order(headings: list[tuple[int, str]]) -> bool:
    levels = [level for level, _ in headings]
    return levels[0] == 1 and all(b <= a + 1 for a, b in pairwise(levels))


def test_the_feed_lists_the_next_three_events_with_links(client, session):
    member = make_member(session)
    now = utcnow()
    soonest = [
        make_event(
            session,
            title=f"Webinar {n}",
            starts_at=now + timedelta(days=n),
            ends_at=now + timedelta(days=n, hours=1),
        )
        for n in (3, 1, 2)
    ]
    make_event(
        session,
        title="Much later",
        starts_at=now + timedelta(days=30),
        ends_at=now + timedelta(days=30, hours=1),
    )
    make_event(
        session,
        title="Already over",
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=2) + timedelta(hours=1),
    )
    session.commit()
    log_in(client, member.email)

    page = client.get("/community").text

    side = page.split('id="coming-up"')[1]
    assert re.findall(r'href="/events/(\d+)"', side) == [
        str(e.id) for e in (soonest[1], soonest[2], soonest[0])
    ]
    assert "Much later" not in side and "Already over" not in side
    assert london.format_datetime(soonest[1].starts_at) in side
    assert '<a href="/events">All events</a>' in side
    assert "Opportunities that develop" not in page
    headings = _headings(page)
    assert (2, "Coming up") in headings and _in_order(headings)


def test_with_no_events_coming_up_it_says_so(client, session):
    member = make_member(session)
    session.commit()
    log_in(client, member.email)

    assert "No events coming up for you yet." in client.get("/community").text


def test_a_skill_page_lists_three_open_opportunities_that_develop_it(client, session):
    member = make_member(session, organisation="Leeds Teaching Hospitals NHS Trust")
    other = make_member(session, organisation="Barts Health NHS Trust")
    shown = [
        make_opportunity(
            session,
            title=f"Budgets {n}",
            skills=("budget-management",),
            closes_on=TODAY + timedelta(days=n),
        )
        for n in (2, 1, 3)
    ]
    make_opportunity(
        session,
        title="Budgets later",
        skills=("budget-management",),
        closes_on=TODAY + timedelta(days=40),
    )
    make_opportunity(
        session,
        title="Budgets elsewhere",
        skills=("budget-management",),
        organisation_id=other.organisation_id,
        closes_on=TODAY,
    )
    make_opportunity(
        session,
        title="Budgets withdrawn",
        skills=("budget-management",),
        withdrawn_at=utcnow(),
        closes_on=TODAY,
    )
    make_opportunity(session, title="Improvement", skills=("quality-improvement",))
    session.commit()
    log_in(client, member.email)

    page = client.get("/community?skill=budget-management").text

    side = page.split('id="skill-opportunities"')[1].split('id="coming-up"')[0]
    assert side.startswith(">Opportunities that develop budget management</h2>")
    assert re.findall(r'href="/opportunities/(\d+)"', side) == [
        str(o.id) for o in (shown[1], shown[0], shown[2])
    ]
    for hidden in ("Budgets later", "Budgets elsewhere", "Budgets withdrawn", "Improvement"):
        assert hidden not in side
    assert 'href="/opportunities?skill=budget-management">All opportunities that develop ' in side
    assert _in_order(_headings(page))


def test_a_skill_with_no_open_opportunity_says_so(client, session):
    member = make_member(session)
    session.commit()
    log_in(client, member.email)

    page = client.get("/community?skill=rota-management").text

    assert "No open opportunity develops rota management just now." in page
    assert "Opportunities that develop" in page


def test_the_skill_page_costs_as_many_statements_with_many_opportunities(
    client, session, count_queries
):
    member = make_member(session)
    session.commit()
    log_in(client, member.email)

    counts = []
    for extra in (1, 6):
        for _ in range(extra):
            make_opportunity(session, skills=("budget-management",))
        make_event(session)
        session.commit()
        client.get("/community?skill=budget-management")  # warm
        count_queries.statements.clear()
        assert client.get("/community?skill=budget-management").status_code == 200
        counts.append(count_queries.count)

    assert counts[0] == counts[1] > 0
