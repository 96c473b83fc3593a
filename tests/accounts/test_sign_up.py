"""Signing up: a new member gets an account, a hashed password and a verification email."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.accounts import service as accounts
from backend.errors import Conflict, FieldErrors
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


def test_duplicate_email_differing_in_case_is_refused(session):
    accounts.sign_up(session=session, data=sign_up_data())

    with pytest.raises(Conflict) as raised:
        accounts.sign_up(session=session, data=sign_up_data(email="ASHA.PATEL@example.nhs.uk"))

    assert raised.value.field == "email"
    assert len(session.exec(select(Member)).all()) == 1


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
