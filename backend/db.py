"""The database engine and sessions (one sync ``Session`` type throughout)."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

from backend import text
from backend.settings import get_settings


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (SQLModel stores UTC on both databases)."""
    return datetime.now(UTC)


# Every engine this process made. A forked child (RQ's work horse, a multiprocessing worker)
# must never use a connection its parent opened: two processes on one socket corrupt the
# protocol ("consuming input failed", "connection in transaction status INTRANS") and SQLite's
# locks are per process. After a fork the child gets fresh, empty pools; ``close=False`` leaves
# the parent's connections open for the parent (SQLAlchemy's advice for os.fork()).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _fresh_pools_after_fork() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_fresh_pools_after_fork)


def pool_sizes() -> tuple[int, int]:
    """This process's (pool_size, max_overflow) on PostgreSQL, from the settings.

    With ``PEERBRIDGE_DB_CONNECTIONS`` (a budget for all the processes ``serve --workers``
    starts) each process gets an equal share, half kept open and half as overflow; otherwise
    ``PEERBRIDGE_DB_POOL_SIZE`` and ``PEERBRIDGE_DB_MAX_OVERFLOW`` apply per process.
    """
    settings = get_settings()
    if settings.db_connections is not None:
        share = max(settings.db_connections // max(settings.processes, 1), 1)
        size = max(share - share // 2, 1)
        return size, share - size
    return settings.db_pool_size, settings.db_max_overflow


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode and foreign keys on every connection."""
    engine = _make_engine(url)
    _ENGINES.add(engine)
    return engine


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Python's sqlite3 opens its own transactions lazily; let SQLAlchemy issue BEGIN
            # so that SAVEPOINTs and isolation behave as on PostgreSQL.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE takes the write lock up front, so two writers queue instead of
            # failing with "database is locked" half-way through a transaction. A long read
            # (an import's checks) says read_only and takes no lock: WAL lets writers go on.
            if conn.get_execution_options().get("read_only"):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    size, overflow = pool_sizes()
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=size,
        max_overflow=overflow,
        pool_timeout=get_settings().db_pool_timeout_seconds,
    )


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A factory of sessions bound to ``engine`` that keep objects usable after commit.

    Every flush checks the text it writes against its columns (``backend.text``).
    """
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    event.listen(factory, "before_flush", text.check_flushed_texts)
    return factory


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session for a job or a command: commits on success, rolls back on error."""
    with session_factory(engine or get_engine())() as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def is_sqlite(session: Session) -> bool:
    """True when the session talks to SQLite."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"
