"""The ``peerbridge`` command as an organiser or an operator uses it."""

from __future__ import annotations

import csv
import time

import pytest
from typer.testing import CliRunner

from backend import cli
from backend.cli import app
from matching.synthetic import make_population, write_members_csv
from tests.factories import make_member

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


def test_match_round_uses_the_weights_given(tmp_path):
    members = tmp_path / "members.csv"
    out = tmp_path / "matches.csv"
    frame = make_population(60, seed=3)
    write_members_csv(frame, str(members))
    only_skills = "skills=1,seniority=0,goals=0,organisation=0,background=0,place=0,role=0"

    result = runner.invoke(
        app,
        ["match-round", "--members", str(members), "--out", str(out), "--weights", only_skills],
    )

    assert result.exit_code == 0, result.output
    # with only the skills weight, a score is 100 x the share of skills sought the mentor offers
    sought = dict(zip(frame["member_id"], frame["skills_sought"], strict=True))
    offered = dict(zip(frame["member_id"], frame["skills_offered"], strict=True))
    rows = [r for r in csv.DictReader(out.open(encoding="utf-8")) if r["mentor_id"]]
    assert rows
    for r in rows:
        want, have = sought[r["mentee_id"]], set(offered[r["mentor_id"]])
        share = sum(s in have for s in want) / len(want) if want else 0.5
        assert float(r["score"]) == pytest.approx(100 * share, abs=0.06)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("skills=2,band=1", "Unknown weight: band"),
        ("skills=lots", "Weight skills must be a number"),
        ("skills=5000", "Weights must be 1,000 or less"),
    ],
)
def test_match_round_rejects_bad_weights_and_writes_nothing(tmp_path, weights, message):
    members = tmp_path / "members.csv"
    out = tmp_path / "matches.csv"
    write_members_csv(make_population(20, seed=5), str(members))

    result = runner.invoke(
        app, ["match-round", "--members", str(members), "--out", str(out), "--weights", weights]
    )

    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert not out.exists()


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


def _write_rows(path, rows):  # type: ignore[no-untyped-def]
    """Write ``rows`` (dicts) back to the members CSV at ``path``."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _use_database(monkeypatch, engine, tmp_path):
    """Point the CLI (which reads settings) at the test database."""
    from backend.db import get_engine
    from backend.settings import get_settings

    monkeypatch.setenv("PEERBRIDGE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PEERBRIDGE_MAIL_DIR", str(tmp_path / "mail"))
    get_settings.cache_clear()
    get_engine.cache_clear()


def _restore():
    from backend.db import get_engine
    from backend.settings import get_settings

    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_create_user_makes_a_verified_organiser_who_can_log_in(
    engine, session, monkeypatch, tmp_path
):
    from backend.accounts import service as accounts
    from backend.members import service as member_service

    _use_database(monkeypatch, engine, tmp_path)
    try:
        result = runner.invoke(
            app,
            [
                "create-user",
                "lead@example.nhs.uk",
                "Lead Organiser",
                "--role",
                "organiser",
                "--password",
                "a long organiser passphrase",
            ],
        )
    finally:
        _restore()

    assert result.exit_code == 0, result.output
    member, _ = accounts.log_in(
        session=session, email="lead@example.nhs.uk", password="a long organiser passphrase"
    )
    assert member.is_verified
    assert member_service.roles_of(session=session, member_id=member.id) == ["member", "organiser"]


def test_create_user_names_what_is_wrong(engine, monkeypatch, tmp_path):
    _use_database(monkeypatch, engine, tmp_path)
    try:
        result = runner.invoke(
            app, ["create-user", "not-an-email", "X", "--band", "12", "--password", "short"]
        )
    finally:
        _restore()

    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "email" in text and "band" in text and "password" in text


def test_create_user_with_a_taken_address_says_so_and_changes_nothing(
    engine, session, monkeypatch, tmp_path
):
    from sqlmodel import select

    from backend.members.models import Member
    from backend.notifications.models import OutboxEmail

    make_member(session, email="lead@example.nhs.uk")
    session.commit()
    _use_database(monkeypatch, engine, tmp_path)
    try:
        result = runner.invoke(
            app, ["create-user", "lead@example.nhs.uk", "Lead", "--password", "a long passphrase!"]
        )
    finally:
        _restore()

    assert result.exit_code == 2
    assert "already exists" in " ".join(result.output.split())
    session.expire_all()
    assert len(session.exec(select(Member)).all()) == 1
    assert session.exec(select(OutboxEmail)).all() == []


def test_import_members_all_or_nothing_then_partial_with_rejects(
    engine, session, monkeypatch, tmp_path
):
    from sqlmodel import select

    from backend.members.models import Member

    members = tmp_path / "members.csv"
    frame = make_population(20, seed=5)
    write_members_csv(frame, str(members))
    rows = list(csv.DictReader(members.open(encoding="utf-8")))
    managers = {row["line_manager_id"] for row in rows}
    bad = next(i for i, row in enumerate(rows) if row["member_id"] not in managers)
    rows[bad]["region"] = "Wales"  # not an NHS England region; nobody reports to this member
    _write_rows(members, rows)
    _use_database(monkeypatch, engine, tmp_path)
    try:
        strict = runner.invoke(app, ["import-members", str(members), "--no-invite"])
        partial = runner.invoke(app, ["import-members", str(members), "--partial", "--no-invite"])
    finally:
        _restore()

    assert strict.exit_code == 1
    assert f"line {bad + 2}" in " ".join(strict.output.split())
    assert partial.exit_code == 0, partial.output
    session.expire_all()
    assert len(session.exec(select(Member)).all()) == len(frame) - 1
    rejects = (tmp_path / "members-rejects.csv").read_text(encoding="utf-8")
    assert "Wales" in rejects and "line" in rejects.splitlines()[0]


def test_import_members_runs_as_the_chunked_job_and_prints_its_progress(
    engine, session, monkeypatch, tmp_path
):
    from sqlmodel import func, select

    from backend.db import session_factory
    from backend.members import importing
    from backend.members.import_models import MemberImport
    from backend.members.models import Member

    monkeypatch.setattr(importing, "WRITE_CHUNK", 4)
    members = tmp_path / "members.csv"
    frame = make_population(18, seed=7)
    write_members_csv(frame, str(members))
    outside = session_factory(engine.execution_options(read_only=True))
    committed: list[tuple[int, int]] = []  # (rows_written, members) seen by another connection
    write = importing._write

    def watched_write(chunk_session, plans, *args, **kwargs):  # type: ignore[no-untyped-def]
        with outside() as reader:  # reads what earlier chunks committed, while this one writes
            written = reader.exec(select(MemberImport.rows_written)).one()
            stored = reader.exec(select(func.count()).select_from(Member)).one()
            reader.rollback()
        committed.append((written, stored))
        time.sleep(0.1)  # long enough for the command to see each chunk's progress
        return write(chunk_session, plans, *args, **kwargs)

    monkeypatch.setattr(importing, "_write", watched_write)
    monkeypatch.setattr(cli, "IMPORT_PROGRESS_SECONDS", 0.02)
    _use_database(monkeypatch, engine, tmp_path)
    try:
        result = runner.invoke(app, ["import-members", str(members), "--no-invite"])
    finally:
        _restore()

    assert result.exit_code == 0, result.output
    # Written four rows at a time: each chunk committed (members and the import's progress)
    # before the next began, as a second connection sees.
    total = len(frame)
    assert committed == [(n, n) for n in range(0, total, 4)]
    progress = [line for line in result.output.splitlines() if line.startswith("Writing members")]
    shown = [int(line.split(": ")[1].split(" of ")[0]) for line in progress]
    assert len(shown) >= 3 and shown == sorted(set(shown)) and shown[-1] <= total
    assert all(line.endswith(f" of {total} rows written") for line in progress)
    assert "Imported" in result.output
    session.expire_all()
    [done] = session.exec(select(MemberImport)).all()
    assert (done.status, done.rows_written, done.created, done.created_by_id) == (
        "done",
        total,
        total,
        None,
    )
    assert session.exec(select(func.count()).select_from(Member)).one() == total


def test_import_members_names_the_bad_row_and_column_and_writes_nothing(
    engine, session, monkeypatch, tmp_path
):
    from sqlmodel import func, select

    from backend.members import importing
    from backend.members.models import Member

    monkeypatch.setattr(importing, "WRITE_CHUNK", 4)
    members = tmp_path / "members.csv"
    write_members_csv(make_population(12, seed=8), str(members))
    rows = list(csv.DictReader(members.open(encoding="utf-8")))
    rows[9]["band"] = "11"
    _write_rows(members, rows)
    _use_database(monkeypatch, engine, tmp_path)
    try:
        result = runner.invoke(app, ["import-members", str(members), "--no-invite"])
    finally:
        _restore()

    assert result.exit_code == 1
    assert "line 11, column band" in " ".join(result.output.split())
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Member)).one() == 0


def test_role_changes_at_the_command_line_are_audited(engine, session, monkeypatch, tmp_path):
    import json

    from sqlmodel import col, select

    from backend.audit.models import AuditEvent
    from backend.members import service as member_service
    from tests.factories import make_member

    member = make_member(session, email="ren@example.nhs.uk")
    session.commit()
    _use_database(monkeypatch, engine, tmp_path)
    try:
        given = runner.invoke(app, ["role", "ren@example.nhs.uk", "admin"])
        taken = runner.invoke(app, ["role", "REN@example.nhs.uk", "admin", "--remove"])
        wrong = runner.invoke(app, ["role", "ren@example.nhs.uk", "superuser"])
        nobody = runner.invoke(app, ["role", "nobody@example.nhs.uk", "admin"])
    finally:
        _restore()

    assert given.exit_code == 0 and "Gave the role to" in given.output, given.output
    assert taken.exit_code == 0 and "Took the role away" in taken.output, taken.output
    assert wrong.exit_code == 2 and nobody.exit_code == 2
    assert member_service.roles_of(session=session, member_id=member.id) == ["member"]
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject_id == member.id)
        .where(col(AuditEvent.action).in_(["role.granted", "role.revoked"]))
        .order_by(col(AuditEvent.id))
    ).all()
    assert [(e.action, e.actor_id, json.loads(e.details)) for e in events] == [
        ("role.granted", None, {"role": "admin"}),
        ("role.revoked", None, {"role": "admin"}),
    ]


def test_demo_data_without_history_loads_in_a_fresh_process(tmp_path):
    """A fresh ``peerbridge`` process (no test imports) maps every table it touches."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {**os.environ, "PEERBRIDGE_DATABASE_URL": url, "PEERBRIDGE_ENVIRONMENT": "development"}
    peerbridge = str(Path(sys.executable).with_name("peerbridge"))
    for command in (["db", "upgrade"], ["demo-data", "--members", "30", "--no-history"]):
        done = subprocess.run(
            [peerbridge, *command], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert "organiser@demo.peerbridge.example" in done.stdout + done.stderr
