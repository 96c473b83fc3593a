"""Shared fixtures: every database test runs on SQLite and, when configured, on PostgreSQL.

Each database is migrated once per run with Alembic (as production is), and every test starts
from empty tables (the seeded skills framework apart), so tests never see each other's rows.

On SQLite every transaction takes the write lock when it begins (BEGIN IMMEDIATE, so that
writers queue instead of failing half-way). A test that has read through ``session`` must end
that transaction (``session.commit()`` or ``session.rollback()``) before code using another
session (the app, a job, a thread) writes, or that code waits for the lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from backend import migrate
from backend.audit import schema as audit_schema
from backend.db import make_engine, session_factory
from backend.models import metadata
from backend.settings import get_settings
from tests.factories import RoundNetwork, make_round_network

PG_URL = os.environ.get("PEERBRIDGE_TEST_DATABASE_URL")
KEEP_TABLES = {"alembic_version"}


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Point settings at throwaway places, so tests never touch var/ or send mail."""
    mail_dir = tmp_path_factory.mktemp("mail")
    os.environ["PEERBRIDGE_ENVIRONMENT"] = "test"
    os.environ["PEERBRIDGE_MAIL_DIR"] = str(mail_dir)
    os.environ["PEERBRIDGE_EMAIL_BACKEND"] = "file"
    os.environ["PEERBRIDGE_BASE_URL"] = "http://testserver"
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _private_postgres(url: str) -> tuple[str, Callable[[], None]]:
    """A database of this run's own beside the configured one, so parallel runs never clash.

    Falls back to emptying the configured database when the role may not create databases.
    """
    base = make_url(url)
    name = f"{base.database}_run_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError:
        admin.dispose()
        with make_engine(url).begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        return url, lambda: None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated SQLite database in a file (WAL needs a file)."""
    path: Path = tmp_path_factory.mktemp("db") / "test.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[Engine]:
    """A migrated PostgreSQL database, when PEERBRIDGE_TEST_DATABASE_URL is set."""
    if not PG_URL:
        pytest.skip("PEERBRIDGE_TEST_DATABASE_URL is not set")
    url, drop = _private_postgres(PG_URL)
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()
    drop()


def empty_audit_log(connection: Connection) -> None:
    """Delete every audit event, in the caller's transaction: the append-only triggers are
    dropped for the DELETE and made again before it commits (nothing else may empty it)."""
    if connection.execute(text("SELECT 1 FROM audit_event LIMIT 1")).first() is None:
        return
    dialect = connection.dialect.name
    for statement in audit_schema.drop_statements(dialect):
        connection.execute(text(statement))
    connection.execute(text("DELETE FROM audit_event"))
    for statement in audit_schema.create_statements(dialect):
        connection.execute(text(statement))


def _empty_tables(engine: Engine) -> None:
    # DELETE, child tables first: on tables this small it is far quicker than TRUNCATE.
    tables = [t for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with engine.begin() as connection:
        for table in tables:
            if table.name == "audit_event":
                empty_audit_log(connection)
            elif table.name != "skill":
                connection.execute(table.delete())
        # Keep the seeded framework; drop what a test added.
        connection.execute(text("DELETE FROM skill WHERE builtin = false"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty database: the test runs once on each kind."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    _empty_tables(engine)
    yield engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database."""
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def mail_dir() -> Iterator[Path]:
    """The folder emails are written to; emptied before each test."""
    directory = Path(get_settings().mail_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.eml"):
        old.unlink()
    yield directory


@pytest.fixture
def network(session: Session) -> RoundNetwork:
    """The network the round tests share: an organiser ("Olu Organiser"), three mentors with
    one place each (bands 7, 8a, 8b, named "Mentor 7" ...) and four mentees seeking quality
    improvement ("Mentee 0" ...); see ``make_round_network``. A test module may define its own
    ``network`` for another shape."""
    return make_round_network(session)
