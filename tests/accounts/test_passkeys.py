"""Passkey challenges in the service layer: made here, bound to the session that asked, used
once, short-lived (on each database). Whole ceremonies run in Chromium: tests/browser."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select
from webauthn.helpers import bytes_to_base64url

from backend.accounts import passkeys
from backend.accounts import service as accounts
from backend.accounts.factor_models import WebauthnChallenge
from backend.db import utcnow
from backend.errors import Conflict, Invalid
from backend.settings import get_settings
from tests.factories import make_member

USED_OR_EXPIRED = "That passkey request has expired or was used already. Try again."


def _signed_in(session, member):  # type: ignore[no-untyped-def]
    token = accounts.start_session(session=session, member_id=member.id)
    return accounts.session_for_token(session=session, token=token)


def _answer(options_json: str, challenge: str | None = None, *, get: bool = False) -> str:
    """A browser's answer carrying the options' challenge, with a bogus attestation (or, for
    ``get``, a bogus signature)."""
    options = json.loads(options_json)
    client_data = {
        "type": "webauthn.get" if get else "webauthn.create",
        "challenge": challenge or options["challenge"],
        "origin": "http://testserver",
    }
    bogus = bytes_to_base64url(b"not a real one")
    response = {"clientDataJSON": bytes_to_base64url(json.dumps(client_data).encode())}
    if get:
        response |= {"authenticatorData": bogus, "signature": bogus, "userHandle": bogus}
    else:
        response |= {"attestationObject": bogus}
    return json.dumps({"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": response})


def _register(session, member, record, answer: str):  # type: ignore[no-untyped-def]
    return passkeys.register(
        session=session, member=member, record=record, name="Laptop", credential_json=answer
    )


def test_the_relying_party_comes_from_the_base_url_by_default():
    settings = get_settings()
    assert settings.webauthn_rp_id is None
    assert passkeys.relying_party() == ("testserver", "http://testserver")


def test_registration_options_name_the_relying_party_and_store_the_challenge(session):
    member = make_member(session)
    record = _signed_in(session, member)
    options = json.loads(
        passkeys.registration_options(session=session, member=member, record=record)
    )
    assert options["rp"] == {"id": "testserver", "name": "peerbridge"}
    assert options["user"]["name"] == member.email
    assert str(member.id) not in options["user"]["id"]
    stored = session.exec(select(WebauthnChallenge)).one()
    assert stored.challenge == options["challenge"] and stored.session_id == record.id


def test_a_challenge_is_used_once(session):
    member = make_member(session)
    record = _signed_in(session, member)
    answer = _answer(passkeys.registration_options(session=session, member=member, record=record))
    with pytest.raises(Invalid) as first:
        _register(session, member, record, answer)  # the challenge is right; the key is not
    assert first.value.message == passkeys.NOT_ACCEPTED
    with pytest.raises(Invalid) as second:
        _register(session, member, record, answer)
    assert second.value.message == USED_OR_EXPIRED


def test_a_challenge_belongs_to_the_session_that_asked(session):
    member = make_member(session)
    record = _signed_in(session, member)
    elsewhere = _signed_in(session, member)
    answer = _answer(passkeys.registration_options(session=session, member=member, record=record))
    with pytest.raises(Invalid) as error:
        _register(session, member, elsewhere, answer)
    assert error.value.message == USED_OR_EXPIRED


def test_a_challenge_expires(session):
    member = make_member(session)
    record = _signed_in(session, member)
    answer = _answer(passkeys.registration_options(session=session, member=member, record=record))
    session.exec(update(WebauthnChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(Invalid) as error:
        _register(session, member, record, answer)
    assert error.value.message == USED_OR_EXPIRED


def test_a_made_up_challenge_is_refused(session):
    member = make_member(session)
    record = _signed_in(session, member)
    passkeys.registration_options(session=session, member=member, record=record)
    answer = _answer("{}", challenge=bytes_to_base64url(b"0" * 32))
    with pytest.raises(Invalid) as error:
        _register(session, member, record, answer)
    assert error.value.message == USED_OR_EXPIRED


def test_a_passkey_needs_a_name_and_a_credential(session):
    member = make_member(session)
    record = _signed_in(session, member)
    with pytest.raises(Invalid) as unnamed:
        passkeys.register(
            session=session, member=member, record=record, name=" ", credential_json="{}"
        )
    assert unnamed.value.field == "name"
    with pytest.raises(Invalid) as empty:
        passkeys.register(
            session=session, member=member, record=record, name="Key", credential_json=""
        )
    assert empty.value.field == "credential"


def test_signing_in_with_a_passkey_needs_one(session):
    member = make_member(session)
    record = _signed_in(session, member)
    with pytest.raises(Conflict):
        passkeys.authentication_options(session=session, member=member, record=record)


def test_a_passwordless_challenge_belongs_to_the_browser_that_asked(session):
    options = passkeys.passwordless_options(session=session, seed="browser-one-seed")
    assert json.loads(options)["userVerification"] == "required"
    answer = _answer(options, get=True)
    with pytest.raises(Invalid) as elsewhere:
        passkeys.passwordless_sign_in(
            session=session, seed="browser-two-seed", credential_json=answer
        )
    assert elsewhere.value.message == USED_OR_EXPIRED
    with pytest.raises(Invalid) as unknown:  # the right browser, but no such passkey
        passkeys.passwordless_sign_in(
            session=session, seed="browser-one-seed", credential_json=answer
        )
    assert unknown.value.message == passkeys.NOT_ACCEPTED
