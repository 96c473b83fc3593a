"""Fixtures for the GraphQL layer: direct execution with a built context, and HTTP clients."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session

from backend.members.models import Member
from backend.settings import Settings, get_settings
from schema.build import PeerbridgeSchema, build_schema, execute
from schema.context import Context

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

_schemas: dict[tuple[object, ...], PeerbridgeSchema] = {}


def schema_for(settings: Settings) -> PeerbridgeSchema:
    """One schema per environment for the whole run (building one takes a moment)."""
    key = (
        settings.environment,
        settings.graphql_max_depth,
        settings.graphql_max_aliases,
        settings.graphql_max_tokens,
    )
    if key not in _schemas:
        _schemas[key] = build_schema(settings)
    return _schemas[key]


Run = Callable[..., dict[str, Any]]


@pytest.fixture
def run(session: Session) -> Run:
    """Execute an operation directly: run(query, variables=None, member=None) -> result dict.

    Committed afterwards, like a request to /graphql (mutation fields have their savepoints).
    """

    def _run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        member: Member | None = None,
        settings: Settings | None = None,
    ) -> dict[str, Any]:
        settings = settings or get_settings()
        context = Context(session=session, settings=settings, member=member)
        context.auth = "cookie" if member is not None else "none"
        result = execute(schema_for(settings), query, context=context, variables=variables)
        session.commit()  # as schema.http does: the operation is one unit of work
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [error.formatted for error in result.errors]
        return out

    return _run


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    """An HTTP client with a cookie jar, on the app built around the test database."""
    from peerbridge.app import create_app

    app = create_app(engine=engine)
    app.state.graphql_schema = schema_for(app.state.settings)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_client(engine: Engine) -> Iterator[Callable[[], TestClient]]:
    """Clients with cookie jars of their own on one app: two people using the API at once."""
    from peerbridge.app import create_app

    app = create_app(engine=engine)
    app.state.graphql_schema = schema_for(app.state.settings)
    with TestClient(app, raise_server_exceptions=False):  # runs the app's lifespan once
        yield lambda: TestClient(app, raise_server_exceptions=False)


class QueryCounter:
    """Counts SQL statements sent to the database while active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.statements)


@pytest.fixture
def count_queries(engine: Engine) -> Iterator[QueryCounter]:
    """A counter of SQL statements on the test engine."""
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)
