"""Passwords over GraphQL: change (other sessions end) and reset by emailed link."""

from __future__ import annotations

from backend.notifications import service as notifications
from tests.factories import PASSWORD, make_member
from tests.schema.test_journey import LOG_IN, ME, post

CHANGE = """
mutation($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    __typename ... on InvalidInput { field } ... on Error { message }
    ... on ChangePasswordSuccess { message }
  }
}
"""
CREATE_TOKEN = """
mutation { createAccessToken(input: {name: "Reporting script"}) {
  ... on CreateAccessTokenSuccess { secret }
} }
"""
NEW = "an entirely different passphrase"


def test_change_password_keeps_this_session_and_ends_the_others(client, session):
    member = make_member(session)
    session.commit()
    post(client, LOG_IN, {"email": member.email, "password": PASSWORD})
    other_cookie = client.cookies.get("pb_session")
    post(client, LOG_IN, {"email": member.email, "password": PASSWORD})

    wrong = post(client, CHANGE, {"current": "not my password!", "new": NEW})
    changed = post(client, CHANGE, {"current": PASSWORD, "new": NEW})

    assert wrong["data"]["changePassword"]["field"] == "currentPassword"
    assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess"
    assert "access tokens you made were revoked" in changed["data"]["changePassword"]["message"]
    assert post(client, ME)["data"]["me"]["email"] == member.email
    client.cookies.set("pb_session", other_cookie)
    assert post(client, ME)["data"]["me"] is None


RESET = """
  mutation($t: String!, $p: String!) {
    resetPassword(input: {token: $t, newPassword: $p}) {
      __typename ... on InvalidInput { field } ... on Error { message } ... on Done { message }
    }
  }
"""


def test_reset_password_from_the_mail_file(client, session, mail_dir):
    member = make_member(session)
    session.commit()
    request = "mutation($e: String!) { requestPasswordReset(input: {email: $e}) { __typename } }"
    unknown = post(client, request, {"e": "nobody@example.nhs.uk"})
    known = post(client, request, {"e": member.email})
    assert unknown == known  # no account probing
    notifications.deliver_pending(session=session)
    [mail] = list(mail_dir.glob("*.eml"))
    token = mail.read_text().split("/reset-password?token=")[1].split()[0]

    too_short = post(client, RESET, {"t": token, "p": "short"})["data"]["resetPassword"]
    done = post(client, RESET, {"t": token, "p": NEW})["data"]["resetPassword"]
    again = post(client, RESET, {"t": token, "p": NEW})["data"]["resetPassword"]

    assert (too_short["__typename"], too_short["field"]) == ("InvalidInput", "newPassword")
    assert done["__typename"] == "Done"
    assert (again["__typename"], again["field"]) == ("InvalidInput", "token")
    logged = post(client, LOG_IN, {"email": member.email, "password": NEW})["data"]["logIn"]
    assert logged["__typename"] == "LogInSuccess"
    assert "access tokens you made were revoked" in done["message"]


def test_change_password_revokes_the_access_tokens(client, session):
    member = make_member(session)
    session.commit()
    post(client, LOG_IN, {"email": member.email, "password": PASSWORD})
    secret = post(client, CREATE_TOKEN)["data"]["createAccessToken"]["secret"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert post(client, ME, headers=bearer)["data"]["me"]["email"] == member.email

    changed = post(client, CHANGE, {"current": PASSWORD, "new": NEW})["data"]["changePassword"]

    assert changed["__typename"] == "ChangePasswordSuccess"
    assert post(client, ME)["data"]["me"]["email"] == member.email  # this session goes on
    client.cookies.clear()
    assert client.post("/graphql", json={"query": ME}, headers=bearer).status_code == 401


def test_change_password_made_with_a_token_revokes_that_token_too(client, session):
    member = make_member(session)
    session.commit()
    post(client, LOG_IN, {"email": member.email, "password": PASSWORD})
    secret = post(client, CREATE_TOKEN)["data"]["createAccessToken"]["secret"]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {secret}"}

    changed = post(client, CHANGE, {"current": PASSWORD, "new": NEW}, headers=bearer)

    assert changed["data"]["changePassword"]["__typename"] == "ChangePasswordSuccess"
    assert client.post("/graphql", json={"query": ME}, headers=bearer).status_code == 401


def test_reset_password_revokes_the_access_tokens(client, session, mail_dir):
    member = make_member(session)
    session.commit()
    post(client, LOG_IN, {"email": member.email, "password": PASSWORD})
    secret = post(client, CREATE_TOKEN)["data"]["createAccessToken"]["secret"]
    client.cookies.clear()
    post(
        client,
        "mutation($e: String!) { requestPasswordReset(input: {email: $e}) { __typename } }",
        {"e": member.email},
    )
    notifications.deliver_pending(session=session)
    session.commit()
    [mail] = list(mail_dir.glob("*.eml"))
    token = mail.read_text().split("/reset-password?token=")[1].split()[0]

    done = post(client, RESET, {"t": token, "p": NEW})["data"]["resetPassword"]

    assert done["__typename"] == "Done"
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.post("/graphql", json={"query": ME}, headers=bearer).status_code == 401
