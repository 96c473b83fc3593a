"""Limits and production hardening: depth, aliases, tokens, introspection, suggestions, masking."""

from __future__ import annotations

import logging

import pytest

from backend.settings import Settings
from backend.skills import service as skill_service
from tests.factories import make_member

PRODUCTION = Settings(environment="production", secret_key="x" * 40)
DEVELOPMENT = Settings(environment="development")


def only_error(result):
    assert result["data"] is None, result
    [error] = result["errors"]
    return error["message"]


def test_deep_queries_are_refused(run, session):
    member = make_member(session)
    shallow = Settings(environment="test", graphql_max_depth=2)

    message = only_error(
        run("{ me { mentoringOffer { skillsOffered { name } } } }", member=member, settings=shallow)
    )

    assert "exceeds maximum operation depth" in message


def test_within_the_depth_limit_is_answered(run, session):
    member = make_member(session, skills_offered=("budget-management",), capacity=2)
    result = run("{ me { mentoringOffer { skillsOffered { name } } } }", member=member)
    assert result["data"]["me"]["mentoringOffer"]["skillsOffered"] == [
        {"name": "Budget management"}
    ]


def test_too_many_aliases_are_refused(run):
    aliases = " ".join(f"a{i}: regions {{ label }}" for i in range(16))
    assert "aliases found" in only_error(run(f"{{ {aliases} }}"))


def test_fifteen_aliases_are_fine(run):
    aliases = " ".join(f"a{i}: regions {{ label }}" for i in range(15))
    assert len(run(f"{{ {aliases} }}")["data"]) == 15


def test_too_many_tokens_are_refused(run):
    fields = " ".join("__typename" for _ in range(2100))
    assert "token" in only_error(run(f"{{ {fields} }}")).lower()


@pytest.mark.parametrize(
    "query", ["{ __schema { types { name } } }", '{ __type(name: "Member") { fields { name } } }']
)
def test_introspection_is_off_in_production(run, query):
    result = run(query, settings=PRODUCTION)
    assert result["data"] is None
    assert result["errors"]
    assert all("introspection has been disabled" in e["message"] for e in result["errors"])


def test_introspection_is_on_in_development(run):
    result = run("{ __schema { queryType { name } } }", settings=DEVELOPMENT)
    assert result["data"]["__schema"]["queryType"]["name"] == "Query"


def test_typename_still_works_in_production(run):
    assert run("{ __typename }", settings=PRODUCTION)["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("settings", [PRODUCTION, Settings(environment="test")])
def test_no_field_suggestions_outside_development(run, settings):
    message = only_error(run("{ skils { id } }", settings=settings))
    assert "Cannot query field 'skils'" in message
    assert "Did you mean" not in message


def test_field_suggestions_help_in_development(run):
    assert "Did you mean" in only_error(run("{ skils { id } }", settings=DEVELOPMENT))


def test_unexpected_errors_are_masked_and_logged_in_production(run, monkeypatch, caplog):
    def broken(**_):
        raise RuntimeError("secret connection string postgres://user:pw@host")

    monkeypatch.setattr(skill_service, "list_skills", broken)
    with caplog.at_level(logging.ERROR, logger="peerbridge.graphql"):
        result = run("{ skills { id } }", settings=PRODUCTION)

    [error] = result["errors"]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "requestId" in error["extensions"]
    assert "postgres://" in caplog.text


def test_expected_errors_are_not_masked_in_production(run):
    [error] = run('{ member(id: "TWVtYmVyOjE=") { name } }', settings=PRODUCTION)["errors"]
    assert error["message"] == "Log in to do this."
    assert error["extensions"]["code"] == "NOT_AUTHENTICATED"


def test_page_size_is_capped(run):
    [error] = run("{ organisations(first: 1000) { edges { cursor } } }")["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert "first must be from 1 to 100" in error["message"]


def test_a_forged_cursor_is_a_clear_error(run):
    [error] = run('{ organisations(after: "bm9wZQ==") { edges { cursor } } }')["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"


def test_input_lists_are_capped_at_100(run, session):
    member = make_member(session)
    query = """
      mutation($skills: [ID!]) {
        updateProfile(input: {skillsSought: $skills}) {
          __typename ... on InvalidInput { field errors { field message } }
        }
      }
    """
    result = run(query, {"skills": ["budget-management"] * 101}, member=member)["data"]
    assert result["updateProfile"]["field"] == "skillsSought"
    assert "at most 100" in result["updateProfile"]["errors"][0]["message"]
