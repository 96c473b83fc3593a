"""Over GraphQL: 30 reset requests for one address get 30 identical answers and at most the
limit of emails; a client asking for many addresses is limited as well."""

from __future__ import annotations

import pytest
from sqlmodel import col, select

from backend.notifications.models import OutboxEmail
from backend.settings import get_settings
from tests.factories import make_member
from tests.schema.test_journey import post

ASK = """
mutation($e: String!) {
  requestPasswordReset(input: {email: $e}) { __typename ... on Done { message } }
}
"""


def _resets(session) -> list[OutboxEmail]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(
        session.exec(
            select(OutboxEmail).where(OutboxEmail.kind == "reset").order_by(col(OutboxEmail.id))
        ).all()
    )


def test_thirty_resets_answer_alike_and_send_at_most_the_limit(client, session):
    member = make_member(session, email="lee@example.org")
    session.commit()

    answers = [post(client, ASK, {"e": member.email}) for _ in range(30)]
    unknown = post(client, ASK, {"e": "nobody@example.org"})

    assert all(answer == unknown for answer in answers)
    assert unknown["data"]["requestPasswordReset"]["__typename"] == "Done"
    assert len(_resets(session)) == 3


@pytest.fixture
def client_limit_of_four(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PEERBRIDGE_ACCOUNT_EMAILS_PER_CLIENT_PER_HOUR", "4")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_one_client_asking_for_many_addresses_is_limited(client_limit_of_four, client, session):
    members = [make_member(session, email=f"member{n}@example.org") for n in range(6)]
    session.commit()

    answers = [post(client, ASK, {"e": m.email}) for m in members]

    assert len({str(a) for a in answers}) == 1
    assert [e.to_address for e in _resets(session)] == [m.email for m in members[:4]]
