"""Bad requests of every kind get a clear JSON error, never a 500, and change nothing."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from backend.members.models import Member
from tests.schema.test_journey import NEW_MEMBER, SIGN_UP

SIGN_UP_BODY = json.dumps({"query": SIGN_UP, "variables": {"input": NEW_MEMBER}})


def assert_refused(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert error["message"]


def assert_no_member(session):
    session.expire_all()
    assert session.exec(select(Member)).all() == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_only_json_bodies_are_accepted(client, session, content_type):
    # A cross-site form can send these types without a preflight; they must never execute.
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/graphql", content=SIGN_UP_BODY, headers=headers)

    assert_refused(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_no_member(session)


def test_json_with_a_charset_is_accepted(client):
    response = client.post(
        "/graphql",
        content=json.dumps({"query": "{ regions { label } }"}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["regions"]) == 7


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe broken utf-8",
        b"",
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
def test_malformed_json_is_a_400(client, body):
    response = client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert_refused(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "payload",
    [
        "just a string",
        {"variables": {}},
        {"query": 42},
        {"query": "{ me { name } }", "variables": [1, 2]},
        {"query": "{ me { name } }", "operationName": 7},
    ],
)
def test_wrong_shapes_are_a_400(client, payload):
    assert_refused(client.post("/graphql", json=payload), 400, "BAD_REQUEST")


def test_batching_is_refused(client, session):
    response = client.post("/graphql", json=[json.loads(SIGN_UP_BODY), json.loads(SIGN_UP_BODY)])

    assert_refused(response, 400, "BATCHING_NOT_SUPPORTED")
    assert_no_member(session)


def test_no_operations_over_get(client, session):
    query = "mutation { logOut { __typename } }"
    response = client.get("/graphql", params={"query": query})

    assert_refused(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"


def test_graphiql_is_not_served_outside_development(client):
    assert_refused(client.get("/graphql"), 405, "METHOD_NOT_ALLOWED")


def test_other_methods_are_refused(client):
    assert_refused(
        client.put("/graphql", json={"query": "{ me { name } }"}), 405, "METHOD_NOT_ALLOWED"
    )


def test_bodies_over_one_mebibyte_are_refused(client, session):
    huge = {"query": SIGN_UP, "variables": {"input": {**NEW_MEMBER, "name": "x" * (1024 * 1024)}}}

    assert_refused(client.post("/graphql", json=huge), 413, "PAYLOAD_TOO_LARGE")
    assert_no_member(session)


def test_huge_strings_under_the_cap_are_invalid_input(client, session):
    big = {**NEW_MEMBER, "name": "x" * 500_000, "organisation": "y" * 300}
    response = client.post("/graphql", json={"query": SIGN_UP, "variables": {"input": big}})

    result = response.json()["data"]["signUp"]
    assert result["__typename"] == "InvalidInput"
    assert result["field"] == "name"
    assert_no_member(session)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"band": "BAND_1"}, "Band"),
        ({"region": "Wales"}, "Region"),
        ({"region": "London"}, "Region"),
        ({"managementYears": "three"}, "Int"),
        ({"managementYears": 2**40}, "Int"),
        ({"email": None}, "email"),
        ({"name": ["a", "list"]}, "String"),
    ],
)
def test_wrong_types_and_unknown_enum_values_are_clear_errors(client, session, change, needle):
    response = client.post(
        "/graphql", json={"query": SIGN_UP, "variables": {"input": {**NEW_MEMBER, **change}}}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert needle in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in error["message"]
    assert_no_member(session)


def test_unknown_enum_literal_in_the_query_is_a_clear_error(client):
    query = "mutation { updateProfile(input: {band: BAND_99}) { __typename } }"
    body = client.post("/graphql", json={"query": query}).json()

    assert body["data"] is None
    assert "BAND_99" in body["errors"][0]["message"]
    assert "Did you mean" not in body["errors"][0]["message"]


def test_syntax_errors_are_clear(client):
    body = client.post("/graphql", json={"query": "{ me { name "}).json()
    assert body["errors"][0]["message"].startswith("Syntax Error")
