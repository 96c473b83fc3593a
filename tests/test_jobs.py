"""The worker's pass: expiries, nudges, digests and the outbox, in one call."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlmodel import select

from backend import jobs
from backend.db import utcnow
from backend.mentoring import service as mentoring
from backend.mentoring.models import MentorRequest
from backend.notifications.models import Notification
from backend.settings import get_settings
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


def test_a_failing_step_is_rolled_back_and_logged_and_the_others_still_run(
    engine, session, mail_dir, monkeypatch, caplog
):
    from backend.surveys import service as surveys

    mentor = make_member(session, band="8a", organisation="Elsewhere Trust", capacity=1)
    request = mentoring.request_mentor(
        session=session, mentee=make_member(session), mentor_id=mentor.id, message="Hello"
    )
    request.expires_at -= timedelta(days=20)
    session.add(request)
    session.commit()

    mentor_id = mentor.id

    def broken(*, session):  # type: ignore[no-untyped-def]
        session.add(Notification(member_id=mentor_id, kind="survey", title="Half written"))
        session.flush()  # written, then the step fails: it must not stay
        raise RuntimeError("a survey row the step cannot read")

    monkeypatch.setattr(surveys, "send_due_invitations", broken)
    with caplog.at_level("ERROR", logger="peerbridge.jobs"):
        done = jobs.run_once(engine)

    assert done["steps_failed"] == 1 and done["survey_invitations"] == 0
    assert done["requests_expired"] == 1 and done["emails_sent"] == 3
    assert "periodic step survey_invitations failed" in caplog.text
    session.expire_all()
    assert session.exec(select(MentorRequest)).one().status == "expired"
    from backend.members.models import Member

    assert (
        session.exec(select(Member).where(Member.email == "half-written@example.nhs.uk")).all()
        == []
    )
    session.rollback()


def test_a_forked_child_gets_fresh_connections_and_the_parent_keeps_its_own(engine):
    import os

    from sqlalchemy import text

    with engine.connect() as connection:  # leave a connection in the parent's pool
        parent_backend = connection.execute(text("SELECT 1")).scalar()
    pooled_before = engine.pool.checkedin()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its pool must start empty, and a query must work
        try:
            empty = engine.pool.checkedin() == 0
            with engine.connect() as connection:
                works = connection.execute(text("SELECT 2")).scalar() == 2
            os.write(write, b"ok" if empty and works else b"no")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    answer = os.read(read, 2)

    assert answer == b"ok"
    assert parent_backend == 1 and pooled_before >= 1
    with engine.connect() as connection:  # the parent's pooled connection still works
        assert connection.execute(text("SELECT 3")).scalar() == 3


def test_pool_sizes_come_from_the_settings_and_the_worker_count(monkeypatch):
    from backend.db import make_engine
    from backend.settings import get_settings

    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never connected to
    monkeypatch.setenv("PEERBRIDGE_DB_POOL_SIZE", "3")
    monkeypatch.setenv("PEERBRIDGE_DB_MAX_OVERFLOW", "2")
    get_settings.cache_clear()
    try:
        explicit = make_engine(url).pool
        monkeypatch.setenv("PEERBRIDGE_DB_CONNECTIONS", "60")
        monkeypatch.setenv("PEERBRIDGE_PROCESSES", "4")
        get_settings.cache_clear()
        shared = make_engine(url).pool
    finally:
        get_settings.cache_clear()

    assert (explicit.size(), explicit._max_overflow) == (3, 2)
    # 60 connections for 4 processes: 15 each, 8 kept open and 7 more under load.
    assert (shared.size(), shared._max_overflow) == (8, 7)


def test_a_scan_step_is_claimed_once_per_interval_by_one_worker(session):
    from datetime import datetime

    from backend import periodic

    at = datetime(2026, 12, 3, 12, tzinfo=UTC)
    every = timedelta(minutes=5)

    first = periodic.claim(session=session, name="check_ins_sent", every=every, now=at)
    again = periodic.claim(session=session, name="check_ins_sent", every=every, now=at)
    soon = periodic.claim(
        session=session, name="check_ins_sent", every=every, now=at + timedelta(minutes=4)
    )
    other = periodic.claim(session=session, name="peer_pairs", every=every, now=at)
    later = periodic.claim(session=session, name="check_ins_sent", every=every, now=at + every)

    assert (first, again, soon, other, later) == (True, False, False, True, True)
    session.expire_all()
    assert session.get(periodic.PeriodicStep, "check_ins_sent").last_run_at == at + every  # type: ignore[union-attr]


def test_the_pass_creates_check_ins_once_per_scan_interval(engine, session):
    from backend.mentoring.models import CheckIn
    from tests.factories import make_mentorship, make_periodic_step

    days = get_settings().check_in_days
    first_pair = make_mentorship(session, started_at=utcnow() - timedelta(days=days + 1))
    session.commit()

    jobs.run_once(engine)
    second_pair = make_mentorship(session, started_at=utcnow() - timedelta(days=days + 1))
    session.commit()
    throttled = jobs.run_once(engine)
    session.expire_all()
    asked_before = {c.mentorship_id for c in session.exec(select(CheckIn)).all()}
    make_periodic_step(session, name="check_ins_sent", ago=timedelta(minutes=6))
    jobs.run_once(engine)
    session.expire_all()
    asked_after = {c.mentorship_id for c in session.exec(select(CheckIn)).all()}
    session.rollback()

    assert throttled["check_ins_sent"] == 0
    assert asked_before == {first_pair.id}  # the second pair waited for the next scan
    assert asked_after == {first_pair.id, second_pair.id}
