"""The schema comes only from Alembic migrations, and the models agree with it."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from backend import migrate
from backend.db import make_engine
from backend.models import metadata
from vocabulary import SKILL_IDS


def test_upgrade_from_empty_builds_every_table(engine):
    tables = set(inspect(engine).get_table_names())

    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_are_in_sync(engine):
    assert migrate.pending_differences(engine) == []


def test_migration_seeds_the_skills_framework(engine):
    with engine.connect() as connection:
        ids = set(connection.execute(text("SELECT id FROM skill WHERE builtin")).scalars())

    assert ids == set(SKILL_IDS)


def test_upgrade_is_idempotent(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    migrate.upgrade(engine)
    migrate.upgrade(engine)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM skill")).scalar() == len(SKILL_IDS)
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        # capacity outside 0-10
        "INSERT INTO mentoring_offer (member_id, capacity, paused, note, updated_at) "
        "VALUES (:member, 11, false, '', CURRENT_TIMESTAMP)",
        # a band that does not exist
        "UPDATE member SET band = '10' WHERE id = :member",
        # an email that is not folded (uniqueness must be case-insensitive)
        "UPDATE member SET email = 'Someone@Example.org' WHERE id = :member",
        # a member who manages themselves
        "UPDATE member SET line_manager_id = id WHERE id = :member",
    ],
)
def test_database_refuses_what_must_never_hold(session, statement):
    from tests.factories import make_member

    member = make_member(session)
    with pytest.raises(IntegrityError):
        session.execute(text(statement), {"member": member.id})
        session.flush()
    session.rollback()


def test_emails_are_unique_whatever_the_case(session):
    from tests.factories import make_member

    make_member(session, email="ann@example.org")
    with pytest.raises(IntegrityError):
        make_member(session, email="ANN@example.org")
    session.rollback()


def test_every_migration_downgrades_and_upgrades_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)

    assert migrate.pending_differences(engine) == []
    engine.dispose()


def _insert_row(connection, table: str, **values: object) -> None:
    """Insert a row into ``table`` as the schema of the moment has it: every required column
    the test does not name gets a plain value of its type (the tables of an old revision have
    no models to build rows with)."""
    for _, name, type_, notnull, default, primary in connection.execute(
        text(f"PRAGMA table_info({table})")
    ).all():
        if name in values or not notnull or default is not None or primary:
            continue
        kind = type_.upper()
        values[name] = (
            0
            if "INT" in kind or "BOOL" in kind or "FLOAT" in kind or "NUMERIC" in kind
            else "2026-01-01 00:00:00.000000"
            if "DATE" in kind
            else ""
        )
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), values)


def test_upgrading_a_sqlite_database_keeps_every_round_proposal(tmp_path):
    # given a database at 0005 holding a round with a proposal (0006 and later rebuild
    # matching_round on SQLite; a rebuild with foreign keys on cascades into match_proposal)
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0005")
    with engine.begin() as connection:
        _insert_row(
            connection,
            "organisation",
            id=1,
            name="A Trust",
            region="London",
            type="acute-trust",
            key="a",
        )
        _insert_row(
            connection,
            "member",
            organisation_id=1,
            id=1,
            email="a@example.org",
            name="A",
            region="London",
            band="4",
            role_family="operational-management",
            profession="non-clinical",
        )
        _insert_row(
            connection,
            "matching_round",
            id=1,
            name="Spring",
            status="ready",
            cohort="seeking",
            cohort_ids="[]",
            weights="{}",
            summary="{}",
            progress=1,
            respond_days=7,
        )
        _insert_row(
            connection,
            "match_proposal",
            round_id=1,
            mentee_id=1,
            score=0,
            reasons="nobody free",
            status="unmatched",
        )

    # when it is upgraded to the newest schema
    migrate.upgrade(engine)

    # then the proposal is still there, and foreign keys are enforced again afterwards
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM match_proposal")).scalar() == 1
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
