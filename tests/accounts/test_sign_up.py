"""Signing up: a new member gets an account, a hashed password and a verification email."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.accounts import service as accounts
from backend.errors import FieldErrors
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.notifications.models import OutboxEmail


def sign_up_data(**overrides: object) -> accounts.SignUp:
    data = {
        "email": "Asha.Patel@Example.NHS.uk",
        "password": "a long memorable passphrase",
        "name": "Asha Patel",
        "organisation": "  Leeds Teaching   Hospitals NHS Trust ",
        "region": "North East and Yorkshire",
        "role_family": "administration",
        "band": "4",
        "profession": "non-clinical",
    }
    data.update(overrides)
    return accounts.SignUp(**data)  # type: ignore[arg-type]


def test_sign_up_creates_member_with_argon2id_hash_and_queues_verification(session):
    member = accounts.sign_up(session=session, data=sign_up_data())

    assert member.email == "asha.patel@example.nhs.uk"
    assert member.password_hash.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in member.password_hash
    assert not member.is_verified
    emails = session.exec(select(OutboxEmail)).all()
    assert [e.to_address for e in emails] == ["asha.patel@example.nhs.uk"]
    assert "/verify?token=" in emails[0].body_text


def test_signing_up_again_creates_nothing_and_emails_the_owner_what_happened(session):
    first = accounts.sign_up(session=session, data=sign_up_data())
    password_hash = first.password_hash

    again = accounts.sign_up(
        session=session,
        data=sign_up_data(email="ASHA.PATEL@example.nhs.uk", password="another fine passphrase"),
    )

    assert again is None  # callers answer exactly as for a new account
    [member] = session.exec(select(Member)).all()
    assert member.password_hash == password_hash  # the account is untouched
    emails = session.exec(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [e.to_address for e in emails] == ["asha.patel@example.nhs.uk"] * 2
    attempt = emails[1]
    assert attempt.subject == accounts.ALREADY_JOINED_SUBJECT
    assert "Someone tried to create a peerbridge account with your email address" in (
        attempt.body_text
    )
    assert "/login" in attempt.body_text and "/forgotten-password" in attempt.body_text
    assert "?token=" not in attempt.body_text  # no link that does anything


def test_every_bad_field_is_named_and_nothing_is_written(session):
    with pytest.raises(FieldErrors) as raised:
        accounts.sign_up(
            session=session,
            data=sign_up_data(
                email="not-an-email", password="password1234", band="10", region="Wales"
            ),
        )

    assert set(raised.value.errors) == {"email", "password", "band", "region"}
    assert "too common" in raised.value.errors["password"]
    assert session.exec(select(Member)).all() == []
    assert session.exec(select(OutboxEmail)).all() == []


def test_short_password_is_refused(session):
    with pytest.raises(FieldErrors) as raised:
        accounts.sign_up(session=session, data=sign_up_data(password="short"))
    assert "at least 12 characters" in raised.value.errors["password"]


def test_verification_link_from_the_mail_file_verifies_once(session, mail_dir):
    accounts.sign_up(session=session, data=sign_up_data())
    assert notifications.deliver_pending(session=session) == 1
    [mail] = list(mail_dir.glob("*.eml"))
    token = mail.read_text().split("/verify?token=")[1].split()[0]

    member = accounts.verify_email(session=session, token=token)

    assert member.is_verified
    with pytest.raises(Exception, match="not valid or has expired"):
        accounts.verify_email(session=session, token=token)
