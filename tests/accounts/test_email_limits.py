"""Emails anyone can ask for (reset, verification, sign-up again) are limited per address and
per client; over a limit the answer is the same as success and no email goes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from backend.accounts import service as accounts
from backend.accounts.models import LoginThrottle
from backend.db import utcnow
from backend.errors import Invalid, RateLimited
from backend.notifications.models import OutboxEmail
from backend.settings import get_settings
from tests.accounts.test_sign_up import sign_up_data
from tests.factories import PASSWORD, make_member


def _emails(session, kind: str | None = None) -> list[OutboxEmail]:  # type: ignore[no-untyped-def]
    statement = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        statement = statement.where(OutboxEmail.kind == kind)
    return list(session.exec(statement).all())


@pytest.fixture
def limits(monkeypatch):  # type: ignore[no-untyped-def]
    def set_limits(*, address: int, client: int) -> None:
        monkeypatch.setenv("PEERBRIDGE_ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR", str(address))
        monkeypatch.setenv("PEERBRIDGE_ACCOUNT_EMAILS_PER_CLIENT_PER_HOUR", str(client))
        get_settings.cache_clear()

    yield set_limits
    monkeypatch.undo()
    get_settings.cache_clear()


def test_thirty_resets_to_one_address_send_at_most_the_limit(session):
    member = make_member(session, email="lee@example.org")
    limit = get_settings().account_emails_per_address_per_hour
    assert limit == 3  # the documented default

    for _ in range(30):
        accounts.request_password_reset(session=session, email="LEE@example.org")

    assert [e.to_address for e in _emails(session, "reset")] == [member.email] * limit


def test_resets_and_verifications_share_the_address_limit_and_it_lasts_an_hour(session):
    member = make_member(session, email="lee@example.org", verified=False)
    for _ in range(5):
        accounts.resend_verification(session=session, member=member)
        accounts.request_password_reset(session=session, email=member.email)
    assert len(_emails(session)) == 3

    session.execute(
        update(OutboxEmail).values(created_at=utcnow() - accounts.EMAIL_WINDOW - timedelta(1))
    )
    accounts.request_password_reset(session=session, email=member.email)

    assert len(_emails(session)) == 4


def test_one_client_cannot_email_many_addresses_past_its_limit(session, limits):
    limits(address=3, client=5)
    for number in range(8):
        make_member(session, email=f"member{number}@example.org")

    for number in range(8):
        accounts.request_password_reset(
            session=session, email=f"member{number}@example.org", client="203.0.113.9"
        )
    accounts.request_password_reset(
        session=session, email="member7@example.org", client="198.51.100.4"
    )

    sent = [e.to_address for e in _emails(session, "reset")]
    assert sent == [f"member{n}@example.org" for n in range(5)] + ["member7@example.org"]


def test_the_client_limit_starts_again_after_an_hour(session, limits):
    limits(address=3, client=1)
    for name in ("a", "b"):
        make_member(session, email=f"{name}@example.org")
    accounts.request_password_reset(session=session, email="a@example.org", client="::1")
    accounts.request_password_reset(session=session, email="b@example.org", client="::1")
    assert len(_emails(session)) == 1

    session.execute(
        update(LoginThrottle)
        .where(col(LoginThrottle.key).startswith("EMAILS-ASKED-BY"))
        .values(blocked_until=utcnow() - timedelta(seconds=1))
    )
    accounts.request_password_reset(session=session, email="b@example.org", client="::1")

    assert [e.to_address for e in _emails(session)] == ["a@example.org", "b@example.org"]


def test_the_client_count_cannot_be_touched_by_failed_log_ins(session, limits):
    limits(address=3, client=2)
    make_member(session, email="a@example.org")
    key = accounts.CLIENT_EMAILS_KEY.format(client="::1")
    for _ in range(3):
        with pytest.raises((Invalid, RateLimited)):
            accounts.log_in(session=session, email=key, password=PASSWORD)
    assert session.get(LoginThrottle, key) is None  # log-in keys are folded to lower case

    accounts.request_password_reset(session=session, email="a@example.org", client="::1")

    assert session.get(LoginThrottle, key).failures == 1


def test_signing_up_again_and_again_emails_the_owner_at_most_the_limit(session):
    accounts.sign_up(session=session, data=sign_up_data())

    for _ in range(10):
        assert accounts.sign_up(session=session, data=sign_up_data()) is None

    # The verification email counts too: three in all to the address this hour.
    assert [e.kind for e in _emails(session)] == ["verify", "sign-up-again", "sign-up-again"]
