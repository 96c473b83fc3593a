"""The open mentoring of before is the network's default programme, migrated in place."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backend import migrate
from backend.db import make_engine
from backend.mentoring.models import Mentorship
from backend.programmes.models import Programme
from backend.programmes.service import default_programme_id
from tests.db.test_migrations import _insert_row
from tests.factories import make_member, make_mentorship, make_programme, make_request


def test_upgrading_puts_every_request_round_and_mentorship_in_the_default_programme(tmp_path):
    # given a database at 0015 with a mentee who has a request and a mentorship, and a round
    engine = make_engine(f"sqlite:///{tmp_path / 'before.db'}")
    migrate.upgrade(engine, "0015")
    with engine.begin() as connection:
        _insert_row(connection, "organisation", id=1, name="A Trust", type="acute-trust", key="a")
        for member_id in (1, 2):
            _insert_row(
                connection,
                "member",
                id=member_id,
                organisation_id=1,
                email=f"m{member_id}@example.org",
                name=f"M{member_id}",
                region="London",
                band="4",
                role_family="operational-management",
                profession="non-clinical",
            )
        _insert_row(
            connection,
            "mentor_request",
            mentee_id=1,
            mentor_id=2,
            message="Please",
            status="accepted",
            expires_at="2026-12-31 00:00:00",
        )
        _insert_row(
            connection, "mentorship", mentee_id=1, mentor_id=2, status="active", planned_months=6
        )
        _insert_row(
            connection,
            "matching_round",
            name="Spring",
            status="ready",
            cohort="seeking",
            respond_days=7,
        )

    # when it is upgraded
    migrate.upgrade(engine)

    # then there is one default programme, and everything belongs to it
    with engine.connect() as connection:
        programmes = connection.execute(
            text("SELECT id, name, is_default, status FROM programme")
        ).all()
        assert len(programmes) == 1
        default_id, name, is_default, status = programmes[0]
        assert (name, bool(is_default), status) == ("Open mentoring", True, "published")
        for table in ("mentor_request", "mentorship", "matching_round"):
            ids = connection.execute(text(f"SELECT programme_id FROM {table}")).scalars().all()
            assert ids == [default_id], table
    engine.dispose()


def test_the_default_programme_is_made_once_and_found_again(session):
    first = default_programme_id(session=session)
    again = default_programme_id(session=session)

    assert first == again
    assert session.get(Programme, first).is_default


def test_the_database_refuses_a_second_default_programme(session):
    default_programme_id(session=session)
    session.commit()

    session.add(Programme(name="Another", is_default=True))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_mentee_may_have_one_active_mentorship_per_programme(session):
    mentee = make_member(session, band="4")
    other = make_programme(session, name="Aspiring operations managers")
    make_mentorship(session, mentee=mentee)
    make_mentorship(session, mentee=mentee, programme_id=other.id)

    with pytest.raises(IntegrityError):
        make_mentorship(session, mentee=mentee, programme_id=other.id)
    session.rollback()


def test_a_mentorship_started_from_a_request_belongs_to_the_request_programme(session):
    request = make_request(session)

    assert request.programme_id == default_programme_id(session=session)
    assert session.get(Mentorship, make_mentorship(session).id).programme_id == request.programme_id
