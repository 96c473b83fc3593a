"""The worker's pass: expiries, nudges, digests and the outbox, in one call."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from backend import jobs
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest
from tests.factories import make_member


def test_one_pass_expires_old_requests_and_sends_the_emails(engine, session, mail_dir):
    mentor = make_member(session, band="8a", organisation="Elsewhere Trust", capacity=1)
    mentee = make_member(session)
    request = mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Hello"
    )
    request.created_at -= timedelta(days=20)
    request.expires_at -= timedelta(days=20)
    session.add(request)
    session.commit()

    done = jobs.run_once(engine)

    assert done["requests_expired"] == 1
    # One email for the request itself, two for the expiry (mentee and mentor).
    assert done["emails_sent"] == 3
    assert len(list(mail_dir.glob("*.eml"))) == 3
    session.expire_all()
    assert session.exec(select(MentorRequest)).one().status == "expired"
    session.rollback()  # release SQLite's write lock before another session runs
    assert jobs.run_once(engine)["emails_sent"] == 0
