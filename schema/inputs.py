"""Limits on input sizes, checked before any service is called."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphql import ArgumentNode, GraphQLError, ObjectFieldNode, StringValueNode, ValidationRule

from backend import text
from backend.errors import FieldErrors

MAX_LIST_ITEMS = 100
MAX_TEXT = 10_000  # longer than any field allows; services give the precise limit
# Fields holding a whole document with a parser of its own, which names the line and column
# of every broken character (members_csv): the boundary leaves them to it.
DOCUMENT_FIELDS = frozenset({"csv"})


def check_lists(**lists: Sequence[object] | None) -> None:
    """Refuse any list input of more than MAX_LIST_ITEMS items."""
    problems = {
        name: f"Give at most {MAX_LIST_ITEMS} items."
        for name, values in lists.items()
        if values is not None and len(values) > MAX_LIST_ITEMS
    }
    if problems:
        raise FieldErrors(problems)


def check_text(**texts: str | None) -> None:
    """Refuse absurdly long strings before they reach validation, hashing or the database."""
    problems = {
        name: f"Must be {MAX_TEXT:,} characters or fewer."
        for name, value in texts.items()
        if isinstance(value, str) and len(value) > MAX_TEXT
    }
    if problems:
        raise FieldErrors(problems)


class ReadableLiterals(ValidationRule):
    """Refuse string literals in the query that no text field may hold, naming the field.

    Variables are checked in the HTTP layer (``schema.http.check_readable``); a literal can
    still spell a control character as an escape (``"a\\u0000b"``). Lone surrogate escapes
    are refused by the GraphQL parser itself.
    """

    def enter_string_value(self, node: StringValueNode, *args: Any) -> None:
        """Report an unreadable literal, with the argument and input fields leading to it."""
        problem = text.unreadable(node.value)
        if problem is None:
            return
        ancestors = [*args[3], args[1]] if len(args) >= 4 else []
        names = [
            item.name.value
            for item in ancestors
            if isinstance(item, (ArgumentNode, ObjectFieldNode))
        ]
        if names and names[-1] in DOCUMENT_FIELDS:
            return
        where = ".".join(names) or "a string"
        self.report_error(
            GraphQLError(
                f"The field {where} {problem}",
                node,
                extensions={"code": "INVALID_INPUT", "field": where},
            )
        )
