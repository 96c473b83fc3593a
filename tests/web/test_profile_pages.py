"""My profile, my mentoring offer and other members' profiles, through the pages."""

from __future__ import annotations

import pytest

from backend.members import service as member_service
from backend.members.models import Member
from tests.factories import make_member
from tests.web.conftest import csrf_token, forms_of, log_in, post_form


@pytest.mark.parametrize(
    "path", ["/profile", "/profile/edit", "/mentoring-offer", "/account", "/members/1"]
)
def test_signed_in_pages_send_anonymous_visitors_to_log_in_and_back(client, path):
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + path.replace("/", "%2F")
    login = client.get(response.headers["location"]).text
    assert f'name="next" value="{path}"' in login


def test_after_logging_in_the_member_returns_to_the_page_they_asked_for(client, session):
    member = make_member(session)
    client.get("/mentoring-offer")
    response = post_form(
        client,
        "/login",
        {
            "email": member.email,
            "password": "correct horse battery staple",
            "next": "/mentoring-offer",
        },
        page="/login?next=%2Fmentoring-offer",
    )
    assert response.headers["location"] == "/mentoring-offer"


def test_profile_summary_has_a_change_link_for_each_answer(client, session):
    member = make_member(
        session, name="Priya Shah", bio="I run outpatients.", skills_sought=("quality-improvement",)
    )
    log_in(client, member.email)

    page = client.get("/profile").text

    assert "Priya Shah" in page and "I run outpatients." in page and "Quality improvement" in page
    assert 'href="/profile/edit#skills_sought"' in page
    assert 'href="/mentoring-offer#capacity"' in page
    assert page.count("<h1") == 1


def test_editing_the_profile_saves_every_field_and_the_skills(client, session):
    member = make_member(session, skills_sought=("team-leadership",))
    log_in(client, member.email)
    form = {
        "name": "Priya Shah",
        "job_title": "Head of outpatients",
        "organisation": "Manchester University NHS Foundation Trust",
        "region": "North West",
        "role_family": "operational-management",
        "band": "8a",
        "profession": "nurse-or-midwife",
        "management_years": "6",
        "bio": "Line one\nLine two",
        "goals": "Lead a system-wide change.",
        "skills_sought": ["collaborative-leadership", "quality-improvement"],
        "seeking_mentor": "yes",
        "outside_organisation_only": "yes",
        "meeting_format": "remote",
        "contact_visibility": "nobody",
    }

    response = post_form(client, "/profile/edit", form)

    assert response.status_code == 303
    assert response.headers["location"] == "/profile?notice=profile-saved"
    session.expire_all()
    saved = session.get(Member, member.id)
    assert (saved.name, saved.band, saved.region, saved.management_years) == (
        "Priya Shah",
        "8a",
        "North West",
        6,
    )
    assert saved.seeking_mentor and saved.outside_organisation_only
    assert saved.contact_visibility == "nobody" and saved.meeting_format == "remote"
    assert member_service.skills_of(session=session, member_id=member.id)["sought"] == [
        "collaborative-leadership",
        "quality-improvement",
    ]
    page = client.get("/profile?notice=profile-saved").text
    assert "Your profile has been saved." in page
    assert "Manchester University NHS Foundation Trust" in page


def test_the_edit_form_is_filled_in_and_groups_skills_by_framework(client, session):
    member = make_member(session, band="8b", skills_sought=("rota-management",))
    log_in(client, member.email)

    html = client.get("/profile/edit").text

    assert '<option value="8b" selected>' in html
    assert 'value="rota-management" checked' in html
    for group in ("Skills the interviews found missing", "Core management skills"):
        assert f"{group}</legend>" in html
    assert "Healthcare Leadership Model</legend>" in html
    [form] = [f for f in forms_of(html) if f["action"] == "/profile/edit"]
    assert {"name", "skills_sought", "contact_visibility", "seeking_mentor"} <= set(form["fields"])


def test_unticking_every_skill_clears_them(client, session):
    member = make_member(session, skills_sought=("team-leadership",))
    log_in(client, member.email)
    html = client.get("/profile/edit").text
    [form] = [f for f in forms_of(html) if f["action"] == "/profile/edit"]
    data = {k: v or "" for k, v in form["fields"].items() if k not in ("skills_sought",)}
    data["region"] = member.region
    data["role_family"] = member.role_family
    data["band"] = member.band
    data["profession"] = member.profession
    data["bio"] = ""
    data["goals"] = ""
    data["meeting_format"] = "either"
    data["contact_visibility"] = "members"

    response = client.post("/profile/edit", data=data)

    assert response.status_code == 303, response.text
    assert member_service.skills_of(session=session, member_id=member.id)["sought"] == []


def test_a_members_profile_shows_contact_details_only_when_they_allow_it(client, session):
    open_member = make_member(session, name="Open Member", organisation="Open Trust")
    private = make_member(
        session, name="Private Member", organisation="Secret Trust", contact_visibility="nobody"
    )
    reader = make_member(session)
    log_in(client, reader.email)

    shown = client.get(f"/members/{open_member.id}").text
    hidden = client.get(f"/members/{private.id}").text

    assert "Open Trust" in shown and open_member.email in shown
    assert "Private Member" in hidden
    assert "Secret Trust" not in hidden and private.email not in hidden
    assert hidden.count("Not shared") == 2


def test_a_member_offering_mentoring_shows_it(client, session):
    mentor = make_member(session, capacity=2, skills_offered=("budget-management",))
    reader = make_member(session)
    log_in(client, reader.email)
    page = client.get(f"/members/{mentor.id}").text
    assert "Offers mentoring" in page and "Budget management" in page


def test_setting_the_mentoring_offer(client, session):
    member = make_member(session)
    log_in(client, member.email)
    page = client.get("/mentoring-offer").text
    assert '<option value="0" selected>' in page

    response = post_form(
        client,
        "/mentoring-offer",
        {
            "capacity": "3",
            "paused": "yes",
            "skills_offered": ["budget-management", "rota-management"],
            "meeting_format": "in-person",
            "note": "Free on Tuesday afternoons",
        },
    )

    assert response.status_code == 303
    offer = member_service.offer_of(session=session, member_id=member.id)
    assert (offer.capacity, offer.paused, offer.note) == (3, True, "Free on Tuesday afternoons")
    assert member_service.skills_of(session=session, member_id=member.id)["offered"] == [
        "budget-management",
        "rota-management",
    ]
    again = client.get("/mentoring-offer").text
    assert '<option value="3" selected>' in again
    assert 'value="budget-management" checked' in again
    assert 'id="paused" name="paused" type="checkbox" value="yes" checked' in again


def test_organisers_only_on_the_import_page(client, session):
    member = make_member(session)
    log_in(client, member.email)

    assert client.get("/organise/import").status_code == 403
    refused = post_form(client, "/organise/import", {"mode": "partial"}, page="/profile")
    assert refused.status_code == 403
    assert "Import members" not in client.get("/profile").text


def test_the_navigation_offers_the_import_page_to_organisers(client, session):
    organiser = make_member(session, roles=("organiser",))
    log_in(client, organiser.email)
    assert 'href="/organise/import"' in client.get("/profile").text
    page = client.get("/organise/import")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.text and 'type="file"' in page.text


def test_importing_without_a_file_is_explained(client, session):
    organiser = make_member(session, roles=("organiser",))
    log_in(client, organiser.email)
    token = csrf_token(client, "/organise/import")
    response = client.post(
        "/organise/import",
        data={"csrf_token": token, "mode": "all-or-nothing"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 400
    assert 'href="#file"' in response.text


def test_error_pages_keep_the_signed_in_header(client, session):
    member = make_member(session, name="Header Keeper")
    log_in(client, member.email)
    missing = client.get("/members/999999")
    forbidden = client.get("/organise/import")
    for response in (missing, forbidden):
        assert "Header Keeper" in response.text and 'action="/logout"' in response.text
    assert (missing.status_code, forbidden.status_code) == (404, 403)


def test_an_anonymous_not_found_starts_no_session(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "set-cookie" not in response.headers


def test_a_retired_skill_the_member_holds_stays_ticked_on_the_form_and_nobody_else_sees_it(
    client, session, engine
):
    from backend.db import utcnow
    from backend.skills.models import Skill
    from tests.web.conftest import another_client

    holder = make_member(session, skills_sought=("budget-management", "rota-management"))
    newcomer = make_member(session)
    retired = session.get(Skill, "budget-management")
    retired.retired_at = utcnow()
    session.add(retired)
    session.commit()
    log_in(client, holder.email)
    try:
        html = client.get("/profile/edit").text
        other = another_client(engine)
        log_in(other, newcomer.email)
        newcomers = other.get("/profile/edit").text
    finally:  # the framework is shared by the tests that follow
        retired.retired_at = None
        session.add(retired)
        session.commit()

    # Shown ticked and marked, so saving the form keeps it unless the member unticks it.
    assert 'value="budget-management" checked' in html
    assert "(no longer in the skills framework)" in html
    assert 'value="rota-management" checked' in html
    assert 'value="budget-management"' not in newcomers
