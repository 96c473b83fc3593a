"""Fuzz every GraphQL operation with schemathesis: whatever the input, no 5xx, no masked bug.

Schemathesis generates valid operations (with random arguments and input objects) from the
schema printed from the source, since introspection is off outside development. Each one is
sent over HTTP as a signed-in organiser, so resolvers run as far as the input lets them.
Raise ``PEERBRIDGE_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from backend import jobs
from tests.factories import make_organiser
from tests.schema.conftest import schema_for
from tests.schema.test_mentoring import log_in

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = int(os.environ.get("PEERBRIDGE_FUZZ_EXAMPLES", "3"))
# Operations that end or change the signed-in session: log in again after each.
SESSION_CHANGING = {"logIn", "logOut", "eraseMyAccount", "changePassword", "resetPassword"}


def operations(app_settings: Any) -> list[Any]:
    """Every query and mutation of the schema, as schemathesis operations."""
    loaded = schemathesis.graphql.from_file(schema_for(app_settings).as_str())
    return [result.ok() for result in loaded.get_all_operations()]


def fuzz(operation: Any, send: Callable[[str, str], None]) -> None:
    """Send EXAMPLES generated cases of one operation."""
    name = operation.label.split(".", 1)[1]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        send(name, case.body)

    check()


def test_no_operation_crashes_whatever_its_arguments(session, client, monkeypatch):
    monkeypatch.setattr(jobs, "enqueue", lambda *args, **kwargs: None)  # no background rounds
    organiser = make_organiser(session, band="8b", capacity=2)
    session.commit()
    log_in(client, organiser)
    failures: list[str] = []
    answered: set[str] = set()  # operations that ran to a result without any error
    started = time.monotonic()

    def send(name: str, query: str) -> None:
        response = client.post("/graphql", json={"query": query})
        if name in SESSION_CHANGING:
            log_in(client, organiser)
        body = response.text
        if response.status_code >= 500 or "Unexpected error" in body:
            failures.append(f"{name}: HTTP {response.status_code}\n{query}\n{body}")
            return
        errors = response.json().get("errors") or []
        if response.status_code == 200 and not errors:
            answered.add(name)
        if any(e.get("extensions", {}).get("code") == "INTERNAL_SERVER_ERROR" for e in errors):
            failures.append(f"{name}: masked error\n{query}\n{body}")

    for operation in operations(client.app.state.settings):
        fuzz(operation, send)

    assert not failures, "\n\n".join(failures[:5])
    # Signed in throughout: queries ran past the authentication check.
    assert {"me", "mentorships", "myProposedMatches"} <= answered, sorted(answered)
    assert time.monotonic() - started < 60
