"""The organisation register's pages (/admin/organisations): find with ODS code, type, region
and member count; what members typed waiting to be matched; import an ODS file; edit; map and
merge. Admins only. And the register offered as a list wherever a member names their
organisation (sign-up, profile), which works without JavaScript (a native datalist)."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from backend.audit import actions as a
from backend.members.models import Member
from backend.organisations.models import Organisation
from tests.csv_injection import HOSTILE, assert_neutralised, read
from tests.factories import audit_events, make_member, make_organisation, make_organiser
from tests.web.conftest import (
    GOOD_SIGN_UP,
    another_client,
    csrf_token,
    error_summary,
    log_in,
    post_form,
)

ODS = (
    '"RR8","LEEDS TEACHING HOSPITALS NHS TRUST","Y63","QWO","BECKETT STREET","","LEEDS","","",'
    '"LS9 7TF","19980401",""\r\n'
    '"R!!","A BAD ROW","Y63"\r\n'
    '"RAE","BRADFORD TEACHING HOSPITALS NHS FOUNDATION TRUST","Y63","QWO","DUCKWORTH LANE","",'
    '"BRADFORD","","","BD9 6RJ","20040401",""\r\n'
)


@pytest.fixture
def admin(session):  # type: ignore[no-untyped-def]
    member = make_member(
        session,
        name="Ada Admin",
        email="ada.orgs@example.nhs.uk",
        organisation="NHS England",
        roles=("admin",),
    )
    session.commit()
    return member


@pytest.fixture
def admin_client(client, admin):  # type: ignore[no-untyped-def]
    log_in(client, "ada.orgs@example.nhs.uk")
    return client


def upload(client, data: bytes, type: str = "derive"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/admin/organisations")
    return client.post(
        "/admin/organisations/import",
        data={"csrf_token": token, "type": type},
        files={"file": ("etr.csv", data, "text/csv")},
    )


def test_members_and_organisers_are_refused_the_register_pages(client, session, engine, admin):  # type: ignore[no-untyped-def]
    make_organiser(session, email="olu.orgs@example.nhs.uk")
    org = make_organisation(session, name="Typed Trust")
    session.commit()
    paths = ["/admin/organisations", f"/admin/organisations/{org.id}"]
    assert [client.get(p).status_code for p in paths] == [303, 303]
    log_in(client, "olu.orgs@example.nhs.uk")
    for path in paths:
        assert client.get(path).status_code == 403, path
    refused = post_form(
        client, f"/admin/organisations/{org.id}", {"type": "acute-trust"}, page="/account"
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(Organisation, org.id).type == "acute-trust"  # the factory's, unchanged
    assert audit_events(session, a.ORGANISATION_UPDATED, end_read=True) == []


def test_importing_an_ods_file_then_finding_by_code(admin_client, session):  # type: ignore[no-untyped-def]
    none_chosen = post_form(
        admin_client,
        "/admin/organisations/import",
        {"type": "derive"},
        page="/admin/organisations",
    )
    assert none_chosen.status_code == 400
    assert error_summary(none_chosen.text) == ["Select an ODS CSV file to import."]

    done = upload(admin_client, ODS.encode())
    assert done.status_code == 200
    assert "2 added to the register, 0 updated, 0 unchanged" in done.text
    assert "1 row not imported" in done.text and "A BAD" not in done.text
    assert "<td" in done.text and "3 to 10 letters and digits" in done.text
    again = upload(admin_client, ODS.encode())
    assert "0 added to the register, 0 updated, 2 unchanged" in again.text

    found = admin_client.get("/admin/organisations?search=rr8")
    assert found.status_code == 200
    assert "Leeds Teaching Hospitals NHS Trust" in found.text and ">RR8<" in found.text
    assert "Bradford" not in found.text and "North East and Yorkshire" in found.text
    assert upload(admin_client, b"", "derive").status_code == 400
    assert upload(admin_client, ODS.encode(), "boss").status_code == 400
    assert admin_client.get("/admin/organisations?page=0").status_code == 400
    assert admin_client.get("/admin/organisations?status=gone").status_code == 400
    assert len(audit_events(session, a.ORGANISATIONS_IMPORTED, end_read=True)) == 2


def test_a_typed_organisation_waits_then_is_merged_into_the_register(admin_client, session):  # type: ignore[no-untyped-def]
    leeds = make_organisation(
        session, name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8", status="register"
    )
    people = [make_member(session, organisation="Leeds Teaching Hosp") for _ in range(2)]
    typo_id = people[0].organisation_id
    session.commit()

    listing = admin_client.get("/admin/organisations")
    assert "See the organisations waiting to be matched" in listing.text
    waiting = admin_client.get("/admin/organisations?status=other")
    assert f'href="/admin/organisations/{typo_id}">Leeds Teaching Hosp<' in waiting.text
    page = admin_client.get(f"/admin/organisations/{typo_id}")
    assert page.status_code == 200 and 'id="member-count">2<' in page.text

    unknown = post_form(
        admin_client,
        f"/admin/organisations/{typo_id}/merge",
        {"into": "Nowhere Trust"},
        page=f"/admin/organisations/{typo_id}",
    )
    assert unknown.status_code == 400
    assert error_summary(unknown.text) == [
        "Give the ODS code or the full name of an organisation of the register."
    ]
    merged = post_form(
        admin_client,
        f"/admin/organisations/{typo_id}/merge",
        {"into": "rr8"},
        page=f"/admin/organisations/{typo_id}",
    )
    assert merged.status_code == 303
    assert (
        merged.headers["location"] == f"/admin/organisations/{typo_id}?notice=organisation-merged"
    )
    session.expire_all()
    assert {
        m.organisation_id
        for m in session.exec(select(Member)).all()
        if m.id in {p.id for p in people}
    } == {leeds.id}
    shown = admin_client.get(merged.headers["location"]).text
    assert "Merged into" in shown and f'href="/admin/organisations/{leeds.id}"' in shown
    assert 'id="member-count">0<' in shown
    [event] = audit_events(session, a.ORGANISATION_MERGED, end_read=True)
    assert json.loads(event.details)["members"] == 2
    assert "Leeds Teaching Hosp<" not in admin_client.get("/admin/organisations").text


def test_editing_and_adding_to_the_register(admin_client, session):  # type: ignore[no-untyped-def]
    org = make_organisation(session, name="Wharfe Valley Hospice", type="other", region=None)
    session.commit()
    path = f"/admin/organisations/{org.id}"
    bad = post_form(admin_client, path, {"type": "other", "region": "", "ods_code": "R-1"})
    assert bad.status_code == 400 and "3 to 10 letters and digits" in error_summary(bad.text)[0]
    saved = post_form(
        admin_client,
        path,
        {"type": "community-trust", "region": "North East and Yorkshire", "ods_code": "rwv"},
    )
    assert saved.status_code == 303
    added = post_form(admin_client, f"{path}/register", {}, page=path)
    assert added.status_code == 303
    session.expire_all()
    org = session.get(Organisation, org.id)
    assert (org.type, org.region, org.ods_code, org.status) == (
        "community-trust",
        "North East and Yorkshire",
        "RWV",
        "register",
    )
    session.rollback()
    assert admin_client.get("/admin/organisations/999999").status_code == 404
    assert 'href="/admin/organisations"' in admin_client.get("/admin").text


def test_sign_up_offers_the_register_and_keeps_a_typed_name_as_other(client, session, engine):  # type: ignore[no-untyped-def]
    leeds = make_organisation(
        session, name="Leeds Teaching Hospitals NHS Trust", ods_code="RR8", status="register"
    )
    make_organisation(session, name="Typed By Someone")  # not offered
    session.commit()
    html = client.get("/sign-up").text
    assert 'list="organisation-register"' in html
    assert '<option value="Leeds Teaching Hospitals NHS Trust">RR8</option>' in html
    assert "Typed By Someone" not in html
    assert 'aria-describedby="organisation-hint"' in html

    response = post_form(client, "/sign-up", {**GOOD_SIGN_UP, "organisation": "rr8"})
    assert response.status_code == 303
    other = another_client(engine)
    typed = post_form(
        other,
        "/sign-up",
        {**GOOD_SIGN_UP, "email": "kit@example.nhs.uk", "organisation": "Wharfe Hospice"},
    )
    assert typed.status_code == 303
    session.expire_all()
    sam = session.exec(select(Member).where(Member.email == GOOD_SIGN_UP["email"])).one()
    kit = session.exec(select(Member).where(Member.email == "kit@example.nhs.uk")).one()
    assert sam.organisation_id == leeds.id
    assert session.get(Organisation, kit.organisation_id).status == "other"


def test_the_profile_form_offers_the_register(client, session):  # type: ignore[no-untyped-def]
    make_organisation(session, name="Bradford Teaching Hospitals", status="register")
    member = make_member(session)
    session.commit()
    log_in(client, member.email)
    html = client.get("/profile/edit").text
    assert '<option value="Bradford Teaching Hospitals">' in html
    assert 'value="Leeds Teaching Hospitals NHS Trust"' in html  # their own, kept as typed


def test_the_rejected_rows_download_as_csv_with_their_problems(admin_client, session, engine):  # type: ignore[no-untyped-def]
    hostile = HOSTILE[0].replace('"', '""')
    data = ODS + f'"Q!","{hostile}","Y63"\r\n"RR8","LEEDS AGAIN","Y63"\r\n'

    done = upload(admin_client, data.encode())
    [href] = re.findall(r'href="(/admin/organisations/import/\d+/rejected\.csv)"', done.text)
    assert "Download the rejected rows (CSV)" in done.text
    response = admin_client.get(href)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    heading, *rows = read(response.text)
    assert heading[:3] == ["Organisation code", "Name", "National grouping"]
    assert heading[-2:] == ["Line", "Problem"] and heading[11] == "Close date"
    assert [(r[0], r[-2]) for r in rows] == [("R!!", "2"), ("Q!", "4"), ("RR8", "5")]
    assert "3 to 10 letters and digits" in rows[0][-1]
    assert "on line 1 already" in rows[2][-1]
    assert_neutralised(rows[1], HOSTILE[0])
    [downloaded] = audit_events(session, a.IMPORT_REJECTS_EXPORTED, end_read=True)
    assert downloaded.subject_type == "organisation_import"
    assert json.loads(downloaded.details) == {"rows": 3}
    outsider = another_client(engine)
    make_organiser(session, email="olu.rejects@example.nhs.uk")
    session.commit()
    log_in(outsider, "olu.rejects@example.nhs.uk")
    assert outsider.get(href).status_code == 403
    assert admin_client.get("/admin/organisations/import/999999/rejected.csv").status_code == 404
