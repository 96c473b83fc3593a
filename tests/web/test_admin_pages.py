"""The admin console's pages: /admin, finding members, a member's account, suspending and
reactivating with a reason, resending the invitation and changing roles; admins only."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlmodel import select

from backend.audit import actions as a
from backend.audit.models import AuditEvent
from backend.members.models import Member, MemberRole
from backend.notifications.models import OutboxEmail
from tests.factories import PASSWORD, audit_events, make_member, make_organiser
from tests.web.conftest import another_client, error_summary, forms_of, log_in, post_form


@pytest.fixture
def admin(session):  # type: ignore[no-untyped-def]
    member = make_member(
        session, name="Ada Admin", email="ada.admin@example.nhs.uk", roles=("admin",)
    )
    session.commit()
    return member


@pytest.fixture
def admin_client(client, admin):  # type: ignore[no-untyped-def]
    log_in(client, "ada.admin@example.nhs.uk")
    return client


def _events(session, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return audit_events(session, action, end_read=True)


def test_organisers_and_members_are_refused_every_console_page(client, session, admin):  # type: ignore[no-untyped-def]
    make_organiser(session, email="olu@example.nhs.uk")
    target = make_member(session)
    session.commit()
    paths = ["/admin", "/admin/members", f"/admin/members/{target.id}"]
    assert [client.get(p).status_code for p in paths] == [303, 303, 303]  # to log in
    log_in(client, "olu@example.nhs.uk")
    for path in paths:
        page = client.get(path)
        assert page.status_code == 403, path
        assert "Only admins can use the admin console." in page.text
    assert 'href="/admin"' not in client.get("/").text  # no header link for organisers
    refused = post_form(
        client, f"/admin/members/{target.id}/suspend", {"reason": "conduct"}, page="/account"
    )
    assert refused.status_code == 403
    session.refresh(target)
    assert target.is_active and _events(session, a.MEMBER_SUSPENDED) == []


def test_the_landing_page_links_the_parts_and_the_header_links_it(admin_client):  # type: ignore[no-untyped-def]
    page = admin_client.get("/admin")
    assert page.status_code == 200
    assert "<h1>Admin console</h1>" in page.text
    assert 'class="nhsuk-card__link" href="/admin/members"' in page.text
    assert 'class="nhsuk-card__link" href="/admin/audit"' in page.text
    assert 'class="nhsuk-card__link" href="/admin/skills"' in page.text
    assert 'class="nhsuk-header__navigation-link" href="/admin"' in admin_client.get("/").text


def test_finding_members_by_fragment_and_filters(admin_client, session):  # type: ignore[no-untyped-def]
    make_member(session, name="Rota Planner", email="rota@leeds.nhs.uk")
    make_member(session, name="Una Unconfirmed", verified=False)
    make_member(session, name="Sam Suspended", is_active=False)
    session.commit()
    page = admin_client.get("/admin/members?text=rota")
    assert "Rota Planner" in page.text and "Una Unconfirmed" not in page.text
    page = admin_client.get("/admin/members?confirmed=no")
    assert "Una Unconfirmed" in page.text and "Rota Planner" not in page.text
    page = admin_client.get("/admin/members?status=suspended")
    assert "Sam Suspended" in page.text and "Suspended</td>" in page.text
    bad = admin_client.get("/admin/members?role=boss")
    assert bad.status_code == 400
    assert error_summary(bad.text) == ["Role must be member, organiser or admin."]
    assert admin_client.get("/admin/members?before=0").status_code == 400


def test_members_page_fifty_at_a_time(admin_client, session):  # type: ignore[no-untyped-def]
    for number in range(52):
        make_member(session, name=f"Paged {number:02d}")
    session.commit()
    first = admin_client.get("/admin/members?text=Paged")
    assert first.text.count('<a href="/admin/members/') == 50
    assert "Paged 49" in first.text and "Paged 50" not in first.text
    assert "Previous page" not in first.text
    [next_href] = re.findall(r'href="(/admin/members\?text=Paged&amp;after=\d+)"', first.text)
    second = admin_client.get(html.unescape(next_href))
    assert "Paged 51" in second.text and "Next page" not in second.text
    assert "Paged 49" not in second.text
    [prev_href] = re.findall(r'href="(/admin/members\?text=Paged&amp;before=\d+)"', second.text)
    back = admin_client.get(html.unescape(prev_href))
    assert back.text.count('<a href="/admin/members/') == 50 and "Paged 50" not in back.text
    assert "Previous page" not in back.text and "Next page" in back.text
    assert admin_client.get("/admin/members?after=x1").status_code == 400


def test_members_of_one_name_page_exactly(admin_client, session, monkeypatch):  # type: ignore[no-untyped-def]
    from backend.members import console

    monkeypatch.setattr(console, "PAGE_SIZE", 2)
    twins = sorted(make_member(session, name="Tie Twin").id for _ in range(5))
    session.commit()
    seen: list[int] = []
    path = "/admin/members?text=Tie+Twin"
    while path:
        page = admin_client.get(path)
        assert page.status_code == 200
        seen += [int(i) for i in re.findall(r'<a href="/admin/members/(\d+)">', page.text)]
        found = re.findall(r'href="(/admin/members\?[^"]*after=\d+)"', page.text)
        path = html.unescape(found[0]) if found else ""
    assert seen == twins


def test_suspending_signs_the_member_out_and_reactivating_lets_them_back(  # type: ignore[no-untyped-def]
    admin_client, session, engine
):
    target = make_member(session, name="Sue Spender", email="sue@example.nhs.uk")
    session.commit()
    theirs = another_client(engine)
    log_in(theirs, "sue@example.nhs.uk")
    assert theirs.get("/account").status_code == 200

    page = admin_client.get(f"/admin/members/{target.id}")
    assert page.status_code == 200 and "Sue Spender" in page.text
    assert 'id="account-status">Active' in page.text
    actions = [f["action"] for f in forms_of(page.text)]
    assert f"/admin/members/{target.id}/suspend" in actions

    wrong = post_form(
        admin_client,
        f"/admin/members/{target.id}/suspend",
        {"reason": "rude"},
        page=f"/admin/members/{target.id}",
    )
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == ["Choose a reason from the list."]

    done = post_form(
        admin_client,
        f"/admin/members/{target.id}/suspend",
        {"reason": "conduct"},
        page=f"/admin/members/{target.id}",
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/admin/members/{target.id}?notice=member-suspended"
    page = admin_client.get(done.headers["location"])
    assert 'id="account-status">Suspended' in page.text and "is suspended" in page.text
    assert theirs.get("/account").status_code == 303  # signed out
    again = post_form(theirs, "/login", {"email": "sue@example.nhs.uk", "password": PASSWORD})
    assert again.status_code == 400  # cannot sign in
    [event] = _events(session, a.MEMBER_SUSPENDED)
    assert json.loads(event.details)["reason"] == "conduct"

    back = post_form(
        admin_client,
        f"/admin/members/{target.id}/reactivate",
        {"reason": "concern_resolved"},
        page=f"/admin/members/{target.id}",
    )
    assert back.status_code == 303
    log_in(theirs, "sue@example.nhs.uk")
    assert theirs.get("/account").status_code == 200
    [event] = _events(session, a.MEMBER_REACTIVATED)
    assert json.loads(event.details) == {"reason": "concern_resolved"}


def test_suspending_is_confirmed_on_a_page_that_says_what_will_close(  # type: ignore[no-untyped-def]
    admin_client, session
):
    from backend.mentoring.models import Mentorship
    from tests.factories import make_mentee, make_mentor, make_mentorship, make_request

    target = make_mentor(session, name="Max Mentor", capacity=3)
    mentorship = make_mentorship(session, mentor=target, mentee=make_mentee(session))
    make_request(session, mentee=make_mentee(session), mentor=target)
    session.commit()
    page = admin_client.get(f"/admin/members/{target.id}")
    [ask] = [f for f in forms_of(page.text) if (f["action"] or "").endswith("/suspend")]
    assert ask["method"] == "get"  # the form asks first; the confirmation posts

    wrong = admin_client.get(f"/admin/members/{target.id}/suspend?reason=rude")
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == ["Choose a reason from the list."]
    confirm_path = f"/admin/members/{target.id}/suspend?reason=conduct"
    confirm = admin_client.get(confirm_path)
    assert confirm.status_code == 200
    assert "<h1>Suspend Max Mentor?</h1>" in confirm.text
    assert "1 active mentorship will end." in confirm.text
    assert "1 request they received will close." in confirm.text
    assert "No open requests sent." in confirm.text
    assert "does not reopen anything" in confirm.text
    [yes] = [f for f in forms_of(confirm.text) if (f["action"] or "").endswith("/suspend")]
    assert yes["method"] == "post" and "reason" in yes["fields"]
    session.expire_all()
    assert session.get(Member, target.id).is_active  # nothing done yet
    session.rollback()

    done = post_form(
        admin_client,
        f"/admin/members/{target.id}/suspend",
        {"reason": "conduct"},
        page=confirm_path,
    )
    assert done.status_code == 303
    page = admin_client.get(done.headers["location"])
    assert 'id="account-status">Suspended' in page.text
    assert "Reactivating does not reopen anything" in page.text
    session.expire_all()
    assert session.get(Mentorship, mentorship.id).status == "ended_early"
    session.rollback()
    again = admin_client.get(confirm_path)
    assert again.status_code == 409
    assert error_summary(again.text) == ["This member is already suspended."]


def test_an_admin_cannot_suspend_themselves(admin_client, session, admin):  # type: ignore[no-untyped-def]
    page = admin_client.get(f"/admin/members/{admin.id}")
    assert "This is your own account" in page.text
    assert not [
        f for f in forms_of(page.text) if f["method"] == "post" and "suspend" in (f["action"] or "")
    ]
    refused = post_form(
        admin_client, f"/admin/members/{admin.id}/suspend", {"reason": "security"}, page="/admin"
    )
    assert refused.status_code == 409
    assert error_summary(refused.text) == [
        "You cannot suspend your own account; ask another admin."
    ]
    assert session.get(Member, admin.id).is_active


def test_resending_an_invitation(admin_client, session):  # type: ignore[no-untyped-def]
    invited = make_member(
        session, name="Ivy Invited", email="ivy@example.nhs.uk", verified=False, password=None
    )
    session.commit()
    page = admin_client.get(f"/admin/members/{invited.id}")
    assert "Send the invitation again" in page.text
    sent = post_form(
        admin_client, f"/admin/members/{invited.id}/resend", {}, page=f"/admin/members/{invited.id}"
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("notice=invitation-sent")
    emails = session.exec(
        select(OutboxEmail).where(OutboxEmail.to_address == "ivy@example.nhs.uk")
    ).all()
    assert [e.kind for e in emails] == ["invite"]
    session.rollback()
    assert len(_events(session, a.INVITATION_RESENT)) == 1


def test_changing_a_role_from_the_member_page_needs_the_password(admin_client, session):  # type: ignore[no-untyped-def]
    target = make_member(session, name="Rory Role")
    session.commit()
    path = f"/admin/members/{target.id}"
    wrong = post_form(
        admin_client,
        f"{path}/role",
        {"change": "grant", "role": "organiser", "password": "nope"},
        page=path,
    )
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == ["Your password is not right."]
    done = post_form(
        admin_client,
        f"{path}/role",
        {"change": "grant", "role": "organiser", "password": PASSWORD},
        page=path,
    )
    assert done.status_code == 303
    assert session.get(MemberRole, (target.id, "organiser")) is not None
    session.rollback()
    assert 'id="account-roles">member, organiser' in admin_client.get(path).text
    [granted] = [e for e in _events(session, a.ROLE_GRANTED) if e.subject_id == target.id]
    assert json.loads(granted.details) == {"role": "organiser"}
    taken = post_form(
        admin_client,
        f"{path}/role",
        {"change": "revoke", "role": "organiser", "password": PASSWORD},
        page=path,
    )
    assert taken.status_code == 303
    assert session.get(MemberRole, (target.id, "organiser")) is None


def test_the_skills_framework_pages(admin_client, client, session, engine):  # type: ignore[no-untyped-def]
    make_organiser(session, email="olu.skills@example.nhs.uk")
    session.commit()
    page = admin_client.get("/admin/skills")
    assert page.status_code == 200 and "Team leadership" in page.text
    bad = post_form(admin_client, "/admin/skills", {"name": "", "group": "Core management skills"})
    assert bad.status_code == 400 and error_summary(bad.text)
    added = post_form(
        admin_client, "/admin/skills", {"name": "Rota design", "group": "Core management skills"}
    )
    assert added.status_code == 303
    assert 'href="/admin/skills/rota-design"' in admin_client.get("/admin/skills").text
    renamed = post_form(
        admin_client,
        "/admin/skills/rota-design/rename",
        {"name": "Rota planning"},
        page="/admin/skills/rota-design",
    )
    assert renamed.status_code == 303
    retired = post_form(
        admin_client, "/admin/skills/rota-design/retire", {}, page="/admin/skills/rota-design"
    )
    assert retired.status_code == 303
    shown = admin_client.get("/admin/skills/rota-design")
    assert "<h1>Rota planning</h1>" in shown.text and 'id="skill-status">Retired' in shown.text
    assert "Rota planning" not in admin_client.get("/profile/edit").text  # not a choice now
    assert admin_client.get("/admin/skills/no-such-skill").status_code == 404

    organiser = another_client(engine)
    log_in(organiser, "olu.skills@example.nhs.uk")
    assert organiser.get("/admin/skills").status_code == 403
    assert len(_events(session, a.SKILL_RETIRED)) == 1
