"""The organisers' import page: upload a members CSV, see every bad row, download the rejects."""

from __future__ import annotations

import csv
import io
import re
import threading
import time

import pytest
from sqlmodel import select

from backend.members.models import Member
from members_csv import COLUMNS
from tests.factories import make_member
from tests.web.conftest import another_client, csrf_token, error_summary, forms_of, log_in

ROW = {
    "organisation": "Northfield Teaching Hospitals NHS Foundation Trust",
    "region": "North East and Yorkshire",
    "role_family": "operational-management",
    "band": "5",
    "profession": "non-clinical",
    "management_years": "2",
    "seeking_mentor": "yes",
    "mentor_capacity": "0",
    "skills_sought": "quality-improvement",
    "meeting_format": "either",
    "outside_organisation_only": "no",
    "priority_access": "no",
}


def members_csv(*rows: dict[str, str]) -> bytes:
    """A members CSV of ``rows`` (each a few overrides of a valid row)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\r\n", restval="")
    writer.writeheader()
    for number, changes in enumerate(rows, start=1):
        writer.writerow(
            {
                "member_id": f"M{number}",
                "name": f"Imported Member {number}",
                "email": f"imported{number}@example.nhs.uk",
                **ROW,
                **changes,
            }
        )
    return out.getvalue().encode("utf-8")


def upload(client, data: bytes, mode: str = "all-or-nothing"):  # type: ignore[no-untyped-def]
    """Upload the file; the import runs as a job: follow its status page until it is done."""
    response = client.post(
        "/organise/import",
        data={"csrf_token": csrf_token(client, "/organise/import"), "mode": mode},
        files={"file": ("members.csv", data, "text/csv")},
    )
    if response.status_code != 303:
        return response
    status_page = response.headers["location"]
    assert re.fullmatch(r"/organise/import/\d+", status_page)
    deadline = time.monotonic() + 60
    while True:
        page = client.get(status_page)
        if "Importing members" not in page.text or time.monotonic() > deadline:
            return page
        assert 'aria-live="polite"' in page.text and f'href="{status_page}"' in page.text
        time.sleep(0.05)


@pytest.fixture
def organiser_client(client, session):  # type: ignore[no-untyped-def]
    organiser = make_member(session, name="Olu Ade", roles=("organiser",))
    log_in(client, organiser.email)
    return client


def _imported(session) -> list[str]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return sorted(
        m.email for m in session.exec(select(Member)).all() if m.email.startswith("imported")
    )


def test_a_good_file_is_imported_and_summarised(organiser_client, session):
    response = upload(organiser_client, members_csv({}, {}))

    assert response.status_code == 200
    assert "Import finished" in response.text
    assert "2 new" in response.text
    assert _imported(session) == ["imported1@example.nhs.uk", "imported2@example.nhs.uk"]


def test_all_or_nothing_imports_nothing_and_lists_every_bad_row(organiser_client, session):
    response = upload(organiser_client, members_csv({}, {"band": "10"}, {"region": "Wales"}))

    assert response.status_code == 200
    assert "Nothing was imported" in response.text
    assert error_summary(response.text) == ["See the problems"]
    rows = re.findall(
        r"<tr class=\"nhsuk-table__row\">\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\w+)", response.text
    )
    assert rows == [("3", "band"), ("4", "region")]
    assert 'download="rejected-rows.csv"' not in response.text
    assert _imported(session) == []


def test_partial_imports_the_good_rows_and_offers_the_rejects(organiser_client, session):
    response = upload(
        organiser_client, members_csv({}, {"band": "10", "region": "Wales"}), mode="partial"
    )

    assert response.status_code == 200
    assert _imported(session) == ["imported1@example.nhs.uk"]
    # One row not imported, for two problems: the counts say which is which.
    text = " ".join(re.sub(r"<[^>]+>", " ", response.text).split())
    assert "Rows not imported 1 (2 problems)" in text
    assert "1 row not imported (2 problems)" in text
    href = re.search(r'href="(/organise/import/\d+/rejects.csv)" download', response.text)
    rejects = organiser_client.get(href.group(1))
    assert rejects.headers["content-type"].startswith("text/csv")
    assert "imported2@example.nhs.uk" in rejects.text and "imported1@" not in rejects.text


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00garbage\x00\x81",
        b"",
        b"just,a,header\r\n",
        b'member_id,name\r\n"unterminated',
    ],
)
def test_a_broken_file_gets_a_clear_answer_and_nothing_is_written(organiser_client, session, data):
    response = upload(organiser_client, data or b" ")

    assert "There is a problem" in response.text
    assert "Nothing was imported" in response.text
    assert _imported(session) == []


def test_an_unknown_mode_is_refused(organiser_client, session):
    response = upload(organiser_client, members_csv({}), mode="yolo")
    assert response.status_code == 400
    assert 'href="#mode"' in response.text
    assert _imported(session) == []


def test_an_import_shows_its_progress_in_a_live_region_with_a_refresh_link_without_javascript(
    organiser_client, session
):
    from backend.members import importing
    from backend.members.models import Member as MemberModel

    organiser = session.exec(select(MemberModel).where(MemberModel.name == "Olu Ade")).one()
    waiting = importing.start_import(
        session=session, actor=organiser, data=members_csv({}), mode="partial", filename="a.csv"
    )
    session.commit()

    page = organiser_client.get(f"/organise/import/{waiting.id}")

    assert page.status_code == 200
    assert "Waiting to start" in page.text and "0% done" in page.text
    assert 'http-equiv="refresh"' not in page.text  # no timed refresh (WCAG 2.2.1)
    assert '<p role="status" aria-live="polite"' in page.text
    assert f'<a href="/organise/import/{waiting.id}">Refresh this page</a>' in page.text
    assert f'data-progress="/organise/import/{waiting.id}/progress"' in page.text
    assert "<script" not in page.text.split("</main>")[0].split("<main")[-1]
    assert '<script type="module" src="/static/progress.js"' in page.text

    status = organiser_client.get(f"/organise/import/{waiting.id}/progress")
    assert status.status_code == 200
    assert status.json() == {"running": True, "message": "Waiting to start.", "percent": 0}

    waiting.status = "done"
    session.add(waiting)
    session.commit()
    done = organiser_client.get(f"/organise/import/{waiting.id}/progress").json()
    assert done["running"] is False and done["message"] == "The import has finished."


def test_another_organisers_import_is_not_found_by_a_member(client, session):
    from backend.members import importing

    organiser = make_member(session, roles=("organiser",))
    waiting = importing.start_import(
        session=session, actor=organiser, data=members_csv({}), mode="partial"
    )
    session.commit()
    member = make_member(session)
    log_in(client, member.email)

    assert client.get(f"/organise/import/{waiting.id}").status_code in (403, 404)


def test_the_site_stays_up_during_a_big_import(organiser_client, session, engine, monkeypatch):
    from backend.members import importing

    monkeypatch.setattr(importing, "WRITE_CHUNK", 250)
    organiser = make_member(session, roles=("organiser",))
    visitor = make_member(session, email="visitor@example.nhs.uk")
    rows = [{"member_id": f"B{n}", "email": f"big{n}@example.nhs.uk"} for n in range(3000)]
    member_import = importing.start_import(
        session=session, actor=organiser, data=members_csv(*rows), mode="all-or-nothing"
    )
    session.commit()
    job = threading.Thread(target=importing.run_import_job, args=(member_import.id, engine))
    job.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until the job is writing
            session.expire_all()
            current = session.get(type(member_import), member_import.id)
            written, status = current.rows_written, current.status
            session.rollback()
            if written > 0 or status in ("done", "failed"):
                break
            time.sleep(0.02)
        # While it writes, anyone can still open the log-in page and log in.
        other = another_client(engine)
        assert other.get("/login").status_code == 200
        log_in(other, visitor.email)
        session.expire_all()
        during = session.get(type(member_import), member_import.id)
        during_status, during_written = during.status, during.rows_written
        session.rollback()
    finally:
        job.join(300)

    assert during_status == "running" and 0 < during_written < 3000
    session.expire_all()
    finished = session.get(type(member_import), member_import.id)
    assert finished.status == "done" and finished.created == 3000


def test_a_stopped_import_is_resumed_from_its_page(organiser_client, session, monkeypatch):
    from backend.members import importing
    from backend.members.import_models import MemberImport
    from backend.members.models import Member as MemberModel
    from tests.members.test_importing import stop_after_chunks

    monkeypatch.setattr(importing, "WRITE_CHUNK", 2)
    chunks = stop_after_chunks(monkeypatch, 1)
    organiser = session.exec(select(MemberModel).where(MemberModel.name == "Olu Ade")).one()
    stopped = importing.start_import(
        session=session, actor=organiser, data=members_csv({}, {}, {}), mode="partial"
    )
    session.commit()
    import_id = stopped.id
    assert importing.run_import_job(import_id, engine=session.get_bind()) == "failed"

    page = organiser_client.get(f"/organise/import/{import_id}")
    assert page.status_code == 200
    assert "<h1>The import stopped</h1>" in page.text
    assert "2 rows were written" in page.text and "after the 2 rows already written" in page.text
    [form] = [f for f in forms_of(page.text) if f["action"].endswith("/retry")]
    assert form["method"] == "post" and "csrf_token" in form["fields"]

    resumed = organiser_client.post(
        f"/organise/import/{import_id}/retry", data={"csrf_token": form["fields"]["csrf_token"]}
    )
    assert resumed.status_code == 303
    deadline = time.monotonic() + 60
    while True:
        done = organiser_client.get(resumed.headers["location"])
        if "Importing members" not in done.text or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert "Imported 3 members" in done.text
    assert chunks == [["M1", "M2"], ["M3"]]
    assert _imported(session) == [f"imported{n}@example.nhs.uk" for n in (1, 2, 3)]
    session.rollback()
    assert session.get(MemberImport, import_id).status == "done"


def test_the_result_page_notes_rows_whose_diversity_answers_were_not_used(
    organiser_client, session
):  # type: ignore[no-untyped-def]
    """A member with an account owns their answers: the row imports, the answers do not."""
    make_member(session, email="imported2@example.nhs.uk", name="Has Account")
    session.commit()
    data = members_csv(
        {"demographics_consent": "yes", "gender": "woman"},
        {"demographics_consent": "yes", "gender": "man"},
    )

    page = upload(organiser_client, data)

    assert page.status_code == 200 and "Import finished" in page.text
    assert "Diversity answers on 1 row were not used" in page.text
    notes = page.text[page.text.index('id="import-notes"') :]
    assert "Rows imported without their diversity answers" in notes
    assert re.search(r"<td[^>]*>3</td>\s*<td[^>]*>demographics_consent</td>", notes)
    assert "only they can give or change their answers" in notes
