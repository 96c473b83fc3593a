"""Export everything held about me; erase my account and leave no personal data behind."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import String, Text, func
from sqlalchemy import select as sa_select
from sqlmodel import select

from backend.errors import FieldErrors
from backend.london import london_today
from backend.members.models import Member, MentoringOffer
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentoringSession, Mentorship
from backend.models import metadata
from backend.privacy import service as privacy
from backend.privacy.models import ConsentRecord, DemographicRecord
from tests.factories import PASSWORD, make_member, make_outbox_email

NAME = "Priya Okonkwo-Smith"
EMAIL = "priya.okonkwo@example.nhs.uk"


@pytest.fixture
def pair(session):
    """Priya mentors someone and is mentored; she has demographics and notes."""
    priya = make_member(
        session, name=NAME, email=EMAIL, band="7", capacity=2, organisation="Priya Trust"
    )
    mentor = make_member(session, band="8b", capacity=1, organisation="Other Trust")
    mentee = make_member(session, band="4", organisation="Third Trust")
    privacy.record_demographics(
        session=session,
        member=priya,
        answers=privacy.DemographicAnswers(ethnicity="asian", gender="woman", age_band="35-44"),
        consent=True,
    )
    asked = mentoring.request_mentor(
        session=session, mentee=priya, mentor_id=mentor.id, message=f"Hello from {NAME}"
    )
    mentoring.respond_to_request(session=session, mentor=mentor, request_id=asked.id, accept=True)
    theirs = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=priya.id, message="Please mentor me"
    )
    mentoring.respond_to_request(session=session, mentor=priya, request_id=theirs.id, accept=True)
    [as_mentor] = [
        m
        for m in mentoring.list_mentorships(session=session, member=priya)
        if m.mentor_id == priya.id
    ]
    mentoring.log_session(
        session=session,
        member=mentee,
        mentorship_id=as_mentor.id,
        log=mentoring.SessionLog(
            held_on=london_today(),
            duration_minutes=45,
            notes=f"Talked with {NAME} ({EMAIL}) about rotas",
        ),
    )
    return priya, mentor, mentee


def test_export_holds_everything_about_me_as_json(session, pair):
    priya, _, _ = pair

    data = privacy.export_my_data(session=session, member=priya)

    text = json.dumps(data)
    assert data["profile"]["email"] == EMAIL and "password_hash" not in data["profile"]
    assert data["demographics"]["ethnicity"] == "asian"
    assert len(data["consent_records"]) == 1
    assert len(data["mentorships"]) == 2 and len(data["mentor_requests"]) == 2
    assert data["mentoring_sessions"][0]["notes"].startswith("Talked with")
    assert data["notifications"]
    assert "argon2" not in text


def test_erasure_needs_the_password_and_the_confirmation(session, pair):
    priya, _, _ = pair

    with pytest.raises(FieldErrors) as raised:
        privacy.erase_my_account(session=session, member=priya, password="wrong", confirm=False)

    assert set(raised.value.errors) == {"password", "confirm"}
    assert session.get(Member, priya.id) is not None


def _cells_holding(session, needle: str) -> list[tuple[str, str]]:
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text):
                hits = session.execute(
                    sa_select(func.count())
                    .select_from(table)
                    .where(func.lower(column).contains(needle.lower(), autoescape=True))
                ).scalar()
                if hits:
                    found.append((table.name, column.name))
    return found


def test_after_erasure_no_table_holds_my_email_name_or_demographics(session, pair):
    priya, _, _ = pair
    priya_id = priya.id
    assert _cells_holding(session, EMAIL) and _cells_holding(session, NAME)
    make_outbox_email(session, to=EMAIL, subject="Hi", body=f"Dear {NAME}")

    privacy.erase_my_account(session=session, member=priya, password=PASSWORD, confirm=True)
    session.expire_all()

    assert _cells_holding(session, EMAIL) == []
    assert _cells_holding(session, NAME) == []
    assert session.exec(select(DemographicRecord)).all() == []
    assert (
        session.exec(select(ConsentRecord).where(ConsentRecord.member_id == priya_id)).all() == []
    )
    assert session.get(Member, priya_id) is None


def test_partners_keep_the_mentorship_as_a_former_members(session, pair):
    _, mentor, mentee = pair
    priya = pair[0]

    privacy.erase_my_account(session=session, member=priya, password=PASSWORD, confirm=True)
    session.expire_all()

    theirs = mentoring.list_mentorships(session=session, member=mentee)
    assert len(theirs) == 1 and theirs[0].mentor_id is None
    assert theirs[0].status == "ended_early"
    notes = session.exec(select(MentoringSession)).all()
    assert notes and "former member" in notes[0].notes
    # The mentor Priya had is free again: the place she took is released.
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0
    kept = session.exec(select(Mentorship).where(Mentorship.mentor_id == mentor.id)).all()
    assert kept and all(m.mentee_id is None for m in kept)


def test_export_includes_what_i_shared_in_the_community(session, pair):
    from backend.community import service as community

    priya, mentor, _ = pair
    post = community.create_post(
        session=session, author=priya, title="Rota tips", body="Plan **six weeks** ahead."
    )
    community.add_comment(session=session, author=mentor, post_id=post.id, body="Agreed")
    community.add_comment(session=session, author=priya, post_id=post.id, body="Thanks!")
    community.follow(session=session, follower=priya, member_id=mentor.id)

    data = privacy.export_my_data(session=session, member=priya)["community"]

    assert [p["title"] for p in data["posts"]] == ["Rota tips"]
    assert [c["body"] for c in data["comments"]] == ["Thanks!"]  # only my own words
    assert [f["followed_id"] for f in data["following"]] == [mentor.id]
    json.dumps(data)  # serialisable as it is
