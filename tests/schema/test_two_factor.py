"""Second factors over GraphQL: set-up, logIn's SecondFactorNeeded and completeLogIn, the
pending session reaching nothing, and step-up before eraseMyAccount (on each database)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from strawberry import relay

from backend.accounts.models import UserSession
from backend.db import utcnow
from tests.accounts.test_two_factor import code_at
from tests.factories import PASSWORD, make_member
from tests.schema.test_journey import ME, post

LOG_IN = """
mutation($email: String!, $password: String!) {
  logIn(input: {email: $email, password: $password}) {
    __typename
    ... on LogInSuccess { member { email } }
    ... on SecondFactorNeeded { methods expiresInSeconds }
    ... on Error { message }
  }
}
"""
START = "mutation { startTotpSetup { __typename ... on TotpSetupSuccess { secret qrSvg } } }"
CONFIRM = """
mutation($code: String!) { confirmTotpSetup(input: {code: $code}) {
  __typename ... on RecoveryCodesSuccess { recoveryCodes } ... on InvalidInput { field }
} }
"""
COMPLETE = """
mutation($code: String!) { completeLogIn(input: {code: $code}) {
  __typename ... on LogInSuccess { member { email } } ... on InvalidInput { field }
  ... on Error { message }
} }
"""
STEP_UP = """
mutation($code: String!) { confirmSecondFactor(input: {code: $code}) {
  __typename ... on Error { message }
} }
"""
ERASE = """
mutation { eraseMyAccount(input: {password: "", confirm: true}) {
  __typename ... on InvalidInput { errors { field } } ... on Error { message }
} }
"""
FACTORS = "{ mySecondFactors { totp recoveryCodesLeft passkeys { name } } }"
LOG_OUT = "mutation { logOut { __typename } }"


def _log_in(client, email: str) -> dict:  # type: ignore[no-untyped-def]
    return post(client, LOG_IN, {"email": email, "password": PASSWORD})["data"]["logIn"]


_FIRST_CODES: dict[str, str] = {}  # secret -> the code its set-up used up


def _with_app(client, email: str) -> str:  # type: ignore[no-untyped-def]
    assert _log_in(client, email)["__typename"] == "LogInSuccess"
    started = post(client, START)["data"]["startTotpSetup"]
    assert started["qrSvg"].startswith("<svg")
    secret = started["secret"]
    wrong = post(client, CONFIRM, {"code": "000000"})["data"]["confirmTotpSetup"]
    assert wrong == {"__typename": "InvalidInput", "field": "code"}
    first = _FIRST_CODES[secret] = code_at(secret, -1)
    done = post(client, CONFIRM, {"code": first})["data"]["confirmTotpSetup"]
    assert len(done["recoveryCodes"]) == 10
    return secret


def test_log_in_with_a_second_factor_over_graphql(client, session):
    member = make_member(session)
    secret = _with_app(client, member.email)
    assert post(client, FACTORS)["data"]["mySecondFactors"] == {
        "totp": True,
        "recoveryCodesLeft": 10,
        "passkeys": [],
    }
    post(client, LOG_OUT)

    needed = _log_in(client, member.email)
    assert needed == {
        "__typename": "SecondFactorNeeded",
        "methods": ["totp", "recovery_code"],
        "expiresInSeconds": 300,
    }
    assert post(client, ME)["data"]["me"] is None  # the pending session signs nobody in
    assert post(client, FACTORS)["errors"][0]["extensions"]["code"] == "NOT_AUTHENTICATED"

    wrong = post(client, COMPLETE, {"code": "999999"})["data"]["completeLogIn"]
    assert (wrong["__typename"], wrong["field"]) == ("InvalidInput", "code")
    # the very code set-up used (not recomputed: a 30-second step may have passed since)
    used = post(client, COMPLETE, {"code": _FIRST_CODES[secret]})["data"]["completeLogIn"]
    assert used["__typename"] == "InvalidInput"  # used at set-up: a code is good once
    done = post(client, COMPLETE, {"code": code_at(secret, 1)})["data"]["completeLogIn"]
    assert done == {"__typename": "LogInSuccess", "member": {"email": member.email}}
    assert post(client, ME)["data"]["me"]["email"] == member.email
    again = post(client, COMPLETE, {"code": code_at(secret, 1)})["data"]["completeLogIn"]
    assert again["__typename"] == "NotAuthenticated"


def test_erase_my_account_needs_a_fresh_second_factor(client, session):
    member = make_member(session)
    secret = _with_app(client, member.email)
    session.exec(update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=11)))
    session.commit()
    refused = post(client, ERASE)["data"]["eraseMyAccount"]
    assert refused["__typename"] == "InvalidInput"
    assert refused["errors"] == [{"field": "secondFactor"}]
    confirmed = post(client, STEP_UP, {"code": code_at(secret, 1)})["data"]["confirmSecondFactor"]
    assert confirmed["__typename"] == "Done"
    erased = post(client, ERASE)["data"]["eraseMyAccount"]
    assert erased["__typename"] == "EraseMyAccountSuccess"


def test_step_up_needs_a_browser_session(client, session):
    member = make_member(session)
    secret = _with_app(client, member.email)
    token = post(
        client,
        'mutation { createAccessToken(input: {name: "script"}) { '
        "... on CreateAccessTokenSuccess { secret } } }",
    )["data"]["createAccessToken"]["secret"]
    client.cookies.clear()
    refused = post(
        client,
        STEP_UP,
        {"code": code_at(secret, 1)},
        headers={"authorization": f"Bearer {token}"},
    )["data"]["confirmSecondFactor"]
    assert refused["__typename"] == "NotAllowed"


SET_ROLE = """
mutation($id: ID!) { setMemberRole(input: {memberId: $id, role: ORGANISER, granted: true}) {
  __typename ... on SetMemberRoleSuccess { roles } ... on InvalidInput { errors { field } }
} }
"""


def test_set_member_role_needs_a_fresh_second_factor(client, session):
    admin = make_member(session, roles=("admin",))
    member = make_member(session)
    member_id = str(relay.GlobalID("Member", str(member.id)))
    secret = _with_app(client, admin.email)
    session.exec(update(UserSession).values(second_factor_at=utcnow() - timedelta(minutes=11)))
    session.commit()
    refused = post(client, SET_ROLE, {"id": member_id})["data"]["setMemberRole"]
    assert refused == {"__typename": "InvalidInput", "errors": [{"field": "secondFactor"}]}
    post(client, STEP_UP, {"code": code_at(secret, 1)})
    done = post(client, SET_ROLE, {"id": member_id})["data"]["setMemberRole"]
    assert done == {"__typename": "SetMemberRoleSuccess", "roles": ["MEMBER", "ORGANISER"]}
