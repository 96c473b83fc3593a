"""Single sign-on with OpenID Connect, against a real provider (oidc-provider on Node).

Each test drives the whole flow: the button on the log-in page (POST /sign-in/sso), the
provider's own login form, the callback, and for a new account the profile form. The
provider can alter the next ID token (wrong audience, another key, expired, another nonce,
another issuer), so each check of the ID token is seen to refuse it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from backend.accounts import sso
from backend.accounts.models import UserSession
from backend.accounts.service import token_hash
from backend.accounts.sso_models import AccountIdentity, SsoSignIn
from backend.db import utcnow
from backend.members.models import Member
from tests.factories import make_member, make_sso_sign_in
from tests.sso.conftest import sso_configured
from tests.sso.oidc import OpenIdProvider, sign_in_at_provider
from tests.web.conftest import (
    GOOD_SIGN_UP,
    another_client,
    csrf_token,
    error_summary,
    log_in,
    post_form,
)

PROFILE = {k: v for k, v in GOOD_SIGN_UP.items() if k not in ("email", "password")}
BACK = "http://testserver/"


def start(client, page: str = "/login") -> str:  # type: ignore[no-untyped-def]
    """Press the single sign-on button on ``page``; the provider's address."""
    response = post_form(client, "/sign-in/sso", {"next": "/profile"}, page=page)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def callback_for(client, login: str) -> str:  # type: ignore[no-untyped-def]
    """Start a sign-in and sign in at the provider as ``login``; the callback address."""
    return sign_in_at_provider(start(client), login, until=BACK)


def sign_in(client, login: str):  # type: ignore[no-untyped-def]
    """The whole flow up to our callback's answer."""
    return client.get(callback_for(client, login))


def reason(response) -> str:  # type: ignore[no-untyped-def]
    """Which failure an error page names (``SsoFailed.reason``)."""
    match = re.search(r'data-reason="([a-z_]+)"', response.text)
    assert match, response.text[:500]
    return match.group(1)


def sessions_of(session: Session, member_id: int) -> int:
    session.rollback()
    return session.exec(
        select(func.count())
        .select_from(UserSession)
        .where(UserSession.member_id == member_id)
        .where(col(UserSession.revoked_at).is_(None))
    ).one()


def identities(session: Session) -> list[AccountIdentity]:
    session.rollback()
    return list(session.exec(select(AccountIdentity)).all())


def signed_in_name(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/profile")
    assert page.status_code == 200, page.text[:300]
    return page.text


# The journey ----------------------------------------------------------------------------------


def test_a_first_sign_in_completes_the_nhs_profile_and_creates_a_verified_account(
    client, session, sso_on
):
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(sso_on.issuer + "/auth?")
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["nonce"][0] and query["state"][0]
    assert query["scope"] == ["openid email profile"]
    # Only the state's hash is stored; the browser holds the state in its cookie.
    state = query["state"][0]
    assert client.cookies.get("pb_sso") == state
    assert session.get(SsoSignIn, token_hash(state)) is not None

    response = client.get(sign_in_at_provider(authorize, "alice@nhs.net", until=BACK))
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/sign-in/sso/complete-profile"
    assert "pb_session" not in response.cookies  # not signed in before the profile is done
    session.rollback()
    assert session.exec(select(Member)).all() == []

    form = client.get("/sign-in/sso/complete-profile")
    assert form.status_code == 200
    assert "Complete your NHS profile" in form.text and "alice@nhs.net" in form.text
    assert 'value="Alice"' in form.text  # the provider's name claim, to correct if need be

    token = csrf_token(client, "/sign-in/sso/complete-profile")
    incomplete = client.post(
        "/sign-in/sso/complete-profile",
        data={"csrf_token": token, **PROFILE, "organisation": "", "band": "99"},
    )
    assert incomplete.status_code == 400
    summary = " ".join(error_summary(incomplete.text))
    assert "organisation" in summary.lower() and "band" in summary.lower()

    done = client.post(
        "/sign-in/sso/complete-profile",
        data={"csrf_token": token, **PROFILE, "name": "Alice Atkinson"},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/profile?notice=sso-welcome"
    assert "Alice Atkinson" in signed_in_name(client)

    session.rollback()
    member = session.exec(select(Member).where(Member.email == "alice@nhs.net")).one()
    assert member.is_verified and member.password_hash is None
    assert (member.region, member.band, member.profession) == (
        PROFILE["region"],
        PROFILE["band"],
        PROFILE["profession"],
    )
    [identity] = identities(session)
    assert (identity.member_id, identity.issuer, identity.subject) == (
        member.id,
        sso_on.issuer,
        "alice@nhs.net",
    )
    assert sessions_of(session, member.id) == 1
    # The waiting claims are gone once used.
    assert session.get(SsoSignIn, token_hash(state)) is None


def test_a_later_sign_in_matches_issuer_and_subject_not_the_email(client, engine, session, sso_on):
    assert sign_in(client, "bea@nhs.net").headers["location"] == "/sign-in/sso/complete-profile"
    done = post_form(client, "/sign-in/sso/complete-profile", PROFILE)
    assert done.status_code == 303
    session.rollback()
    member = session.exec(select(Member).where(Member.email == "bea@nhs.net")).one()
    # Her address here changes; and someone else now holds bea@nhs.net here.
    member.email = "bea.renamed@nhs.net"
    session.add(member)
    session.commit()
    other = make_member(session, email="bea@nhs.net", name="Not Bea")

    browser = another_client(engine)
    with browser:
        response = sign_in(browser, "bea@nhs.net")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/profile"
        page = signed_in_name(browser)
    assert PROFILE["name"] in page and "Not Bea" not in page
    assert sessions_of(session, member.id) == 2 and sessions_of(session, other.id) == 0
    assert len(identities(session)) == 1


def test_an_existing_account_is_linked_when_both_emails_are_verified(client, session, sso_on):
    member = make_member(session, email="carl@nhs.net", name="Carl Existing")

    response = sign_in(client, "carl@nhs.net")

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/profile"
    assert "pb_session" in response.cookies
    assert "Carl Existing" in signed_in_name(client)
    [identity] = identities(session)
    assert (identity.member_id, identity.subject) == (member.id, "carl@nhs.net")
    assert sessions_of(session, member.id) == 1


def test_an_existing_account_whose_email_is_not_verified_is_not_linked(client, session, sso_on):
    member = make_member(session, email="dora@nhs.net", verified=False)

    response = sign_in(client, "dora@nhs.net")

    assert response.status_code == 400
    assert reason(response) == "account_unverified"
    assert "Confirm your email address first" in response.text
    assert identities(session) == [] and sessions_of(session, member.id) == 0


def test_an_account_linked_to_another_subject_is_not_linked_again(client, session, sso_on):
    member = make_member(session, email="finn@nhs.net")
    session.add(AccountIdentity(member_id=member.id, issuer=sso_on.issuer, subject="old-finn"))
    session.commit()

    response = sign_in(client, "finn@nhs.net")

    assert response.status_code == 400 and reason(response) == "linked_elsewhere"
    assert len(identities(session)) == 1 and sessions_of(session, member.id) == 0


# The state: single use, this browser only, in time ---------------------------------------------


def test_a_replayed_state_is_refused(client, session, sso_on):
    member = make_member(session, email="gail@nhs.net")
    callback = callback_for(client, "gail@nhs.net")
    cookie = next(c for c in client.cookies.jar if c.name == "pb_sso")
    assert client.get(callback).status_code == 303
    assert sessions_of(session, member.id) == 1

    # The same answer again, even with the browser's cookie put back: used once already.
    client.cookies.jar.set_cookie(cookie)
    replay = client.get(callback)

    assert replay.status_code == 400 and reason(replay) == "state_used"
    assert "already used" in replay.text
    assert sessions_of(session, member.id) == 1


def test_a_callback_in_another_browser_is_refused(client, engine, session, sso_on):
    member = make_member(session, email="hana@nhs.net")
    callback = callback_for(client, "hana@nhs.net")

    with another_client(engine) as attacker:
        assert reason(attacker.get(callback)) == "state_missing"
        start(attacker)  # a sign-in of its own: its cookie holds another state
        refused = attacker.get(callback)
    assert refused.status_code == 400 and reason(refused) == "state_mismatch"
    assert sessions_of(session, member.id) == 0
    # The refused attempts did not use up the owner's sign-in.
    assert client.get(callback).status_code == 303


def test_an_expired_sign_in_is_refused(client, session, sso_on):
    make_member(session, email="ida@nhs.net")
    callback = callback_for(client, "ida@nhs.net")
    session.exec(update(SsoSignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()

    response = client.get(callback)

    assert response.status_code == 400 and reason(response) == "state_expired"


def test_a_cancelled_sign_in_says_so(client, session, sso_on):
    authorize = start(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]

    response = client.get(f"/sign-in/sso/callback?state={state}&error=access_denied")

    assert response.status_code == 400 and reason(response) == "provider_error"
    assert "access_denied" in response.text


# The ID token ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "expected", "words"),
    [
        ("wrong_aud", "wrong_audience", "meant for another service"),
        ("bad_signature", "bad_signature", "could not be trusted"),
        ("expired", "expired", "has expired"),
        ("nonce", "nonce_mismatch", "nonce"),
        ("wrong_iss", "wrong_issuer", "wrong provider"),
    ],
)
def test_an_id_token_that_fails_a_check_signs_nobody_in(
    client, session, sso_on: OpenIdProvider, mode, expected, words
):
    member = make_member(session, email="jo@nhs.net")
    sso_on.tamper_next_token(mode)

    response = sign_in(client, "jo@nhs.net")

    assert response.status_code == 400, response.text
    assert reason(response) == expected
    assert words in response.text
    assert "pb_session" not in response.cookies
    assert sessions_of(session, member.id) == 0 and identities(session) == []
    # The same account signs in once the provider is honest again.
    assert sign_in(client, "jo@nhs.net").status_code == 303


@pytest.mark.parametrize(
    ("login", "expected", "words"),
    [
        ("kim@example.com", "domain_not_allowed", "addresses ending @nhs.net"),
        ("unverified:lee@nhs.net", "email_unverified", "does not vouch"),
        ("noemail:max", "no_email", "did not share your email address"),
    ],
)
def test_an_email_the_provider_does_not_vouch_for_or_of_another_domain_is_refused(
    client, session, sso_on, login, expected, words
):
    response = sign_in(client, login)

    assert response.status_code == 400 and reason(response) == expected
    assert words in response.text
    session.rollback()
    assert session.exec(select(Member)).all() == [] and identities(session) == []
    assert session.exec(select(SsoSignIn).where(col(SsoSignIn.email).is_not(None))).all() == []


def test_an_unverified_email_does_not_link_even_to_a_verified_account(client, session, sso_on):
    member = make_member(session, email="ned@nhs.net")

    response = sign_in(client, "unverified:ned@nhs.net")

    assert reason(response) == "email_unverified"
    assert sessions_of(session, member.id) == 0 and identities(session) == []


# Configuration and the provider's failures ----------------------------------------------------


def test_the_button_shows_only_when_single_sign_on_is_configured(client, monkeypatch, provider):
    assert "Sign in with" not in client.get("/login").text
    off = client.get("/sign-in/sso")
    assert off.status_code == 404 and reason(off) == "not_configured"

    with sso_configured(monkeypatch, provider.issuer):
        page = client.get("/login").text
        assert "Sign in with NHSmail" in page and 'action="/sign-in/sso"' in page
        assert client.get("/sign-in/sso").status_code == 200


def test_an_unreachable_provider_is_a_clear_page_not_a_server_error(client, monkeypatch, provider):
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens there
    with sso_configured(monkeypatch, closed):
        response = post_form(client, "/sign-in/sso", {"next": "/profile"}, page="/login")
    assert response.status_code == 502 and reason(response) == "provider_unreachable"
    assert "NHSmail could not be reached" in response.text


def test_a_provider_whose_discovery_names_another_issuer_is_refused(client, monkeypatch, provider):
    with sso_configured(monkeypatch, provider.issuer + "/"):  # not the issuer it names itself
        response = post_form(client, "/sign-in/sso", {"next": "/profile"}, page="/login")
    assert response.status_code == 502 and reason(response) == "provider_misconfigured"


def test_the_profile_form_without_a_sign_in_says_it_expired(client, sso_on):
    response = client.get("/sign-in/sso/complete-profile")

    assert response.status_code == 400 and reason(response) == "profile_expired"


def test_stale_sign_ins_are_purged(session, sso_on):
    make_sso_sign_in(session, expires_in=timedelta(seconds=-1))
    live, _state = make_sso_sign_in(session)

    assert sso.purge_stale_sign_ins(session=session) == 1
    session.commit()
    assert [row.id for row in session.exec(select(SsoSignIn)).all()] == [live.id]


def test_a_signed_in_visitor_gets_a_new_session_and_the_old_one_ends(client, session, sso_on):
    member = make_member(session, email="olu@nhs.net")
    log_in(client, "olu@nhs.net")
    old = client.cookies.get("pb_session")

    # The button is on /sign-in/sso too (the log-in page sends signed-in visitors on).
    response = client.get(
        sign_in_at_provider(start(client, "/sign-in/sso"), "olu@nhs.net", until=BACK)
    )

    assert response.status_code == 303
    assert response.cookies.get("pb_session") not in (None, old)
    session.rollback()
    assert session.get(UserSession, token_hash(old)).revoked_at is not None
    assert sessions_of(session, member.id) == 1


def test_the_providers_second_factor_claim_is_kept_with_the_identity(client, session, sso_on):
    make_member(session, email="pia@nhs.net")
    sso_on.tamper_next_token("mfa")  # re-signed with the provider's own key: a valid token

    assert sign_in(client, "pia@nhs.net").status_code == 303

    [identity] = identities(session)
    assert identity.last_amr == "pwd mfa"


def test_the_forms_need_their_csrf_token(client, session, sso_on):
    client.get("/login")
    assert client.post("/sign-in/sso", data={"next": "/profile"}).status_code == 403
    assert client.post("/sign-in/sso/complete-profile", data=PROFILE).status_code == 403
    session.rollback()
    assert session.exec(select(SsoSignIn)).all() == []


def test_the_pages_let_the_button_reach_the_provider_and_nowhere_else(client, sso_on):
    policy = client.get("/login").headers["content-security-policy"]

    assert f"form-action 'self' {sso_on.issuer};" in policy


def test_a_code_the_provider_does_not_know_is_refused(client, session, sso_on):
    callback = callback_for(client, "quin@nhs.net")
    forged = re.sub(r"code=[^&]+", "code=forged-code", callback)

    response = client.get(forged)

    assert response.status_code == 400 and reason(response) == "token_refused"
    assert "invalid_grant" in response.text


def test_the_code_is_exchanged_only_with_its_pkce_verifier(client, session, sso_on):
    make_member(session, email="rae@nhs.net")
    callback = callback_for(client, "rae@nhs.net")
    # As if someone who stole the code tried it without the verifier this browser's sign-in holds.
    session.exec(update(SsoSignIn).values(code_verifier="x" * 64))
    session.commit()

    response = client.get(callback)

    assert response.status_code == 400 and reason(response) == "token_refused"
    assert identities(session) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "state_missing"),
        ("?code=abc", "state_missing"),
        ("?state=" + "x" * 5000 + "&code=abc", "state_mismatch"),
        ("?state=%C3%A9t%C3%A9&code=abc", "state_mismatch"),
        ("?error=access_denied", "state_missing"),
    ],
)
def test_a_malformed_callback_is_a_clear_page_not_a_server_error(client, sso_on, query, expected):
    start(client)  # the browser holds a state of its own

    response = client.get("/sign-in/sso/callback" + query)

    assert response.status_code == 400 and reason(response) == expected


def test_a_callback_without_a_code_says_so(client, sso_on):
    authorize = start(client)
    state = parse_qs(urlsplit(authorize).query)["state"][0]

    response = client.get(f"/sign-in/sso/callback?state={state}")

    assert response.status_code == 400 and reason(response) == "code_missing"


def test_a_member_with_their_own_second_factor_gives_it_after_the_provider(client, session, sso_on):
    from tests.accounts.test_two_factor import with_totp

    member = make_member(session, email="ros@nhs.net")
    with_totp(session, member)

    response = sign_in(client, "ros@nhs.net")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login/second-factor")
    session.rollback()
    [record] = session.exec(select(UserSession).where(UserSession.member_id == member.id)).all()
    assert record.pending_until is not None and record.second_factor_at is None
    assert client.get("/profile").status_code != 200  # not signed in until the second step


def test_a_second_factor_the_provider_checked_counts_as_the_second_step(client, session, sso_on):
    from tests.accounts.test_two_factor import with_totp

    member = make_member(session, email="sol@nhs.net")
    with_totp(session, member)
    sso_on.tamper_next_token("mfa")  # amr "pwd mfa", signed with the provider's own key

    response = sign_in(client, "sol@nhs.net")

    assert response.status_code == 303
    assert not response.headers["location"].startswith("/login/second-factor")
    session.rollback()
    [record] = session.exec(select(UserSession).where(UserSession.member_id == member.id)).all()
    assert record.pending_until is None and record.second_factor_at is not None


def test_an_sso_sign_in_from_a_new_device_is_audited(client, session, sso_on):
    from backend.audit.models import AuditEvent

    member = make_member(session, email="tam@nhs.net")

    assert sign_in(client, "tam@nhs.net").status_code == 303

    session.rollback()
    events = session.exec(select(AuditEvent).where(AuditEvent.actor_id == member.id)).all()
    assert [event.action for event in events] == ["signin.new_device"]
    assert "sso" in str(events[0].details)
