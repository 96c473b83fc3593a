"""importMembers over HTTP: organisers only; all-or-nothing names every bad cell; partial."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import func
from sqlmodel import select

from backend.members.models import Member
from backend.notifications.models import OutboxEmail
from members_csv import COLUMNS
from tests.factories import make_member, make_organiser
from tests.members.test_importing import row
from tests.schema.test_journey import post
from tests.schema.test_mentoring import count_rows, log_in

IMPORT = """
mutation($input: ImportMembersInput!) {
  importMembers(input: $input) {
    __typename
    ... on ImportMembersSuccess {
      ok created updated errors { line column reason } rejectsCsv summary
    }
    ... on InvalidInput { field errors { field message } }
    ... on Error { message }
  }
}
"""


def members_csv(*rows: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def member_count(session) -> int:
    session.rollback()  # a fresh snapshot, and no lock held on SQLite
    total = session.exec(select(func.count()).select_from(Member)).one()
    session.rollback()
    return total


def importing(client, csv_text: str, mode: str | None = None) -> dict:
    variables = {"input": {"csv": csv_text, **({"mode": mode} if mode else {})}}
    return post(client, IMPORT, variables)["data"]["importMembers"]


def test_an_organiser_imports_and_reimports(session, client, mail_dir):
    organiser = make_organiser(session, name="Olu Organiser")
    session.commit()
    log_in(client, organiser)

    done = importing(client, members_csv(row("M1"), row("M2", band="7", mentor_capacity="2")))

    assert done["__typename"] == "ImportMembersSuccess", done
    assert (done["ok"], done["created"], done["updated"]) == (True, 2, 0)
    assert done["errors"] == [] and done["rejectsCsv"] is None
    assert done["summary"].startswith("Imported 2 members: 2 new, 0 updated")
    assert member_count(session) == 3
    assert count_rows(session, OutboxEmail) == 2  # an invitation each, to set a password

    again = importing(client, members_csv(row("M1", name="Member One")), "ALL_OR_NOTHING")
    assert (again["created"], again["updated"]) == (0, 1)
    assert member_count(session) == 3


def test_all_or_nothing_names_line_and_column_and_writes_nothing(session, client):
    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser)

    done = importing(
        client, members_csv(row("M1"), row("M2", band="12"), row("M3", email="not-an-email"))
    )

    assert done["__typename"] == "ImportMembersSuccess", done
    assert (done["ok"], done["created"], done["updated"]) == (False, 0, 0)
    assert [(e["line"], e["column"]) for e in done["errors"]] == [(3, "band"), (4, "email")]
    assert all(e["reason"] for e in done["errors"])
    assert done["summary"].startswith("Nothing was imported")
    assert member_count(session) == 1


def test_partial_imports_the_good_rows_and_returns_the_rejects(session, client):
    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser)

    done = importing(client, members_csv(row("M1"), row("M2", band="12")), "PARTIAL")

    assert (done["ok"], done["created"]) == (False, 1)
    assert [(e["line"], e["column"]) for e in done["errors"]] == [(3, "band")]
    rejects = list(csv.reader(io.StringIO(done["rejectsCsv"])))
    assert len(rejects) == 2 and "M2" in rejects[1]
    assert member_count(session) == 2


def test_members_cannot_import_and_bad_input_is_clear(session, client):
    member = make_member(session)
    session.commit()

    anonymous = importing(client, members_csv(row("M1")))
    assert anonymous["__typename"] == "NotAuthenticated"

    log_in(client, member)
    refused = importing(client, members_csv(row("M1")))
    assert refused["__typename"] == "NotAllowed"
    assert member_count(session) == 1

    wrong_mode = post(client, IMPORT, {"input": {"csv": "x", "mode": "SOME"}})
    assert wrong_mode["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_garbage_and_broken_text_get_row_errors_not_a_crash(session, client):
    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser)

    for text in ("", "just some words", "\ud800broken", "a,b\n\x00,\x01"):
        # A lone surrogate can only arrive JSON-escaped: send the body as a client would.
        body = json.dumps({"query": IMPORT, "variables": {"input": {"csv": text}}})
        response = client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 200, response.text
        done = response.json()["data"]["importMembers"]
        assert done["__typename"] == "ImportMembersSuccess", (text, done)
        assert done["ok"] is False and done["errors"], text
    assert member_count(session) == 1


def test_a_file_over_the_body_limit_is_refused_by_http(session, client):
    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser)

    huge = members_csv(row("M1")) + "x" * (1024 * 1024)
    response = client.post(
        "/graphql", json={"query": IMPORT, "variables": {"input": {"csv": huge}}}
    )

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert member_count(session) == 1


BACKGROUND = """
mutation($input: ImportMembersInput!) {
  importMembers(input: $input) {
    __typename
    ... on ImportMembersSuccess { job { id status } }
  }
}
"""
PROGRESS = "query($id: ID!) { memberImport(id: $id) { status progress rowsWritten rowsTotal } }"


def test_a_background_import_returns_at_once_and_reports_its_progress(session, client):
    import time

    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser)

    started = post(
        client,
        BACKGROUND,
        {"input": {"csv": members_csv(row("G1"), row("G2")), "background": True}},
    )["data"]["importMembers"]

    assert started["job"]["status"] in ("QUEUED", "RUNNING", "DONE")
    deadline = time.monotonic() + 60
    while True:
        job = post(client, PROGRESS, {"id": started["job"]["id"]})["data"]["memberImport"]
        if job["status"] in ("DONE", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert job == {"status": "DONE", "progress": 1.0, "rowsWritten": 2, "rowsTotal": 2}
    assert member_count(session) == 3


RETRY = """
mutation($input: RetryMemberImportInput!) {
  retryMemberImport(input: $input) {
    __typename
    ... on ImportMembersSuccess { ok created job { status rowsWritten rowsTotal } }
    ... on Error { message }
  }
}
"""


def test_a_stopped_import_is_resumed_through_the_api(session, client, monkeypatch):
    from backend.members import importing as importing_service
    from backend.members.import_models import MemberImport
    from tests.members.test_importing import stop_after_chunks

    monkeypatch.setattr(importing_service, "WRITE_CHUNK", 2)
    chunks = stop_after_chunks(monkeypatch, 1)
    organiser = make_organiser(session)
    session.commit()
    log_in(client, organiser)
    first = importing(client, members_csv(*(row(f"Q{n}") for n in range(5))))
    assert first["ok"] is False and "2 rows were written" in first["summary"]
    session.rollback()
    stopped = session.exec(select(MemberImport.id)).one()
    session.rollback()

    resumed = post(client, RETRY, {"input": {"importId": str(stopped)}})["data"]

    assert resumed["retryMemberImport"] == {
        "__typename": "ImportMembersSuccess",
        "ok": True,
        "created": 5,
        "job": {"status": "DONE", "rowsWritten": 5, "rowsTotal": 5},
    }
    assert chunks == [["Q0", "Q1"], ["Q2", "Q3"], ["Q4"]]
    assert member_count(session) == 6
    again = post(client, RETRY, {"input": {"importId": str(stopped)}})["data"]
    assert again["retryMemberImport"]["__typename"] == "Conflict"
    assert "this one is done" in again["retryMemberImport"]["message"]


def test_only_organisers_retry_imports(session, client):
    member = make_member(session)
    session.commit()
    log_in(client, member)

    answer = post(client, RETRY, {"input": {"importId": "1"}})["data"]["retryMemberImport"]

    assert answer["__typename"] == "NotAllowed"
