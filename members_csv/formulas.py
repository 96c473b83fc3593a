"""Neutralise spreadsheet formulas in every CSV cell the platform writes (CSV injection).

Spreadsheets run a cell as a formula when its text starts with certain characters, so a member
id, a name or a reason such as ``=HYPERLINK("http://x","y")`` taken from someone's file or
profile would run on the organiser's machine when they open an export. The rule, from OWASP's
"CSV Injection" guidance:

* a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also
  after leading whitespace (so ``" =1+1"`` counts), gets a single quote ``'`` put in front;
  spreadsheets show the quote-prefixed text as text and run nothing;
* except a plain number (ASCII digits, one optional leading ``-`` and one optional point:
  ``-3``, ``-0.5``, ``-.5``, ``12``; not ``-1e5`` nor ``-1,000``): it stays as it is, so
  figures stay usable as numbers (a plain number cannot call anything);
* every other cell is written unchanged. Non-text values (ints, finite floats) are numbers and
  pass through; ``None`` becomes an empty cell, as ``csv.writer`` writes it.

Quoting the cell (csv's ``"..."``) is not enough: the quotes are gone once the file is read.
Use :func:`safe_writer` in place of ``csv.writer`` so no cell, header included, is missed.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START_SET = frozenset(FORMULA_STARTS)
_PLAIN_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")  # ASCII digits only


def neutralise(value: object) -> object:
    """The cell as it is safe to write: formula-looking text quote-prefixed (see module doc)."""
    if isinstance(value, str):
        text = value
    elif value is None:
        return ""
    elif _is_plain_number_value(value):
        return value
    else:
        text = str(value)
    first = text[:1]
    if first not in _FORMULA_START_SET and not first.isspace():
        return text  # the common case, decided on the first character
    if not text.lstrip().startswith(FORMULA_STARTS) and first not in ("\t", "\r"):
        return text
    if _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text


def _is_plain_number_value(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`neutralise` first."""

    def __init__(self, f: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(f, **kwargs)

    def writerow(self, row: Iterable[object]) -> Any:
        """Write one row, neutralised."""
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        """Write many rows, neutralised."""
        for row in rows:
            self.writerow(row)


def safe_writer(f: Any, **kwargs: Any) -> SafeWriter:
    """A CSV writer like ``csv.writer(f, **kwargs)`` that neutralises formula cells."""
    return SafeWriter(f, **kwargs)
