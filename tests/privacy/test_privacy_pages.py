"""My data pages: the diversity form, the download, and erasing the account."""

from __future__ import annotations

import json

from sqlmodel import select

from backend.members.models import Member
from backend.privacy.models import ConsentRecord, DemographicRecord
from tests.factories import PASSWORD, make_member
from tests.web.conftest import error_summary, log_in, post_form


def test_the_diversity_page_says_what_why_who_and_how_to_withdraw(client, session):
    member = make_member(session)
    log_in(client, member.email)

    page = client.get("/my-data/diversity")

    assert page.status_code == 200
    for words in ("What we ask", "Why we ask", "Who sees what", "How to withdraw"):
        assert words in page.text
    assert "only in aggregate" in page.text and "Prefer not to say" in page.text


def test_answers_need_the_consent_box_then_are_saved_and_withdrawn(client, session):
    member = make_member(session)
    log_in(client, member.email)

    refused = post_form(client, "/my-data/diversity", {"ethnicity": "asian"})
    assert refused.status_code == 400 and error_summary(refused.text)
    assert session.exec(select(DemographicRecord)).all() == []

    saved = post_form(
        client, "/my-data/diversity", {"ethnicity": "asian", "age_band": "25-34", "consent": "yes"}
    )
    assert saved.status_code == 303
    [record] = session.exec(select(DemographicRecord)).all()
    assert (record.ethnicity, record.age_band) == ("asian", "25-34")
    session.rollback()

    withdrawn = post_form(client, "/my-data/diversity/withdraw", {}, page="/my-data/diversity")
    assert withdrawn.status_code == 303
    assert session.exec(select(DemographicRecord)).all() == []
    assert session.exec(select(ConsentRecord)).one().withdrawn_at is not None


def test_my_data_downloads_as_json(client, session):
    member = make_member(session, name="Jo Download")
    log_in(client, member.email)

    assert "Download my data" in client.get("/my-data").text
    download = client.get("/my-data/download")

    assert download.headers["content-type"].startswith("application/json")
    assert "attachment" in download.headers["content-disposition"]
    assert json.loads(download.text)["profile"]["name"] == "Jo Download"


def test_erasing_asks_for_password_and_tick_then_logs_out(client, session):
    member = make_member(session)
    member_id = member.id
    log_in(client, member.email)

    refused = post_form(client, "/my-data/erase", {"password": PASSWORD})
    assert refused.status_code == 400 and error_summary(refused.text)

    erased = post_form(client, "/my-data/erase", {"password": PASSWORD, "confirm": "yes"})
    assert erased.status_code == 303
    session.expire_all()
    assert session.get(Member, member_id) is None
    assert client.get("/my-data").status_code in (302, 303, 401)


def test_a_cross_site_erase_without_the_token_changes_nothing(client, session):
    member = make_member(session)
    log_in(client, member.email)

    response = client.post("/my-data/erase", data={"password": PASSWORD, "confirm": "yes"})

    assert response.status_code == 403
    assert session.exec(select(Member).where(Member.id == member.id)).first() is not None
