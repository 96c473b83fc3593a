"""The organisers' import page: upload a members CSV, see every bad row, download the rejects."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from sqlmodel import select

from backend.members.models import Member
from members_csv import COLUMNS
from tests.factories import make_member
from tests.web.conftest import csrf_token, error_summary, log_in

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
    return client.post(
        "/organise/import",
        data={"csrf_token": csrf_token(client, "/organise/import"), "mode": mode},
        files={"file": ("members.csv", data, "text/csv")},
    )


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

    assert response.status_code == 400
    assert "Nothing was imported" in response.text
    assert error_summary(response.text) == ["See the problems"]
    rows = re.findall(
        r"<tr class=\"nhsuk-table__row\">\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\w+)", response.text
    )
    assert rows == [("3", "band"), ("4", "region")]
    assert 'download="rejected-rows.csv"' not in response.text
    assert _imported(session) == []


def test_partial_imports_the_good_rows_and_offers_the_rejects(organiser_client, session):
    response = upload(organiser_client, members_csv({}, {"band": "10"}), mode="partial")

    assert response.status_code == 200
    assert _imported(session) == ["imported1@example.nhs.uk"]
    href = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download', response.text)
    rejects = base64.b64decode(href.group(1)).decode("utf-8")
    assert "imported2@example.nhs.uk" in rejects and "imported1@" not in rejects


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

    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert _imported(session) == []


def test_an_unknown_mode_is_refused(organiser_client, session):
    response = upload(organiser_client, members_csv({}), mode="yolo")
    assert response.status_code == 400
    assert 'href="#mode"' in response.text
    assert _imported(session) == []
