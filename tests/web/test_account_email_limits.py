"""Through the pages: asking for reset links again and again sends at most the limit, and the
answer over the limit is the page every address gets."""

from __future__ import annotations

import re

from sqlmodel import select

from backend.notifications.models import OutboxEmail
from tests.factories import make_member
from tests.web.conftest import log_in, post_form

STRIP = re.compile(r'(value|nonce)="[^"]*"')


def test_thirty_resets_answer_alike_and_send_at_most_three_emails(client, session):
    member = make_member(session, email="lee@example.org")

    answers = [post_form(client, "/forgotten-password", {"email": member.email}) for _ in range(30)]
    unknown = post_form(client, "/forgotten-password", {"email": "nobody@example.org"})

    assert {a.status_code for a in answers} == {200}
    assert {STRIP.sub("", a.text) for a in answers} == {STRIP.sub("", unknown.text)}
    session.expire_all()
    sent = session.exec(select(OutboxEmail).where(OutboxEmail.kind == "reset")).all()
    assert len(sent) == 3


def test_resending_the_verification_link_is_limited_too(client, session):
    member = make_member(session, verified=False)
    log_in(client, member.email)

    answers = [post_form(client, "/verify/resend", {}, page="/profile") for _ in range(10)]

    assert {a.headers["location"] for a in answers} == {"/profile?notice=verification-sent"}
    session.expire_all()
    assert len(session.exec(select(OutboxEmail).where(OutboxEmail.kind == "verify")).all()) == 3
