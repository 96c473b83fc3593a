"""The database engine and sessions (one sync ``Session`` type throughout)."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import SessionTransaction, sessionmaker
from sqlmodel import Session, create_engine

from backend import text
from backend.settings import get_settings

log = logging.getLogger("peerbridge.db")


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
    """An engine for ``url``; SQLite gets WAL mode and foreign keys on every connection.

    Statement parameters (emails, search words, names) are never put in log lines or in the
    text of database errors, which are logged with their tracebacks.
    """
    engine = _make_engine(url)
    _ENGINES.add(engine)
    return engine


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_pre_ping=True,
            hide_parameters=True,
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
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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
        hide_parameters=True,
    )


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    return make_engine(get_settings().database_url)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A factory of sessions bound to ``engine`` that keep objects usable after commit.

    Every flush checks the text it writes against its columns (``backend.text``). It loads
    every table first (``backend.models``): a command that touches one table whose foreign key
    names another its code never imported would otherwise fail to map in a fresh process.
    """
    import backend.models  # noqa: F401 - the whole metadata, once per process

    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    event.listen(factory, "before_flush", text.check_flushed_texts)
    event.listen(factory, "after_soft_rollback", _redo_kept_writes)
    return factory


@contextmanager
def session_scope(engine: Engine | None = None, *, read_only: bool = False) -> Iterator[Session]:
    """A session for one unit of work: commits on success, rolls back on any error.

    Jobs, commands and every web or GraphQL request run in one; services only ``flush()``.
    ``read_only`` starts it without the write lock on SQLite (plain ``BEGIN``); a write such a
    unit must make goes through ``write_apart``.
    """
    bind = engine or get_engine()
    if read_only:
        bind = bind.execution_options(read_only=True)
    with session_factory(bind)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SQLITE_BUSY_TIMEOUT_MS = 30_000  # what every SQLite connection waits for the write lock


@contextmanager
def skippable_write(engine: Engine, *, wait_ms: int = 100) -> Iterator[Session]:
    """A short unit of work for a write the caller may skip when the database is busy.

    On SQLite it waits at most ``wait_ms`` for the write lock (not the usual 30 s) and then
    raises ``OperationalError``: a read-only page must never stand in line behind another
    transaction to record, say, that a session is in use. Elsewhere it is ``session_scope``.
    """
    if engine.dialect.name != "sqlite":
        with session_scope(engine) as session:
            yield session
        return
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
        try:
            with session_factory(engine)(bind=connection) as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def commit_for_job(session: Session) -> None:
    """End the unit of work early so that a job, in a session of its own, sees what it wrote.

    For the edges only (a page or a mutation that starts an import or a round, a job handing
    out a batch of claims): what was committed here is no longer undone by a later error.
    """
    session.commit()


def rollback_for_job(session: Session) -> None:
    """A job's counterpart of ``commit_for_job``: drop what this batch item wrote, go on."""
    session.rollback()


T = TypeVar("T")
_KEPT = "peerbridge.kept_writes"


@dataclass
class _KeptWrite:
    write: Callable[[Session], Any]
    transaction: SessionTransaction


def write_apart(session: Session, write: Callable[[Session], T]) -> T:
    """Run ``write`` in a short transaction of its own, committed whatever ``session`` does next.

    For what must survive a failing request: a failed log-in counted, an access token's last
    use. ``write`` gets the session to write through and may run more than once (so it should
    read what it changes). On PostgreSQL, and on SQLite when ``session`` holds no write lock (a
    read-only request), it runs at once on a connection of its own. On SQLite a request that
    writes holds the database's one write lock, which a second connection would wait for in
    vain; there ``write`` runs inside ``session`` (in a savepoint) and, if that transaction or
    savepoint is rolled back, runs again once the rollback is done.
    """
    if not _holds_write_lock(session):
        return _write_now(session.get_bind(), write)
    with session.begin_nested() as savepoint:
        result = write(session)
    session.info.setdefault(_KEPT, []).append(_KeptWrite(write, savepoint))
    return result


def _holds_write_lock(session: Session) -> bool:
    if not is_sqlite(session) or not session.in_transaction():
        return False
    return not session.connection().get_execution_options().get("read_only", False)


def _chain(transaction: SessionTransaction | None) -> Iterator[SessionTransaction]:
    while transaction is not None:
        yield transaction
        transaction = transaction.parent


def _redo_kept_writes(session: Session, previous: SessionTransaction) -> None:
    """After a rollback, do again the ``write_apart`` writes it undid (see there)."""
    kept: list[_KeptWrite] = session.info.get(_KEPT, [])
    if not kept:
        return
    root = list(_chain(previous))[-1]
    live = [k for k in kept if list(_chain(k.transaction))[-1] is root]  # older: committed
    lost = [k for k in live if previous in _chain(k.transaction)]
    session.info[_KEPT] = [k for k in live if k not in lost]
    if previous.parent is None:
        session.info[_KEPT] = []
    for entry in lost:
        try:
            if previous.parent is None:
                _write_now(session.get_bind(), entry.write)
                continue
            with session.begin_nested() as savepoint:
                entry.write(session)
            session.info[_KEPT].append(_KeptWrite(entry.write, savepoint))
        except Exception:  # never let it hide why the rollback happened
            log.exception("a write that had to survive the rollback could not be redone")


def _write_now(bind: Any, write: Callable[[Session], T]) -> T:
    """Run ``write`` in a transaction of its own on ``bind`` and commit it."""
    if isinstance(bind, Engine):
        bind = bind.execution_options(read_only=False)
    with session_factory(bind)() as apart:
        result = write(apart)
        apart.commit()
    return result


def is_sqlite(session: Session) -> bool:
    """True when the session talks to SQLite."""
    bind = session.get_bind()
    return bind.dialect.name == "sqlite"
