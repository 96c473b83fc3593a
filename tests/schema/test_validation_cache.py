"""A query text the schema found valid is not validated again; an invalid one always is."""

from __future__ import annotations

from backend.settings import Settings
from tests.factories import make_member
from tests.schema.conftest import schema_for

ME = "{ me { name mentoringOffer { skillsOffered { name } } } }"


def test_a_valid_text_is_remembered_and_answered_the_same(run, session):
    settings = Settings(environment="test", graphql_max_depth=5)
    valid = schema_for(settings).valid_documents
    member = make_member(session, name="Val Idated", capacity=1)

    first = run(ME, member=member, settings=settings)
    assert ME in valid
    second = run(ME, member=member, settings=settings)

    assert "errors" not in first
    assert first == second
    assert first["data"]["me"]["name"] == "Val Idated"


def test_an_invalid_text_is_refused_every_time_and_never_remembered(run, session):
    settings = Settings(environment="test", graphql_max_depth=5)
    valid = schema_for(settings).valid_documents
    member = make_member(session)
    unknown = "{ me { name favouriteColour } }"

    for _ in range(2):
        result = run(unknown, member=member, settings=settings)
        assert result["data"] is None
        assert "favouriteColour" in result["errors"][0]["message"]
    assert unknown not in valid


def test_the_limits_still_apply_to_a_text_valid_elsewhere(run, session):
    """The memory is per schema: a text valid under one depth limit is refused under a lower."""
    member = make_member(session, capacity=1)
    deep = Settings(environment="test", graphql_max_depth=5)
    shallow = Settings(environment="test", graphql_max_depth=2)

    assert "errors" not in run(ME, member=member, settings=deep)
    for _ in range(2):
        result = run(ME, member=member, settings=shallow)
        assert "exceeds maximum operation depth" in result["errors"][0]["message"]
    assert ME not in schema_for(shallow).valid_documents
