"""Text at the boundary: one set of rules for every text field, whichever surface it came from.

- Readable: valid Unicode that UTF-8 can store (JSON's ``"\\ud800"`` escapes and Python's
  strings allow lone surrogates; a database or an email cannot hold them), and no control
  characters other than tab, line feed and carriage return.
- One-line fields (names, titles, subjects, job titles, organisation names) hold no line break
  or tab either: they end up in email headers, page titles and single-line table cells.
- Lengths come from the column that stores the text (``column_length``), not from copies.
- Texts the service builds itself (a notification title quoting a member's name) are made to
  fit their column with ``fit``: one line, shortened with an ellipsis.

The web forms (``web/deps.py``) and the GraphQL endpoint (``schema/http.py``,
``schema/inputs.py``) run ``unreadable`` over everything they receive; services check each field
with ``text_problem``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from sqlalchemy import String, inspect
from sqlalchemy.orm import Mapper

from backend.errors import FieldErrors

ELLIPSIS = "\u2026"
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 controls but tab, LF and CR; DEL; C1 controls (never typed, a sign of mis-decoded text).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What breaks a line or a header: tab, LF, CR and the Unicode line and paragraph separators.
_LINE_BREAK = re.compile("[\t\n\r\x85\u2028\u2029]")
_ANY_BREAK_OR_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]+")

NOT_READABLE = (
    "contains a broken character (half of a pair, or from another character encoding). "
    "Type it again or paste it as plain text."
)
CONTROL_CHARACTER = "contains a control character that is not allowed."
LINE_BREAK = "must be on one line (no line breaks or tabs)."


def _sentence(label: str, rest: str) -> str:
    return f"{label[:1].upper()}{label[1:]} {rest}"


def unreadable(value: str) -> str | None:
    """What makes ``value`` unfit to store in any text field (without a label), or None."""
    if _SURROGATE.search(value):
        return NOT_READABLE
    if _CONTROL.search(value):
        return CONTROL_CHARACTER
    return None


def text_problem(
    value: str,
    *,
    label: str,
    maximum: int | None = None,
    required: bool = False,
    one_line: bool = False,
) -> str | None:
    """Why a text field is wrong (a sentence naming ``label``), or None."""
    problem = unreadable(value)
    if problem:
        return _sentence(label, problem)
    if one_line and _LINE_BREAK.search(value):
        return _sentence(label, LINE_BREAK)
    if required and not value.strip():
        return f"Enter your {label}."
    if maximum is not None and len(value) > maximum:
        return _sentence(label, f"must be {maximum:,} characters or fewer.")
    return None


def column_length(model: type, field: str) -> int:
    """The length of the VARCHAR column behind ``model.field`` (a SQLModel table)."""
    kind: object = inspect(model).columns[field].type
    kind = getattr(kind, "impl_instance", kind)  # sqlmodel's AutoString decorates a String
    length = getattr(kind, "length", None)
    if not isinstance(kind, String) or length is None:
        raise TypeError(f"{model.__name__}.{field} is not a fixed-width text column")
    return int(length)


def one_line(text: str) -> str:
    """``text`` on one line: breaks, tabs and control characters become single spaces."""
    return " ".join(_ANY_BREAK_OR_CONTROL.sub(" ", text).split())


def fit(text: str, *, limit: int) -> str:
    """``text`` on one line and at most ``limit`` characters, shortened with an ellipsis."""
    line = one_line(text)
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + ELLIPSIS


def fit_column(text: str, model: type, field: str) -> str:
    """``text`` made to fit the VARCHAR column ``model.field`` (see ``fit``)."""
    return fit(text, limit=column_length(model, field))


def walk(
    value: Any, path: str = "", *, skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """Every string inside a JSON-like value (keys too), with a dotted path to it.

    Values under a key in ``skip`` are left out.
    """
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield where, key
            if key not in skip:
                yield from walk(item, where, skip=skip)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]" if path else f"[{index}]", skip=skip)


def unreadable_fields(
    value: Any, path: str = "", *, skip: frozenset[str] = frozenset()
) -> dict[str, str]:
    """{path: message} for every unreadable string inside a JSON-like value (see ``walk``)."""
    return {
        where: f"The field {where} {problem}" if where else _sentence("the text", problem)
        for where, text in walk(value, path, skip=skip)
        if (problem := unreadable(text)) is not None
    }


# The last line of defence: every text column of every row written, checked at flush ----------

# Short VARCHAR columns hold one-line values (names, titles, subjects, job titles, links);
# longer ones hold reasons and notes typed in a box, where line breaks belong.
ONE_LINE_UP_TO = 300


@cache
def _text_columns(model: type) -> tuple[tuple[str, int | None, bool], ...]:
    """(attribute, maximum length or None, one line?) for each text column of ``model``."""
    found: list[tuple[str, int | None, bool]] = []
    mapper: Mapper[Any] = inspect(model)
    for attribute in mapper.column_attrs:
        for column in attribute.columns[:1]:
            kind = getattr(column.type, "impl_instance", column.type)
            if isinstance(kind, String):
                length = getattr(kind, "length", None)
                single = length is not None and length <= ONE_LINE_UP_TO
                found.append((attribute.key, length, single))
    return tuple(found)


def check_flushed_texts(session: Any, _flush_context: Any, _instances: Any) -> None:
    """Refuse to write any text a column cannot hold, naming the field (a ``before_flush`` hook).

    Services check their fields with friendlier labels first; this catches what they miss, so
    a new column is covered without new code, and PostgreSQL never sees a value too long.
    """
    problems: dict[str, str] = {}
    for instance in (*session.new, *session.dirty):
        for key, limit, single in _text_columns(instance.__class__):
            value = instance.__dict__.get(key)
            if not isinstance(value, str) or (
                value.isprintable() and (limit is None or len(value) <= limit)
            ):
                continue
            problem = text_problem(
                value, label=key.replace("_", " "), maximum=limit, one_line=single
            )
            if problem and key not in problems:
                problems[key] = problem
    if problems:
        raise FieldErrors(problems)
