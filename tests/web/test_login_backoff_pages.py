"""Through the log-in page: an attacker's wrong guesses from one address slow that address
only; the owner, from their own, logs in."""

from __future__ import annotations

import warnings

from tests.factories import PASSWORD, make_member
from tests.web.conftest import log_in, post_form

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_an_attacker_cannot_lock_the_owner_out(client, session):
    member = make_member(session)
    attacker = TestClient(client.app, follow_redirects=False, client=("203.0.113.66", 40000))

    answers = [
        post_form(attacker, "/login", {"email": member.email, "password": "wrong guess!!"})
        for _ in range(12)
    ]

    assert answers[-1].status_code == 429 and int(answers[-1].headers["retry-after"]) > 0
    blocked = post_form(attacker, "/login", {"email": member.email, "password": PASSWORD})
    assert blocked.status_code == 429  # the right password does not help the attacker
    log_in(client, member.email)  # the owner, from their own address, gets in
    assert client.get("/profile").status_code == 200
