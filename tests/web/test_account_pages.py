"""Joining, confirming an address, passwords and access tokens, through the pages."""

from __future__ import annotations

import re

from sqlmodel import select

from backend.accounts import service as accounts
from backend.accounts.models import AccessToken
from backend.members.models import Member
from backend.notifications import service as notifications
from tests.factories import PASSWORD, make_member
from tests.web.conftest import GOOD_SIGN_UP, another_client, error_summary, log_in, post_form


def _link(session, mail_dir, path: str) -> str:  # type: ignore[no-untyped-def]
    notifications.deliver_pending(session=session)
    [mail] = sorted(mail_dir.glob("*.eml"))[-1:]
    return re.search(rf"{path}\?token=(\S+)", mail.read_text()).group(1)


def test_sign_up_asks_the_new_member_to_check_their_email_then_log_in(client, session, mail_dir):
    response = post_form(client, "/sign-up", GOOD_SIGN_UP)

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-up/check-email"
    assert "set-cookie" not in response.headers  # nobody is signed in by a sign-up
    page = client.get("/sign-up/check-email")
    assert page.status_code == 200
    assert "Check your email" in page.text and "then log in" in page.text
    member = session.exec(select(Member)).one()
    assert (member.name, member.band, member.management_years) == ("Sam Jones", "4", 1)
    assert not member.is_verified
    log_in(client, GOOD_SIGN_UP["email"], GOOD_SIGN_UP["password"])
    assert "Confirm your email address to contact other members" in client.get("/profile").text


def test_signing_up_with_a_taken_address_answers_exactly_the_same(client, session, mail_dir):
    make_member(session, email=GOOD_SIGN_UP["email"], name="Sam Original")
    fresh = post_form(client, "/sign-up", {**GOOD_SIGN_UP, "email": "new.person@example.nhs.uk"})

    taken = post_form(client, "/sign-up", {**GOOD_SIGN_UP, "email": "SAM.JONES@example.nhs.uk"})

    assert (taken.status_code, taken.headers["location"]) == (
        fresh.status_code,
        fresh.headers["location"],
    )
    assert sorted(taken.headers.keys()) == sorted(fresh.headers.keys())
    session.expire_all()
    assert len(session.exec(select(Member)).all()) == 2
    notifications.deliver_pending(session=session)
    [mail] = [m for m in mail_dir.glob("*.eml") if "sam.jones@" in m.read_text()]
    assert "Someone tried to create a peerbridge account with your email address" in (
        mail.read_text()
    )


def test_the_sign_up_form_is_labelled_with_hints_and_autocomplete(client):
    html = client.get("/sign-up").text

    for field in ("email", "password", "name", "job_title", "organisation", "region"):
        assert f'<label class="nhsuk-label" for="{field}">' in html, field
    assert 'autocomplete="new-password"' in html and 'autocomplete="email"' in html
    assert "Agenda for Change band, or the equivalent for your management role" in html
    assert "At least 12 characters, not a common password" in html
    assert html.count("<h1") == 1


def test_opening_the_link_changes_nothing_until_the_button_is_pressed(client, session, mail_dir):
    post_form(client, "/sign-up", GOOD_SIGN_UP)
    token = _link(session, mail_dir, "/verify")

    page = client.get(f"/verify?token={token}")

    assert page.status_code == 200 and "Confirm my email address" in page.text
    session.expire_all()
    assert not session.exec(select(Member)).one().is_verified

    confirmed = post_form(client, "/verify", {"token": token}, page=f"/verify?token={token}")

    assert confirmed.status_code == 200 and "Email address confirmed" in confirmed.text
    session.expire_all()
    assert session.exec(select(Member)).one().is_verified
    assert "Confirm your email address to contact" not in client.get("/profile").text

    again = post_form(client, "/verify", {"token": token}, page=f"/verify?token={token}")
    assert again.status_code == 400
    assert error_summary(again.text) == [
        "This link is not valid or has expired. Ask for a new one."
    ]


def test_verifying_works_from_another_browser_too(client, session, mail_dir, engine):
    post_form(client, "/sign-up", GOOD_SIGN_UP)
    token = _link(session, mail_dir, "/verify")
    with another_client(engine) as phone:
        confirmed = post_form(phone, "/verify", {"token": token}, page=f"/verify?token={token}")
    assert confirmed.status_code == 200
    assert "Log in to peerbridge" in confirmed.text


def test_resending_the_link_sends_a_new_one(client, session, mail_dir):
    member = make_member(session, verified=False)
    log_in(client, member.email)

    response = post_form(client, "/verify/resend", {}, page="/profile")

    assert response.headers["location"] == "/profile?notice=verification-sent"
    assert "We have sent you a new link" in client.get(response.headers["location"]).text
    assert _link(session, mail_dir, "/verify")


def test_resending_when_already_confirmed_says_so(client, session):
    member = make_member(session)
    log_in(client, member.email)
    response = post_form(client, "/verify/resend", {}, page="/profile")
    assert response.headers["location"] == "/profile?notice=already-verified"


def test_resending_needs_sign_in(client):
    response = post_form(client, "/verify/resend", {}, page="/login")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_forgotten_password_gives_the_same_answer_whether_or_not_the_account_exists(
    client, session, mail_dir
):
    member = make_member(session)

    known = post_form(client, "/forgotten-password", {"email": member.email})
    unknown = post_form(client, "/forgotten-password", {"email": "nobody@example.nhs.uk"})

    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'(value|nonce)="[^"]*"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert "If an account exists for that email address" in known.text
    assert notifications.deliver_pending(session=session) == 1


def test_forgotten_password_with_a_malformed_address_is_explained(client):
    response = post_form(client, "/forgotten-password", {"email": "not an address"})
    assert response.status_code == 400
    assert 'href="#email"' in response.text


def test_resetting_the_password_ends_every_session(client, session, mail_dir, engine):
    member = make_member(session)
    with another_client(engine) as other_device:
        log_in(other_device, member.email)
        post_form(client, "/forgotten-password", {"email": member.email})
        token = _link(session, mail_dir, "/reset-password")
        page = f"/reset-password?token={token}"

        mismatch = post_form(
            client,
            "/reset-password",
            {"token": token, "password": "a brand new passphrase", "confirm_password": "other"},
            page=page,
        )
        assert mismatch.status_code == 400
        assert error_summary(mismatch.text) == ["Enter the same password in both boxes."]

        weak = post_form(
            client,
            "/reset-password",
            {"token": token, "password": "password1234", "confirm_password": "password1234"},
            page=page,
        )
        assert weak.status_code == 400 and 'href="#password"' in weak.text

        done = post_form(
            client,
            "/reset-password",
            {
                "token": token,
                "password": "a brand new passphrase",
                "confirm_password": "a brand new passphrase",
            },
            page=page,
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/login?notice=password-reset"
        assert other_device.get("/profile").status_code == 303  # logged out there too
    assert "access tokens you made were revoked" in client.get(done.headers["location"]).text
    log_in(client, member.email, "a brand new passphrase")


def test_resetting_the_password_revokes_the_access_tokens(client, session, mail_dir):
    member = make_member(session)
    _, secret = accounts.create_access_token(session=session, member=member, name="Reports")
    session.commit()  # end the write transaction: SQLite would block the app's writes
    post_form(client, "/forgotten-password", {"email": member.email})
    token = _link(session, mail_dir, "/reset-password")
    new = "a brand new passphrase"

    done = post_form(
        client,
        "/reset-password",
        {"token": token, "password": new, "confirm_password": new},
        page=f"/reset-password?token={token}",
    )

    assert done.status_code == 303
    session.expire_all()
    assert accounts.member_for_access_token(session=session, secret=secret) is None


def test_changing_the_password_keeps_this_session_and_revokes_the_rest(client, session, engine):
    member = make_member(session)
    _, secret = accounts.create_access_token(session=session, member=member, name="Reports")
    session.commit()  # end the write transaction: SQLite would block the app's writes
    with another_client(engine) as other_device:
        log_in(other_device, member.email)
        log_in(client, member.email)

        changed = post_form(
            client,
            "/account/password",
            {"current_password": PASSWORD, "new_password": "another long passphrase"},
            page="/account",
        )

        assert changed.status_code == 303
        page = client.get(changed.headers["location"])
        assert page.status_code == 200  # still signed in here
        assert "You have been signed out everywhere else" in page.text
        assert "access tokens you made were revoked" in page.text
        assert other_device.get("/profile").status_code == 303
    session.expire_all()
    assert accounts.member_for_access_token(session=session, secret=secret) is None


def test_an_invited_member_chooses_a_password_and_is_signed_in(client, session, mail_dir):
    member = make_member(session, password=None, verified=False)
    accounts.send_invitation(session=session, member=member, invited_by="Olu Ade")
    session.commit()
    token = _link(session, mail_dir, "/invitation")
    page = f"/invitation?token={token}"
    assert "Choose your password" in client.get(page).text

    response = post_form(
        client,
        "/invitation",
        {
            "token": token,
            "password": "my first passphrase",
            "confirm_password": "my first passphrase",
        },
        page=page,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/profile?notice=welcome"
    assert member.name in client.get("/profile").text
    used = post_form(
        client,
        "/invitation",
        {
            "token": token,
            "password": "my first passphrase",
            "confirm_password": "my first passphrase",
        },
        page=page,
    )
    assert used.status_code == 400


def test_changing_password_needs_the_current_one(client, session):
    member = make_member(session)
    log_in(client, member.email)

    wrong = post_form(
        client,
        "/account/password",
        {"current_password": "not it at all!", "new_password": "another long passphrase"},
        page="/account",
    )
    weak = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short"},
        page="/account",
    )

    assert wrong.status_code == weak.status_code == 400
    assert 'href="#current_password"' in wrong.text
    assert 'href="#new_password"' in weak.text
    client.cookies.clear()
    log_in(client, member.email)  # the password did not change


def test_access_tokens_are_shown_once_listed_and_revoked(client, session):
    member = make_member(session)
    log_in(client, member.email)

    created = post_form(
        client, "/account/tokens", {"token_name": "Reporting script"}, page="/account"
    )

    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"  # the secret stays out of caches
    secret = re.search(r'id="token-secret">([^<]+)<', created.text).group(1)
    assert secret.startswith("pbat_")
    assert accounts.member_for_access_token(session=session, secret=secret).id == member.id
    listing = client.get("/account").text
    assert "Reporting script" in listing and secret not in listing and secret[:11] in listing

    record = session.exec(select(AccessToken)).one()
    revoked = post_form(client, f"/account/tokens/{record.id}/revoke", {}, page="/account")

    assert revoked.headers["location"] == "/account?notice=token-revoked"
    session.expire_all()
    assert accounts.member_for_access_token(session=session, secret=secret) is None
    assert "Revoked" in client.get("/account").text


def test_a_member_cannot_revoke_someone_elses_token(client, session):
    owner = make_member(session)
    record, secret = accounts.create_access_token(session=session, member=owner, name="Mine")
    intruder = make_member(session)
    log_in(client, intruder.email)

    response = post_form(client, f"/account/tokens/{record.id}/revoke", {}, page="/account")

    assert response.status_code == 404
    assert accounts.member_for_access_token(session=session, secret=secret).id == owner.id


def _session_row(session, member_id):  # type: ignore[no-untyped-def]
    from backend.accounts.models import UserSession

    session.expire_all()
    [record] = session.exec(select(UserSession).where(UserSession.member_id == member_id)).all()
    return record


def test_pages_keep_a_session_alive_and_end_it_when_idle(client, session):
    from datetime import timedelta

    from backend.db import utcnow

    member = make_member(session)
    log_in(client, member.email)
    record = _session_row(session, member.id)
    record.last_seen_at = utcnow() - timedelta(minutes=5)
    session.add(record)
    session.commit()

    assert client.get("/profile").status_code == 200
    touched = _session_row(session, member.id).last_seen_at
    assert utcnow() - touched < timedelta(seconds=30)
    session.rollback()

    record = _session_row(session, member.id)
    record.last_seen_at = utcnow() - accounts.idle_timeout() - timedelta(minutes=1)
    session.add(record)
    session.commit()

    assert client.get("/profile").status_code == 303  # signed out: idle too long
    me = client.post("/graphql", json={"query": "{ me { id } }"})
    assert me.json()["data"]["me"] is None


FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
)


def test_a_member_sees_their_sessions_and_ends_another_one(client, session, engine):
    member = make_member(session)
    stranger = make_member(session)
    session.commit()
    with another_client(engine) as laptop, another_client(engine) as theirs:
        laptop.headers["user-agent"] = FIREFOX_ON_WINDOWS
        log_in(laptop, member.email)
        log_in(theirs, stranger.email)
        log_in(client, member.email)

        page = client.get("/account").text
        assert "Where you are logged in" in page and "Firefox on Windows" in page
        assert "This device" in page
        [key] = re.findall(r'action="/account/sessions/([0-9a-f]+)/end"', page)
        assert 'End session<span class="nhsuk-u-visually-hidden"> on Firefox on Windows' in page

        no_csrf = client.post(f"/account/sessions/{key}/end", data={})
        assert no_csrf.status_code in (400, 403)
        assert laptop.get("/profile").status_code == 200  # nothing ended without the token

        stranger_page = theirs.get("/account").text
        assert key not in stranger_page
        refused = post_form(theirs, f"/account/sessions/{key}/end", {}, page="/account")
        assert refused.status_code == 404
        assert laptop.get("/profile").status_code == 200

        for bad in ("é" * 70, "0" * 24, "x"):
            nothing = post_form(client, f"/account/sessions/{bad}/end", {}, page="/account")
            assert nothing.status_code == 404
        ended = post_form(client, f"/account/sessions/{key}/end", {}, page="/account")

        assert ended.headers["location"] == "/account?notice=session-ended"
        assert laptop.get("/profile").status_code == 303  # logged out there
        after = client.get(ended.headers["location"]).text
        assert "That session has ended" in after and "Firefox on Windows" not in after
        assert client.get("/profile").status_code == 200  # still logged in here


def test_unreadable_management_years_are_explained_with_the_rest_and_nothing_is_created(
    client, session
):
    form = {**GOOD_SIGN_UP, "management_years": "three", "name": " "}

    response = post_form(client, "/sign-up", form)

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "Enter your full name.",
        "Years of management experience must be a whole number, like 3.",
    ]
    assert 'href="#management_years"' in response.text and 'value="three"' in response.text
    assert session.exec(select(Member)).all() == []


def test_empty_management_years_ask_for_them(client, session):
    response = post_form(client, "/sign-up", {**GOOD_SIGN_UP, "management_years": ""})

    assert response.status_code == 400
    assert error_summary(response.text) == [
        "Enter your years of management experience, like 3 (0 if none)."
    ]
    assert session.exec(select(Member)).all() == []
