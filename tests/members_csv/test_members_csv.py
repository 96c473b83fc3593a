"""The members CSV parser: what an organiser importing a file, and the matcher, rely on."""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import members_csv
from members_csv import (
    COLUMNS,
    DEMOGRAPHIC_COLUMNS,
    FORMAT_VERSION,
    REQUIRED_COLUMNS,
    MemberRecord,
    ParsedMembers,
    RowError,
    organisation_key,
    parse_members_csv,
    records_to_frame,
    write_rejects_csv,
)
from vocabulary import (
    AGE_BANDS,
    BANDS,
    ETHNICITIES,
    GENDERS,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    SKILL_IDS,
)

# Cheap inputs get many examples; structured ones (slow to generate) fewer, to keep the suite fast.
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ_STRUCTURED = settings(FUZZ, max_examples=60)

# -- small factories ---------------------------------------------------------------------------


def member(n: int = 1, **overrides: str) -> dict[str, str]:
    """One valid row as the organiser's spreadsheet would hold it (every value a string)."""
    row = {
        "member_id": f"M{n}",
        "name": f"Member {n}",
        "email": f"member{n}@nhs.net",
        "organisation": "Leeds Teaching Hospitals",
        "region": "North East and Yorkshire",
        "role_family": "operational-management",
        "band": "6",
        "profession": "non-clinical",
        "management_years": "3",
        "line_manager_id": "",
        "seeking_mentor": "yes",
        "mentor_capacity": "0",
        "skills_sought": "quality-improvement;budget-management",
        "skills_offered": "",
        "goals": "Run my first budget round.",
        "meeting_format": "remote",
        "outside_organisation_only": "no",
        "priority_access": "no",
        "demographics_consent": "",
        "ethnicity": "",
        "gender": "",
        "disability": "",
        "age_band": "",
    }
    row.update(overrides)
    return row


def to_csv(rows: list[dict[str, str]], columns: tuple[str, ...] | list[str] = COLUMNS) -> str:
    """Write rows the way a spreadsheet does: RFC 4180 quoting, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue()


def parse(rows: list[dict[str, str]], **kwargs: object) -> ParsedMembers:
    return parse_members_csv(to_csv(rows).encode("utf-8"), **kwargs)  # type: ignore[arg-type]


def only_error(parsed: ParsedMembers) -> RowError:
    assert len(parsed.errors) == 1, [str(e) for e in parsed.errors]
    return parsed.errors[0]


# -- a valid file ------------------------------------------------------------------------------


def test_a_valid_file_round_trips_to_records() -> None:
    # Given a mentor and a mentee who reports to them, with every column filled
    mentor = member(
        1,
        name="Priya Shah",
        email=" Priya.Shah@NHS.net ",
        band="8b",
        management_years="12",
        seeking_mentor="no",
        mentor_capacity="2",
        skills_sought="",
        skills_offered="quality-improvement;team-leadership",
        goals="",
        meeting_format="either",
        priority_access="no",
        demographics_consent="yes",
        ethnicity="asian",
        gender="woman",
        disability="no",
        age_band="45-54",
    )
    mentee = member(2, line_manager_id="M1", outside_organisation_only="yes", priority_access="yes")

    # When the file is parsed
    parsed = parse([mentor, mentee])

    # Then both rows come back as records, every value typed and normalised
    assert parsed.ok and parsed.errors == [] and parsed.rejected_lines == {}
    assert parsed.records == [
        MemberRecord(
            line=2,
            member_id="M1",
            name="Priya Shah",
            email="priya.shah@nhs.net",
            organisation="Leeds Teaching Hospitals",
            organisation_key="leeds teaching hospitals",
            region="North East and Yorkshire",
            role_family="operational-management",
            band="8b",
            profession="non-clinical",
            management_years=12,
            line_manager_id=None,
            seeking_mentor=False,
            mentor_capacity=2,
            skills_sought=(),
            skills_offered=("quality-improvement", "team-leadership"),
            goals="",
            meeting_format="either",
            outside_organisation_only=False,
            priority_access=False,
            demographics_consent=True,
            ethnicity="asian",
            gender="woman",
            disability="no",
            age_band="45-54",
        ),
        MemberRecord(
            line=3,
            member_id="M2",
            name="Member 2",
            email="member2@nhs.net",
            organisation="Leeds Teaching Hospitals",
            organisation_key="leeds teaching hospitals",
            region="North East and Yorkshire",
            role_family="operational-management",
            band="6",
            profession="non-clinical",
            management_years=3,
            line_manager_id="M1",
            seeking_mentor=True,
            mentor_capacity=0,
            skills_sought=("quality-improvement", "budget-management"),
            skills_offered=(),
            goals="Run my first budget round.",
            meeting_format="remote",
            outside_organisation_only=True,
            priority_access=True,
            demographics_consent=False,
            ethnicity=None,
            gender=None,
            disability=None,
            age_band=None,
        ),
    ]


def test_the_public_constants_describe_format_version_1() -> None:
    # Given the documented interface, then the constants agree with it
    assert FORMAT_VERSION == "1"
    assert COLUMNS[:3] == ("member_id", "name", "email") and len(COLUMNS) == 23
    assert len(set(COLUMNS)) == len(COLUMNS)
    assert set(COLUMNS) > REQUIRED_COLUMNS
    assert "line_manager_id" not in REQUIRED_COLUMNS and "goals" not in REQUIRED_COLUMNS
    assert DEMOGRAPHIC_COLUMNS == ("ethnicity", "gender", "disability", "age_band")


def test_every_allowed_value_of_every_enumeration_is_accepted() -> None:
    # Given one row per allowed value of each enumeration (and each demographic option)
    longest = max(len(REGIONS), len(ROLE_FAMILIES), len(BANDS), len(PROFESSIONS), 7)
    rows = [
        member(
            i,
            region=REGIONS[i % len(REGIONS)],
            role_family=ROLE_FAMILIES[i % len(ROLE_FAMILIES)],
            band=BANDS[i % len(BANDS)],
            profession=PROFESSIONS[i % len(PROFESSIONS)],
            meeting_format=MEETING_FORMATS[i % len(MEETING_FORMATS)],
            demographics_consent="yes",
            ethnicity=ETHNICITIES[i % len(ETHNICITIES)],
            gender=GENDERS[i % len(GENDERS)],
            age_band=AGE_BANDS[i % len(AGE_BANDS)],
            skills_offered=SKILL_IDS[i % len(SKILL_IDS)],
        )
        for i in range(longest)
    ]
    # When parsed, then none is refused
    parsed = parse(rows)
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert {r.band for r in parsed.records} == set(BANDS)


def test_surrounding_whitespace_and_the_case_of_yes_and_no_are_forgiven() -> None:
    # Given values padded with spaces and yes/no in any case
    row = member(
        band=" 8a ",
        region="  London\t",
        seeking_mentor="YES",
        outside_organisation_only=" No ",
        priority_access="Yes",
        management_years=" 07 ",
        mentor_capacity="\u00a03",
    )
    # When parsed
    [record] = parse([row]).records
    # Then the values are read as meant
    assert (record.band, record.region) == ("8a", "London")
    assert record.seeking_mentor is True and record.outside_organisation_only is False
    assert record.priority_access is True
    assert (record.management_years, record.mentor_capacity) == (7, 3)


def test_skills_are_trimmed_deduplicated_and_empty_items_ignored() -> None:
    # Given a messy skills cell
    row = member(skills_sought=" quality-improvement ; ;budget-management;quality-improvement;")
    # When parsed, then the skills are clean, in the order first written
    [record] = parse([row]).records
    assert record.skills_sought == ("quality-improvement", "budget-management")


def test_known_skills_replaces_the_standard_skills_framework() -> None:
    # Given a network that added its own skill
    row = member(skills_sought="rota-design", skills_offered="")
    # When parsed against the network's framework, then the skill is accepted
    [record] = parse([row], known_skills={"rota-design"}).records
    assert record.skills_sought == ("rota-design",)
    # And against the standard framework it is refused
    assert only_error(parse([row])).column == "skills_sought"


def test_a_retired_skill_is_refused_by_name() -> None:
    # Given a framework where "rota-design" is retired (not among the ids one may choose)
    known = {"quality-improvement", "budget-management"}
    retired = {"rota-design": "Rota design"}
    rows = [
        member(1, skills_sought="rota-design", skills_offered=""),
        member(2, skills_sought="quality-improvement", skills_offered=""),
        member(3, skills_sought="rota-design;no-such-skill", skills_offered=""),
    ]
    # When parsed, then the row naming it is told it is retired, by its name
    parsed = parse(rows, known_skills=known, retired_skills=retired)
    by_line = {e.line: e for e in parsed.errors}
    assert sorted(by_line) == [2, 4]
    assert by_line[2].column == "skills_sought"
    assert by_line[2].reason == "'Rota design' is no longer in the skills framework"
    assert by_line[4].reason.startswith("'Rota design' is no longer in the skills framework; ")
    assert "'no-such-skill' is not a known skill id" in by_line[4].reason
    assert [r.member_id for r in parsed.records] == ["M2"]
    # And an id both choosable and listed as retired is choosable
    assert parse(rows[:1], known_skills={"rota-design"}, retired_skills=retired).ok


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out() -> None:
    # Given a file with only the required columns, in reverse order
    columns = [c for c in reversed(COLUMNS) if c in REQUIRED_COLUMNS]
    text = to_csv([member(1), member(2)], columns)
    # When parsed
    parsed = parse_members_csv(text)
    # Then the optional values take their empty meaning
    assert parsed.ok, [str(e) for e in parsed.errors]
    record = parsed.records[0]
    assert record.line_manager_id is None and record.goals == ""
    assert record.skills_sought == () and record.skills_offered == ()
    assert record.demographics_consent is False and record.ethnicity is None


def test_str_and_bytes_parse_the_same_and_any_line_ending_is_read() -> None:
    # Given the same file with CRLF, LF and CR line ends, as text and as bytes
    text = to_csv([member(1), member(2, goals="two\r\nlines")])
    variants = [text, text.encode(), text.replace("\r\n", "\n"), text.replace("\r\n", "\r")]
    # When each is parsed, then the records and their line numbers agree
    lines = [[(r.line, r.member_id) for r in parse_members_csv(v).records] for v in variants]
    assert lines == [[(2, "M1"), (3, "M2")]] * 4


def test_blank_lines_and_padding_rows_are_skipped_without_shifting_line_numbers() -> None:
    # Given blank lines and a spreadsheet's empty ",,,," row between members
    header, first, second = to_csv([member(1), member(2, band="X")]).splitlines()
    text = "\r\n".join([header, "", first, ",,,,", "   ", second]) + "\r\n"
    # When parsed
    parsed = parse_members_csv(text)
    # Then the bad row is reported at its real line (6)
    assert [r.line for r in parsed.records] == [3]
    assert only_error(parsed).line == 6


def test_quoted_commas_quotes_and_line_breaks_in_goals_keep_later_line_numbers_right() -> None:
    # Given goals with commas, quotes and line breaks (three physical lines), then a bad row
    goals = 'Lead, not manage.\r\nSay "no" well,\r\nand budget.'
    parsed = parse([member(1, goals=goals), member(2, band="10")])
    # When parsed, then the goals survive (line breaks as \n) ...
    assert parsed.records[0].goals == 'Lead, not manage.\nSay "no" well,\nand budget.'
    # ... and the bad row is reported on its own physical line, after the three of the first
    error = only_error(parsed)
    assert (error.line, error.column) == (5, "band")


def test_non_ascii_names_and_organisations_survive() -> None:
    # Given names and organisations in several scripts
    rows = [
        member(1, name="Siân Ó Súilleabháin", organisation="Ysbyty Gwynedd – Bangor"),
        member(2, name="李雷", email="li.lei@nhs.net"),
        member(3, name="Zoë Ødegård 👩🏽‍⚕️", email="zoe@nhs.net"),
    ]
    # When parsed from UTF-8 bytes
    parsed = parse(rows)
    # Then they come back unchanged
    assert parsed.ok
    assert [r.name for r in parsed.records] == ["Siân Ó Súilleabháin", "李雷", "Zoë Ødegård 👩🏽‍⚕️"]
    assert parsed.records[0].organisation == "Ysbyty Gwynedd – Bangor"


def test_organisation_names_differing_only_in_case_and_spaces_share_a_key() -> None:
    # Given the same trust typed three ways
    rows = [
        member(1, organisation="Leeds Teaching Hospitals"),
        member(2, organisation="  leeds   teaching HOSPITALS "),
        member(3, organisation="LEEDS\u00a0Teaching Hospitals"),
        member(4, organisation="Leeds Community Healthcare"),
    ]
    # When parsed
    records = parse(rows).records
    # Then they share one key, the spelling as written is kept (trimmed, spaces collapsed)
    assert {r.organisation_key for r in records[:3]} == {"leeds teaching hospitals"}
    assert records[3].organisation_key != records[0].organisation_key
    assert records[1].organisation == "leeds teaching HOSPITALS"


def test_organisation_key_casefolds_trims_and_collapses_spaces() -> None:
    assert organisation_key("  Straße  Trust\t") == "strasse trust"
    assert organisation_key("A\n B") == organisation_key("a b")


def test_email_is_trimmed_and_lower_cased() -> None:
    [record] = parse([member(email="  Jo.Bloggs@NHS.NET ")]).records
    assert record.email == "jo.bloggs@nhs.net"


# -- bad cells ---------------------------------------------------------------------------------

BAD_CELLS = [
    # column, value, words the reason must contain
    ("member_id", "", ["no value given"]),
    ("member_id", "x" * 101, ["at most 100"]),
    ("name", "", ["no value given", "name"]),
    ("name", "n" * 201, ["201 characters", "at most 200"]),
    ("name", "Ann\nLee", ["line break", "one line"]),
    ("name", "Ann\x00Lee", ["control character"]),
    ("email", "", ["no value given", "email"]),
    ("email", "not-an-email", ["'not-an-email' is not a valid email address"]),
    ("email", "ann@localhost", ["'ann@localhost' is not a valid email address"]),
    ("email", "Ann <ann@nhs.net>", ["not a valid email address"]),
    ("organisation", "", ["no value given"]),
    ("organisation", "o" * 201, ["at most 200"]),
    ("region", "Scotland", ["'Scotland' is not an NHS England region", "North West", "London"]),
    ("region", "north west", ["did you mean 'North West'?"]),
    ("region", "", ["no value given", "South West"]),
    ("role_family", "ops", ["'ops' is not a role family", "operational-management"]),
    ("band", "10", ["'10' is not a band", "2, 3, 4, 5, 6, 7, 8a, 8b, 8c, 8d, 9, VSM"]),
    ("band", "8A", ["did you mean '8a'?"]),
    ("band", "1", ["'1' is not a band"]),
    ("profession", "surgeon", ["'surgeon' is not a profession", "doctor"]),
    ("management_years", "-1", ["'-1' is not a whole number from 0 to 60"]),
    ("management_years", "61", ["'61' is not a whole number from 0 to 60"]),
    ("management_years", "2.5", ["'2.5' is not a whole number"]),
    ("management_years", "9" * 5000, ["is not a whole number from 0 to 60", "…"]),
    ("management_years", "", ["no value given", "0 to 60"]),
    ("seeking_mentor", "y", ["'y' is not yes or no"]),
    ("seeking_mentor", "", ["no value given", "yes or no"]),
    ("mentor_capacity", "11", ["'11' is not a whole number from 0 to 10"]),
    ("mentor_capacity", "three", ["'three' is not a whole number from 0 to 10"]),
    ("skills_sought", "leadership", ["'leadership' is not a known skill id (did you mean 'team-"]),
    ("skills_offered", "Quality Improvement", ["did you mean 'quality-improvement'?"]),
    ("skills_sought", "quality-improvement,budget-management", ["separate skills with ';'"]),
    ("skills_sought", "a;quality-improvement;b", ["these are not known skill ids: 'a', 'b'"]),
    ("goals", "g" * 2001, ["2,001 characters", "at most 2,000"]),
    ("goals", "bell\x07", ["control character"]),
    ("meeting_format", "video", ["'video' is not a meeting format", "in-person"]),
    ("outside_organisation_only", "true", ["'true' is not yes or no"]),
    ("priority_access", "1", ["'1' is not yes or no"]),
    ("demographics_consent", "maybe", ["'maybe' is not yes or no", "leave it empty"]),
    ("line_manager_id", "M99", ["'M99' is not the member_id of any row"]),
]


@pytest.mark.parametrize(("column", "value", "words"), BAD_CELLS)
def test_each_kind_of_bad_cell_names_its_line_column_and_reason(
    column: str, value: str, words: list[str]
) -> None:
    # Given a good first member and a second with one bad cell
    parsed = parse([member(1), member(2, **{column: value})])
    # When parsed, then exactly that cell is reported, at line 3, with a reason that says why
    error = only_error(parsed)
    assert (error.line, error.column) == (3, column)
    for word in words:
        assert word in error.reason
    # And the good row still passes while the bad one is kept for a rejects file
    assert [r.member_id for r in parsed.records] == ["M1"]
    assert list(parsed.rejected_lines) == [3]


def test_the_reason_reads_as_plain_english() -> None:
    error = only_error(parse([member(1), member(2), member(3, band="10")]))
    assert str(error) == (
        "line 4, column band: '10' is not a band; use one of 2, 3, 4, 5, 6, 7, 8a, 8b, 8c, 8d, "
        "9, VSM"
    )
    assert str(RowError(0, None, "the file is empty")) == "whole file: the file is empty"


def test_a_row_with_several_bad_cells_reports_all_of_them_in_column_order() -> None:
    # Given one row with four problems
    row = member(priority_access="maybe", band="99", email="nope", name="")
    # When parsed
    parsed = parse([row])
    # Then each is reported, in the order of the documented columns
    assert [(e.line, e.column) for e in parsed.errors] == [
        (2, "name"),
        (2, "email"),
        (2, "band"),
        (2, "priority_access"),
    ]


def test_errors_are_sorted_by_line_then_column_order() -> None:
    # Given problems on several rows, including ones only found across rows
    rows = [
        member(1, email="dup@nhs.net", region="Mars"),
        member(2, line_manager_id="NOBODY", band="0"),
        member(3, email="DUP@nhs.net"),
    ]
    # When parsed
    errors = parse(rows).errors
    # Then they come in reading order
    assert [(e.line, e.column) for e in errors] == [
        (2, "email"),
        (2, "region"),
        (3, "band"),
        (3, "line_manager_id"),
        (4, "email"),
    ]


def test_long_bad_values_are_shortened_in_messages() -> None:
    error = only_error(parse([member(region="R" * 10_000)]))
    assert len(error.reason) < 400 and "…" in error.reason


# -- across rows -------------------------------------------------------------------------------


def test_duplicate_member_ids_are_reported_on_every_row_that_uses_them() -> None:
    # Given two rows sharing an id
    parsed = parse([member(1), member(2, member_id="M1"), member(3)])
    # When parsed, then both rows are refused, each naming the other's line
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "member_id"), (3, "member_id")]
    assert all("lines 2, 3" in e.reason for e in parsed.errors)
    assert [r.member_id for r in parsed.records] == ["M3"]


def test_duplicate_emails_are_caught_whatever_their_case() -> None:
    parsed = parse([member(1, email="Sam@NHS.net"), member(2, email="sam@nhs.NET")])
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "email"), (3, "email")]
    assert "ignoring capitals" in parsed.errors[0].reason
    assert parsed.records == []


def test_a_line_manager_must_be_another_member_in_the_file() -> None:
    # Given a member who names themselves, and one who names someone absent
    parsed = parse([member(1, line_manager_id="M1"), member(2, line_manager_id="M7")])
    # When parsed, then each is refused with its own reason
    first, second = parsed.errors
    assert (first.line, first.column) == (2, "line_manager_id")
    assert "cannot be their own line manager" in first.reason
    assert (second.line, second.column) == (3, "line_manager_id")
    assert "'M7' is not the member_id of any row" in second.reason


def test_line_management_cycles_are_errors_naming_the_lines() -> None:
    # Given M1 -> M2 -> M3 -> M1, and M4 reporting into the circle, and M5 fine
    rows = [
        member(1, line_manager_id="M2"),
        member(2, line_manager_id="M3"),
        member(3, line_manager_id="M1"),
        member(4, line_manager_id="M3"),
        member(5),
    ]
    # When parsed
    parsed = parse(rows)
    # Then each member of the circle is refused, and the reason walks the circle by line
    circle = [e for e in parsed.errors if "circle" in e.reason]
    assert [e.line for e in circle] == [2, 3, 4]
    assert "line 2 ('M1') → line 3 ('M2') → line 4 ('M3') → back to line 2" in circle[0].reason
    # And the member reporting into it cannot arrive without it
    [dependant] = [e for e in parsed.errors if e.line == 5]
    assert dependant.column == "line_manager_id" and "'M3' (line 4) has errors" in dependant.reason
    assert [r.member_id for r in parsed.records] == ["M5"]


def test_a_row_is_refused_when_its_line_managers_row_is_refused() -> None:
    # Given a chain M1 <- M2 <- M3 where M1's row is bad
    rows = [member(1, band="11"), member(2, line_manager_id="M1"), member(3, line_manager_id="M2")]
    # When parsed
    parsed = parse(rows)
    # Then the whole chain is held back, so no half chain reaches the matcher or the database
    assert [(e.line, e.column) for e in parsed.errors] == [
        (2, "band"),
        (3, "line_manager_id"),
        (4, "line_manager_id"),
    ]
    assert parsed.records == [] and sorted(parsed.rejected_lines) == [2, 3, 4]


def test_long_valid_management_chains_are_accepted() -> None:
    rows = [member(1)] + [member(i, line_manager_id=f"M{i - 1}") for i in range(2, 400)]
    parsed = parse(rows)
    assert parsed.ok and len(parsed.records) == 399


# -- demographics ------------------------------------------------------------------------------


@pytest.mark.parametrize("consent", ["", "no", "NO"])
def test_without_consent_demographics_are_dropped_even_when_invalid(consent: str) -> None:
    # Given demographic cells filled in (one of them nonsense) but no consent
    row = member(
        demographics_consent=consent, ethnicity="white", gender="??", disability="no", age_band="x"
    )
    # When parsed
    parsed = parse([row])
    # Then the row passes and nothing of the special-category data is kept
    assert parsed.ok
    record = parsed.records[0]
    assert record.demographics_consent is False
    assert (record.ethnicity, record.gender, record.disability, record.age_band) == (None,) * 4


def test_with_consent_demographics_are_kept_and_checked_without_repeating_the_value() -> None:
    # Given consent and one value that is not an option
    parsed = parse([member(demographics_consent="Yes", ethnicity="whte", gender="non-binary")])
    # When parsed, then the bad option is reported without echoing the special-category value
    error = only_error(parsed)
    assert (error.line, error.column) == (2, "ethnicity")
    assert "whte" not in error.reason and "prefer-not-to-say" in error.reason
    # And a good row with consent keeps the values
    [record] = parse([member(demographics_consent="yes", gender="non-binary")]).records
    assert (record.gender, record.ethnicity) == ("non-binary", None)


def test_rejected_rows_do_not_carry_demographics_given_without_consent() -> None:
    # Given a bad row with demographic cells but no consent, and one with consent
    rows = [
        member(1, band="X", ethnicity="black", gender="man"),
        member(2, band="X", demographics_consent="yes", ethnicity="black"),
    ]
    parsed = parse(rows)
    # When the rows are kept for a rejects file
    without, with_consent = parsed.rejected_lines[2], parsed.rejected_lines[3]
    # Then only the consented row keeps them
    ethnicity = COLUMNS.index("ethnicity")
    assert without[ethnicity] == "" and without[COLUMNS.index("gender")] == ""
    assert with_consent[ethnicity] == "black"


# -- encoding ----------------------------------------------------------------------------------


def test_a_utf8_bom_is_accepted() -> None:
    text = to_csv([member(name="Siân")])
    assert parse_members_csv(b"\xef\xbb\xbf" + text.encode()).records[0].name == "Siân"
    assert parse_members_csv("\ufeff" + text).ok


def test_broken_utf8_names_the_line_and_column_of_the_bad_byte() -> None:
    # Given a file saved in Windows-1252: an é on line 3, and one on the 2nd line of a goal
    text = to_csv([member(1), member(2, name="Zoé"), member(3, goals="line one\r\nCafé")])
    data = text.encode("utf-8").replace("é".encode(), b"\xe9")
    # When parsed
    parsed = parse_members_csv(data)
    # Then each bad byte is reported at its row and column, naming the byte and the way out
    name_error, goals_error = parsed.errors
    assert (name_error.line, name_error.column) == (3, "name")
    assert "0xE9" in name_error.reason and "CSV UTF-8" in name_error.reason
    assert (goals_error.line, goals_error.column) == (4, "goals")
    assert "on line 5" in goals_error.reason
    # And the messages and the rejects file can themselves be written as UTF-8
    assert [r.member_id for r in parsed.records] == ["M1"]
    write_rejects_csv(parsed).encode("utf-8")
    assert "\ufffd" in parsed.rejected_lines[3][COLUMNS.index("name")]


def test_a_header_that_is_not_utf8_is_reported() -> None:
    data = to_csv([member()]).encode().replace(b"member_id", b"member_id\xff", 1)
    parsed = parse_members_csv(data)
    assert parsed.records == []
    assert any(e.line == 1 and "not valid UTF-8" in e.reason for e in parsed.errors)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003"),
        ("member_id,name\r\n".encode("utf-16"), "UTF-16"),
        ("member_id,name\r\n".encode("utf-16-le"), "zero bytes"),
    ],
)
def test_files_that_are_not_utf8_csv_say_how_to_save_them(data: bytes, words: str) -> None:
    error = only_error(parse_members_csv(data))
    assert (error.line, error.column) == (0, None)
    assert words in error.reason and "CSV UTF-8" in error.reason


def test_nul_bytes_are_reported_not_crashed_on() -> None:
    parsed = parse_members_csv(to_csv([member(name="Ann\x00Lee")]).encode())
    assert only_error(parsed).column == "name" and "\\x00" in parsed.errors[0].reason


# -- structure ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", "", "\r\n\r\n  \n"])
def test_an_empty_file_is_one_whole_file_error(data: bytes | str) -> None:
    error = only_error(parse_members_csv(data))
    assert (error.line, error.column) == (0, None) and "empty" in error.reason


def test_a_header_alone_is_a_file_without_members() -> None:
    error = only_error(parse_members_csv(to_csv([])))
    assert error.line == 0 and "no members" in error.reason


def test_a_file_over_the_size_limit_is_refused_before_reading() -> None:
    text = to_csv([member(i) for i in range(1, 50)])
    error = only_error(parse_members_csv(text, max_bytes=1000))
    assert error.line == 0 and "over the limit of 1,000 bytes" in error.reason
    assert parse_members_csv(text, max_bytes=len(text)).ok


def test_missing_required_columns_fail_the_whole_file() -> None:
    # Given a header without region and band
    columns = [c for c in COLUMNS if c not in {"region", "band"}]
    parsed = parse_members_csv(to_csv([member(1), member(2)], columns))
    # When parsed, then each missing column is named on the header line, and nothing passes
    assert [(e.line, e.column) for e in parsed.errors] == [(1, "region"), (1, "band")]
    assert "required column is missing" in parsed.errors[0].reason
    assert parsed.records == [] and sorted(parsed.rejected_lines) == [2, 3]


def test_an_unknown_column_is_an_error_with_a_suggestion() -> None:
    # Given a misspelt optional column: its values would otherwise be silently lost
    columns = [c if c != "skills_offered" else "skils_offered" for c in COLUMNS]
    parsed = parse_members_csv(to_csv([member()], columns))
    error = only_error(parsed)
    assert (error.line, error.column) == (1, "skils_offered")
    assert "did you mean 'skills_offered'?" in error.reason
    assert parsed.records == []


def test_a_header_with_many_strange_columns_names_a_few_and_counts_the_rest() -> None:
    columns = [*COLUMNS, *(f"extra{i}" for i in range(500))]
    errors = parse_members_csv(to_csv([member()], columns)).errors
    assert len(errors) == 21
    assert errors[0].column == "extra0" and errors[19].column == "extra19"
    assert errors[20].reason.startswith("and 480 more columns")


def test_duplicate_header_names_are_errors() -> None:
    columns = [*COLUMNS, "email"]
    text = to_csv([member()], columns)
    error = only_error(parse_members_csv(text))
    assert (error.line, error.column) == (1, "email")
    assert "appears 2 times" in error.reason


def test_a_file_without_a_header_row_says_so() -> None:
    text = to_csv([member(1), member(2)]).split("\r\n", 1)[1]
    error = only_error(parse_members_csv(text))
    assert error.line == 1 and "first row must be the header" in error.reason


def test_a_semicolon_separated_file_says_how_to_fix_it() -> None:
    text = to_csv([member()]).replace(",", ";")
    error = only_error(parse_members_csv(text))
    assert "separated by semicolons" in error.reason


def test_ragged_rows_are_reported_once_per_row() -> None:
    header, good = to_csv([member(1)]).splitlines()
    short = ",".join(good.replace("M1", "M2").split(",")[:5])
    long = good.replace("M1", "M3").replace("member1", "member3") + ",surplus"
    padded = good.replace("M1", "M4").replace("member1", "member4") + ",,,"
    parsed = parse_members_csv("\n".join([header, good, short, long, padded]))
    assert [(e.line, e.column) for e in parsed.errors] == [(3, None), (4, None)]
    assert "has 5 values but the header has 23 columns" in parsed.errors[0].reason
    assert "has 24 values" in parsed.errors[1].reason
    # And trailing empty cells from a spreadsheet are harmless
    assert [r.member_id for r in parsed.records] == ["M1", "M4"]


def test_an_unterminated_quote_fails_the_file_at_the_line_where_it_opens() -> None:
    # Given a goal whose closing quote is missing, followed by more rows
    lines = to_csv([member(1), member(2, goals="X"), member(3), member(4)]).splitlines()
    lines[2] = lines[2].replace(",X,", ',"X never closed,')
    parsed = parse_members_csv("\r\n".join(lines))
    # When parsed, then the opening line is named and nothing is accepted
    error = only_error(parsed)
    assert (error.line, error.column) == (3, None) and "never closed" in error.reason
    assert parsed.records == [] and 2 in parsed.rejected_lines


def test_a_stray_quote_is_reported_and_later_rows_are_still_read() -> None:
    lines = to_csv([member(1), member(2, goals="X"), member(3)]).splitlines()
    lines[2] = lines[2].replace(",X,", ',"say "no" please",')
    parsed = parse_members_csv("\n".join(lines))
    error = only_error(parsed)
    assert (error.line, error.column) == (3, None) and 'double it ("")' in error.reason
    assert [r.member_id for r in parsed.records] == ["M1", "M3"]


def test_a_huge_cell_is_reported_and_parsing_goes_on() -> None:
    parsed = parse([member(1, goals="g" * 300_000), member(2)])
    error = only_error(parsed)
    assert error.line == 2 and "longer than" in error.reason
    assert [r.member_id for r in parsed.records] == ["M2"]


# -- the rejects file --------------------------------------------------------------------------


def test_the_rejects_file_has_the_original_columns_then_line_and_reason() -> None:
    # Given a file in the organiser's own column order with one good and two bad rows
    columns = [*reversed(COLUMNS)]
    rows = [member(1), member(2, band="10", email="x"), member(3, region="Wales")]
    parsed = parse_members_csv(to_csv(rows, columns))
    # When the rejects file is written
    rejects = list(csv.reader(io.StringIO(write_rejects_csv(parsed))))
    # Then it has the original header plus line and reason, and one row per rejected row
    assert rejects[0] == [*columns, "line", "reason"]
    assert [row[-2] for row in rejects[1:]] == ["3", "4"]
    assert rejects[1][-1].startswith("email: 'x' is not a valid email address")
    assert " | band: '10' is not a band" in rejects[1][-1]
    assert rejects[2][columns.index("region")] == "Wales"
    # And re-reading the rejected rows, fixed, needs only the last two columns dropped
    assert len(rejects[1]) == len(columns) + 2


def test_the_rejects_file_header_can_be_given_by_the_caller() -> None:
    parsed = parse([member(1, band="X")])
    assert parsed.header == list(COLUMNS)
    text = write_rejects_csv(parsed, header=[f"col{i}" for i in range(len(COLUMNS))])
    assert text.splitlines()[0].endswith("col22,line,reason")


def test_the_rejects_file_explains_rows_held_back_by_a_whole_file_error() -> None:
    columns = [c for c in COLUMNS if c != "region"]
    parsed = parse_members_csv(to_csv([member(1)], columns))
    [_, row] = list(csv.reader(io.StringIO(write_rejects_csv(parsed))))
    assert row[-1].startswith("not imported because the file has errors: line 1, column region")


def test_the_rejects_file_keeps_line_and_reason_aligned_for_ragged_rows() -> None:
    header, good = to_csv([member(1)]).splitlines()
    parsed = parse_members_csv("\n".join([header, good + ",extra,more", "M9"]))
    rejects = list(csv.reader(io.StringIO(write_rejects_csv(parsed))))
    assert len({len(row) for row in rejects}) == 1
    assert [row[-2] for row in rejects[1:]] == ["2", "3"]


# -- the matcher's table -----------------------------------------------------------------------


def test_records_to_frame_gives_one_row_per_member_and_no_demographics() -> None:
    rows = [
        member(1, demographics_consent="yes", ethnicity="white", mentor_capacity="2"),
        member(2, line_manager_id="M1"),
    ]
    frame = records_to_frame(parse(rows).records)
    assert list(frame["member_id"]) == ["M1", "M2"]
    assert not set(DEMOGRAPHIC_COLUMNS) & set(frame.columns)
    assert "demographics_consent" not in frame.columns
    assert frame.loc[0, "skills_sought"] == ("quality-improvement", "budget-management")
    assert frame.loc[0, "line_manager_id"] is None and frame.loc[1, "line_manager_id"] == "M1"
    assert frame["mentor_capacity"].tolist() == [2, 0]
    assert str(frame["seeking_mentor"].dtype) == "bool"
    assert {"organisation_key", "line", "goals"} <= set(frame.columns)


def test_records_to_frame_of_no_records_still_has_the_columns() -> None:
    frame = records_to_frame([])
    assert len(frame) == 0 and "member_id" in frame.columns and "ethnicity" not in frame.columns


# -- the organisers' guide ---------------------------------------------------------------------

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "members-csv.md"


def test_the_example_in_the_guide_is_a_valid_file() -> None:
    # Given the example an organiser would copy from docs/members-csv.md
    guide = GUIDE.read_text(encoding="utf-8")
    example = guide.split("```csv\n", 1)[1].split("```", 1)[0]
    # When parsed, then it is valid, and the multi-line goals do not upset line numbers
    parsed = parse_members_csv(example)
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert [(r.line, r.member_id) for r in parsed.records] == [
        (2, "LTH-001"),
        (3, "LTH-014"),
        (4, "NCL-203"),
    ]
    assert parsed.records[1].line_manager_id == "LTH-001"


def test_the_guide_documents_every_column_value_and_the_version() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert f"version {FORMAT_VERSION}" in guide
    for value in [*COLUMNS, *ROLE_FAMILIES, *PROFESSIONS, *SKILL_IDS, *ETHNICITIES, *GENDERS]:
        assert f"`{value}`" in guide, value
    assert all(region in guide for region in REGIONS)


# -- properties --------------------------------------------------------------------------------


def check_invariants(parsed: ParsedMembers) -> None:
    """What any caller may rely on, whatever the input."""
    assert parsed.ok == (not parsed.errors)
    for error in parsed.errors:
        assert error.line >= 0 and error.reason.strip()
        assert error.column is None or isinstance(error.column, str)
        str(error).encode("utf-8")  # printable and loggable as it is
    keys = [(e.line, COLUMNS.index(e.column) if e.column in COLUMNS else -1) for e in parsed.errors]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    accepted = {r.line for r in parsed.records}
    assert not accepted & set(parsed.rejected_lines)
    # A partial import can tell row problems from file problems: an error on no rejected row is
    # about the whole file, and then nothing is accepted.
    file_errors = [e for e in parsed.errors if e.line not in parsed.rejected_lines]
    if file_errors:
        assert parsed.records == []
    for record in parsed.records:
        assert record.member_id and record.email == record.email.strip().lower()
        if not record.demographics_consent:
            assert record.ethnicity is record.gender is record.disability is record.age_band is None
    write_rejects_csv(parsed).encode("utf-8")


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes_never_raise(data: bytes) -> None:
    check_invariants(parse_members_csv(data))


@FUZZ
@given(st.text(max_size=2000))
def test_fuzz_arbitrary_text_never_raises(text: str) -> None:
    check_invariants(parse_members_csv(text))


def _valid_file() -> bytes:
    rows = [
        member(1, mentor_capacity="2", band="8a", skills_offered="quality-improvement"),
        member(2, line_manager_id="M1", goals='Commas, "quotes"\nand lines'),
        member(3, demographics_consent="yes", ethnicity="mixed", name="Siân"),
    ]
    return to_csv(rows).encode("utf-8")


VALID_FILE = _valid_file()


@st.composite
def mutated_valid_files(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID_FILE)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        piece = draw(st.sampled_from([b",", b'"', b"\n", b"\r", b";", b"\x00", b"\xe9", b"\xef"]))
        piece = draw(st.one_of(st.just(piece), st.binary(min_size=1, max_size=4)))
        if action == "insert":
            data[position:position] = piece
        elif action == "delete":
            del data[position : position + len(piece)]
        elif action == "replace":
            data[position : position + len(piece)] = piece
        else:
            data[position:position] = data[position : position + draw(st.integers(1, 80))]
    return bytes(data)


@FUZZ
@given(mutated_valid_files())
def test_fuzz_mutated_valid_files_never_raise(data: bytes) -> None:
    check_invariants(parse_members_csv(data))


cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@FUZZ_STRUCTURED
@given(
    st.lists(
        st.fixed_dictionaries({column: cell_text for column in COLUMNS}), min_size=1, max_size=4
    )
)
def test_fuzz_arbitrary_cells_under_a_valid_header_never_raise(rows: list[dict[str, str]]) -> None:
    parsed = parse(rows)
    check_invariants(parsed)
    # Every row with anything in it is either accepted or kept for the rejects file
    filled = [row for row in rows if "".join(row.values()).strip()]
    assert len(parsed.records) + len(parsed.rejected_lines) == len(filled)


def valid_members() -> st.SearchStrategy[list[dict[str, str]]]:
    words = st.text(alphabet=string.ascii_letters + " éø'-", min_size=1, max_size=20).filter(
        lambda s: s.strip()
    )
    one = st.fixed_dictionaries(
        {
            "name": words,
            "organisation": words,
            "region": st.sampled_from(REGIONS),
            "role_family": st.sampled_from(ROLE_FAMILIES),
            "band": st.sampled_from(BANDS),
            "profession": st.sampled_from(PROFESSIONS),
            "management_years": st.integers(0, 60).map(str),
            "seeking_mentor": st.sampled_from(["yes", "no", "Yes"]),
            "mentor_capacity": st.integers(0, 10).map(str),
            "skills_sought": st.lists(st.sampled_from(SKILL_IDS), max_size=4).map(";".join),
            "skills_offered": st.lists(st.sampled_from(SKILL_IDS), max_size=4).map(";".join),
            "goals": st.text(alphabet=string.ascii_letters + ',."; \n\r\t', max_size=80),
            "meeting_format": st.sampled_from(MEETING_FORMATS),
            "outside_organisation_only": st.sampled_from(["yes", "no"]),
            "priority_access": st.sampled_from(["yes", "no"]),
        }
    )
    return st.lists(one, min_size=1, max_size=8)


@FUZZ_STRUCTURED
@given(valid_members(), st.data())
def test_property_any_valid_file_round_trips(
    rows: list[dict[str, str]], data: st.DataObject
) -> None:
    # Given valid members, each possibly managed by an earlier one (so no cycles)
    for i, row in enumerate(rows):
        row.update(member_id=f"id-{i}", email=f"person{i}@nhs.net")
        if i and data.draw(st.booleans()):
            row["line_manager_id"] = f"id-{data.draw(st.integers(0, i - 1))}"
    # When written and parsed
    parsed = parse([member(**row) for row in rows])
    # Then every row comes back, in order, with its values
    assert parsed.ok, [str(e) for e in parsed.errors]
    assert [r.member_id for r in parsed.records] == [row["member_id"] for row in rows]
    for record, row in zip(parsed.records, rows, strict=True):
        assert record.band == row["band"] and record.region == row["region"]
        assert record.management_years == int(row["management_years"])
        assert record.seeking_mentor == (row["seeking_mentor"].lower() == "yes")
        offered = [s for s in row["skills_offered"].split(";") if s]
        assert record.skills_offered == tuple(dict.fromkeys(offered))
        assert record.organisation_key == organisation_key(record.organisation)
        assert record.line_manager_id == (row.get("line_manager_id") or None)


emails = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join([*labels, tld])}",
    st.from_regex(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,70}", fullmatch=True),
    st.lists(st.from_regex(r"(xn--)?[A-Za-z0-9-]{0,64}", fullmatch=True), min_size=0, max_size=3),
    st.sampled_from(["uk", "net", "com", "test", "invalid", "local", "localhost", "onion", "123"]),
)


@FUZZ_STRUCTURED
@given(emails)
def test_property_the_email_shortcut_agrees_with_email_validator(address: str) -> None:
    # Given any address of the plain shape the shortcut handles (and some that break it)
    try:
        validate_email(address, check_deliverability=False)
        expected = None
    except EmailNotValidError as exc:
        expected = str(exc)
    # Then the parser's verdict, and its words, are email-validator's
    assert members_csv._email_problem(address) == expected


def test_records_are_slotted_and_rows_refused_across_rows_keep_their_cells_as_read() -> None:
    # A clean row is held compactly (a slotted record, its cells joined) until the checks across
    # rows, which may still refuse it: its rejects line must then be exactly what was read.
    rows = [
        member(1),
        member(2, email="Same@example.nhs.uk"),
        member(3, email="same@EXAMPLE.nhs.uk"),
    ]
    rows[1]["goals"] = 'Lead a team, "well"\nand grow'
    parsed = parse(rows)

    [record] = parsed.records
    assert not hasattr(record, "__dict__") and record.line == 2
    assert sorted(parsed.rejected_lines) == [3, 5]
    assert parsed.rejected_lines[3] == [rows[1][c] for c in COLUMNS]
    rejects = list(csv.reader(io.StringIO(write_rejects_csv(parsed))))
    assert rejects[1][: len(COLUMNS)] == [rows[1][c] for c in COLUMNS]
