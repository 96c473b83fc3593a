"""Over GraphQL: wrong passwords from one client throttle that client, not the account's owner."""

from __future__ import annotations

import warnings

from tests.factories import PASSWORD, make_member
from tests.schema.test_journey import LOG_IN, post

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_an_attacker_cannot_lock_the_owner_out(client, session):
    member = make_member(session)
    session.commit()
    attacker = TestClient(client.app, raise_server_exceptions=False, client=("203.0.113.66", 1))

    for _ in range(12):
        post(attacker, LOG_IN, {"email": member.email, "password": "wrong guess!!"})
    blocked = post(attacker, LOG_IN, {"email": member.email, "password": PASSWORD})
    owner = post(client, LOG_IN, {"email": member.email, "password": PASSWORD})

    assert blocked["data"]["logIn"]["__typename"] == "RateLimited"
    assert owner["data"]["logIn"] == {
        "__typename": "LogInSuccess",
        "member": {"name": member.name, "email": member.email},
    }
