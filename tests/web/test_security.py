"""security.md's promises, as they show in the pages."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from backend.accounts import cookies
from backend.accounts.models import UserSession
from backend.members.models import Member
from tests.factories import PASSWORD, make_member, make_organiser
from tests.web.conftest import (
    another_client,
    csrf_token,
    error_summary,
    forms_of,
    log_in,
    post_form,
)

ANONYMOUS_PAGES = [
    "/",
    "/about",
    "/privacy",
    "/accessibility",
    "/login",
    "/sign-up",
    "/forgotten-password",
    "/verify?token=abc",
    "/reset-password?token=abc",
    "/invitation?token=abc",
]
MEMBER_PAGES = [
    "/",
    "/profile",
    "/profile/edit",
    "/mentoring-offer",
    "/account",
    "/organise/import",
]
POST_ROUTES = [
    "/login",
    "/logout",
    "/sign-up",
    "/verify",
    "/verify/resend",
    "/forgotten-password",
    "/reset-password",
    "/invitation",
    "/profile/edit",
    "/mentoring-offer",
    "/account/password",
    "/account/tokens",
    "/account/tokens/1/revoke",
    "/organise/import",
]


def test_every_form_on_every_page_carries_the_sessions_csrf_token(client, session):
    organiser = make_organiser(session)
    seen = 0
    for path in ANONYMOUS_PAGES:
        html = client.get(path).text
        for form in forms_of(html):
            if form["method"] == "post":
                assert form["fields"].get("csrf_token") == csrf_token(client), (path, form)
                seen += 1
    log_in(client, organiser.email)
    token = csrf_token(client, "/profile")
    for path in MEMBER_PAGES:
        html = client.get(path).text
        for form in forms_of(html):
            assert form["method"] == "post", (path, form)
            assert form["fields"].get("csrf_token") == token, (path, form)
            seen += 1
    assert seen >= 15


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_post_without_the_csrf_token_is_refused(client, session, path):
    member = make_member(session)
    log_in(client, member.email)

    response = client.post(path, data={"email": "x@example.nhs.uk", "name": "Changed"})

    assert response.status_code == 403
    assert "You cannot do that" in response.text


def test_a_token_from_another_session_is_refused_and_changes_nothing(client, session, engine):
    member = make_member(session, name="Original Name")
    log_in(client, member.email)
    with another_client(engine) as attacker:
        foreign = csrf_token(attacker)

    edited = client.post("/profile/edit", data={"csrf_token": foreign, "name": "Changed"})
    joined = client.post(
        "/sign-up", data={"csrf_token": foreign, "email": "new@example.nhs.uk", "name": "New"}
    )
    logged_out = client.post("/logout", data={"csrf_token": foreign})

    assert (edited.status_code, joined.status_code, logged_out.status_code) == (403, 403, 403)
    session.expire_all()
    assert session.get(Member, member.id).name == "Original Name"
    assert session.exec(select(Member).where(Member.email == "new@example.nhs.uk")).first() is None
    assert client.get("/profile").status_code == 200  # still logged in


def _set_cookie(response, name: str = cookies.COOKIE_NAME) -> str:  # type: ignore[no-untyped-def]
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def test_session_cookie_is_httponly_and_samesite_lax(client, session):
    member = make_member(session)
    first = client.get("/login")
    assert not [h for h in first.headers.get_list("set-cookie") if h.startswith("pb_session=")]
    header = _set_cookie(first, cookies.CSRF_COOKIE_NAME).lower()
    assert "httponly" in header and "samesite=lax" in header and "path=/" in header

    response = post_form(client, "/login", {"email": member.email, "password": PASSWORD})
    header = _set_cookie(response).lower()
    assert "httponly" in header and "samesite=lax" in header


def test_logging_in_gives_a_new_session_id_and_ends_the_anonymous_one(client, session):
    member = make_member(session)
    client.get("/login")
    assert client.cookies.get(cookies.COOKIE_NAME) is None  # no session before logging in
    assert client.cookies.get(cookies.CSRF_COOKIE_NAME)

    log_in(client, member.email)

    signed_in = client.cookies.get(cookies.COOKIE_NAME)
    assert signed_in
    assert client.cookies.get(cookies.CSRF_COOKIE_NAME) is None  # the session holds it now
    session.expire_all()
    records = session.exec(select(UserSession)).all()
    assert {r.member_id for r in records if r.revoked_at is None} == {member.id}


def test_anonymous_visitors_get_no_session_row(client, session, engine):
    visits = 0
    for round_ in range(5):
        for path in ANONYMOUS_PAGES:
            browser = client if round_ % 2 else another_client(engine)
            assert browser.get(path).status_code == 200, path
            visits += 1
    assert visits == 50
    session.expire_all()
    assert session.exec(select(UserSession)).all() == []


def test_an_anonymous_form_needs_the_token_of_its_own_cookie(client, session, engine):
    member = make_member(session)
    credentials = {"email": member.email, "password": PASSWORD}
    own = csrf_token(client)
    with another_client(engine) as attacker:
        foreign = csrf_token(attacker)
        attacker_seed = attacker.cookies.get(cookies.CSRF_COOKIE_NAME)
    assert own != foreign

    refused = [
        client.post("/login", data={"csrf_token": foreign, **credentials}),
        client.post("/login", data={"csrf_token": own[:-2] + "xx", **credentials}),
        client.post("/login", data={"csrf_token": attacker_seed, **credentials}),
        client.post("/login", data=credentials),
        client.post(
            "/sign-up",
            data={"csrf_token": foreign, "email": "new@example.nhs.uk", "name": "New"},
        ),
    ]
    with another_client(engine) as cookieless:
        refused.append(cookieless.post("/login", data={"csrf_token": own, **credentials}))

    assert [r.status_code for r in refused] == [403] * len(refused)
    session.expire_all()
    assert session.exec(select(UserSession)).all() == []
    assert session.exec(select(Member).where(Member.email == "new@example.nhs.uk")).first() is None
    # The right pair still logs in.
    assert client.post("/login", data={"csrf_token": own, **credentials}).status_code == 303


def test_changing_password_gives_a_new_session_id_and_the_old_cookie_stops_working(
    client, session, engine
):
    member = make_member(session)
    log_in(client, member.email)
    old = client.cookies.get(cookies.COOKIE_NAME)

    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a different long passphrase"},
        page="/account",
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=password-changed"
    new = client.cookies.get(cookies.COOKIE_NAME)
    assert new and new != old
    assert client.get("/profile").status_code == 200
    client.cookies.set(cookies.COOKIE_NAME, old)
    assert client.get("/profile").status_code == 303


def test_logout_makes_the_old_cookie_useless(client, session):
    member = make_member(session)
    log_in(client, member.email)
    stolen = client.cookies.get(cookies.COOKIE_NAME)

    response = post_form(client, "/logout", {}, page="/profile")

    assert response.status_code == 303
    client.cookies.clear()
    client.cookies.set(cookies.COOKIE_NAME, stolen)
    replay = client.get("/profile")
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login?next=")
    assert member.name not in client.get("/").text


@pytest.mark.parametrize(
    "path",
    [*ANONYMOUS_PAGES, "/no-such-page", "/members/1", "/static/peerbridge.css"],
)
def test_security_headers_on_every_page(client, path):
    response = client.get(path)

    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    if response.headers.get("content-type", "").startswith("text/html"):
        nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
        scripts = re.findall(r"<script\b[^>]*>", response.text)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
        if response.status_code == 200:
            assert response.headers["cache-control"] == "no-store"


def test_security_headers_on_signed_in_pages_and_error_pages(client, session):
    member = make_member(session)
    log_in(client, member.email)
    responses = [client.get(path) for path in MEMBER_PAGES]
    responses.append(client.post("/profile/edit", data={}))  # the CSRF 403 page
    nonces = set()
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        nonces.add(re.search(r"'nonce-([^']+)'", csp).group(1))
    assert len(nonces) == len(responses)  # a fresh nonce every time


def test_wrong_password_and_unknown_account_get_the_same_answer(client, session):
    member = make_member(session)

    wrong = post_form(client, "/login", {"email": member.email, "password": "not the password!"})
    unknown = post_form(
        client, "/login", {"email": "nobody@example.nhs.uk", "password": "not the password!"}
    )

    assert wrong.status_code == unknown.status_code == 400
    assert error_summary(wrong.text) == error_summary(unknown.text)
    assert error_summary(wrong.text) == ["The email address or password is not right."]

    def scrub(html: str) -> str:
        html = re.sub(r'value="[^"]*"', "", html)
        return re.sub(r'nonce="[^"]*"', "", html)

    assert scrub(wrong.text) == scrub(unknown.text)


def test_failed_logins_are_throttled_per_account_with_a_wait_named(client, session):
    member = make_member(session)
    other = make_member(session)
    for _ in range(5):
        response = post_form(client, "/login", {"email": member.email, "password": "wrong guess!!"})
        assert response.status_code == 400

    blocked = post_form(client, "/login", {"email": member.email, "password": PASSWORD})

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    [message] = error_summary(blocked.text)
    assert re.search(r"Try again in \d+ (seconds?|minutes?)\.", message)
    assert client.get("/profile").status_code == 303  # the right password did not get in
    # Another account, from the same client, is not affected.
    log_in(client, other.email)


def test_unknown_accounts_are_throttled_too(client):
    for _ in range(5):
        post_form(client, "/login", {"email": "ghost@example.nhs.uk", "password": "wrong guess!!"})
    blocked = post_form(
        client, "/login", {"email": "ghost@example.nhs.uk", "password": "wrong guess!!"}
    )
    assert blocked.status_code == 429


def test_an_unverified_member_is_asked_to_confirm_their_email(client, session):
    unverified = make_member(session, verified=False)
    log_in(client, unverified.email)

    page = client.get("/profile").text

    assert "Confirm your email address to contact other members" in page
    assert 'action="/verify/resend"' in page


def test_a_verified_member_is_not_asked(client, session):
    member = make_member(session)
    log_in(client, member.email)
    assert "Confirm your email address" not in client.get("/profile").text


def test_free_text_is_shown_as_text_never_as_html(client, session):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    author = make_member(session, name=f"Eve {attack}", bio=attack, goals=attack)
    reader = make_member(session)
    log_in(client, reader.email)

    page = client.get(f"/members/{author.id}").text

    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 3


def test_login_never_redirects_off_site(client, session):
    member = make_member(session)
    for target in ["//evil.example", "https://evil.example/", "/\\evil.example", "javascript:x"]:
        client.cookies.clear()
        response = post_form(
            client, "/login", {"email": member.email, "password": PASSWORD, "next": target}
        )
        assert response.headers["location"] == "/profile", target
