"""Events develop skills: chosen from the framework (up to 5), kept or replaced on a change,
shown on the event's page and listed on those skills' community pages, and in GraphQL."""

from __future__ import annotations

import pytest

from backend.errors import FieldErrors
from backend.events import service as events
from tests.events.test_events import settings
from tests.factories import make_member, make_organiser
from tests.web.conftest import log_in, post_form

QI = "quality-improvement"


def test_an_event_develops_skills_and_is_found_by_them(session):
    organiser = make_organiser(session)
    member = make_member(session)
    qi = events.create_event(
        session=session, organiser=organiser, settings=settings(skill_ids=(QI, "rota-management"))
    )
    other = events.create_event(session=session, organiser=organiser, settings=settings())

    assert events.skills_of(session=session, event_ids=[qi.id, other.id]) == {
        qi.id: [QI, "rota-management"],
        other.id: [],
    }
    assert [e.id for e in events.upcoming_for(session=session, member=member, skill=QI)] == [qi.id]
    assert {e.id for e in events.upcoming_for(session=session, member=member)} == {qi.id, other.id}


def test_a_change_keeps_the_skills_unless_it_names_them(session):
    organiser = make_organiser(session)
    event = events.create_event(
        session=session, organiser=organiser, settings=settings(skill_ids=(QI,))
    )

    events.update_event(
        session=session, organiser=organiser, event_id=event.id, settings=settings(title="New")
    )
    assert events.skills_of(session=session, event_ids=[event.id])[event.id] == [QI]
    events.update_event(
        session=session,
        organiser=organiser,
        event_id=event.id,
        settings=settings(skill_ids=("budget-management",)),
    )
    assert events.skills_of(session=session, event_ids=[event.id])[event.id] == [
        "budget-management"
    ]


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        (("no-such-skill",), "Unknown skill: no-such-skill."),
        (
            (
                QI,
                "rota-management",
                "budget-management",
                "team-leadership",
                "project-management",
                "change-management",
            ),
            "Choose at most 5 skills it develops.",
        ),
    ],
)
def test_skills_outside_the_framework_or_too_many_are_refused_and_nothing_is_made(
    session, chosen, message
):
    organiser = make_organiser(session)

    with pytest.raises(FieldErrors) as raised:
        events.create_event(
            session=session, organiser=organiser, settings=settings(skill_ids=chosen)
        )

    assert raised.value.errors == {"skill_ids": message}
    assert events.upcoming_for(session=session, member=organiser) == []


def test_the_form_takes_skills_and_the_skill_page_lists_the_event(client, session):
    organiser = make_organiser(session)
    member = make_member(session)
    session.commit()
    log_in(client, organiser.email)
    assert 'name="skill_ids"' in client.get("/events/new").text

    made = post_form(
        client,
        "/events/new",
        {
            "kind": "webinar",
            "title": "Run charts for beginners",
            "day-day": "14",
            "day-month": "7",
            "day-year": "2027",
            "start": "12:30",
            "end": "13:30",
            "capacity": "50",
            "video_link": "https://meet.example.org/run-charts",
            "audience": "network",
            "skill_ids": [QI, "performance-measurement"],
        },
    )
    assert made.status_code == 303, made.text
    event_id = int(made.headers["location"].split("/")[2].split("?")[0])
    page = client.get(f"/events/{event_id}").text
    assert "Skills it develops" in page and f'href="/community?skill={QI}"' in page
    wrong = post_form(
        client, f"/events/{event_id}/edit", {"title": "x", "skill_ids": ["no-such-skill"]}
    )
    assert wrong.status_code == 400 and "Unknown skill: no-such-skill." in wrong.text

    client.cookies.clear()
    log_in(client, member.email)
    skill_page = client.get(f"/community?skill={QI}").text
    assert "Events that develop quality improvement" in skill_page
    assert f'href="/events/{event_id}"' in skill_page
    other_skill = client.get("/community?skill=budget-management").text
    assert f'href="/events/{event_id}"' not in other_skill
    assert "No event coming up for you develops budget management yet." in other_skill


CREATE = """
mutation($input: CreateEventInput!) { createEvent(input: $input) {
  __typename ... on CreateEventSuccess { event { id skills { id name } } }
  ... on InvalidInput { errors { field message } }
} }
"""


def test_graphql_creates_an_event_with_skills_and_names_a_wrong_one(run, session):
    organiser = make_organiser(session)
    base = {
        "kind": "webinar",
        "title": "Run charts",
        "day": "2027-07-14",
        "start": "12:30",
        "end": "13:30",
        "capacity": 10,
        "videoLink": "https://meet.example.org/rc",
    }

    made = run(CREATE, {"input": {**base, "skillIds": [QI]}}, member=organiser)
    wrong = run(CREATE, {"input": {**base, "skillIds": ["nope"]}}, member=organiser)

    assert made["data"]["createEvent"]["event"]["skills"] == [
        {"id": QI, "name": "Quality improvement"}
    ]
    assert wrong["data"]["createEvent"] == {
        "__typename": "InvalidInput",
        "errors": [{"field": "skillIds", "message": "Unknown skill: nope."}],
    }
