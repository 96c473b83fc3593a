"""One transaction per /graphql request, each mutation field in a savepoint of it.

The failing service is real: ``reset_password`` uses up the emailed link and only then finds
that the new password holds the address, so it writes, then raises (``InvalidInput``).
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlmodel import select

from backend.accounts import service as accounts
from backend.accounts.models import EmailToken, LoginThrottle
from backend.notifications import service as notifications
from backend.settings import get_settings
from tests.factories import PASSWORD, make_member
from tests.web.test_unit_of_work import another_writer

EMAIL = "robin.walker@example.nhs.uk"
HOLDS_THE_ADDRESS = "robin.walker likes long walks"
GOOD = "a brand new passphrase"

RESET = """
resetPassword(input: {token: $token, newPassword: $password}) {
  __typename ... on InvalidInput { field }
}
"""
LOG_IN = "mutation($e: String!, $p: String!) {logIn(input: {email: $e, password: $p}) {__typename}}"
ASK = f'requestPasswordReset(input: {{email: "{EMAIL}"}}) {{ __typename }}'


def _post(client, query: str, variables: dict | None = None) -> dict:  # type: ignore[type-arg]
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def _reset_link(session, mail_dir) -> str:  # type: ignore[no-untyped-def]
    make_member(session, email=EMAIL)
    accounts.request_password_reset(session=session, email=EMAIL)
    session.commit()
    notifications.deliver_pending(session=session)
    [mail] = sorted(mail_dir.glob("*.eml"))[-1:]
    return re.search(r"/reset-password\?token=(\S+)", mail.read_text()).group(1)


def _state(session, token: str) -> tuple[bool, int]:  # type: ignore[no-untyped-def]
    """(whether the link is used up, how many reset links exist), as committed."""
    session.rollback()
    used = session.exec(
        select(EmailToken.used_at).where(EmailToken.token_hash == accounts.token_hash(token))
    ).one()
    links = session.exec(
        select(func.count()).select_from(EmailToken).where(EmailToken.purpose == "reset")
    ).one()
    session.rollback()
    return used is not None, links


def test_a_mutation_that_writes_then_fails_leaves_nothing_behind(client, session, mail_dir):
    token = _reset_link(session, mail_dir)

    result = _post(
        client,
        f"mutation($token: String!, $password: String!) {{ {RESET} }}",
        {"token": token, "password": HOLDS_THE_ADDRESS},
    )

    assert result["data"]["resetPassword"] == {"__typename": "InvalidInput", "field": "newPassword"}
    assert _state(session, token) == (False, 1)
    again = _post(
        client,
        f"mutation($token: String!, $password: String!) {{ {RESET} }}",
        {"token": token, "password": GOOD},
    )
    assert again["data"]["resetPassword"] == {"__typename": "Done"}
    assert _state(session, token) == (True, 1)


@pytest.mark.parametrize("failing_first", [False, True], ids=["fails-second", "fails-first"])
def test_of_two_mutation_fields_only_the_failing_one_is_undone(
    client, session, mail_dir, failing_first
):
    token = _reset_link(session, mail_dir)
    fields = [f"failing: {RESET}", f"asked: {ASK}"]
    if not failing_first:
        fields.reverse()

    result = _post(
        client,
        f"mutation($token: String!, $password: String!) {{ {' '.join(fields)} }}",
        {"token": token, "password": HOLDS_THE_ADDRESS},
    )

    assert result["data"] == {
        "failing": {"__typename": "InvalidInput", "field": "newPassword"},
        "asked": {"__typename": "Done"},
    }
    # The successful field's new link is kept; the failing field's use of the old one is not.
    assert _state(session, token) == (False, 2)


def test_a_query_starts_read_only_and_never_waits_for_a_writer(client, session, engine):
    member = make_member(session)
    member_id = member.id
    session.commit()
    logged_in = _post(
        client,
        LOG_IN,
        {"e": member.email, "p": PASSWORD},
    )
    assert logged_in["data"]["logIn"]["__typename"] == "LogInSuccess"
    with another_writer(engine, member_id):
        started = time.monotonic()
        answer = _post(client, "{ me { name } notifications(first: 5) { edges { node { id } } } }")
        elapsed = time.monotonic() - started

    assert "errors" not in answer, answer
    assert answer["data"]["me"] == {"name": member.name}
    assert elapsed < 2, f"a query waited {elapsed:.1f}s for another transaction's lock"


def test_a_commit_that_fails_is_a_500_not_a_success(client, session, monkeypatch):
    make_member(session, email=EMAIL)
    session.commit()

    def refuse(self) -> None:  # type: ignore[no-untyped-def]
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Session, "commit", refuse)
    response = client.post("/graphql", json={"query": f"mutation {{ {ASK} }}"})

    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"


def test_a_failed_log_in_is_counted_though_its_field_is_undone(client, session):
    # logIn returns InvalidInput, so its savepoint is rolled back; the count is a write
    # apart (on SQLite: redone after that rollback), so the account is throttled all the same.
    member = make_member(session)
    session.commit()
    wrong = {"e": member.email, "p": "not the password"}

    answers = [
        _post(client, LOG_IN, wrong)["data"]["logIn"]["__typename"]
        for _ in range(get_settings().login_failures_before_backoff + 1)
    ]

    assert answers[-2:] == ["InvalidInput", "RateLimited"]
    assert set(answers[:-1]) == {"InvalidInput"}
    session.rollback()
    throttle = session.get(LoginThrottle, member.email, populate_existing=True)
    assert throttle.failures == get_settings().login_failures_before_backoff
