"""Passwords over GraphQL: change (other sessions end) and reset by emailed link."""

from __future__ import annotations

from backend.notifications import service as notifications
from tests.factories import PASSWORD, make_member
from tests.schema.test_journey import LOG_IN, ME, post

CHANGE = """
mutation($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    __typename ... on InvalidInput { field } ... on Error { message }
  }
}
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
    assert post(client, ME)["data"]["me"]["email"] == member.email
    client.cookies.set("pb_session", other_cookie)
    assert post(client, ME)["data"]["me"] is None


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
    reset = """
      mutation($t: String!, $p: String!) {
        resetPassword(input: {token: $t, newPassword: $p}) {
          __typename ... on InvalidInput { field } ... on Error { message }
        }
      }
    """

    too_short = post(client, reset, {"t": token, "p": "short"})["data"]["resetPassword"]
    done = post(client, reset, {"t": token, "p": NEW})["data"]["resetPassword"]
    again = post(client, reset, {"t": token, "p": NEW})["data"]["resetPassword"]

    assert (too_short["__typename"], too_short["field"]) == ("InvalidInput", "newPassword")
    assert done["__typename"] == "Done"
    assert (again["__typename"], again["field"]) == ("InvalidInput", "token")
    logged = post(client, LOG_IN, {"email": member.email, "password": NEW})["data"]["logIn"]
    assert logged["__typename"] == "LogInSuccess"
