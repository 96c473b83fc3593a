"""Issue 13's "Done when", through GraphQL over HTTP, end to end, with the authorisation checks.

A matched pair (factories, in a North West programme with ten other pairs so the impact report
has figures) exchange messages; no outsider and no organiser reads a message or a goal; both
take the start self-assessment; the mentee proposes two times either side of the change to
British Summer Time (28 March 2027) and the mentor picks the one in Greenwich Mean Time (the
browser journey picks the summer one); both invitations read back at 10:30 UTC, 10:30 in
London; the reminder goes out the day before; the session is logged against its booking; the
organiser finds the quiet pair needing attention; the mentorship ends with feedback from both;
both take the end self-assessment; the organiser reads the feedback (London's organiser
cannot), and the impact report's figures are the same through GraphQL, in the CSV and in the
PDF.

Run directly, as the worker would: the email outbox and the reminder step (with ``now=`` the
day before). Simulated: the passing of time; after the reminder the booked session is moved
ten weeks back and the start fourteen in the database (the clock cannot move), so the session
can be logged and the pair has been quiet for ten weeks.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

from icalendar import Calendar
from sqlalchemy import update
from sqlmodel import Session, col

from backend import london
from backend.db import utcnow
from backend.insights import impact
from backend.members.models import Member
from backend.mentoring import bookings
from backend.mentoring.models import Mentorship, SessionBooking
from backend.notifications import service as notifications
from tests.csv_injection import read
from tests.factories import make_member, make_mentee, make_mentor, make_mentorship
from tests.insights.test_impact import Network, assert_published, squash
from tests.messaging.test_messages_graphql import SEND, THREAD, THREADS
from tests.schema.test_bookings import PICK, PROPOSE
from tests.schema.test_goals import ADD_GOAL, ATTENTION, END, GOAL, GOALS
from tests.schema.test_journey import post
from tests.schema.test_mentoring import gid, log_in
from tests.schema.test_self_assessment import TAKE, ratings
from tests.schema.test_surveys import FEEDBACK

PROPOSALS = """query($id: ID!) { mentorship(id: $id) {
  sessionProposals { id options { id startsAtLondon } } } }"""
LOG = """mutation($input: LogMentoringSessionInput!) { logMentoringSession(input: $input) {
  __typename ... on LogMentoringSessionSuccess { session { heldOn durationMinutes notes } }
  ... on InvalidInput { errors { field message } } ... on Error { message } } }"""
GIVE = """mutation($input: GiveMentorshipFeedbackInput!) { giveMentorshipFeedback(input: $input) {
  __typename ... on GiveMentorshipFeedbackSuccess { feedback { rating } }
  ... on Error { message } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
IMPACT = """query($programme: ID) { impactReport(programmeId: $programme) {
  title sections { title figures { measure group value } } } }"""


def new_emails(mail_dir: Path, seen: set[Path]) -> list[EmailMessage]:
    """The emails written to ``mail_dir`` since ``seen`` (which is updated)."""
    out = []
    for path in sorted(mail_dir.glob("*.eml")):
        if path not in seen:
            seen.add(path)
            message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
            assert isinstance(message, EmailMessage)
            out.append(message)
    return out


def invited_at(messages: list[EmailMessage], moment: datetime) -> dict[str, Calendar]:
    """Each invitation's calendar by addressee, checked as Outlook reads one: METHOD:REQUEST,
    the Europe/London VTIMEZONE, the start at ``moment`` (UTC) and 10:30 on London's clock."""
    invited = {}
    for message in messages:
        for part in message.walk():
            if part.get_filename() == "invite.ics":
                content = part.get_content()
                invited[str(message["To"])] = Calendar.from_ical(
                    content if isinstance(content, bytes) else content.encode()
                )
    for calendar in invited.values():
        assert str(calendar["METHOD"]) == "REQUEST"
        assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]
        [event] = calendar.walk("VEVENT")
        starts = event.decoded("DTSTART")
        assert starts.astimezone(UTC) == moment
        assert (starts.hour, starts.minute, str(starts.tzinfo)) == (10, 30, "Europe/London")
    return invited


def ten_weeks_pass(session: Session, mentorship_id: int) -> datetime:
    """SIMULATED time: the clock cannot move, so the mentorship's booked session moves to ten
    weeks ago and its start to fourteen, as if the weeks had passed; returns the session's
    new time (UTC)."""
    now = utcnow()
    held = now - timedelta(weeks=10)
    session.exec(
        update(SessionBooking)
        .where(col(SessionBooking.mentorship_id) == mentorship_id)
        .values(starts_at=held)
    )
    session.exec(
        update(Mentorship)
        .where(col(Mentorship.id) == mentorship_id)
        .values(started_at=now - timedelta(weeks=14))
    )
    session.commit()
    return held


def test_issue_13_done_when_through_graphql(session, make_client, mail_dir):
    from pypdf import PdfReader

    net = Network(session)
    mentor = make_mentor(session, name="Grace Mensah", region="North West")
    mentee = make_mentee(session, name="Amara Okafor", region="North West")
    pair = make_mentorship(session, mentor=mentor, mentee=mentee, programme_id=net.programme.id)
    outsider = make_member(session, name="Ivy Outsider", region="North West")
    network_organiser = net.network_organiser
    organiser, london_organiser = net.nw_organiser, net.london_organiser
    mid, pid = gid("Mentorship", pair.id), gid("Programme", net.programme.id)
    pair_id, programme_id = pair.id, net.programme.id
    session.commit()
    people = (mentor, mentee, outsider, organiser, london_organiser, network_organiser)
    clients = {}
    for person in people:
        clients[person.id] = make_client()
        log_in(clients[person.id], person)

    def as_(person: Member, query: str, variables: dict | None = None) -> dict:
        return post(clients[person.id], query, variables)

    seen: set[Path] = set()

    # The pair exchange messages.
    sent = as_(mentee, SEND, {"input": {"mentorshipId": mid, "body": "Can we meet in March?"}})
    sent = sent["data"]["sendMessage"]
    assert sent["__typename"] == "SendMessageSuccess", sent
    thread_id, message_id = sent["thread"]["id"], sent["sentMessage"]["id"]
    assert as_(mentor, THREADS)["data"]["me"]["unreadMessages"] == 1
    reply = as_(mentor, SEND, {"input": {"threadId": thread_id, "body": "Yes, send two times."}})
    assert reply["data"]["sendMessage"]["__typename"] == "SendMessageSuccess"
    read_back = as_(mentee, THREAD, {"id": thread_id})["data"]["messageThread"]
    assert [e["node"]["body"] for e in read_back["messages"]["edges"]] == [
        "Can we meet in March?",
        "Yes, send two times.",
    ]
    # ...and a goal, tracked.
    goal = as_(
        mentee,
        ADD_GOAL,
        {"input": {"mentorshipId": mid, "title": "Lead the budget round", "measure": "Signed"}},
    )["data"]["addGoal"]
    assert goal["__typename"] == "GoalSuccess", goal
    goal_id = goal["goal"]["id"]

    # No one outside the pair reads a message or a goal: an outsider, organisers neither.
    for stranger in (outsider, organiser, network_organiser):
        assert as_(stranger, THREAD, {"id": thread_id})["data"]["messageThread"] is None
        assert as_(stranger, THREADS)["data"]["messageThreads"] == []
        assert as_(stranger, NODE, {"id": message_id})["data"]["node"] is None
        posted = as_(stranger, SEND, {"input": {"threadId": thread_id, "body": "Let me in"}})
        assert posted["data"]["sendMessage"]["__typename"] == "NotFound"
        assert as_(stranger, GOAL, {"id": goal_id})["data"]["mentorshipGoal"] is None
        assert as_(stranger, GOALS, {"id": mid})["data"]["mentorship"] is None
        assert as_(stranger, NODE, {"id": goal_id})["data"]["node"] is None
    anonymous = post(make_client(), THREAD, {"id": thread_id})
    assert anonymous["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"

    # Both take the start self-assessment.
    for person, level in ((mentee, "PROFICIENT"), (mentor, "STRONG")):
        taken = as_(
            person,
            TAKE,
            {"input": {"ratings": ratings(level), "occasion": "START", "mentorshipId": mid}},
        )["data"]["takeSelfAssessment"]
        assert taken["__typename"] == "TakeSelfAssessmentSuccess", taken

    # The mentee proposes two times either side of the clocks going forward.
    times = [
        {"date": day, "startTime": "10:30", "durationMinutes": 60, "format": "VIDEO"}
        for day in ("2027-03-23", "2027-03-30")
    ]
    assert datetime(2027, 3, 23, tzinfo=UTC) > utcnow(), "pick the next change of summer time"
    proposed = as_(mentee, PROPOSE, {"input": {"mentorshipId": mid, "times": times}})
    assert proposed["data"]["proposeSessionTimes"]["__typename"] == "SessionBookingSuccess"
    [proposal] = as_(mentor, PROPOSALS, {"id": mid})["data"]["mentorship"]["sessionProposals"]
    assert [o["startsAtLondon"] for o in proposal["options"]] == [
        "2027-03-23T10:30+00:00",  # Greenwich Mean Time
        "2027-03-30T10:30+01:00",  # British Summer Time
    ]
    # Only the other side picks: the mentee cannot, nor can an outsider.
    winter = {"bookingId": proposal["id"], "optionId": proposal["options"][0]["id"]}
    assert as_(mentee, PICK, {"input": winter})["data"]["pickSessionTime"]["__typename"] == (
        "NotAllowed"
    )
    assert as_(outsider, PICK, {"input": winter})["data"]["pickSessionTime"]["__typename"] == (
        "NotFound"
    )
    picked = as_(mentor, PICK, {"input": winter})["data"]["pickSessionTime"]
    assert picked["__typename"] == "SessionBookingSuccess", picked
    assert picked["bookedSession"]["startsAt"].startswith("2027-03-23T10:30:00")
    booking_id = picked["bookedSession"]["id"]

    # Both receive the invitation; a calendar reads 10:30 UTC, 10:30 in London (GMT).
    session.rollback()
    notifications.deliver_pending(session=session)
    session.commit()
    invited = invited_at(new_emails(mail_dir, seen), datetime(2027, 3, 23, 10, 30, tzinfo=UTC))
    assert set(invited) == {mentor.email, mentee.email}

    # The reminder goes out the day before (the worker's step, run at that moment), once.
    day_before = datetime(2027, 3, 22, 11, 0, tzinfo=UTC)
    assert bookings.send_reminders(session=session, now=day_before) == 1
    assert bookings.send_reminders(session=session, now=day_before) == 0
    notifications.deliver_pending(session=session)
    session.commit()
    reminded = [m for m in new_emails(mail_dir, seen) if "Reminder" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in reminded) == sorted([mentor.email, mentee.email])
    assert all("23 March 2027 at 10:30am" in str(m["Subject"]) for m in reminded)

    # SIMULATED: ten weeks pass (the session moves back; the pair started fourteen weeks ago).
    held = ten_weeks_pass(session, pair_id)

    # The session is logged after its time, against its booking (once).
    held_on = london.in_london(held).date().isoformat()
    log = {
        "mentorshipId": mid,
        "heldOn": held_on,
        "durationMinutes": 60,
        "notes": "Budget round",
        "bookingId": booking_id,
    }
    logged = as_(mentee, LOG, {"input": log})["data"]["logMentoringSession"]
    assert logged["__typename"] == "LogMentoringSessionSuccess", logged
    assert logged["session"] == {"heldOn": held_on, "durationMinutes": 60, "notes": "Budget round"}
    again = as_(mentor, LOG, {"input": log})["data"]["logMentoringSession"]
    assert again["__typename"] == "Conflict", again

    # The organiser sees the quiet pair needing attention, with why; a member cannot ask.
    listed = as_(organiser, ATTENTION, {"programme": pid})["data"]["mentorshipsNeedingAttention"]
    [item] = [i for i in listed if i["menteeName"] == "Amara Okafor"]
    assert (item["mentorName"], item["weeksQuiet"]) == ("Grace Mensah", 10)
    assert item["reasons"][0] == "No session for 10 weeks"
    assert as_(outsider, ATTENTION, {"programme": pid})["data"] is None

    # The mentorship ends with feedback from both.
    ended = as_(
        mentee,
        END,
        {
            "input": {
                "mentorshipId": mid,
                "outcome": "COMPLETED",
                "rating": 5,
                "feedback": "Grace helped me lead my team.",
            }
        },
    )["data"]["endMentorship"]
    assert ended["mentorship"]["status"] == "COMPLETED", ended
    given = as_(
        mentor,
        GIVE,
        {"input": {"mentorshipId": mid, "rating": 4, "feedback": "Amara came prepared."}},
    )["data"]["giveMentorshipFeedback"]
    assert given == {"__typename": "GiveMentorshipFeedbackSuccess", "feedback": {"rating": 4}}

    # Both take the end self-assessment.
    for person, level in ((mentee, "STRONG"), (mentor, "EXEMPLARY")):
        taken = as_(
            person,
            TAKE,
            {"input": {"ratings": ratings(level), "occasion": "END", "mentorshipId": mid}},
        )["data"]["takeSelfAssessment"]
        assert taken["__typename"] == "TakeSelfAssessmentSuccess", taken
        assert taken["assessment"]["occasion"] == "END"

    # The organiser reads the end feedback; London's organiser and members cannot.
    feedback = as_(organiser, FEEDBACK, {"p": pid})["data"]["mentorshipFeedback"]
    words = {(e["authorRole"], e["text"]) for e in feedback["entries"]}
    assert {
        ("mentee", "Grace helped me lead my team."),
        ("mentor", "Amara came prepared."),
    } <= words
    for refused in (london_organiser, mentee):
        result = as_(refused, FEEDBACK, {"p": pid})
        assert result["data"] is None and result["errors"]

    # The impact report: the same figures through GraphQL, in the CSV and in the PDF.
    report = as_(organiser, IMPACT, {"programme": pid})
    assert "errors" not in report, report
    api_rows = [
        (s["title"], f["measure"], f["group"], f["value"])
        for s in report["data"]["impactReport"]["sections"]
        for f in s["figures"]
    ]
    http = clients[organiser.id]
    csv_file = http.get(f"/organise/impact/report.csv?programme={programme_id}")
    pdf_file = http.get(f"/organise/impact/report.pdf?programme={programme_id}")
    assert csv_file.status_code == 200 and pdf_file.status_code == 200
    assert pdf_file.headers["content-type"] == "application/pdf"
    csv_rows = [tuple(r) for r in read(csv_file.text)[1:] if r[1]]  # figures, not "why" rows
    pdf = PdfReader(io.BytesIO(pdf_file.content))
    pdf_text = squash(" ".join(p.extract_text() or "" for p in pdf.pages))
    assert len(csv_rows) == len(api_rows) > 20
    for (section, measure, group, value), row in zip(api_rows, csv_rows, strict=True):
        # The CSV writes a change of +0.42 as the number 0.42; GraphQL and the PDF keep "+".
        assert row == (section, measure, group, value.replace(",", "").removeprefix("+"))
        assert squash(f"{measure} {group} {value}") in pdf_text, (measure, group, value)
    matched = {(r[1], r[2]): r[3] for r in csv_rows}
    # Ten matched in the programme beforehand, and this pair: what the method can make of 11
    # (the count is perturbed a little, so it may even show as "*").
    assert_published(matched[("Matched", "")], 11)
    both = matched[("People with a start and an end", "Leading with care")]
    assert re.fullmatch(r"[0-9]+|\*", both), both
    hidden = post(clients[london_organiser.id], IMPACT, {"programme": pid})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (
        clients[london_organiser.id]
        .get(f"/organise/impact/report.csv?programme={programme_id}")
        .status_code
        == 404
    )
    assert impact.CSV_COLUMNS == ("Section", "Measure", "Group", "Value")
