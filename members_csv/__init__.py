"""Parse and validate the members CSV, format version 1 (docs/members-csv.md).

One parser for both consumers: the backend's database import and the matcher's offline round.
It is pure (no database, no web, no file I/O) and never raises on bad content: every problem
comes back as a ``RowError`` naming the line, the column and the reason, so an organiser can fix
the file in one go.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from email_validator import EmailNotValidError, validate_email

from members_csv.formulas import neutralise as neutralise
from members_csv.formulas import safe_writer as safe_writer
from vocabulary import (
    AGE_BANDS,
    BANDS,
    DISABILITY_ANSWERS,
    ETHNICITIES,
    GENDERS,
    MAX_GOALS_LENGTH,
    MAX_MENTOR_CAPACITY,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    SKILL_IDS,
)

if TYPE_CHECKING:
    import pandas

FORMAT_VERSION = "1"

COLUMNS: tuple[str, ...] = (
    "member_id",
    "name",
    "email",
    "organisation",
    "region",
    "role_family",
    "band",
    "profession",
    "management_years",
    "line_manager_id",
    "seeking_mentor",
    "mentor_capacity",
    "skills_sought",
    "skills_offered",
    "goals",
    "meeting_format",
    "outside_organisation_only",
    "priority_access",
    "demographics_consent",
    "ethnicity",
    "gender",
    "disability",
    "age_band",
)

REQUIRED_COLUMNS: frozenset[str] = frozenset(
    {
        "member_id",
        "name",
        "email",
        "organisation",
        "region",
        "role_family",
        "band",
        "profession",
        "management_years",
        "seeking_mentor",
        "mentor_capacity",
        "meeting_format",
        "outside_organisation_only",
        "priority_access",
    }
)

DEMOGRAPHIC_COLUMNS: tuple[str, ...] = ("ethnicity", "gender", "disability", "age_band")

MAX_MEMBER_ID_LENGTH = 100
MAX_NAME_LENGTH = 200
MAX_MANAGEMENT_YEARS = 60
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_COLUMN_RANK: dict[str, int] = {name: rank for rank, name in enumerate(COLUMNS)}
_DEMOGRAPHIC_OPTIONS: dict[str, tuple[str, ...]] = {
    "ethnicity": ETHNICITIES,
    "gender": GENDERS,
    "disability": DISABILITY_ANSWERS,
    "age_band": AGE_BANDS,
}
_ENUM_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "region": (REGIONS, "an NHS England region"),
    "role_family": (ROLE_FAMILIES, "a role family"),
    "band": (BANDS, "a band"),
    "profession": (PROFESSIONS, "a profession"),
    "meeting_format": (MEETING_FORMATS, "a meeting format"),
}
_YES_NO: dict[str, bool] = {"yes": True, "no": False}

# Lone surrogates only exist in the text when bytes were not valid UTF-8 (we decode with
# surrogateescape so we can still find the row and column) or when a caller passed such a str.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_IN_GOALS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INVISIBLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|\r|\n")
# One line with its ending, split as io.StringIO(newline="") splits them (\r\n, \r or \n).
_RECORD_LINE = re.compile("[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
# Four digits are plenty for 0-60 and 0-10, and keep int() away from 5,000-digit strings.
_DIGITS = re.compile("[0-9]{1,4}")
_SLUG_NOISE = re.compile(r"[\s_-]+")
# The ASCII dot-atom form RFC 5322 allows in a local part; email-validator accepts all of these.
_SIMPLE_LOCAL_PART = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
_SHOWN_LENGTH = 60
_LISTED_LINES = 5
_LISTED_COLUMNS = 20


@dataclass(frozen=True)
class RowError:
    """One problem in the file, located so an organiser can find and fix it."""

    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        """Render as ``line 4, column band: reason`` (``whole file: reason`` for line 0)."""
        where = f"line {self.line}" if self.line > 0 else "whole file"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """One valid member row, with every value parsed and normalised.

    Slotted: a national file holds a quarter of a million of these, and a slotted record is a
    fifth of the size of one with a ``__dict__``.
    """

    line: int
    member_id: str
    name: str
    email: str
    organisation: str
    organisation_key: str
    region: str
    role_family: str
    band: str
    profession: str
    management_years: int
    line_manager_id: str | None
    seeking_mentor: bool
    mentor_capacity: int
    skills_sought: tuple[str, ...]
    skills_offered: tuple[str, ...]
    goals: str
    meeting_format: str
    outside_organisation_only: bool
    priority_access: bool
    demographics_consent: bool
    ethnicity: str | None
    gender: str | None
    disability: str | None
    age_band: str | None


@dataclass
class ParsedMembers:
    """The outcome of parsing: the rows that passed, every error, and the raw rejected rows."""

    records: list[MemberRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejected_lines: dict[int, list[str]] = field(default_factory=dict)
    # The file's own header, so a rejects file keeps the organiser's column order.
    header: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the whole file is valid (an all-or-nothing import may proceed)."""
        return not self.errors


# The matcher never reads special-category data, so the frame carries none of it, not even the
# consent flag.
_FRAME_COLUMNS: tuple[str, ...] = tuple(
    name
    for name in MemberRecord.__dataclass_fields__
    if name not in DEMOGRAPHIC_COLUMNS and name != "demographics_consent"
)
_FRAME_DTYPES: dict[str, str] = {
    "line": "int64",
    "management_years": "int64",
    "mentor_capacity": "int64",
    "seeking_mentor": "bool",
    "outside_organisation_only": "bool",
    "priority_access": "bool",
}


def organisation_key(name: str) -> str:
    """Return the matching key of an organisation name: case-folded, trimmed, spaces collapsed."""
    return " ".join(name.casefold().split())


def parse_members_csv(
    data: bytes | str,
    *,
    known_skills: Collection[str] | None = None,
    retired_skills: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedMembers:
    """Parse and validate a members CSV; problems are returned as errors, never raised.

    ``known_skills``: the skill ids a member may choose (the framework's, retired ones left
    out); ``retired_skills``: retired ids and their names, so a row naming one is told
    "'<name>' is no longer in the skills framework" rather than that the id is unknown.
    """
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes | str):
        raise TypeError(f"data must be bytes or str, not {type(data).__name__}")
    if isinstance(known_skills, str):
        raise TypeError("known_skills must be a collection of skill ids, not one string")
    skills = frozenset(SKILL_IDS if known_skills is None else known_skills)
    retired = {k: v for k, v in (retired_skills or {}).items() if k not in skills}
    return _Parser(skills, retired).parse(data, max_bytes)


def write_rejects_csv(parsed: ParsedMembers, header: Sequence[str] | None = None) -> str:
    """Render the rejected rows as CSV text: the original columns, then ``line`` and ``reason``."""
    columns = list(header if header is not None else (parsed.header or COLUMNS))
    reasons: dict[int, list[str]] = {}
    file_problems: list[str] = []
    for error in parsed.errors:
        if error.line in parsed.rejected_lines:
            text = f"{error.column}: {error.reason}" if error.column else error.reason
            reasons.setdefault(error.line, []).append(text)
        else:
            file_problems.append(str(error))
    if file_problems:
        more = f" (and {len(file_problems) - 1} more)" if len(file_problems) > 1 else ""
        fallback = f"not imported because the file has errors: {file_problems[0]}{more}"
    else:
        fallback = "not imported"

    width = max([len(columns), *(len(cells) for cells in parsed.rejected_lines.values())])
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\r\n")
    writer.writerow([*columns, *[""] * (width - len(columns)), "line", "reason"])
    for line in sorted(parsed.rejected_lines):
        cells = parsed.rejected_lines[line]
        reason = " | ".join(reasons.get(line, [])) or fallback
        writer.writerow([*cells, *[""] * (width - len(cells)), line, reason])
    return out.getvalue()


def records_to_frame(records: Sequence[MemberRecord]) -> pandas.DataFrame:
    """Build the matcher's member table: one row per member, skills as tuples, no demographics."""
    import pandas as pd  # imported here so the backend's import path does not pay for pandas

    # One column at a time, so only one column's list of values exists beside the series.
    # object dtype keeps None (not NaN) for a missing line manager and tuples as tuples.
    return pd.DataFrame(
        {
            name: pd.Series(
                [getattr(r, name) for r in records], dtype=_FRAME_DTYPES.get(name, object)
            )
            for name in _FRAME_COLUMNS
        }
    )


# ---------------------------------------------------------------------------------------------
# Messages


def _show(value: str) -> str:
    """Quote a cell value for a message: shortened, with invisible characters made visible."""
    if len(value) > _SHOWN_LENGTH:
        value = value[:_SHOWN_LENGTH] + "…"
    value = _INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)
    return f"'{value}'"


def _clean(value: str) -> str:
    """Make a raw value safe to hand back: undecodable characters become U+FFFD."""
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def _list_lines(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:_LISTED_LINES])
    if len(lines) > _LISTED_LINES:
        shown += f" and {len(lines) - _LISTED_LINES} more"
    return shown


def _slug_key(value: str) -> str:
    return _SLUG_NOISE.sub("-", value.strip().casefold())


class _Budget:
    """How many fuzzy suggestions one file may still cost."""

    # difflib takes about half a millisecond a call: a file of 75,000 bad rows must not take
    # minutes to explain. Past the budget, only exact case and spacing slips are suggested.
    def __init__(self, calls: int = 500) -> None:
        self.calls = calls


class _Suggestions:
    """Suggests the allowed value an organiser probably meant: case, spacing or a typo."""

    def __init__(self, allowed: Iterable[str], budget: _Budget) -> None:
        self.allowed = sorted(allowed)  # a set's order varies between runs; messages must not
        self.by_key = {_slug_key(option): option for option in self.allowed}
        self.budget = budget

    def hint(self, value: str) -> str:
        match = self.by_key.get(_slug_key(value))
        if match is None and len(value) <= _SHOWN_LENGTH and self.budget.calls > 0:
            self.budget.calls -= 1
            close = difflib.get_close_matches(value.casefold(), self.allowed, n=1, cutoff=0.75)
            match = close[0] if close else None
        return f" (did you mean '{match}'?)" if match is not None else ""


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n:,} bytes"


# ---------------------------------------------------------------------------------------------
# Cell checks: each takes a trimmed value and returns (parsed value, reason or None).

_Check = Callable[[str], tuple[object, str | None]]


def _check_id(value: str, *, required: bool) -> tuple[str | None, str | None]:
    if not value:
        if required:
            return None, "no value given; every member needs a member_id that no other row uses"
        return None, None
    if len(value) > MAX_MEMBER_ID_LENGTH:
        return None, (
            f"{_show(value)} is {len(value):,} characters long; "
            f"a member_id can have at most {MAX_MEMBER_ID_LENGTH}"
        )
    if _CONTROL.search(value):
        return None, f"{_show(value)} contains a line break or control character"
    return value, None


def _check_member_id(value: str) -> tuple[object, str | None]:
    return _check_id(value, required=True)


def _check_manager_id(value: str) -> tuple[object, str | None]:
    return _check_id(value, required=False)


def _text_check(what: str, empty: str) -> _Check:
    def check(value: str) -> tuple[object, str | None]:
        if not value:
            return None, f"no value given; {empty}"
        if len(value) > MAX_NAME_LENGTH:
            return None, (
                f"{_show(value)} is {len(value):,} characters long; "
                f"{what} can have at most {MAX_NAME_LENGTH}"
            )
        if _CONTROL.search(value):
            return None, (
                f"{_show(value)} contains a line break or control character; "
                f"{what} must be on one line"
            )
        return value, None

    return check


_check_name = _text_check("a name", "every member needs a name")
_check_organisation_text = _text_check("an organisation name", "give the member's organisation")


def _check_organisation(value: str) -> tuple[object, str | None]:
    _, reason = _check_organisation_text(value)
    if reason is not None:
        return None, reason
    return " ".join(value.split()), None


_DOMAIN_VERDICTS: dict[str, str | None] = {}


def _email_problem(address: str) -> str | None:
    """Return why an address is invalid (email-validator's own words), or None."""
    # email-validator spends most of its time on the domain, and a network has few domains, so
    # an address with a plain ASCII local part (which email-validator accepts as it is, before it
    # looks at the domain) is settled by one cached check of its domain. Anything unusual goes to
    # the full validator; a property test holds the shortcut to the validator's own answers.
    local, at, domain = address.rpartition("@")
    if (
        at
        and len(address) <= 254
        and domain.isascii()
        and "xn--" not in domain.lower()
        and _SIMPLE_LOCAL_PART.fullmatch(local)
    ):
        if domain not in _DOMAIN_VERDICTS:
            if len(_DOMAIN_VERDICTS) > 10_000:
                _DOMAIN_VERDICTS.clear()
            _DOMAIN_VERDICTS[domain] = _validator_verdict(f"a@{domain}")
        return _DOMAIN_VERDICTS[domain]
    return _validator_verdict(address)


def _validator_verdict(address: str) -> str | None:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def _check_email(value: str) -> tuple[object, str | None]:
    if not value:
        return None, "no value given; every member needs an email address"
    problem = _email_problem(value)
    if problem is not None:
        return None, f"{_show(value)} is not a valid email address: {problem}"
    return value.lower(), None


def _enum_check(allowed: tuple[str, ...], noun: str, budget: _Budget) -> _Check:
    allowed_set = frozenset(allowed)
    listed = ", ".join(allowed)
    suggestions = _Suggestions(allowed, budget)

    def check(value: str) -> tuple[object, str | None]:
        if value in allowed_set:
            return value, None
        if not value:
            return None, f"no value given; use one of {listed}"
        return None, f"{_show(value)} is not {noun}{suggestions.hint(value)}; use one of {listed}"

    return check


def _int_check(low: int, high: int) -> _Check:
    def check(value: str) -> tuple[object, str | None]:
        if _DIGITS.fullmatch(value) and low <= (number := int(value)) <= high:
            return number, None
        if not value:
            return None, f"no value given; use a whole number from {low} to {high}"
        return None, f"{_show(value)} is not a whole number from {low} to {high}"

    return check


def _yes_no_check(*, required: bool) -> _Check:
    def check(value: str) -> tuple[object, str | None]:
        answer = _YES_NO.get(value.lower())
        if answer is not None:
            return answer, None
        if not value:
            if required:
                return None, "no value given; use yes or no"
            return False, None
        if required:
            return None, f"{_show(value)} is not yes or no; use yes or no"
        return None, f"{_show(value)} is not yes or no; use yes, no, or leave it empty (= no)"

    return check


def _skills_check(known: frozenset[str], retired: Mapping[str, str], budget: _Budget) -> _Check:
    listed = ", ".join(sorted(known)) if 0 < len(known) <= 40 else None
    suggestions = _Suggestions(known, budget)

    def check(value: str) -> tuple[object, str | None]:
        items = [item.strip() for item in value.split(";")]
        wanted = tuple(dict.fromkeys(item for item in items if item))
        gone = [item for item in wanted if item in retired]
        unknown = [item for item in wanted if item not in known and item not in retired]
        if not unknown and not gone:
            return wanted, None
        retired_reason = "; ".join(
            f"{_show(retired[item])} is no longer in the skills framework"
            for item in gone[:_LISTED_LINES]
        )
        if len(gone) > _LISTED_LINES:
            retired_reason += f" (and {len(gone) - _LISTED_LINES} more retired skills)"
        if not unknown:
            return None, retired_reason
        if len(unknown) == 1:
            item = unknown[0]
            reason = f"{_show(item)} is not a known skill id{suggestions.hint(item)}"
        else:
            shown = [f"{_show(item)}{suggestions.hint(item)}" for item in unknown[:_LISTED_LINES]]
            if len(unknown) > _LISTED_LINES:
                shown.append(f"and {len(unknown) - _LISTED_LINES} more")
            reason = f"these are not known skill ids: {', '.join(shown)}"
        if any("," in item for item in unknown):
            reason += "; separate skills with ';', not ','"
        if listed is not None:
            reason += f"; use skill ids from this list: {listed}"
        else:
            reason += "; use the skill ids of the network's skills framework"
        if retired_reason:
            reason = f"{retired_reason}; {reason}"
        return None, reason

    return check


def _check_goals(value: str) -> tuple[object, str | None]:
    value = _LINE_BREAK.sub("\n", value)
    if len(value) > MAX_GOALS_LENGTH:
        return None, (
            f"the goals are {len(value):,} characters long; "
            f"at most {MAX_GOALS_LENGTH:,} are allowed"
        )
    if _CONTROL_IN_GOALS.search(value):
        return None, "the goals contain a control character (only text and line breaks belong)"
    return value, None


def _demographic_check(column: str, options: tuple[str, ...]) -> _Check:
    options_set = frozenset(options)
    listed = ", ".join(options)
    label = column.replace("_", " ")

    # Special-category data: the reason never repeats the value, because error messages travel
    # into logs and screens that are not cleared for it.
    def check(value: str) -> tuple[object, str | None]:
        if not value:
            return None, None
        if value in options_set:
            return value, None
        return (
            None,
            f"this value is not one of the {label} options; use {listed}, or leave it empty",
        )

    return check


_CHECKS: dict[str, _Check] = {
    "member_id": _check_member_id,
    "name": _check_name,
    "email": _check_email,
    "organisation": _check_organisation,
    "management_years": _int_check(0, MAX_MANAGEMENT_YEARS),
    "line_manager_id": _check_manager_id,
    "seeking_mentor": _yes_no_check(required=True),
    "mentor_capacity": _int_check(0, MAX_MENTOR_CAPACITY),
    "goals": _check_goals,
    "outside_organisation_only": _yes_no_check(required=True),
    "priority_access": _yes_no_check(required=True),
    "demographics_consent": _yes_no_check(required=False),
}
_DEMOGRAPHIC_CHECKS: dict[str, _Check] = {
    column: _demographic_check(column, options) for column, options in _DEMOGRAPHIC_OPTIONS.items()
}
_UNIQUE_COLUMNS = frozenset({"member_id", "name", "email", "goals"})
_NO_DEMOGRAPHICS: dict[str, object] = dict.fromkeys(DEMOGRAPHIC_COLUMNS)
# What a column that the header leaves out stands for (only optional columns may be left out).
_ABSENT: dict[str, object] = {
    "line_manager_id": None,
    "skills_sought": (),
    "skills_offered": (),
    "goals": "",
    "demographics_consent": False,
}


# ---------------------------------------------------------------------------------------------
# The parser


_NOTHING: dict[str, object] = {}
_SEPARATOR = "\x00"  # joins a checked row's cells; kept as a list when a cell holds it


class _Row:
    """One data record while it is being checked.

    Once a row passes its own checks, its values become its ``MemberRecord`` and its cells are
    joined into one string (kept for a rejects file, should a check across rows refuse it), so
    a big file is held as compact records rather than as dictionaries and lists of cells.
    """

    __slots__ = ("cells", "errors", "line", "readable", "record", "values")

    def __init__(self, line: int, cells: list[str] | None) -> None:
        self.line = line
        self.cells: list[str] | str | None = cells
        # False when the row's cells cannot be trusted to sit under the right columns.
        self.readable = cells is not None
        self.values: dict[str, object] = {}
        self.record: MemberRecord | None = None
        # Most rows are clean, so the list is only made for the first error.
        self.errors: list[tuple[int, str | None, str]] | tuple[()] = ()

    def get(self, column: str) -> object:
        """A checked value of the row (None when the column is absent or was refused)."""
        record = self.record
        return self.values.get(column) if record is None else getattr(record, column)

    def settle(self) -> None:
        """After its own checks: a clean row keeps only its record and its joined cells."""
        if self.errors or not self.readable or self.record is not None:
            return
        self.record = _record(self)
        self.values = _NOTHING
        cells = self.cells
        if isinstance(cells, list):
            joined = _SEPARATOR.join(cells)
            if joined.count(_SEPARATOR) == len(cells) - 1:
                self.cells = joined

    def raw(self) -> list[str] | None:
        """The row's cells as read."""
        cells = self.cells
        return cells.split(_SEPARATOR) if isinstance(cells, str) else cells

    def error(self, column: str | None, reason: str) -> None:
        rank = -1 if column is None else _COLUMN_RANK.get(column, len(COLUMNS))
        if not self.errors:
            self.errors = []
        self.errors.append((rank, column, reason))


class _Parser:
    """One parse of one file: reads it, checks it, and gathers the outcome."""

    def __init__(self, known_skills: frozenset[str], retired_skills: Mapping[str, str]) -> None:
        self.budget = _Budget()
        self.checks = dict(_CHECKS)
        for column, (allowed, noun) in _ENUM_COLUMNS.items():
            self.checks[column] = _enum_check(allowed, noun, self.budget)
        self.column_suggestions = _Suggestions(COLUMNS, self.budget)
        skills = _skills_check(known_skills, retired_skills, self.budget)
        self.checks["skills_sought"] = skills
        self.checks["skills_offered"] = skills
        # (line, rank, error): whole-file and header problems
        self.file_errors: list[tuple[int, int, RowError]] = []
        self.from_bytes = False
        self.has_undecodable = False
        self.header_line = 0
        self.header: list[str] = []
        self.positions: dict[str, int] = {}
        self.width = 0
        # False when the first row names no known column: then rows are not checked at all.
        self.header_usable = False
        self.steps: list[tuple[str, int, _Check, dict[str, tuple[object, str | None]] | None]] = []
        self.absent: dict[str, object] = {}
        self.demographic_steps: list[tuple[str, int, _Check]] = []
        self.demographic_positions: list[int] = []
        # Set when the file cannot be trusted as a whole: nothing is accepted, all rows rejected.
        self.broken = False

    # -- whole file ----------------------------------------------------------------------------

    def file_error(self, line: int, column: str | None, reason: str, rank: int = -1) -> None:
        self.file_errors.append((line, rank, RowError(line, column, reason)))
        self.broken = True

    def parse(self, data: bytes | str, max_bytes: int) -> ParsedMembers:
        text = self.decode(data, max_bytes)
        if text is None:
            return self.result([])
        rows = self.read_rows(text)
        if self.header_line == 0:
            if not self.broken:
                self.file_error(0, None, "the file is empty; it needs a header row and members")
            return self.result(rows)
        if not rows and not self.broken:
            self.file_error(0, None, "the file has a header row but no members below it")
        if self.header_usable:
            for row in rows:
                self.check_row(row)
                if not self.broken:  # a broken file's rows are all rejected: none settles
                    row.settle()
            self.check_across_rows(rows)
        return self.result(rows)

    def decode(self, data: bytes | str, max_bytes: int) -> str | None:
        """Return the text to parse, or None after reporting why the file cannot be read."""
        if isinstance(data, str):
            size = len(data.encode("utf-8", "surrogatepass"))
        else:
            size = len(data)
            self.from_bytes = True
        if size > max_bytes:
            self.file_error(
                0,
                None,
                f"the file is {_size(size)}, over the limit of {_size(max_bytes)}; "
                "split it into smaller files",
            )
            return None
        if isinstance(data, bytes):
            problem = _sniff_format(data)
            if problem is not None:
                self.file_error(0, None, problem)
                return None
            # A UTF-8 BOM is what Excel's "CSV UTF-8" writes; it is not part of the header.
            text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")
        else:
            text = data.removeprefix("\ufeff")
        self.has_undecodable = _SURROGATE.search(text) is not None
        return text

    def read_rows(self, text: str) -> list[_Row]:
        """Split the text into records, remembering the line where each one starts."""
        # strict: a stray quote is reported instead of silently garbling the values around it.
        # Lines are sliced from the text as the reader asks for them: an io.StringIO would hold
        # a second copy of the file, at four bytes a character.
        lines = (match.group() for match in _RECORD_LINE.finditer(text))
        reader = csv.reader(lines, strict=True, skipinitialspace=True)
        rows: list[_Row] = []
        end = 0  # the line where the previous record ended
        while True:
            # The for loop is the fast path; the csv module's errors resume it from the next line.
            try:
                for cells in reader:
                    start, end = end + 1, reader.line_num
                    if not cells or not "".join(cells).strip():
                        continue  # blank lines and spreadsheet padding rows like ",,,,"
                    if self.header_line == 0:
                        self.read_header(start, cells)
                    else:
                        rows.append(_Row(start, cells))
            except csv.Error as exc:
                start, end = end + 1, reader.line_num
                if self.csv_problem(start, end, str(exc), rows):
                    break
                continue
            break
        return rows

    def csv_problem(self, start: int, end: int, message: str, rows: list[_Row]) -> bool:
        """Report a record the csv module could not split; True when reading must stop."""
        if "end of data" in message:
            reason = (
                'a quoted value that starts on this line is never closed (a closing " is '
                "missing), so the rest of the file could not be read"
            )
            lost_track = True
        elif "field larger" in message:
            limit = csv.field_size_limit()
            reason = f"a value is longer than {limit:,} characters"
            # Past a huge value that spans lines we no longer know where rows start.
            lost_track = end > start
            if lost_track:
                reason += "; probably a quote opened here is never closed"
        elif "expected after" in message:
            reason = (
                "a closing quote must be followed by a comma or the end of the line; to put "
                'a " inside a value, double it ("") and put the whole value in quotes'
            )
            lost_track = False
        else:
            reason = f"this row could not be read as CSV ({message})"
            lost_track = False
        if self.header_line == 0:
            self.file_error(start, None, f"the header row could not be read: {reason}")
            return True
        if lost_track:
            # Row boundaries are lost from here on, so this is a problem of the whole file.
            self.file_error(start, None, reason)
            return True
        row = _Row(start, None)
        row.error(None, reason)
        rows.append(row)
        return False

    def read_header(self, line: int, cells: list[str]) -> None:
        """Check the header and work out which position holds which column."""
        self.header_line = line
        self.header = [_clean(cell) for cell in cells]
        names = [cell.strip() for cell in cells]
        if names:
            names[0] = names[0].removeprefix("\ufeff").strip()
        while names and not names[-1]:
            names.pop()  # spreadsheets pad the header with empty columns
        self.width = len(names)

        if not any(name in _COLUMN_RANK for name in names):
            self.file_error(line, None, _not_a_header(names))
            return
        self.header_usable = True

        seen: dict[str, list[int]] = {}
        strangers = 0  # columns that are not ours; past a few, one summary says how many more
        for position, name in enumerate(names):
            if name in _COLUMN_RANK:
                seen.setdefault(name, []).append(position)
                continue
            strangers += 1
            if strangers > _LISTED_COLUMNS:
                continue
            if _SURROGATE.search(name):
                self.file_error(
                    line,
                    None,
                    f"column {position + 1} of the header has a name that is not "
                    "valid UTF-8; save the file as 'CSV UTF-8'",
                    len(COLUMNS) + position,
                )
            elif not name:
                self.file_error(
                    line,
                    None,
                    f"column {position + 1} of the header has no name; every column "
                    "with values needs one of the documented names",
                    len(COLUMNS) + position,
                )
            else:
                hint = self.column_suggestions.hint(name)
                shown = _show(name)
                self.file_error(
                    line,
                    shown[1:-1],
                    f"{shown} is not a column of the members CSV{hint}; "
                    f"remove it or use one of {', '.join(COLUMNS)}",
                    len(COLUMNS) + position,
                )
        if strangers > _LISTED_COLUMNS:
            self.file_error(
                line,
                None,
                f"and {strangers - _LISTED_COLUMNS:,} more columns that are not columns of the "
                "members CSV",
                len(COLUMNS) + len(names),
            )
        for name, positions in seen.items():
            if len(positions) > 1:
                where = _list_lines([p + 1 for p in positions])
                self.file_error(
                    line,
                    name,
                    f"the column appears {len(positions)} times in the header "
                    f"(positions {where}); keep one",
                    _COLUMN_RANK[name],
                )
            else:
                self.positions[name] = positions[0]
        self.plan()
        for name in COLUMNS:
            if name in REQUIRED_COLUMNS and name not in seen:
                self.file_error(
                    line,
                    name,
                    "this required column is missing from the header",
                    _COLUMN_RANK[name],
                )

    # -- one row -------------------------------------------------------------------------------

    def plan(self) -> None:
        """Decide once, after the header, which check reads which position."""
        # Values repeat down a column (bands, regions, organisations, skill lists), so those
        # columns remember their verdicts for this file; ids, names and emails are unique anyway.
        self.steps = [
            (column, position, check, None if column in _UNIQUE_COLUMNS else {})
            for column, position in self.positions.items()
            if (check := self.checks.get(column)) is not None
        ]
        self.absent = {c: d for c, d in _ABSENT.items() if c not in self.positions}
        # Every header position named like a demographic column, repeated ones included.
        self.demographic_positions = [
            position
            for position, name in enumerate(self.header)
            if name.strip() in DEMOGRAPHIC_COLUMNS
        ]
        self.demographic_steps = [
            (column, self.positions[column], check)
            for column, check in _DEMOGRAPHIC_CHECKS.items()
            if column in self.positions
        ]

    def check_row(self, row: _Row) -> None:
        """Check every cell of one row, collecting all of its problems."""
        cells = row.cells
        if not isinstance(cells, list):
            return
        if len(cells) > self.width:
            if any(cell.strip() for cell in cells[self.width :]):
                problem = (
                    f"this row has {len(cells)} values but the header has {self.width} "
                    "columns; a value with a comma in it must be put in double quotes"
                )
                row.error(None, problem)
                row.readable = False
            else:
                cells = cells[: self.width]
        elif len(cells) < self.width:
            problem = (
                f"this row has {len(cells)} values but the header has {self.width} columns; "
                "a value with a line break in it must be put in double quotes"
            )
            row.error(None, problem)
            row.readable = False
        if not row.readable:
            # The cells are misaligned, so only the id is worth keeping (other rows may name it).
            position = self.positions.get("member_id")
            if position is not None and position < len(cells):
                row.values["member_id"] = cells[position].strip() or None
            return

        values = row.values
        undecodable = self.undecodable(row, cells) if self.has_undecodable else None
        for column, position, check, memo in self.steps:
            if undecodable and column in undecodable:
                continue
            raw = cells[position]
            if memo is None:
                verdict = check(raw.strip())
            else:
                cached = memo.get(raw)
                if cached is None:
                    cached = memo[raw] = check(raw.strip())
                verdict = cached
            parsed, reason = verdict
            if reason is None:
                values[column] = parsed
            else:
                row.error(column, reason)
        values.update(self.absent)
        if "organisation" in values:
            values["organisation_key"] = organisation_key(cast(str, values["organisation"]))

        values.update(_NO_DEMOGRAPHICS)
        if values.get("demographics_consent") is True:
            for column, position, check in self.demographic_steps:
                if undecodable and column in undecodable:
                    continue
                parsed, reason = check(cells[position].strip())
                if reason is None:
                    values[column] = parsed
                else:
                    row.error(column, reason)

    def undecodable(self, row: _Row, cells: list[str]) -> set[str]:
        """Report cells holding bytes that were not UTF-8; return their columns."""
        names = {position: column for column, position in self.positions.items()}
        found: set[str] = set()
        for position, cell in enumerate(cells):
            match = _SURROGATE.search(cell)
            if match is None:
                continue
            column = names.get(position)
            # The cell's line: the record's start plus the line breaks before it and in it.
            before = sum(len(_LINE_BREAK.findall(c)) for c in cells[:position])
            line = row.line + before + len(_LINE_BREAK.findall(cell[: match.start()]))
            if self.from_bytes:
                byte = ord(match.group()) - 0xDC00
                what = f"byte 0x{byte:02X}, which is not valid UTF-8"
                if not 0x80 <= byte <= 0xFF:
                    what = "text that is not valid UTF-8"
            else:
                what = "a character that cannot be stored as UTF-8"
            where = f" on line {line}" if line != row.line else ""
            reason = f"contains {what}{where}; save the file as 'CSV UTF-8'"
            if column is None:
                row.error(None, f"column {position + 1} {reason}")
            else:
                row.error(column, reason)
                found.add(column)
        return found

    # -- across rows ---------------------------------------------------------------------------

    def check_across_rows(self, rows: list[_Row]) -> None:
        """Check what no single row can show: unique ids and emails, and line management."""
        by_id: dict[str, list[_Row]] = {}
        by_email: dict[str, list[_Row]] = {}
        for row in rows:
            member_id = row.get("member_id")
            if isinstance(member_id, str):
                by_id.setdefault(member_id, []).append(row)
            email = row.get("email")
            if isinstance(email, str) and row.readable:
                by_email.setdefault(email, []).append(row)

        for member_id, owners in by_id.items():
            if len(owners) > 1:
                reason = (
                    f"{_show(member_id)} is used on more than one row (lines "
                    f"{_list_lines([r.line for r in owners])}); every member needs their own "
                    "member_id"
                )
                for row in owners:
                    if row.readable:
                        row.error("member_id", reason)
        for email, owners in by_email.items():
            if len(owners) > 1:
                reason = (
                    f"{_show(email)} is used on more than one row (lines "
                    f"{_list_lines([r.line for r in owners])}, ignoring capitals); every member "
                    "needs their own email address"
                )
                for row in owners:
                    row.error("email", reason)

        if "member_id" not in self.positions or "line_manager_id" not in self.positions:
            return
        manager_of: dict[_Row, _Row] = {}
        for row in rows:
            manager_id = row.get("line_manager_id")
            if not row.readable or not isinstance(manager_id, str):
                continue
            own_id = row.get("member_id")
            if manager_id == own_id:
                reason = (
                    f"{_show(manager_id)} is this member's own member_id; a member cannot be "
                    "their own line manager"
                )
                row.error("line_manager_id", reason)
            elif manager_id not in by_id:
                reason = (
                    f"{_show(manager_id)} is not the member_id of any row in this file; use "
                    "another member's member_id, or leave it empty"
                )
                row.error("line_manager_id", reason)
            elif (
                len(by_id[manager_id]) == 1 and isinstance(own_id, str) and len(by_id[own_id]) == 1
            ):
                # Duplicated ids are already errors; a ring through them would be guesswork.
                manager_of[row] = by_id[manager_id][0]
        self.check_cycles(manager_of)
        self.reject_dependants(rows, by_id)

    def check_cycles(self, manager_of: dict[_Row, _Row]) -> None:
        """Report every ring of members who are, up the chain, each other's line managers."""
        done: set[_Row] = set()
        for first in manager_of:
            path: list[_Row] = []
            on_path: dict[_Row, int] = {}
            row: _Row | None = first
            while row is not None and row not in done and row not in on_path:
                on_path[row] = len(path)
                path.append(row)
                row = manager_of.get(row)
            if row is not None and row in on_path:
                ring = path[on_path[row] :]
                shown = [f"line {r.line} ({_show(str(r.get('member_id')))})" for r in ring]
                if len(shown) > 8:
                    shown = [*shown[:8], f"{len(shown) - 8} more"]
                chain = " → ".join([*shown, f"back to line {ring[0].line}"])
                reason = (
                    f"line management goes round in a circle: {chain}; at least one of them "
                    "needs a different line_manager_id"
                )
                for member in ring:
                    member.error("line_manager_id", reason)
            done.update(path)

    def reject_dependants(self, rows: list[_Row], by_id: dict[str, list[_Row]]) -> None:
        """Reject rows whose line manager's row was rejected: the chain must arrive whole."""
        # The matcher keeps line-management chains apart; a chain with a missing link would let
        # a manager's manager mentor their own report, so such rows cannot be accepted alone.
        reports: dict[str, list[_Row]] = {}
        for row in rows:
            manager_id = row.get("line_manager_id")
            if row.readable and not row.errors and isinstance(manager_id, str):
                reports.setdefault(manager_id, []).append(row)
        queue = [row for row in rows if row.errors or not row.readable]
        while queue:
            rejected = queue.pop()
            member_id = rejected.get("member_id")
            if not isinstance(member_id, str):
                continue
            for report in reports.pop(member_id, []):
                if report.errors:
                    continue
                lines = [r.line for r in by_id[member_id]]
                where = f"line{'s' if len(lines) > 1 else ''} {_list_lines(lines)}"
                reason = (
                    f"the line manager {_show(member_id)} ({where}) has errors, so this row "
                    "cannot be imported until that row is fixed"
                )
                report.error("line_manager_id", reason)
                queue.append(report)

    # -- outcome -------------------------------------------------------------------------------

    def result(self, rows: list[_Row]) -> ParsedMembers:
        """Gather records, sorted errors and the raw rejected rows."""
        # Rows arrive in line order, so only each row's few errors need sorting; whole-file
        # problems sit before the rows (line 0 or the header) or after them (reading stopped).
        file_errors = sorted(self.file_errors, key=lambda item: item[:2])
        before = [error for line, _, error in file_errors if line <= self.header_line]
        after = [error for line, _, error in file_errors if line > self.header_line]
        errors: list[RowError] = before
        records: list[MemberRecord] = []
        rejected: dict[int, list[str]] = {}
        for row in rows:
            if row.errors:
                line = row.line
                for _, column, reason in sorted(row.errors, key=_by_rank):
                    errors.append(RowError(line, column, reason))
                rejected[line] = self.raw_cells(row)
            elif self.broken:
                rejected[row.line] = self.raw_cells(row)
            else:
                records.append(row.record or _record(row))
            row.values = _NOTHING  # the row's share of memory goes as its record is taken
        errors.extend(after)
        return ParsedMembers(
            records=records, errors=errors, rejected_lines=rejected, header=self.header
        )

    def raw_cells(self, row: _Row) -> list[str]:
        """The row's cells for a rejects file, without demographics given without consent."""
        raw = row.raw()
        if raw is None:
            return []
        cells = [_clean(cell) for cell in raw] if self.has_undecodable else list(raw)
        consent_at = self.positions.get("demographics_consent")
        consented = (
            consent_at is not None
            and consent_at < len(cells)
            and cells[consent_at].strip().lower() == "yes"
        )
        if not consented:
            # Special-category data travels on only with the member's consent.
            for position in self.demographic_positions:
                if position < len(cells):
                    cells[position] = ""
        return cells


def _by_rank(error: tuple[int, str | None, str]) -> int:
    return error[0]


# Each field's slot, set directly: a frozen dataclass's __init__ goes through a keyword call and
# a checked __setattr__ per field, a large share of the time on a national file.
_RECORD_SLOTS = tuple(
    (name, getattr(MemberRecord, name).__set__)
    for name in MemberRecord.__dataclass_fields__
    if name != "line"
)
_SET_LINE = MemberRecord.line.__set__  # type: ignore[attr-defined,misc]  # the slot descriptor, read off the class


def _record(row: _Row) -> MemberRecord:
    # row.values holds exactly the fields, checked, and MemberRecord has no __post_init__ to
    # skip, so the instance is filled slot by slot.
    record = object.__new__(MemberRecord)
    values = row.values
    for name, put in _RECORD_SLOTS:
        put(record, values[name])
    _SET_LINE(record, row.line)
    return record


def _sniff_format(data: bytes) -> str | None:
    """Recognise files that are clearly not a UTF-8 CSV, to say what to do instead."""
    save_as = "open it in your spreadsheet and save it as 'CSV UTF-8 (comma delimited)'"
    if data.startswith(b"PK\x03\x04"):
        return f"this is a zip file (an Excel .xlsx workbook?), not a CSV file; {save_as}"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return f"this is an Excel 97-2003 workbook (.xls), not a CSV file; {save_as}"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"this file is saved as UTF-16 ('Unicode text'), not UTF-8; {save_as}"
    head = data[:512]
    if head and head.count(0) * 4 > len(head):
        return f"this file is mostly zero bytes (UTF-16 text, or not text at all); {save_as}"
    return None


def _not_a_header(names: list[str]) -> str:
    first = names[0] if names else ""
    for separator, label in ((";", "semicolons"), ("\t", "tabs")):
        if separator in first and any(
            part.strip() in _COLUMN_RANK for part in first.split(separator)
        ):
            return (
                f"the columns are separated by {label}, not commas; save the file as "
                "'CSV UTF-8 (comma delimited)'"
            )
    found = ", ".join(_show(name) for name in names[:4])
    return (
        "the first row must be the header naming the columns (member_id, name, email, ...); "
        f"found {found}"
    )
