"""Second-factor pages: setting up an authenticator app, the second step of logging in, the
staff policy on organiser pages, and step-up before erasure (on each database)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from backend.accounts.models import UserSession
from backend.db import utcnow
from backend.members.models import Member
from backend.settings import get_settings
from tests.accounts.test_two_factor import code_at
from tests.factories import PASSWORD, make_member, make_organiser
from tests.web.conftest import csrf_token, error_summary, log_in, post_form


@pytest.fixture
def policy_on(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PEERBRIDGE_REQUIRE_SECOND_FACTOR_FOR_STAFF", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


# The code each set-up used, by secret: "the code just used" must be that code even when a
# 30-second step has passed since (recomputing it later would give the next, unused step).
USED_AT_SET_UP: dict[str, str] = {}


def set_up_app(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Turn on an authenticator app through the pages; its secret and the recovery codes."""
    page = post_form(client, "/account/two-factor/totp/start", {}, page="/account/two-factor")
    assert page.status_code == 200, page.text
    assert "<svg" in page.text  # the QR code, drawn by the server
    secret = re.search(r'id="totp-secret">([^<]+)<', page.text).group(1).replace(" ", "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = client.post(
        "/account/two-factor/totp/confirm", data={"csrf_token": token, "code": "000000"}
    )
    assert wrong.status_code == 400
    assert error_summary(wrong.text) == [
        "The code is not right. Enter the 6-digit code your app shows now."
    ]
    assert secret.replace(" ", "") in wrong.text.replace(" ", "")  # still being set up
    first = code_at(secret, -1)
    USED_AT_SET_UP[secret] = first
    done = client.post(
        "/account/two-factor/totp/confirm", data={"csrf_token": token, "code": first}
    )
    assert done.status_code == 200, done.text
    codes = re.findall(r'<code class="pb-secret">([a-z0-9-]+)</code>', done.text)
    assert len(codes) == 10
    return secret, codes


def _log_out(client) -> None:  # type: ignore[no-untyped-def]
    response = post_form(client, "/logout", {}, page="/account")
    assert response.status_code == 303


def _password_step(client, email: str, next_path: str = "/profile"):  # type: ignore[no-untyped-def]
    return post_form(client, "/login", {"email": email, "password": PASSWORD, "next": next_path})


def test_set_up_an_app_then_log_in_with_a_code(client, session):
    member = make_member(session)
    log_in(client, member.email)
    secret, _codes = set_up_app(client)
    settings = client.get("/account/two-factor")
    assert "On" in settings.text and secret not in settings.text  # never shown again
    _log_out(client)

    step = _password_step(client, member.email, "/account")
    assert step.status_code == 303
    assert step.headers["location"] == "/login/second-factor?next=%2Faccount"
    # Half-way, the session reaches nothing that needs a member.
    for path in ("/profile", "/account", "/account/two-factor", "/my-data"):
        blocked = client.get(path)
        assert blocked.status_code == 303 and blocked.headers["location"].startswith("/login")
    assert client.post("/graphql", json={"query": "{ me { id } }"}).json()["data"] == {"me": None}

    page = client.get("/login/second-factor?next=%2Faccount")
    assert page.status_code == 200 and "Log in: second step" in page.text
    done = post_form(
        client, "/login/second-factor", {"code": code_at(secret, 1), "next": "/account"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/account"
    assert client.get("/profile").status_code == 200


def test_a_used_code_and_a_wrong_code_are_refused_on_the_page(client, session):
    member = make_member(session)
    log_in(client, member.email)
    secret, codes = set_up_app(client)
    _log_out(client)
    _password_step(client, member.email)
    wrong = post_form(client, "/login/second-factor", {"code": "12345a"})
    assert wrong.status_code == 400 and error_summary(wrong.text)
    reused = post_form(client, "/login/second-factor", {"code": USED_AT_SET_UP[secret]})
    assert reused.status_code == 400  # used at set-up
    assert client.get("/profile").status_code == 303
    recovered = post_form(client, "/login/second-factor", {"code": codes[0]})
    assert recovered.status_code == 303
    assert client.get("/profile").status_code == 200


def test_an_expired_second_step_starts_again(client, session):
    member = make_member(session)
    log_in(client, member.email)
    secret, _codes = set_up_app(client)
    _log_out(client)
    _password_step(client, member.email)
    session.exec(
        update(UserSession)
        .where(col(UserSession.pending_until).is_not(None))
        .values(pending_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    page = client.get("/login/second-factor")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?notice=second-factor-timed-out"
    token = csrf_token(client, "/login")
    late = client.post("/login/second-factor", data={"csrf_token": token, "code": code_at(secret)})
    assert late.status_code in (303, 403)
    assert client.get("/profile").status_code == 303


def test_organiser_pages_wait_for_a_second_factor_when_the_policy_is_on(client, session, policy_on):
    organiser = make_organiser(session)
    log_in(client, organiser.email)
    page = client.get("/organise/import")
    assert page.status_code == 303
    assert page.headers["location"] == "/account/two-factor?notice=second-factor-required"
    set_up_app(client)
    assert client.get("/organise/import").status_code == 200


def test_organiser_graphql_waits_for_a_second_factor_when_the_policy_is_on(
    client, session, policy_on
):
    organiser = make_organiser(session)
    log_in(client, organiser.email)
    query = {"query": "{ insights { generatedAt } }"}
    blocked = client.post("/graphql", json=query).json()
    assert blocked["errors"][0]["extensions"]["code"] == "SECOND_FACTOR_REQUIRED"
    set_up_app(client)
    allowed = client.post("/graphql", json=query).json()
    assert "errors" not in allowed, allowed


def test_erasure_asks_for_the_second_factor_again(client, session):
    member = make_member(session)
    member_id = member.id
    log_in(client, member.email)
    secret, _codes = set_up_app(client)
    # Turning the app on counts as a fresh check; let it go stale.
    session.exec(update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=11)))
    session.commit()
    page = client.get("/my-data/erase")
    assert page.status_code == 303
    assert page.headers["location"] == "/account/confirm?next=%2Fmy-data%2Ferase"
    refused = post_form(
        client, "/my-data/erase", {"confirm": "yes", "password": PASSWORD}, page="/my-data"
    )
    assert refused.status_code == 303 and refused.headers["location"].startswith("/account/confirm")
    confirmed = post_form(
        client,
        "/account/confirm",
        {"code": code_at(secret, 1), "next": "/my-data/erase"},
        page="/account/confirm?next=/my-data/erase",
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/my-data/erase"
    form = client.get("/my-data/erase")
    assert form.status_code == 200 and 'name="password"' not in form.text
    erased = post_form(client, "/my-data/erase", {"confirm": "yes"})
    assert erased.status_code == 303
    session.expire_all()
    assert session.get(Member, member_id) is None


@pytest.mark.parametrize("credential", ["", "not json", "[]", '{"id": 5}', "x" * 30_000])
def test_a_broken_passkey_answer_gets_a_clear_error(client, session, credential):
    member = make_member(session)
    log_in(client, member.email)
    page = post_form(
        client,
        "/account/passkeys",
        {"name": "Laptop", "credential": credential},
        page="/account/two-factor",
    )
    assert page.status_code == 400
    assert error_summary(page.text) and "Laptop" in page.text
    step_up = post_form(
        client, "/account/confirm/passkey", {"credential": credential}, page="/account/confirm"
    )
    assert step_up.status_code == 400 and error_summary(step_up.text)


def test_passkey_options_need_a_passkey_and_say_so_as_json(client, session):
    member = make_member(session)
    log_in(client, member.email)
    token = csrf_token(client, "/account/confirm")
    answer = client.post("/account/confirm/passkey/options", data={"csrf_token": token})
    assert answer.status_code == 409 and "no passkey" in answer.json()["message"]
    options = client.post("/account/passkeys/options", data={"csrf_token": token})
    assert options.status_code == 200 and options.json()["rp"]["id"] == "testserver"
