"""The audit log's pages: /admin/audit and its CSV for admins only; "Who has seen your data"
on My data; sign-ins from a new device and downloads through the pages are recorded."""

from __future__ import annotations

import csv
import html
import io
import json

import pytest

from backend import audit
from backend.audit import actions as a
from backend.audit.models import AuditEvent
from tests.factories import audit_events, make_member, make_organiser, make_proposal, make_round
from tests.web.conftest import another_client, error_summary, log_in


def _events(session, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return audit_events(session, action, end_read=True)


@pytest.fixture
def admin(session):  # type: ignore[no-untyped-def]
    member = make_member(
        session, name="Ada Admin", email="ada.admin@example.nhs.uk", roles=("admin",)
    )
    session.commit()
    return member


def test_only_admins_open_the_audit_log_and_its_csv(client, session, engine, admin):
    organiser = make_organiser(session, email="olu@example.nhs.uk")
    session.commit()

    assert client.get("/admin/audit").status_code == 303  # anonymous: to the log-in page
    assert client.get("/admin/audit.csv").status_code == 303
    log_in(client, "olu@example.nhs.uk")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    assert "/admin/audit" not in client.get("/").text  # no link for organisers

    admin_client = another_client(engine)
    log_in(admin_client, "ada.admin@example.nhs.uk")
    page = admin_client.get("/admin/audit")
    assert page.status_code == 200
    assert "<h1>Audit log</h1>" in page.text and 'href="/admin/audit"' in page.text
    assert "Signed in from a new device" in page.text and "Ada Admin" in page.text
    assert organiser.id is not None
    assert _events(session, a.AUDIT_EXPORTED) == []  # reading is not exporting


def test_the_log_filters_and_pages_newest_first(client, session, admin):
    organiser = make_organiser(session, name="Olu Organiser")
    for number in range(55):
        audit.record(
            session,
            actor=organiser,
            action=a.ROUND_CREATED,
            subject=audit.subject("round", number + 1),
        )
    session.commit()
    log_in(client, "ada.admin@example.nhs.uk")

    first = client.get(f"/admin/audit?action={a.ROUND_CREATED}&actor={organiser.id}")
    assert first.status_code == 200
    assert first.text.count("<code>round.created</code>") == 50
    assert "round 55" in first.text and "round 5<" not in first.text
    [older] = [
        line.split('href="')[1].split('"')[0]
        for line in first.text.splitlines()
        if "nhsuk-pagination__link--next" in line
    ]
    second = client.get(older.replace("&amp;", "&"))
    assert second.status_code == 200
    assert second.text.count("<code>round.created</code>") == 5 and "round 1<" in second.text
    assert "nhsuk-pagination__link--next" not in second.text
    nothing = client.get(f"/admin/audit?action={a.ROUND_PUBLISHED}")
    assert "No events match." in nothing.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=round.deleted", "Choose an action from the list."),
        ("since=yesterday", "Enter a date like 2026-12-01."),
        ("actor=%3DSUM(1)", "Enter the member's id as a whole number."),
        ("before=x", "That page link is not one this site made."),
    ],
)
def test_a_bad_filter_is_explained_not_a_crash(client, admin, query, message):
    log_in(client, "ada.admin@example.nhs.uk")

    page = client.get(f"/admin/audit?{query}")

    assert page.status_code == 400
    assert [html.unescape(m) for m in error_summary(page.text)] == [message]


def test_the_csv_neutralises_formulas_and_its_download_is_recorded(client, session, admin):
    sneaky = make_organiser(session, name='=HYPERLINK("http://evil.example","Click")')
    audit.record(session, actor=sneaky, action=a.ROUND_CREATED, subject=audit.subject("round", 1))
    session.commit()
    log_in(client, "ada.admin@example.nhs.uk")

    response = client.get(f"/admin/audit.csv?action={a.ROUND_CREATED}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert [r[3] for r in rows[1:]] == ['\'=HYPERLINK("http://evil.example","Click")']
    [exported] = _events(session, a.AUDIT_EXPORTED)
    assert exported.actor_id == admin.id
    assert json.loads(exported.details) == {"rows": 1, "action": a.ROUND_CREATED, "actor": None}


def test_a_sign_in_through_the_page_from_a_new_device_is_recorded_once(client, session, engine):
    member = make_member(session, email="ann@example.nhs.uk")
    session.commit()

    log_in(client, "ann@example.nhs.uk")
    again = another_client(engine)  # the same browser and address: a known device
    log_in(again, "ann@example.nhs.uk")
    phone = another_client(engine)
    phone.headers["User-Agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/605"
    log_in(phone, "ann@example.nhs.uk")

    events = _events(session, a.SIGNIN_NEW_DEVICE)
    assert [e.actor_id for e in events] == [member.id, member.id]


def test_my_data_shows_who_viewed_or_downloaded_data_about_me_and_no_one_else(
    client, session, engine
):
    organiser = make_organiser(session, name="Olu Organiser", email="olu@example.nhs.uk")
    mentee = make_member(session, name="Mia Mentee", email="mia@example.nhs.uk", band="4")
    mentor = make_member(session, name="Max Mentor", band="8a", organisation="Other Trust")
    make_member(session, name="Bea Bystander", email="bea@example.nhs.uk")
    matching_round = make_round(session, organiser=organiser)
    proposal = make_proposal(session, matching_round=matching_round, mentee=mentee, mentor=mentor)
    session.commit()
    log_in(client, "olu@example.nhs.uk")

    view = client.get(f"/organise/rounds/{matching_round.id}/proposals/{proposal.id}")
    assert view.status_code == 200
    assert client.get(f"/organise/rounds/{matching_round.id}/export.csv").status_code == 200

    viewed = _events(session, a.MEMBER_VIEWED)
    assert {(e.actor_id, e.subject_id) for e in viewed} == {
        (organiser.id, mentee.id),
        (organiser.id, mentor.id),
    }
    assert len(_events(session, a.ROUND_EXPORTED)) == 1
    mia = another_client(engine)
    log_in(mia, "mia@example.nhs.uk")
    page = mia.get("/my-data")
    assert page.status_code == 200
    assert "Who has seen your data" in page.text
    assert page.text.count("Olu Organiser") == 2
    assert "viewed your profile" in page.text
    assert "downloaded a list of proposed matches that includes you" in page.text
    bea = another_client(engine)
    log_in(bea, "bea@example.nhs.uk")
    theirs = bea.get("/my-data")
    assert "Nobody has viewed or downloaded your data yet." in theirs.text
    assert "Olu Organiser" not in theirs.text


def test_downloading_my_data_and_an_insights_table_through_the_pages_are_recorded(client, session):
    member = make_organiser(session, email="olu@example.nhs.uk")
    session.commit()
    log_in(client, "olu@example.nhs.uk")

    assert client.get("/my-data/download").status_code == 200
    assert client.get("/organise/insights/by-band.csv").status_code == 200
    assert client.get("/organise/insights/nothing.csv").status_code == 404

    [downloaded] = _events(session, a.MEMBER_DATA_EXPORTED)
    assert downloaded.actor_id == downloaded.subject_id == member.id
    [table] = _events(session, a.INSIGHTS_EXPORTED)
    assert json.loads(table.details) == {"table": "by-band"}
    assert "downloaded your data" in client.get("/my-data").text
