"""Services name fields in snake_case; only the GraphQL layer speaks camelCase (``camel``)."""

from __future__ import annotations

import re
from pathlib import Path

from backend.errors import Invalid
from schema.errors import error_result

BACKEND = Path(__file__).resolve().parents[1] / "backend"
CAMEL_FIELD = re.compile(r"""field=["'][a-z]+[A-Z]""")


def test_no_backend_error_names_a_field_in_camel_case():
    found = [
        f"{path.relative_to(BACKEND.parent)}:{number}"
        for path in sorted(BACKEND.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if CAMEL_FIELD.search(line)
    ]
    assert found == []


def test_the_graphql_error_spells_the_service_field_in_camel_case():
    result = error_result(Invalid("You cannot ask yourself.", field="mentor_id"))
    assert (result.field, [e.field for e in result.errors]) == ("mentorId", ["mentorId"])
