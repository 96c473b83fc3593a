"""The ``peerbridge`` command as an organiser or an operator uses it."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from backend.cli import app
from matching.synthetic import make_population, write_members_csv

runner = CliRunner()


def test_match_round_over_a_csv_writes_one_row_per_mentee(tmp_path):
    members = tmp_path / "members.csv"
    out = tmp_path / "matches.csv"
    frame = make_population(60, seed=3)
    write_members_csv(frame, str(members))

    result = runner.invoke(
        app, ["match-round", "--members", str(members), "--out", str(out), "--seed", "3"]
    )

    assert result.exit_code == 0, result.output
    assert "matched" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["mentee_id", "mentor_id", "score", "reasons"]
    assert len(rows) == int(frame["seeking_mentor"].sum())
    assert all(r["reasons"] for r in rows)


def test_match_round_on_a_broken_file_names_the_problem_and_writes_nothing(tmp_path):
    members = tmp_path / "members.csv"
    members.write_bytes(b"member_id,name\n1,\xff\xfe\n")
    out = tmp_path / "matches.csv"

    result = runner.invoke(app, ["match-round", "--members", str(members), "--out", str(out)])

    assert result.exit_code == 1
    assert "line 1" in result.output
    assert not out.exists()


def test_match_round_on_a_missing_file_says_so(tmp_path):
    result = runner.invoke(
        app, ["match-round", "--members", str(tmp_path / "nope.csv"), "--out", "x.csv"]
    )

    assert result.exit_code == 2
    assert "no such file" in " ".join(result.output.split())
