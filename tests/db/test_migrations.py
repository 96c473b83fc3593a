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
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    migrate.upgrade(engine)
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)

    assert migrate.pending_differences(engine) == []
    engine.dispose()
