"""A GraphQL client with a cookie jar: sign up, verify, log in, edit, log out."""

from __future__ import annotations

from sqlmodel import select

from backend.accounts.models import UserSession
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.notifications.models import OutboxEmail

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    __typename
    ... on SignUpSuccess { message }
    ... on InvalidInput { message field errors { field message } }
    ... on Error { message }
  }
}
"""
VERIFY = """
mutation Verify($token: String!) {
  verifyEmail(input: {token: $token}) {
    __typename ... on VerifyEmailSuccess { member { name } } ... on Error { message }
  }
}
"""
LOG_IN = """
mutation LogIn($email: String!, $password: String!) {
  logIn(input: {email: $email, password: $password}) {
    __typename ... on LogInSuccess { member { name email } } ... on Error { message }
  }
}
"""
ME = "{ me { name email emailVerified jobTitle bio band skillsSought { id name } } }"
UPDATE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    __typename
    ... on UpdateProfileSuccess { member { name jobTitle bio band skillsSought { id } } }
    ... on InvalidInput { errors { field message } }
    ... on Error { message }
  }
}
"""
LOG_OUT = "mutation { logOut { __typename ... on Done { message } ... on Error { message } } }"
PASSWORD = "a long memorable passphrase"
NEW_MEMBER = {
    "email": "Asha.Patel@Example.NHS.uk",
    "password": PASSWORD,
    "name": "Asha Patel",
    "organisation": "Leeds Teaching Hospitals NHS Trust",
    "region": "NORTH_EAST_AND_YORKSHIRE",
    "roleFamily": "ADMINISTRATION",
    "band": "BAND_4",
    "profession": "NON_CLINICAL",
}


def post(client, query, variables=None, **kwargs):
    response = client.post("/graphql", json={"query": query, "variables": variables}, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_sign_up_verify_log_in_edit_log_out(client, session, mail_dir):
    signed_up = post(client, SIGN_UP, {"input": NEW_MEMBER})["data"]["signUp"]
    assert signed_up["__typename"] == "SignUpSuccess"
    assert "Check your email" in signed_up["message"]

    assert notifications.deliver_pending(session=session) == 1
    [mail] = list(mail_dir.glob("*.eml"))
    token = mail.read_text().split("/verify?token=")[1].split()[0]
    verified = post(client, VERIFY, {"token": token})["data"]["verifyEmail"]
    assert verified == {"__typename": "VerifyEmailSuccess", "member": {"name": "Asha Patel"}}

    response = client.post(
        "/graphql",
        json={
            "query": LOG_IN,
            "variables": {"email": "asha.patel@example.nhs.uk", "password": PASSWORD},
        },
    )
    assert response.json()["data"]["logIn"]["__typename"] == "LogInSuccess"
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("pb_session=")
    assert "httponly" in set_cookie.lower()
    assert "samesite=lax" in set_cookie.lower()
    old_cookie = client.cookies.get("pb_session")

    me = post(client, ME)["data"]["me"]
    assert me["email"] == "asha.patel@example.nhs.uk"
    assert me["emailVerified"] is True

    updated = post(
        client,
        UPDATE,
        {
            "input": {
                "jobTitle": "Service manager",
                "bio": "Ten years in outpatients.",
                "band": "BAND_8A",
                "skillsSought": ["budget-management", "team-leadership"],
            }
        },
    )["data"]["updateProfile"]
    assert updated == {
        "__typename": "UpdateProfileSuccess",
        "member": {
            "name": "Asha Patel",
            "jobTitle": "Service manager",
            "bio": "Ten years in outpatients.",
            "band": "BAND_8A",
            "skillsSought": [{"id": "budget-management"}, {"id": "team-leadership"}],
        },
    }

    assert post(client, LOG_OUT)["data"]["logOut"]["__typename"] == "Done"
    assert post(client, ME)["data"]["me"] is None
    # The old cookie, replayed, opens nothing: the session was revoked on the server.
    client.cookies.set("pb_session", old_cookie)
    assert post(client, ME)["data"]["me"] is None
    sessions = session.exec(select(UserSession)).all()
    assert sessions and all(s.revoked_at is not None for s in sessions)


def test_log_in_replaces_the_previous_session(client, session):
    post(client, SIGN_UP, {"input": NEW_MEMBER})
    credentials = {"email": "asha.patel@example.nhs.uk", "password": PASSWORD}
    post(client, LOG_IN, credentials)
    first = client.cookies.get("pb_session")
    post(client, LOG_IN, credentials)
    second = client.cookies.get("pb_session")

    assert first != second
    client.cookies.set("pb_session", first)
    assert post(client, ME)["data"]["me"] is None


def test_wrong_password_gets_the_same_answer_as_an_unknown_account(client):
    post(client, SIGN_UP, {"input": NEW_MEMBER})

    wrong = post(client, LOG_IN, {"email": "asha.patel@example.nhs.uk", "password": "x" * 14})
    unknown = post(client, LOG_IN, {"email": "nobody@example.nhs.uk", "password": "x" * 14})

    assert wrong["data"]["logIn"] == unknown["data"]["logIn"]
    assert wrong["data"]["logIn"]["__typename"] == "InvalidInput"
    assert "pb_session" not in client.cookies


def test_sign_up_reports_every_bad_field_and_writes_nothing(client, session):
    bad = {**NEW_MEMBER, "email": "not-an-email", "password": "password1234", "name": " "}

    result = post(client, SIGN_UP, {"input": bad})["data"]["signUp"]

    assert result["__typename"] == "InvalidInput"
    assert {e["field"] for e in result["errors"]} == {"email", "password", "name"}
    assert session.exec(select(Member)).all() == []


def test_sign_up_with_a_taken_address_answers_exactly_as_a_new_one(client, session):
    fresh = post(client, SIGN_UP, {"input": NEW_MEMBER})

    again = post(client, SIGN_UP, {"input": {**NEW_MEMBER, "email": "ASHA.PATEL@example.nhs.uk"}})

    assert again == fresh
    assert len(session.exec(select(Member)).all()) == 1
    [_, attempt] = session.exec(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert attempt.to_address == "asha.patel@example.nhs.uk"
    assert "Someone tried to create a peerbridge account" in attempt.body_text
