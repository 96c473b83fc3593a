"""Fuzz every GraphQL operation with schemathesis: whatever the input, no 5xx, no masked bug.

Schemathesis generates valid operations (with random arguments and input objects) from the
schema printed from the source, since introspection is off outside development. Each one is
sent over HTTP as a signed-in organiser, so resolvers run as far as the input lets them.
Raise ``PEERBRIDGE_FUZZ_EXAMPLES`` for a longer run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from backend import jobs, text
from schema.inputs import DOCUMENT_FIELDS
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


# Text no field may hold, in every mutation's input ---------------------------------------------

NUL = "a\x00b"
UNREADABLE = ["a\ud800b", NUL, "a\x1b[2Jb"]


def _value(kind: Any, bad: str, depth: int = 0) -> Any:
    """A value of GraphQL input type ``kind`` whose every text leaf is ``bad``."""
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLList,
        GraphQLNonNull,
        GraphQLScalarType,
    )

    if isinstance(kind, GraphQLNonNull):
        return _value(kind.of_type, bad, depth)
    if isinstance(kind, GraphQLList):
        return [_value(kind.of_type, bad, depth)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        if depth > 3:
            return None
        return {name: _value(f.type, bad, depth + 1) for name, f in kind.fields.items()}
    assert isinstance(kind, GraphQLScalarType)
    return {"Int": 1, "Float": 1.0, "Boolean": True}.get(kind.name, bad)


def _literal(value: Any, kind: Any) -> str:
    """``value`` written as a GraphQL literal (enums bare, strings with escapes)."""
    import json

    from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLList, GraphQLNonNull

    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    if isinstance(kind, GraphQLList):
        return "[" + ", ".join(_literal(v, kind.of_type) for v in value) + "]"
    if isinstance(kind, GraphQLEnumType):
        return str(value)
    if isinstance(kind, GraphQLInputObjectType):
        fields = ", ".join(
            f"{name}: {_literal(v, kind.fields[name].type)}"
            for name, v in value.items()
            if v is not None
        )
        return "{" + fields + "}"
    return json.dumps(value)  # "\u0000" stays an escape; GraphQL reads it as the character


def _mutations_with_text(app_settings: Any) -> list[tuple[str, Any]]:
    """Every mutation with a text (String or ID) in its arguments, CSV documents apart.

    A CSV has its own parser, which names the line and column of each broken character
    (tests/schema/test_import.py).
    """
    fields = schema_for(app_settings)._schema.mutation_type.fields
    return [
        (name, field)
        for name, field in fields.items()
        if any(
            value == NUL
            for _, value in text.walk(
                {a: _value(arg.type, NUL) for a, arg in field.args.items()}, skip=DOCUMENT_FIELDS
            )
        )
    ]


def _post_json(client, payload: dict[str, Any]):  # type: ignore[no-untyped-def]
    """POST as a client would: JSON with \\u escapes, so lone surrogates survive the trip."""
    import json

    return client.post(
        "/graphql",
        content=json.dumps(payload).encode("ascii"),
        headers={"content-type": "application/json"},
    )


def _all_rows(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from backend.models import metadata

    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def test_every_mutation_refuses_unreadable_text_naming_the_field(session, client, engine):
    organiser = make_organiser(session, band="8b", capacity=2)
    session.commit()
    log_in(client, organiser)
    before = _all_rows(engine)
    checked = 0
    for name, field in _mutations_with_text(client.app.state.settings):
        arguments = list(field.args.items())
        declared = ", ".join(f"${a}: {arg.type}" for a, arg in arguments)
        passed = ", ".join(f"{a}: ${a}" for a, _ in arguments)
        query = f"mutation({declared}) {{ {name}({passed}) {{ __typename }} }}"
        for bad in UNREADABLE:
            variables = {a: _value(arg.type, bad) for a, arg in arguments}
            response = _post_json(client, {"query": query, "variables": variables})
            assert response.status_code == 400, (name, bad, response.text)
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "INVALID_INPUT", (name, error)
            where = error["extensions"]["field"]
            assert where.split(".")[0].split("[")[0] in field.args, (name, where)
            assert f"The field {where} contains" in error["message"], (name, error)
        checked += 1
    assert checked >= 30
    assert _all_rows(engine) == before


def test_every_mutation_refuses_control_characters_in_literals(session, client, engine):
    organiser = make_organiser(session, band="8b", capacity=2)
    session.commit()
    log_in(client, organiser)
    before = _all_rows(engine)
    for name, field in _mutations_with_text(client.app.state.settings):
        written = ", ".join(
            f"{a}: {_literal(_value(arg.type, NUL), arg.type)}" for a, arg in field.args.items()
        )
        query = f"mutation {{ {name}({written}) {{ __typename }} }}"
        response = client.post("/graphql", json={"query": query})
        assert "errors" in response.json(), (name, query, response.text)
        codes = {e["extensions"].get("code") for e in response.json()["errors"]}
        assert "INVALID_INPUT" in codes, (name, response.text)
        assert "INTERNAL_SERVER_ERROR" not in codes, (name, response.text)
        fields = {e["extensions"].get("field") for e in response.json()["errors"]} - {None}
        assert all(f.split(".")[0] in field.args for f in fields), (name, fields)

        surrogate = query.replace("\\u0000", "\\ud800")
        refused = _post_json(client, {"query": surrogate})
        assert refused.status_code < 500 and "Invalid Unicode escape" in refused.text, name
    assert _all_rows(engine) == before


def test_one_line_fields_refuse_line_breaks_over_graphql(session, client, engine):
    from tests.schema.test_journey import NEW_MEMBER, SIGN_UP

    author = make_organiser(session)
    session.commit()
    before = _all_rows(engine)

    joined = _post_json(
        client,
        {"query": SIGN_UP, "variables": {"input": {**NEW_MEMBER, "name": "Eve\r\nBcc: a@b.c"}}},
    ).json()["data"]["signUp"]
    assert joined["__typename"] == "InvalidInput"
    assert {e["field"]: e["message"] for e in joined["errors"]}["name"] == (
        "Full name must be on one line (no line breaks or tabs)."
    )

    log_in(client, author)
    created = _post_json(
        client,
        {
            "query": 'mutation($t: String!) { createPost(input: {title: $t, body: "Hi"}) {'
            " __typename ... on InvalidInput { field message } } }",
            "variables": {"t": "Rotas\nSubject: spam"},
        },
    ).json()["data"]["createPost"]
    assert created["__typename"] == "InvalidInput" and created["field"] == "title"
    after = _all_rows(engine)
    # Logging in wrote a session and, from a new device, its audit event; nothing else moved.
    signed_in = ("user_session", "audit_event")
    assert {k: v for k, v in after.items() if k not in signed_in} == {
        k: v for k, v in before.items() if k not in signed_in
    }
    assert after["audit_event"] == before["audit_event"] + 1
