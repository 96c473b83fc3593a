"""Hostile cells for the CSV-injection tests of every writer (members_csv/formulas.py)."""

from __future__ import annotations

import csv
import io

# Values that a spreadsheet would run as a formula, each as someone could type it.
HOSTILE = (
    '=HYPERLINK("http://x","y")',
    "@SUM(1)",
    "+1+1",
    "-1+1",
    "\t=1+1",
    " =1+1",
)
# Plain numbers stay numbers.
NUMBERS = ("-3", "-0.5")


def read(text: str) -> list[list[str]]:
    """The CSV as a spreadsheet's import would see it (round trip through csv.reader)."""
    return list(csv.reader(io.StringIO(text, newline="")))


def assert_neutralised(cells: list[str], value: str) -> None:
    """The hostile ``value`` comes out exactly once, quote-prefixed, and never bare."""
    assert value not in cells, f"{value!r} written as is"
    assert "'" + value in cells, f"{value!r} not found quote-prefixed in {cells}"
