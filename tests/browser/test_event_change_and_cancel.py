"""In a browser: an organiser moves an event to a later time, then cancels it; an attendee
sees on the event's page that it has been cancelled."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.events import service as events
from tests.browser.conftest import screenshot
from tests.browser.test_community import _log_in, _log_out
from tests.factories import make_event, make_member, make_organiser

STARTS = datetime(2027, 7, 14, 17, 0, tzinfo=UTC)  # 6pm in London


def test_an_organiser_changes_the_time_then_cancels_and_the_attendee_sees_it(
    page, session, request
):
    olu = make_organiser(session, name="Olu Organiser")
    ada = make_member(session, name="Ada Attendee")
    event = make_event(
        session,
        organiser=olu,
        title="Rota planning meetup",
        kind="meetup",
        starts_at=STARTS,
        ends_at=STARTS.replace(hour=18),
        location="Room 4, Leeds General Infirmary",
    )
    events.rsvp(session=session, member=ada, event_id=event.id)
    session.commit()

    _log_in(page, olu.email)
    page.goto(f"/events/{event.id}")
    page.get_by_role("link", name="Change this event").click()
    page.get_by_label("Start time (London time)").fill("19:00")
    page.get_by_label("End time (London time)").fill("8:30pm")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**notice=event-updated**")
    assert page.get_by_text("14 July 2027, 7pm to 8:30pm (London time)").is_visible()

    page.get_by_role("button", name="Cancel this event").click()
    assert page.get_by_text("Enter why the event is cancelled.").first.is_visible()
    page.get_by_label("Why is the event cancelled?").fill("The room is being refurbished.")
    page.get_by_role("button", name="Cancel this event").click()
    page.wait_for_url("**notice=event-cancelled**")
    _log_out(page)

    _log_in(page, ada.email)
    page.goto(f"/events/{event.id}")
    callout = page.locator(".nhsuk-warning-callout")
    assert callout.get_by_text("The room is being refurbished.").is_visible()  # kept, and said
    assert "This event has been cancelled (" in callout.inner_text()  # with its day
    assert page.get_by_role("button", name="Cancel my place").count() == 0
    assert page.get_by_role("button", name="I'm going").count() == 0
    screenshot(page, "event-cancelled", request)
