"""Second factors in the service layer: TOTP set-up and codes, recovery codes, the pending
sign-in, the staff policy and step-up (on each database)."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from backend.accounts import service as accounts
from backend.accounts import two_factor
from backend.accounts.factor_models import RecoveryCode, TotpCredential
from backend.accounts.models import UserSession
from backend.db import utcnow
from backend.errors import Conflict, FieldErrors, Forbidden, Invalid, NotAuthenticated, RateLimited
from backend.members import service as member_service
from backend.members.models import Member
from backend.privacy import service as privacy
from backend.settings import get_settings
from tests.factories import PASSWORD, make_access_token, make_member, make_organiser


def code_at(secret: str, steps_from_now: int = 0) -> str:
    """The code an authenticator app shows ``steps_from_now`` 30-second steps from now."""
    return pyotp.TOTP(secret).generate_otp(int(time.time()) // 30 + steps_from_now)


def with_totp(session, member) -> str:  # type: ignore[no-untyped-def]
    """Turn the member's authenticator app on; its secret (the first code is used up)."""
    setup = two_factor.start_totp_setup(session=session, member=member)
    two_factor.confirm_totp_setup(session=session, member=member, code=code_at(setup.secret, -1))
    session.commit()
    return setup.secret


@pytest.fixture
def settings_env(monkeypatch):  # type: ignore[no-untyped-def]
    def set_env(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"PEERBRIDGE_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield set_env
    monkeypatch.undo()
    get_settings.cache_clear()


# Set-up -----------------------------------------------------------------------------------


def test_totp_is_on_only_after_a_right_code(session):
    member = make_member(session)
    setup = two_factor.start_totp_setup(session=session, member=member)
    assert "otpauth://totp/peerbridge:" in setup.uri
    assert setup.qr_svg.startswith("<svg")
    assert not two_factor.needed(session=session, member=member)
    with pytest.raises(Invalid) as wrong:
        two_factor.confirm_totp_setup(session=session, member=member, code="000000")
    assert wrong.value.field == "code"
    assert not two_factor.needed(session=session, member=member)
    codes = two_factor.confirm_totp_setup(
        session=session, member=member, code=code_at(setup.secret)
    )
    assert two_factor.needed(session=session, member=member)
    assert len(codes) == 10 and len(set(codes)) == 10
    # The secret is stored encrypted, never in the clear, and never handed out again.
    row = session.get(TotpCredential, member.id)
    assert setup.secret not in row.secret_encrypted
    assert two_factor.totp_setup_in_progress(session=session, member=member) is None
    with pytest.raises(Conflict):
        two_factor.start_totp_setup(session=session, member=member)


def test_recovery_codes_are_stored_only_as_hashes(session):
    member = make_member(session)
    setup = two_factor.start_totp_setup(session=session, member=member)
    codes = two_factor.confirm_totp_setup(
        session=session, member=member, code=code_at(setup.secret)
    )
    stored = session.exec(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored


# Codes ------------------------------------------------------------------------------------


def test_wrong_code_is_refused(session):
    member = make_member(session)
    secret = with_totp(session, member)
    wrong = f"{(int(code_at(secret)) + 1) % 1_000_000:06d}"
    with pytest.raises(Invalid) as error:
        two_factor.check_code(session=session, member=member, code=wrong)
    assert error.value.field == "code"


def test_a_code_is_good_once(session):
    member = make_member(session)
    secret = with_totp(session, member)
    code = code_at(secret, 1)
    assert two_factor.check_code(session=session, member=member, code=code) == "totp"
    with pytest.raises(Invalid):
        two_factor.check_code(session=session, member=member, code=code)
    # An older step's code cannot come after a newer one either.
    with pytest.raises(Invalid):
        two_factor.check_code(session=session, member=member, code=code_at(secret, 0))


def test_codes_one_step_either_side_are_accepted_and_no_further(session):
    member = make_member(session)
    setup = two_factor.start_totp_setup(session=session, member=member)
    two_factor.confirm_totp_setup(session=session, member=member, code=code_at(setup.secret, -1))
    # -1 was used at set-up; 0 and +1 are still good, once each.
    assert two_factor.check_code(session=session, member=member, code=code_at(setup.secret, 0))
    assert two_factor.check_code(session=session, member=member, code=code_at(setup.secret, 1))
    with pytest.raises(Invalid):
        two_factor.check_code(session=session, member=member, code=code_at(setup.secret, 2))


def test_a_code_from_three_steps_ago_is_refused(session):
    member = make_member(session)
    setup = two_factor.start_totp_setup(session=session, member=member)
    with pytest.raises(Invalid):
        two_factor.confirm_totp_setup(
            session=session, member=member, code=code_at(setup.secret, -3)
        )


def test_a_recovery_code_works_once(session):
    member = make_member(session)
    setup = two_factor.start_totp_setup(session=session, member=member)
    codes = two_factor.confirm_totp_setup(
        session=session, member=member, code=code_at(setup.secret)
    )
    assert (
        two_factor.check_code(session=session, member=member, code=codes[0].upper()) == "recovery"
    )
    assert two_factor.recovery_codes_left(session=session, member=member) == 9
    with pytest.raises(Invalid):
        two_factor.check_code(session=session, member=member, code=codes[0])
    # Another member's code does nothing here.
    other = make_member(session)
    other_setup = two_factor.start_totp_setup(session=session, member=other)
    other_codes = two_factor.confirm_totp_setup(
        session=session, member=other, code=code_at(other_setup.secret)
    )
    with pytest.raises(Invalid):
        two_factor.check_code(session=session, member=member, code=other_codes[0])


def test_regenerating_recovery_codes_invalidates_the_old_set(session):
    member = make_member(session)
    setup = two_factor.start_totp_setup(session=session, member=member)
    old = two_factor.confirm_totp_setup(session=session, member=member, code=code_at(setup.secret))
    new = two_factor.regenerate_recovery_codes(session=session, member=member)
    assert not set(old) & set(new)
    for code in old[:3]:
        with pytest.raises(Invalid):
            two_factor.check_code(session=session, member=member, code=code)
    assert two_factor.check_code(session=session, member=member, code=new[0]) == "recovery"


def test_wrong_codes_back_off(session, settings_env):
    settings_env(login_failures_before_backoff=2)
    member = make_member(session)
    secret = with_totp(session, member)
    for _ in range(2):
        with pytest.raises(Invalid):
            two_factor.check_code(session=session, member=member, code="123456-bad")
        session.commit()
    with pytest.raises(RateLimited):
        two_factor.check_code(session=session, member=member, code=code_at(secret, 1))


def test_turning_totp_off_needs_the_password_and_removes_the_codes(session):
    member = make_member(session)
    with_totp(session, member)
    with pytest.raises(FieldErrors):
        two_factor.disable_totp(session=session, member=member, password="not it at all")
    two_factor.disable_totp(session=session, member=member, password=PASSWORD)
    assert not two_factor.needed(session=session, member=member)
    assert two_factor.recovery_codes_left(session=session, member=member) == 0


# The pending sign-in ----------------------------------------------------------------------


def test_password_alone_gives_a_pending_session_that_signs_nobody_in(session):
    member = make_member(session)
    secret = with_totp(session, member)
    _member, token = accounts.log_in(session=session, email=member.email, password=PASSWORD)
    record = accounts.session_for_token(session=session, token=token)
    assert record is not None and record.pending_until is not None
    assert accounts.member_for_session(session=session, record=record) is None
    assert accounts.list_sessions(session=session, member=member) == []
    signed_in, full = two_factor.complete_sign_in(
        session=session, token=token, code=code_at(secret, 1)
    )
    assert signed_in.id == member.id
    full_record = accounts.session_for_token(session=session, token=full)
    assert accounts.member_for_session(session=session, record=full_record).id == member.id
    assert full_record.second_factor_at is not None
    # The pending session is over, and cannot be completed twice.
    assert two_factor.pending_session(session=session, token=token) is None
    with pytest.raises(NotAuthenticated):
        two_factor.complete_sign_in(session=session, token=token, code=code_at(secret, 1))


def test_without_a_second_factor_log_in_is_as_before(session):
    member = make_member(session)
    _member, token = accounts.log_in(session=session, email=member.email, password=PASSWORD)
    record = accounts.session_for_token(session=session, token=token)
    assert accounts.member_for_session(session=session, record=record).id == member.id


def test_a_pending_sign_in_expires(session):
    member = make_member(session)
    secret = with_totp(session, member)
    _member, token = accounts.log_in(session=session, email=member.email, password=PASSWORD)
    session.exec(
        update(UserSession)
        .where(col(UserSession.id) == accounts.token_hash(token))
        .values(pending_until=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    with pytest.raises(NotAuthenticated):
        two_factor.complete_sign_in(session=session, token=token, code=code_at(secret, 1))
    assert accounts.session_for_token(session=session, token=token) is None
    assert accounts.purge_stale_sessions(session=session) == 1


def test_turning_totp_on_ends_other_sessions(session):
    member = make_member(session)
    other = accounts.start_session(session=session, member_id=member.id)
    here = accounts.start_session(session=session, member_id=member.id)
    setup = two_factor.start_totp_setup(session=session, member=member)
    two_factor.confirm_totp_setup(
        session=session, member=member, code=code_at(setup.secret), keep_token=here
    )
    assert accounts.session_for_token(session=session, token=other) is None
    kept = accounts.session_for_token(session=session, token=here)
    assert kept is not None and two_factor.fresh_step_up(kept)


def test_turning_a_second_factor_on_revokes_access_tokens_made_without_it(session):
    member = make_member(session)
    someone_else = make_member(session)
    token, _ = make_access_token(session, member=member)
    theirs, _ = make_access_token(session, member=someone_else)
    here = accounts.start_session(session=session, member_id=member.id)
    setup = two_factor.start_totp_setup(session=session, member=member)
    two_factor.confirm_totp_setup(
        session=session, member=member, code=code_at(setup.secret), keep_token=here
    )
    session.refresh(token)
    session.refresh(theirs)
    assert token.revoked_at is not None
    assert theirs.revoked_at is None


# Staff policy -----------------------------------------------------------------------------


def test_staff_without_a_second_factor_are_stopped_when_the_policy_is_on(session, settings_env):
    organiser = make_organiser(session)
    assert member_service.require_organiser(session=session, member=organiser)  # policy off
    settings_env(require_second_factor_for_staff="true")
    with pytest.raises(two_factor.SecondFactorRequired):
        member_service.require_organiser(session=session, member=organiser)
    assert not member_service.has_role(session=session, member=organiser, role="organiser")
    with_totp(session, organiser)
    assert member_service.require_organiser(session=session, member=organiser).id == organiser.id
    assert member_service.has_role(session=session, member=organiser, role="organiser")


def test_the_policy_is_on_by_default_in_production_only(settings_env):
    settings_env(environment="production", secret_key="x" * 40)
    assert get_settings().second_factor_required_for_staff
    settings_env(environment="development")
    assert not get_settings().second_factor_required_for_staff


# Step-up ----------------------------------------------------------------------------------


def test_erasure_needs_a_fresh_second_factor_when_the_member_has_one(session):
    member = make_member(session)
    secret = with_totp(session, member)
    token = accounts.start_session(session=session, member_id=member.id)
    record = accounts.session_for_token(session=session, token=token)
    with pytest.raises(FieldErrors) as stale:
        privacy.erase_my_account(
            session=session, member=member, password=PASSWORD, confirm=True, current=record
        )
    assert "second_factor" in stale.value.errors
    two_factor.step_up(session=session, member=member, token=token, code=code_at(secret, 1))
    privacy.erase_my_account(
        session=session, member=member, password="", confirm=True, current=record
    )


def test_a_step_up_goes_stale(session, settings_env):
    settings_env(step_up_minutes=10)
    member = make_member(session)
    with_totp(session, member)
    token = accounts.start_session(session=session, member_id=member.id, second_factor=True)
    record = accounts.session_for_token(session=session, token=token)
    assert two_factor.fresh_step_up(record)
    record.second_factor_at = utcnow() - timedelta(minutes=11)
    assert not two_factor.fresh_step_up(record)


def test_erasure_without_a_second_factor_still_needs_the_password(session):
    member = make_member(session)
    with pytest.raises(FieldErrors) as error:
        privacy.erase_my_account(session=session, member=member, password="nope", confirm=True)
    assert "password" in error.value.errors


def test_an_account_without_a_password_steps_up_by_signing_in_again(session, settings_env):
    # Accounts made by single sign-on have no password: a sign-in within the window is the proof.
    settings_env(step_up_minutes=10)
    member = make_member(session, password=None)
    token = accounts.start_session(session=session, member_id=member.id)
    record = accounts.session_for_token(session=session, token=token)
    assert record is not None
    record.created_at = utcnow() - timedelta(minutes=11)
    with pytest.raises(FieldErrors) as stale:
        privacy.erase_my_account(
            session=session, member=member, password="", confirm=True, current=record
        )
    assert stale.value.errors["password"] == two_factor.SIGN_IN_AGAIN
    assert two_factor.step_up_problems(
        session=session, member=member, record=None, password=""
    ) == {"password": two_factor.SIGN_IN_AGAIN}
    record.created_at = utcnow()
    privacy.erase_my_account(
        session=session, member=member, password="", confirm=True, current=record
    )
    assert session.get(Member, member.id) is None


def test_one_step_up_window_for_a_second_factor_and_a_fresh_sign_in(session, settings_env):
    # Both proofs of "it is you, just now" are measured by the one helper, against one setting.
    settings_env(step_up_minutes=10)
    assert two_factor._within_step_up(utcnow() - timedelta(minutes=9))
    assert not two_factor._within_step_up(utcnow() - timedelta(minutes=11))
    assert not two_factor._within_step_up(None)
    with_factor = make_member(session)
    with_totp(session, with_factor)
    without_password = make_member(session, password=None)
    factor_record = accounts.session_for_token(
        session=session,
        token=accounts.start_session(session=session, member_id=with_factor.id, second_factor=True),
    )
    sso_record = accounts.session_for_token(
        session=session,
        token=accounts.start_session(session=session, member_id=without_password.id),
    )
    for minutes, fresh in ((9, True), (11, False)):
        factor_record.second_factor_at = utcnow() - timedelta(minutes=minutes)
        sso_record.created_at = utcnow() - timedelta(minutes=minutes)
        factor = two_factor.step_up_problems(
            session=session, member=with_factor, record=factor_record, password=""
        )
        sso = two_factor.step_up_problems(
            session=session, member=without_password, record=sso_record, password=""
        )
        assert (factor == {}, sso == {}) == (fresh, fresh)
    settings_env(step_up_minutes=30)  # the one setting moves both
    assert (
        two_factor.step_up_problems(
            session=session, member=with_factor, record=factor_record, password=""
        )
        == {}
    )
    assert (
        two_factor.step_up_problems(
            session=session, member=without_password, record=sso_record, password=""
        )
        == {}
    )


def change_role(session, admin, member, *, current=None, granted=True, password=PASSWORD):  # type: ignore[no-untyped-def]
    """``admin`` gives (or takes away) ``member``'s organiser role."""
    return member_service.change_role(
        session=session,
        admin=admin,
        current=current,
        member_id=member.id,
        role="organiser",
        granted=granted,
        password=password,
    )


def test_a_role_change_needs_a_fresh_second_factor_when_the_admin_has_one(session):
    admin = make_member(session, roles=("admin",))
    member = make_member(session)
    secret = with_totp(session, admin)
    token = accounts.start_session(session=session, member_id=admin.id)
    record = accounts.session_for_token(session=session, token=token)
    # The password is not enough once the admin has a second factor.
    with pytest.raises(FieldErrors) as stale:
        change_role(session, admin, member, current=record)
    assert stale.value.errors == {"second_factor": two_factor.STEP_UP_NEEDED}
    assert member_service.roles_of(session=session, member_id=member.id) == ["member"]
    two_factor.step_up(session=session, member=admin, token=token, code=code_at(secret, 1))
    assert change_role(session, admin, member, current=record) == ["member", "organiser"]


def test_a_role_change_without_a_second_factor_needs_the_password(session):
    admin = make_member(session, roles=("admin",))
    member = make_member(session, roles=("organiser",))
    with pytest.raises(FieldErrors) as wrong:
        change_role(session, admin, member, granted=False, password="not the password")
    assert "password" in wrong.value.errors
    assert change_role(session, admin, member, granted=False) == ["member"]


def test_only_admins_change_roles(session):
    organiser = make_organiser(session)
    member = make_member(session)
    with pytest.raises(Forbidden):
        change_role(session, organiser, member)


def test_changes_to_second_factors_are_in_the_audit_log(session):
    from backend.audit.models import AuditEvent

    member = make_member(session)
    here = accounts.start_session(session=session, member_id=member.id)
    setup = two_factor.start_totp_setup(session=session, member=member)
    two_factor.confirm_totp_setup(
        session=session, member=member, code=code_at(setup.secret), keep_token=here
    )
    two_factor.regenerate_recovery_codes(session=session, member=member)
    two_factor.disable_totp(session=session, member=member, password=PASSWORD)

    events = session.exec(
        select(AuditEvent).where(AuditEvent.subject_id == member.id).order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_id, e.action) for e in events] == [
        (member.id, "two_factor.enabled"),
        (member.id, "recovery_codes.generated"),  # the first set, made with the factor
        (member.id, "recovery_codes.generated"),
        (member.id, "two_factor.disabled"),
    ]


def test_an_empty_password_at_step_up_asks_for_it_rather_than_calling_it_wrong(session):
    member = make_member(session)

    empty = two_factor.step_up_problems(session=session, member=member, record=None, password="")
    wrong = two_factor.step_up_problems(
        session=session, member=member, record=None, password="not it"
    )
    right = two_factor.step_up_problems(
        session=session, member=member, record=None, password=PASSWORD
    )

    assert empty == {"password": "Enter your password"}
    assert wrong == {"password": "Your password is not right."}
    assert right == {}
