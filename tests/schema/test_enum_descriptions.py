"""Every GraphQL enum value is described: API users read what each value means."""

from __future__ import annotations

from graphql import GraphQLEnumType

from backend.settings import get_settings
from tests.schema.conftest import schema_for


def test_every_enum_value_has_a_description():
    graphql_schema = schema_for(get_settings())._schema
    missing = [
        f"{name}.{key}"
        for name, kind in graphql_schema.type_map.items()
        if isinstance(kind, GraphQLEnumType) and not name.startswith("__")
        for key, value in kind.values.items()
        if not (value.description or "").strip()
    ]
    assert missing == []


def test_vocabulary_values_are_described_in_the_words_the_pages_use():
    types = schema_for(get_settings())._schema.type_map
    assert types["RoleFamily"].values["PEOPLE_AND_HR"].description == "People and HR"
    assert types["Profession"].values["NON_CLINICAL"].description == "Non-clinical"
    assert types["Gender"].values["NON_BINARY"].description == "Non-binary"
    assert types["AgeBand"].values["AGE_16_TO_24"].description == "16 to 24"
    assert types["WideningCategory"].values["BANDS_2_TO_4"].description == "Bands 2 to 4"
    # The values themselves are unchanged: integrations rely on them (design/api.md).
    assert types["RoleFamily"].values["PEOPLE_AND_HR"].value == "people-and-hr"
