"""CSV injection: every cell a writer emits is neutralised (OWASP's rule, members_csv/formulas)."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from members_csv import neutralise, parse_members_csv, safe_writer, write_rejects_csv
from tests.csv_injection import HOSTILE, NUMBERS, assert_neutralised, read
from tests.members_csv.test_members_csv import member, to_csv


@pytest.mark.parametrize(
    "value", [*HOSTILE, "=1", "+", "-", "@", "\r=1", "\n=1", "\u00a0@x", "-\u0663", "-1e5"]
)
def test_formula_cells_get_a_leading_quote(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [*NUMBERS, "-.5", "-5.", "12", "0.25", "-0", -3, 2.5, 0])
def test_plain_numbers_stay_numbers(value: object) -> None:
    assert neutralise(value) == value


@pytest.mark.parametrize(
    "value", ["Ann Lee", "M1", "", "a=b", "3-1", "x@y.nhs.uk", "'=already", "Total", "*"]
)
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert neutralise(value) == value


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (None, ""),
        (True, "True"),
        (float("-inf"), "'-inf"),
        ("-3e5", "'-3e5"),
        ("-1,000", "'-1,000"),
    ],
)
def test_other_values_are_written_as_text_then_checked(value: object, written: str) -> None:
    assert neutralise(value) == written


@given(st.text())
def test_no_written_cell_can_start_a_formula_and_the_text_is_kept(text: str) -> None:
    out = neutralise(text)
    assert isinstance(out, str)
    # The original text is always recoverable: unchanged or behind one quote.
    assert out in (text, "'" + text)
    if out == text and text.lstrip().startswith(("=", "+", "-", "@", "\t", "\r")):
        assert re.fullmatch(r"-[0-9]*\.?[0-9]*", text) and any(c in "0123456789" for c in text)
    if out == text:
        assert not text.startswith(("\t", "\r"))


def test_the_safe_writer_neutralises_every_cell_header_included() -> None:
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\r\n")
    writer.writerow(["=header", "id"])
    writer.writerows([[value, number] for value, number in zip(HOSTILE, NUMBERS * 3, strict=False)])

    rows = read(out.getvalue())

    assert rows[0] == ["'=header", "id"]
    for value in HOSTILE:
        assert_neutralised([cell for row in rows[1:] for cell in row], value)
    assert {row[1] for row in rows[1:]} == set(NUMBERS)


def test_the_rejects_file_neutralises_formula_cells_from_the_organisers_file() -> None:
    # Given a file whose rejected rows (bad band) carry formulas in the organiser's own cells,
    # and a header cell that is a formula too (an unknown column)
    rows = [
        member(n, member_id=value, goals=value, band="X", management_years="-3")
        for n, value in enumerate(HOSTILE, 1)
    ]
    columns = [*to_csv([]).splitlines()[0].split(","), "=EVIL()"]
    parsed = parse_members_csv(to_csv(rows, columns).encode("utf-8"))
    assert len(parsed.rejected_lines) == len(HOSTILE)

    # When the rejects file is written and read back
    rejects = read(write_rejects_csv(parsed))

    # Then every formula comes out quote-prefixed (as the parser keeps it: cells trimmed), and
    # the negative number stays a number
    header, body = rejects[0], rejects[1:]
    assert "'=EVIL()" in header and "=EVIL()" not in header
    for value, row in zip(HOSTILE, body, strict=True):
        for column in ("member_id", "goals"):
            cell = row[header.index(column)]
            assert cell[:1] == "'" and cell[1:].strip() == value.strip(), (column, cell)
        assert row[header.index("management_years")] == "-3"
