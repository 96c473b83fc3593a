"""Log-in back-off per account and client pair: an attacker's guesses slow the attacker, not the
owner; the account as a whole backs off only after far more failures from anywhere."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.accounts import service as accounts
from backend.accounts.models import LoginThrottle
from backend.errors import Invalid, RateLimited
from backend.settings import get_settings
from tests.factories import PASSWORD, make_member

ATTACKER = "203.0.113.66"
OWNER = "198.51.100.7"
WRONG = "wrong password!!"


def _fail(session, email: str, client: str, times: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(times):
        with pytest.raises((Invalid, RateLimited)):
            accounts.log_in(session=session, email=email, password=WRONG, client=client)


def test_an_attacker_guessing_slows_only_themselves_and_the_owner_logs_in(session):
    member = make_member(session, email="lee@example.org")

    _fail(session, member.email, ATTACKER, 20)

    with pytest.raises(RateLimited):  # the attacker waits, even with the right password
        accounts.log_in(session=session, email=member.email, password=PASSWORD, client=ATTACKER)
    signed_in, _token = accounts.log_in(
        session=session, email=member.email, password=PASSWORD, client=OWNER
    )
    assert signed_in.id == member.id
    with pytest.raises(RateLimited):  # the owner's success does not free the attacker
        accounts.log_in(session=session, email=member.email, password=WRONG, client=ATTACKER)


def test_the_account_wide_limit_is_far_higher_and_holds_against_many_clients(session, monkeypatch):
    settings = get_settings()
    assert (
        settings.login_account_failures_before_backoff
        >= 20 * settings.login_failures_before_backoff
    )
    monkeypatch.setenv("PEERBRIDGE_LOGIN_ACCOUNT_FAILURES_BEFORE_BACKOFF", "12")
    get_settings.cache_clear()
    try:
        member = make_member(session, email="lee@example.org")
        for n in range(4):  # three each from four clients: none is over its own limit
            _fail(session, member.email, f"192.0.2.{n}", 3)

        with pytest.raises(RateLimited):  # but the account is, for every client
            accounts.log_in(
                session=session, email=member.email, password=PASSWORD, client="192.0.2.99"
            )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_pair_rows_hold_no_email_and_log_in_keys_cannot_reach_them(session):
    member = make_member(session, email="lee@example.org")
    _fail(session, member.email, ATTACKER, 2)
    keys = set(session.exec(select(LoginThrottle.key)).all())
    [pair] = keys - {member.email}
    assert member.email not in pair and "lee" not in pair
    assert pair != pair.lower()  # typed log-in keys are folded to lower case

    _fail(session, pair, ATTACKER, 3)

    assert session.get(LoginThrottle, pair).failures == 2
