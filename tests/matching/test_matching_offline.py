"""The offline round over members.csv files with the format's edge cases."""

from __future__ import annotations

import csv
import io

import pytest

from matching.offline import MembersFileError, format_summary, run_offline_round

HEADER = (
    "member_id,name,email,organisation,region,role_family,band,profession,management_years,"
    "line_manager_id,seeking_mentor,mentor_capacity,skills_sought,skills_offered,goals,"
    "meeting_format,outside_organisation_only,priority_access\r\n"
)


def _row(mid, name, org, band, seeking, cap, goals="", outside="no", manager="", prio="no"):
    return (
        f'{mid},"{name}",{mid.lower()}@example.nhs.uk,"{org}",London,operational-management,'
        f"{band},non-clinical,3,{manager},{seeking},{cap},quality-improvement,"
        f'quality-improvement,"{goals}",either,{outside},{prio}\r\n'
    )


def test_offline_round_handles_quoting_unicode_and_organisation_spelling(tmp_path):
    members = tmp_path / "members.csv"
    members.write_text(
        HEADER
        + _row(
            "E1",
            "Zoë Ó Súilleabháin",
            "St Mary's NHS Trust",
            "5",
            "yes",
            0,
            goals='Quality, flow; and ""more""\nacross two lines',
            outside="yes",
        )
        + _row("M1", "Łukasz Nowak", "  st mary's   nhs TRUST ", "8a", "no", 1)
        + _row("M2", "Siobhán Murphy", "Barts Health", "7", "no", 1)
        + _row("E2", "José Fernandes", "Barts Health", "4", "yes", 0),
        encoding="utf-8",
    )
    out = tmp_path / "matches.csv"
    summary = run_offline_round(members, out, priority=False, seed=1)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0].keys()) == ["mentee_id", "mentor_id", "score", "reasons"]
    by = {r["mentee_id"]: r for r in rows}
    assert set(by) == {"E1", "E2"}
    # M1's organisation differs only in case and spaces: the same organisation, so E1
    # (outside-organisation-only) must get M2, and E2 (at Barts) then gets M1.
    assert by["E1"]["mentor_id"] == "M2"
    assert by["E2"]["mentor_id"] == "M1"
    assert 0 <= float(by["E1"]["score"]) <= 100
    assert "works in another organisation" in by["E1"]["reasons"]
    text = format_summary(summary)
    assert "matched" in text and "2 (100.0%)" in text


def test_unmatched_mentee_gets_empty_mentor_and_a_reason(tmp_path):
    members = tmp_path / "members.csv"
    members.write_text(HEADER + _row("E1", "Amara", "Leeds", "VSM", "yes", 0), encoding="utf-8")
    out = tmp_path / "matches.csv"
    run_offline_round(members, out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows == [
        {
            "mentee_id": "E1",
            "mentor_id": "",
            "score": "",
            "reasons": "no mentor is at a higher band than yours",
        }
    ]


def test_bad_file_raises_with_located_errors(tmp_path):
    members = tmp_path / "members.csv"
    members.write_text(HEADER + _row("E1", "Amara", "Leeds", "11", "yes", 0), encoding="utf-8")
    with pytest.raises(MembersFileError) as err:
        run_offline_round(members, tmp_path / "matches.csv")
    assert "line 2" in str(err.value)
    assert not (tmp_path / "matches.csv").exists()


def test_matches_csv_neutralises_formula_ids_from_the_organisers_file(tmp_path):
    # Given member ids that a spreadsheet would run as formulas, and plain negative numbers
    mentees = ['=HYPERLINK("http://x","y")', "+1+1", "-3"]
    mentors = ["@SUM(1)", "-1+1", "-7"]
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(HEADER.strip().split(","))
    for n, (mid, band, seeking, cap) in enumerate(
        [*((m, "5", "yes", 0) for m in mentees), *((m, "8a", "no", 1) for m in mentors)]
    ):
        writer.writerow(
            [
                *(mid, f"Member {n}", f"member{n}@example.nhs.uk", f"Trust {n}", "London"),
                *("operational-management", band, "non-clinical", "3", "", seeking, cap),
                *("quality-improvement", "quality-improvement", "", "either", "no", "no"),
            ]
        )
    members = tmp_path / "members.csv"
    members.write_text(text.getvalue(), encoding="utf-8", newline="")
    out = tmp_path / "matches.csv"

    # When the offline round writes matches.csv
    run_offline_round(members, out, seed=1)

    # Then, read back, each formula id is quote-prefixed and the negative numbers stay numbers
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {r["mentee_id"] for r in rows} == {"'" + mentees[0], "'+1+1", "-3"}
    assert {r["mentor_id"] for r in rows} == {"'@SUM(1)", "'-1+1", "-7"}
