"""Personal access tokens: created by a logged-in member, used as Bearer, revoked for good."""

from __future__ import annotations

from tests.factories import PASSWORD, make_member
from tests.schema.test_journey import LOG_IN, post

CREATE = """
mutation { createAccessToken(input: {name: "Reporting script"}) {
  __typename
  ... on CreateAccessTokenSuccess { secret accessToken { id name prefix } }
  ... on Error { message }
} }
"""
REVOKE = """
mutation($id: ID!) { revokeAccessToken(input: {id: $id}) {
  __typename ... on RevokeAccessTokenSuccess { accessToken { revokedAt } } ... on Error { message }
} }
"""


def logged_in(client, session):
    member = make_member(session)
    session.commit()  # end the read transaction: SQLite would block the app's writes
    post(client, LOG_IN, {"email": member.email, "password": PASSWORD})
    return member


def test_bearer_token_authenticates_and_revoked_token_does_not(client, session):
    member = logged_in(client, session)
    created = post(client, CREATE)["data"]["createAccessToken"]
    secret = created["secret"]
    assert secret.startswith("pbat_")
    assert secret.startswith(created["accessToken"]["prefix"])

    listed = post(client, "{ me { accessTokens { name revokedAt } } }")["data"]["me"]
    assert listed["accessTokens"] == [{"name": "Reporting script", "revokedAt": None}]

    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {secret}"}
    me = post(client, "{ me { name email } }", headers=bearer)["data"]["me"]
    assert me == {"name": member.name, "email": member.email}

    revoked = post(client, REVOKE, {"id": created["accessToken"]["id"]}, headers=bearer)
    assert revoked["data"]["revokeAccessToken"]["accessToken"]["revokedAt"] is not None

    response = client.post("/graphql", json={"query": "{ me { name } }"}, headers=bearer)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"


def test_unknown_bearer_token_is_401_not_anonymous(client):
    response = client.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Authorization": "Bearer pbat_nope"}
    )
    assert response.status_code == 401
    assert "Bearer" in response.headers["www-authenticate"]


def test_a_token_cannot_create_more_tokens(client, session):
    logged_in(client, session)
    secret = post(client, CREATE)["data"]["createAccessToken"]["secret"]
    client.cookies.clear()

    result = post(client, CREATE, headers={"Authorization": f"Bearer {secret}"})

    assert result["data"]["createAccessToken"]["__typename"] == "NotAllowed"


def test_anonymous_cannot_create_tokens(client):
    assert post(client, CREATE)["data"]["createAccessToken"]["__typename"] == "NotAuthenticated"


def test_cannot_revoke_someone_elses_token(client, session):
    logged_in(client, session)
    token_id = post(client, CREATE)["data"]["createAccessToken"]["accessToken"]["id"]
    post(client, "mutation { logOut { __typename } }")
    logged_in(client, session)

    result = post(client, REVOKE, {"id": token_id})

    assert result["data"]["revokeAccessToken"]["__typename"] == "NotFound"


def test_cross_site_requests_do_not_ride_on_the_cookie(client, session):
    logged_in(client, session)
    response = client.post(
        "/graphql", json={"query": "{ me { name } }"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.json()["data"]["me"] is None
