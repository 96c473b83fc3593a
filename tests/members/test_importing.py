"""Importing members from the members CSV: all-or-nothing, partial, re-import, invitations."""

from __future__ import annotations

import collections
import csv
import io
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from backend.db import utcnow
from backend.errors import Conflict, DomainError, Forbidden
from backend.members import importing
from backend.members import service as member_service
from backend.members.import_models import MemberImport
from backend.members.importing import import_members
from backend.members.models import Member, MemberRole
from backend.notifications.models import OutboxEmail
from backend.organisations.models import Organisation
from backend.organisations.service import guess_type as guess_organisation_type
from members_csv import COLUMNS
from tests.factories import PASSWORD, make_member, make_organiser

DEFAULTS: dict[str, str] = {
    "organisation": "Northfield Teaching Hospitals NHS Foundation Trust",
    "region": "North East and Yorkshire",
    "role_family": "operational-management",
    "band": "5",
    "profession": "non-clinical",
    "management_years": "2",
    "line_manager_id": "",
    "seeking_mentor": "yes",
    "mentor_capacity": "0",
    "skills_sought": "quality-improvement",
    "skills_offered": "",
    "goals": "I want to move into a service manager role.",
    "meeting_format": "either",
    "outside_organisation_only": "no",
    "priority_access": "no",
    "demographics_consent": "",
    "ethnicity": "",
    "gender": "",
    "disability": "",
    "age_band": "",
}


def row(member_id: str, **overrides: str) -> dict[str, str]:
    """A valid row for ``member_id`` with sensible defaults."""
    values = {
        "member_id": member_id,
        "name": f"Member {member_id}",
        "email": f"{member_id.lower()}@example.nhs.uk",
        **DEFAULTS,
    }
    values.update(overrides)
    return values


def members_csv(*rows: dict[str, str]) -> bytes:
    """The rows as a members CSV file."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def run(session: Session, data: bytes, **options: object):
    """Import with the CLI's defaults unless told otherwise."""
    options.setdefault("mode", "all-or-nothing")
    options.setdefault("invited_by", "The network organisers")
    return import_members(session=session, data=data, **options)  # type: ignore[arg-type]


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def by_external_id(session: Session, member_id: str) -> Member:
    return session.exec(select(Member).where(Member.external_id == member_id)).one()


def test_happy_path_creates_members_with_skills_offers_and_invitations(session):
    data = members_csv(
        row(
            "M1",
            email="Asha.Patel@Example.NHS.uk",
            skills_sought="quality-improvement;rota-management",
        ),
        row(
            "M2",
            band="8a",
            seeking_mentor="no",
            mentor_capacity="2",
            skills_sought="",
            skills_offered="quality-improvement;budget-management",
        ),
    )

    result = run(session, data)

    assert result.ok and result.errors == []
    assert (result.created, result.updated, result.invitations) == (2, 0, 2)
    assert result.rejects_csv is None
    assert "Imported 2 members: 2 new, 0 updated" in result.summary()
    asha = by_external_id(session, "M1")
    assert asha.email == "asha.patel@example.nhs.uk"
    assert asha.password_hash is None and not asha.is_verified
    assert asha.seeking_mentor and asha.band == "5"
    assert member_service.skills_of(session=session, member_id=asha.id)["sought"] == [
        "quality-improvement",
        "rota-management",
    ]
    mentor = by_external_id(session, "M2")
    assert member_service.offer_of(session=session, member_id=mentor.id).capacity == 2
    assert member_service.skills_of(session=session, member_id=mentor.id)["offered"] == [
        "budget-management",
        "quality-improvement",
    ]
    emails = session.exec(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [(e.to_address, e.kind) for e in emails] == [
        ("asha.patel@example.nhs.uk", "invite"),
        ("m2@example.nhs.uk", "invite"),
    ]
    assert "/invitation?token=" in emails[0].body_text
    assert "The network organisers has added you" in emails[0].body_text


def test_a_retired_skill_is_refused_on_its_row(session):
    from backend.skills import framework

    admin = make_member(session, roles=("admin",))
    framework.retire_skill(session=session, admin=admin, skill_id="budget-management")
    data = members_csv(
        row("M1", skills_sought="quality-improvement"),
        row(
            "M2",
            band="8a",
            seeking_mentor="no",
            mentor_capacity="2",
            skills_sought="",
            skills_offered="quality-improvement;budget-management",
        ),
    )
    result = run(session, data, mode="partial")
    assert [(e.line, e.column) for e in result.errors] == [(3, "skills_offered")]
    assert result.errors[0].reason == "'Budget management' is no longer in the skills framework"
    assert result.created == 1
    assert member_service.skills_of(session=session, member_id=by_external_id(session, "M1").id)[
        "sought"
    ] == ["quality-improvement"]
    assert session.exec(select(Member).where(Member.external_id == "M2")).first() is None


def test_imported_member_can_accept_the_invitation_and_log_in(session):
    from backend.accounts import service as accounts

    run(session, members_csv(row("M1")))
    [email] = session.exec(select(OutboxEmail)).all()
    token = email.body_text.split("/invitation?token=")[1].split()[0]

    accounts.accept_invitation(session=session, token=token, new_password=PASSWORD)
    member, _ = accounts.log_in(session=session, email="m1@example.nhs.uk", password=PASSWORD)

    assert member.external_id == "M1" and member.is_verified


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(session):
    data = members_csv(row("M1"), row("M2", band="10"), row("M3"))

    result = run(session, data)

    assert (result.created, result.updated) == (0, 0)
    assert [(e.line, e.column) for e in result.errors] == [(3, "band")]
    assert str(result.errors[0]).startswith("line 3, column band: '10' is not a band")
    assert result.summary().startswith("Nothing was imported: the file has 1 problem in 1 row")
    assert count(session, Member) == 0
    assert count(session, OutboxEmail) == 0
    assert count(session, Organisation) == 0


def test_partial_imports_good_rows_and_returns_rejects_with_line_and_reason(session):
    data = members_csv(row("M1"), row("M2", region="Wales"), row("M3"))

    result = run(session, data, mode="partial")

    assert (result.created, result.rejected_rows) == (2, 1)
    assert {m.external_id for m in session.exec(select(Member)).all()} == {"M1", "M3"}
    rejects = list(csv.DictReader(io.StringIO(result.rejects_csv)))
    assert [(r["member_id"], r["line"]) for r in rejects] == [("M2", "3")]
    assert rejects[0]["reason"].startswith("region: 'Wales' is not an NHS England region")
    assert "1 row not imported" in result.summary()


def test_reimport_updates_profiles_instead_of_duplicating(session):
    run(session, members_csv(row("M1", band="4", skills_sought="quality-improvement")))
    member = by_external_id(session, "M1")
    member.password_hash = "kept"
    member.bio = "My own words."
    session.add(member)
    member_service.grant_role(session=session, member_id=member.id, role="organiser")
    session.commit()

    result = run(
        session,
        members_csv(
            row(
                "M1",
                name="Asha Patel",
                band="6",
                skills_sought="",
                goals="",
                mentor_capacity="1",
                skills_offered="team-leadership",
            ),
            row("M2"),
        ),
    )

    assert (result.created, result.updated, result.invitations) == (1, 1, 1)
    assert count(session, Member) == 2
    session.refresh(member)
    assert (member.name, member.band) == ("Asha Patel", "6")
    assert member.password_hash == "kept" and member.bio == "My own words."
    assert member.goals == "I want to move into a service manager role."  # empty cell keeps
    skills = member_service.skills_of(session=session, member_id=member.id)
    assert skills == {"sought": ["quality-improvement"], "offered": ["team-leadership"]}
    assert member_service.offer_of(session=session, member_id=member.id).capacity == 1
    assert count(session, MemberRole) == 1
    outbox = session.exec(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [e.to_address for e in outbox] == ["m1@example.nhs.uk", "m2@example.nhs.uk"]


def test_member_who_joined_by_themselves_is_linked_and_keeps_their_account(session):
    joined = make_member(session, email="asha@example.nhs.uk", band="4")

    result = run(session, members_csv(row("M1", email="ASHA@example.nhs.uk", band="5")))

    assert (result.created, result.updated, result.invitations) == (0, 1, 0)
    session.refresh(joined)
    assert joined.external_id == "M1" and joined.band == "5"
    assert joined.password_hash is not None and joined.is_verified


def test_database_conflicts_are_row_errors_and_block_all_or_nothing(session):
    run(session, members_csv(row("M1"), row("M2")))

    result = run(
        session,
        members_csv(
            row("M1", email="someone.else@example.nhs.uk"),  # M1 is bound to m1@
            row("M9", email="m2@example.nhs.uk"),  # m2@ is bound to M2
            row("M3"),
        ),
    )

    assert [(e.line, e.column) for e in result.errors] == [(2, "member_id"), (3, "email")]
    assert "already belongs to a member with a different email" in result.errors[0].reason
    assert "imported as 'M2'" in result.errors[1].reason
    assert count(session, Member) == 2
    rejects = list(csv.DictReader(io.StringIO(result.rejects_csv)))
    assert [(r["member_id"], r["line"], r["email"]) for r in rejects] == [
        ("M1", "2", "someone.else@example.nhs.uk"),
        ("M9", "3", "m2@example.nhs.uk"),
    ]


def test_partial_import_rejects_the_reports_of_a_manager_the_database_refused(session):
    run(session, members_csv(row("M1")))

    result = run(
        session,
        members_csv(
            row("BOSS", email="m1@example.nhs.uk", band="8a"),  # email taken by M1
            row("R1", line_manager_id="BOSS"),
            row("OK"),
        ),
        mode="partial",
    )

    assert [(e.line, e.column) for e in result.errors] == [(2, "email"), (3, "line_manager_id")]
    assert result.created == 1
    assert {m.external_id for m in session.exec(select(Member)).all()} == {"M1", "OK"}


def test_line_managers_are_linked_whatever_the_row_order(session):
    data = members_csv(
        row("R1", line_manager_id="BOSS"),
        row("R2", line_manager_id="BOSS"),
        row("BOSS", band="8a", line_manager_id="DIRECTOR", seeking_mentor="no"),
        row("DIRECTOR", band="VSM", seeking_mentor="no"),
    )

    run(session, data)

    boss = by_external_id(session, "BOSS")
    director = by_external_id(session, "DIRECTOR")
    assert by_external_id(session, "R1").line_manager_id == boss.id
    assert by_external_id(session, "R2").line_manager_id == boss.id
    assert boss.line_manager_id == director.id
    assert director.line_manager_id is None


def test_organisation_names_differing_in_case_and_spaces_become_one(session):
    existing = make_member(
        session, organisation="Northfield Teaching Hospitals NHS Foundation Trust"
    )
    data = members_csv(
        row("M1", organisation="  northfield teaching   HOSPITALS nhs foundation trust "),
        row("M2", organisation="Northfield Teaching Hospitals NHS Foundation Trust"),
        row("M3", organisation="Pennine Coast Ambulance Service NHS Trust", region="North West"),
        row("M4", organisation="PENNINE COAST  Ambulance Service NHS Trust"),
    )

    result = run(session, data)

    organisations = session.exec(select(Organisation).order_by(Organisation.id)).all()
    assert [(o.name, o.type, o.region) for o in organisations] == [
        ("Northfield Teaching Hospitals NHS Foundation Trust", "other", "North East and Yorkshire"),
        ("Pennine Coast Ambulance Service NHS Trust", "ambulance-trust", "North West"),
    ]
    assert result.organisations_created == 1
    members = session.exec(select(Member).where(Member.external_id.is_not(None))).all()
    assert {m.organisation_id for m in members if m.external_id in ("M1", "M2")} == {
        existing.organisation_id
    }


def test_no_invitations_when_asked_not_to(session):
    result = run(session, members_csv(row("M1")), send_invitations=False)

    assert (result.created, result.invitations) == (1, 0)
    assert count(session, OutboxEmail) == 0


def test_demographic_columns_are_not_stored(session):
    data = members_csv(
        row("M1", demographics_consent="yes", ethnicity="asian", gender="woman", age_band="25-34")
    )

    result = run(session, data)

    assert result.created == 1
    member = by_external_id(session, "M1")
    assert "asian" not in repr(member.model_dump()) and "25-34" not in repr(member.model_dump())


def test_only_organisers_may_import(session):
    member = make_member(session)
    organiser = make_organiser(session)

    with pytest.raises(Forbidden):
        run(session, members_csv(row("M1")), actor=member)
    assert run(session, members_csv(row("M1")), actor=organiser).created == 1


def test_guessed_organisation_types():
    assert guess_organisation_type("Moorside and Coast Integrated Care Board") == (
        "integrated-care-board"
    )
    assert guess_organisation_type("Soar Valley Mental Health NHS Trust") == "mental-health-trust"
    assert guess_organisation_type("Ashworth Road Surgery") == "primary-care"
    assert guess_organisation_type("Kingsmere PCN") == "primary-care"
    assert guess_organisation_type("Trentside Hospitals NHS Trust") == "acute-trust"
    assert guess_organisation_type("Acme Consulting") == "other"


def test_statements_do_not_grow_with_the_number_of_rows(session):
    # Invitations are left out: send_invitation adds ORM objects one member at a time.
    statements: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = session.get_bind()
    data = members_csv(
        *(
            row(
                f"M{n}",
                line_manager_id="M0" if n else "",
                band="8a" if n == 0 else "5",
                organisation=f"Trust {n % 3} Hospitals",
                mentor_capacity="1" if n % 4 == 0 else "0",
                skills_offered="team-leadership" if n % 4 == 0 else "",
            )
            for n in range(600)
        )
    )
    event.listen(engine, "before_cursor_execute", record)
    try:
        result = run(session, data, send_invitations=False)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert result.created == 600
    assert len(statements) < 30, collections.Counter(s[:50] for s in statements).most_common(8)


# Fuzzing: whatever the bytes, a clear result; never a crash, never a half-written import ------

CELLS = st.sampled_from(
    [
        "",
        "yes",
        "no",
        "5",
        "8a",
        "VSM",
        "-1",
        "99999",
        "London",
        "Wales",
        "either",
        "M1",
        "M2",
        "m1@example.nhs.uk",
        "not-an-email",
        "quality-improvement;rota-management",
        "unknown-skill",
        "a,b",
        '"',
        "\x00",
        "\udcff",  # the byte 0xFF: not UTF-8
        "é" * 300,
        "x" * 2100,
        "operational-management",
        "non-clinical",
    ]
)


@st.composite
def csv_like(draw: st.DrawFn) -> bytes:
    """Files near the format: real or shuffled headers, plausible and hostile cells."""
    header = list(COLUMNS)
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    if draw(st.booleans()):
        header = header[: draw(st.integers(0, len(header)))]
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 4))):
        cells = []
        for name in header:
            base = row("M1").get(name, "")
            cells.append(draw(st.one_of(st.just(base), CELLS)))
        lines.append(",".join(cells))
    text = "\n".join(lines)
    return text.encode("utf-8", "surrogateescape" if draw(st.booleans()) else "replace")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.one_of(st.binary(max_size=400), csv_like()),
    mode=st.sampled_from(["all-or-nothing", "partial"]),
)
def test_fuzz_import_never_crashes_and_never_half_writes(session, data, mode):
    before = count(session, Member)

    try:
        result = run(session, data, mode=mode)
    except DomainError:
        session.rollback()
        assert count(session, Member) == before
        return

    after = count(session, Member)
    assert after - before == result.created
    if result.errors:
        assert all(str(error) for error in result.errors)
        assert result.rejects_csv is not None
        if mode == "all-or-nothing":
            assert after == before and result.imported == 0


def test_capacity_cannot_drop_below_a_mentors_current_mentees(session):
    from backend.members.importing import import_members
    from backend.members.models import MentoringOffer

    first = import_members(
        session=session, data=_capacity_file(3), mode="all-or-nothing", invited_by="Organiser"
    )
    assert first.ok
    mentor = session.exec(select(Member).where(Member.external_id == "M1")).one()
    offer = session.get(MentoringOffer, mentor.id)
    offer.active_mentees = 2
    session.add(offer)
    session.commit()

    again = import_members(
        session=session, data=_capacity_file(1), mode="all-or-nothing", invited_by="Organiser"
    )

    assert [(e.line, e.column) for e in again.errors] == [(2, "mentor_capacity")]
    assert "below the 2 mentees" in again.errors[0].reason
    session.expire_all()
    assert session.get(MentoringOffer, mentor.id).capacity == 3


def _capacity_file(capacity: int) -> bytes:
    header = (
        "member_id,name,email,organisation,region,role_family,band,profession,management_years,"
        "seeking_mentor,mentor_capacity,meeting_format,outside_organisation_only,priority_access"
    )
    row = (
        f"M1,Ada Mentor,ada@example.nhs.uk,Riverside Trust,London,operational-management,8a,"
        f"non-clinical,10,no,{capacity},either,no,no"
    )
    return f"{header}\n{row}\n".encode()


# Imports as jobs: the file is stored, checked whole, then written in short chunks -------------


def _run_job(session, organiser, data: bytes, mode: str = "all-or-nothing"):  # type: ignore[no-untyped-def]
    member_import = importing.start_import(session=session, actor=organiser, data=data, mode=mode)
    session.commit()
    assert importing.run_import_job(member_import.id, engine=session.get_bind()) == "done"
    session.expire_all()
    done = session.get(MemberImport, member_import.id)
    session.commit()
    return done


def test_a_job_writes_a_chain_of_line_managers_across_chunks(session, monkeypatch):
    monkeypatch.setattr(importing, "WRITE_CHUNK", 2)
    organiser = make_organiser(session)
    # Reports listed before their managers, and the chain longer than a chunk.
    rows = [row(f"C{n}", line_manager_id=f"C{n - 1}" if n else "") for n in range(7)]

    done = _run_job(session, organiser, members_csv(*reversed(rows)))

    assert (done.status, done.created, done.rows_written, done.progress) == ("done", 7, 7, 1.0)
    assert done.data is None and done.invitations == 7
    by_id = {m.external_id: m for m in session.exec(select(Member)).all()}
    for n in range(1, 7):
        assert by_id[f"C{n}"].line_manager_id == by_id[f"C{n - 1}"].id


def test_an_all_or_nothing_job_with_one_bad_row_writes_nothing(session, monkeypatch):
    monkeypatch.setattr(importing, "WRITE_CHUNK", 2)
    organiser = make_organiser(session)

    done = _run_job(
        session, organiser, members_csv(row("A1"), row("A2"), row("A3", band="10"), row("A4"))
    )

    assert done.status == "done" and done.created == 0 and done.rows_written == 0
    assert [(e.line, e.column) for e in importing.import_errors(done)] == [(4, "band")]
    assert "Nothing was imported" in done.summary
    assert session.exec(select(func.count()).select_from(Member)).one() == 1  # the organiser


def test_a_partial_job_writes_the_good_rows_and_keeps_the_rejects(session, monkeypatch):
    monkeypatch.setattr(importing, "WRITE_CHUNK", 2)
    organiser = make_organiser(session)

    done = _run_job(
        session,
        organiser,
        members_csv(row("P1"), row("P2", band="10"), row("P3"), row("P4")),
        mode="partial",
    )

    assert (done.created, done.rejected_rows, done.error_count) == (3, 1, 1)
    assert "p2@example.nhs.uk" in done.rejects_csv and "p1@" not in done.rejects_csv


def test_running_an_import_again_updates_and_never_doubles(session):
    organiser = make_organiser(session)
    data = members_csv(row("R1"), row("R2", line_manager_id="R1"))
    _run_job(session, organiser, data)

    again = _run_job(session, organiser, data)

    assert (again.created, again.updated, again.invitations) == (0, 2, 0)
    assert session.exec(select(func.count()).select_from(Member)).one() == 3
    invitations = session.exec(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "invite")
    ).one()
    assert invitations == 2


def test_an_import_whose_worker_stopped_is_failed_and_can_be_run_again(session):
    organiser = make_organiser(session)
    member_import = importing.start_import(
        session=session, actor=organiser, data=members_csv(row("S1")), mode="all-or-nothing"
    )
    member_import.status = "running"
    member_import.heartbeat_at = utcnow() - timedelta(hours=1)
    session.add(member_import)
    session.commit()

    assert importing.fail_stalled_imports(session=session) == 1
    session.commit()
    stopped = session.get(MemberImport, member_import.id)
    assert stopped.status == "failed" and "Run the import again" in stopped.failure

    importing.retry_import(session=session, actor=organiser, import_id=member_import.id)
    session.commit()
    assert importing.run_import_job(member_import.id, engine=session.get_bind()) == "done"
    session.expire_all()
    assert session.get(MemberImport, member_import.id).created == 1


def test_only_organisers_may_start_an_import(session):
    member = make_member(session)
    with pytest.raises(Forbidden):
        importing.start_import(session=session, actor=member, data=b"x", mode="partial")


def stop_after_chunks(monkeypatch, chunks: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """Make the import job's writes fail after ``chunks`` chunks (as if the database went away)
    until the returned log is told to stop failing; the log lists each chunk's member ids."""
    write = importing._write
    log: list[list[str]] = []

    def failing_write(chunk_session, plans, *args, **kwargs):  # type: ignore[no-untyped-def]
        if len(log) == chunks and not getattr(failing_write, "healed", False):
            failing_write.healed = True  # type: ignore[attr-defined]
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))
        log.append([plan.record.member_id for plan in plans])
        return write(chunk_session, plans, *args, **kwargs)

    monkeypatch.setattr(importing, "_write", failing_write)
    return log


def test_a_retried_import_resumes_after_its_last_committed_chunk(session, monkeypatch):
    monkeypatch.setattr(importing, "WRITE_CHUNK", 2)
    organiser = make_organiser(session)
    chunks = stop_after_chunks(monkeypatch, 2)
    member_import = importing.start_import(
        session=session,
        actor=organiser,
        data=members_csv(*(row(f"R{n}") for n in range(7))),
        mode="all-or-nothing",
    )
    session.commit()

    assert importing.run_import_job(member_import.id, engine=session.get_bind()) == "failed"
    session.expire_all()
    stopped = session.get(MemberImport, member_import.id)
    assert (stopped.status, stopped.rows_written, stopped.created) == ("failed", 4, 4)
    assert "4 rows were written" in stopped.failure
    session.commit()

    importing.retry_import(session=session, actor=organiser, import_id=member_import.id)
    session.commit()
    assert importing.run_import_job(member_import.id, engine=session.get_bind()) == "done"

    # The second run wrote only the rows after the first four, once each.
    assert chunks == [["R0", "R1"], ["R2", "R3"], ["R4", "R5"], ["R6"]]
    session.expire_all()
    done = session.get(MemberImport, member_import.id)
    assert (done.status, done.created, done.updated, done.invitations) == ("done", 7, 0, 7)
    assert session.exec(select(func.count()).select_from(Member)).one() == 8
    invitations = session.exec(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "invite")
    ).one()
    assert invitations == 7


def test_a_stalled_import_can_be_retried_and_a_finished_one_cannot(session):
    organiser = make_organiser(session)
    member_import = importing.start_import(
        session=session, actor=organiser, data=members_csv(row("T1")), mode="partial"
    )
    member_import.status = "running"
    member_import.heartbeat_at = utcnow() - timedelta(hours=1)
    session.add(member_import)
    session.commit()

    importing.retry_import(session=session, actor=organiser, import_id=member_import.id)
    session.commit()
    assert importing.run_import_job(member_import.id, engine=session.get_bind()) == "done"
    session.expire_all()

    with pytest.raises(Conflict, match="this one is done"):
        importing.retry_import(session=session, actor=organiser, import_id=member_import.id)


def test_the_stored_rejects_file_neutralises_formula_cells(session):
    # Given a partial import whose rejected rows carry formulas in the organiser's own cells
    organiser = make_organiser(session)
    hostile = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-1+1"]
    data = members_csv(
        row("M1"),
        *(row(f"B{n}", name=value, region="Wales") for n, value in enumerate(hostile)),
        row("-3", region="Wales"),
    )

    # When the import job stores its rejects file, and it is read back
    done = _run_job(session, organiser, data, mode="partial")
    rejects = list(csv.DictReader(io.StringIO(done.rejects_csv, newline="")))

    # Then each formula is quote-prefixed, and the negative-number id stays a number
    assert [r["name"] for r in rejects[:-1]] == ["'" + value for value in hostile]
    assert rejects[-1]["member_id"] == "-3"


def test_a_problem_with_the_file_itself_is_not_counted_in_rows():
    """A problem on no row (line 0, the whole file) never reads "1 problem in 0 rows"."""
    from backend.members.importing import ImportResult
    from members_csv import RowError

    whole_file = [RowError(line=0, column=None, reason="The file has no header row.")]
    refused = ImportResult(mode="all-or-nothing", errors=whole_file)
    assert refused.summary().startswith("Nothing was imported: the file has 1 problem. Fix")
    partial = ImportResult(mode="partial", created=2, errors=whole_file)
    assert "0 rows" not in partial.summary()
    assert partial.summary().endswith("The file has 1 problem; the list below says what.")
    rows = ImportResult(mode="all-or-nothing", errors=whole_file * 2, rejected_rows=1)
    assert "the file has 2 problems in 1 row." in rows.summary()
