"""Limits on input sizes, checked before any service is called."""

from __future__ import annotations

from collections.abc import Sequence

from backend.errors import FieldErrors

MAX_LIST_ITEMS = 100
MAX_TEXT = 10_000  # longer than any field allows; services give the precise limit


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
