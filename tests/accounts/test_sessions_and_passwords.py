"""Log-in, throttling, sessions, resets, password changes and access tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from backend.accounts import devices
from backend.accounts import service as accounts
from backend.accounts.models import LoginThrottle, UserSession
from backend.db import utcnow
from backend.errors import FieldErrors, Invalid, NotFound, RateLimited
from backend.notifications import service as notifications
from tests.factories import PASSWORD, make_member


def test_log_in_starts_a_session_and_log_out_ends_it(session):
    member = make_member(session, email="lee@example.org")

    signed_in, token = accounts.log_in(session=session, email="LEE@example.org", password=PASSWORD)
    assert signed_in.id == member.id
    record = accounts.session_for_token(session=session, token=token)
    assert record is not None and record.member_id == member.id

    accounts.log_out(session=session, token=token)

    assert accounts.session_for_token(session=session, token=token) is None


def test_sessions_store_only_a_hash_of_the_cookie_token(session):
    make_member(session, email="lee@example.org")
    _, token = accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)

    ids = session.exec(select(UserSession.id)).all()

    assert token not in ids
    assert accounts.token_hash(token) in ids


def test_wrong_password_and_unknown_account_get_the_same_answer(session):
    make_member(session, email="lee@example.org")

    with pytest.raises(Invalid) as wrong_password:
        accounts.log_in(session=session, email="lee@example.org", password="not the password!")
    with pytest.raises(Invalid) as unknown:
        accounts.log_in(session=session, email="nobody@example.org", password="not the password!")

    assert wrong_password.value.message == unknown.value.message
    assert wrong_password.value.field == unknown.value.field


def test_repeated_failures_throttle_the_account_not_just_the_address(session):
    make_member(session, email="lee@example.org")
    for _ in range(5):
        with pytest.raises(Invalid):
            accounts.log_in(session=session, email="lee@example.org", password="wrong password!!")

    # Even the right password waits now: the account is throttled, whoever asks.
    with pytest.raises(RateLimited) as raised:
        accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)
    assert raised.value.retry_after > 0
    assert "Try again in" in raised.value.message


def test_unknown_accounts_are_throttled_the_same_way(session):
    for _ in range(5):
        with pytest.raises(Invalid):
            accounts.log_in(session=session, email="ghost@example.org", password="wrong password!!")

    with pytest.raises(RateLimited):
        accounts.log_in(session=session, email="ghost@example.org", password="wrong password!!")


def test_back_off_ends_and_success_clears_the_count(session):
    make_member(session, email="lee@example.org")
    for _ in range(5):
        with pytest.raises(Invalid):
            accounts.log_in(session=session, email="lee@example.org", password="wrong password!!")
    throttle = session.get(LoginThrottle, "lee@example.org")
    throttle.blocked_until = utcnow() - timedelta(seconds=1)
    session.add(throttle)
    session.commit()

    accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)

    session.expire_all()
    assert session.get(LoginThrottle, "lee@example.org") is None


def test_old_argon2_parameters_are_rehashed_at_log_in(session):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    member = make_member(session, email="lee@example.org")
    member.password_hash = weak
    session.add(member)
    session.commit()

    accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)

    session.refresh(member)
    assert member.password_hash != weak
    assert "m=19456,t=2,p=1" in member.password_hash


def test_password_reset_by_emailed_link_ends_every_session(session, mail_dir):
    member = make_member(session, email="lee@example.org")
    _, old_token = accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)

    accounts.request_password_reset(session=session, email="Lee@Example.org")
    notifications.deliver_pending(session=session)
    [mail] = list(mail_dir.glob("*.eml"))
    token = mail.read_text().split("/reset-password?token=")[1].split()[0]
    accounts.reset_password(session=session, token=token, new_password="a brand new passphrase")

    assert accounts.session_for_token(session=session, token=old_token) is None
    signed_in, _ = accounts.log_in(
        session=session, email="lee@example.org", password="a brand new passphrase"
    )
    assert signed_in.id == member.id
    with pytest.raises(Invalid):
        accounts.reset_password(session=session, token=token, new_password="another passphrase!")


def test_reset_for_unknown_email_sends_nothing_and_says_nothing(session, mail_dir):
    accounts.request_password_reset(session=session, email="nobody@example.org")

    assert notifications.deliver_pending(session=session) == 0


def test_expired_reset_link_is_refused(session, mail_dir):
    make_member(session, email="lee@example.org")
    accounts.request_password_reset(session=session, email="lee@example.org")
    from backend.accounts.models import EmailToken

    for record in session.exec(select(EmailToken)).all():
        record.expires_at = utcnow() - timedelta(minutes=1)
        session.add(record)
    session.commit()
    notifications.deliver_pending(session=session)
    [mail] = list(mail_dir.glob("*.eml"))
    token = mail.read_text().split("/reset-password?token=")[1].split()[0]

    with pytest.raises(Invalid, match="expired"):
        accounts.reset_password(session=session, token=token, new_password="a brand new passphrase")


def test_change_password_rotates_the_session_and_ends_the_others(session):
    member = make_member(session, email="lee@example.org")
    _, here = accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)
    _, elsewhere = accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)

    new_token = accounts.change_password(
        session=session,
        member=member,
        current_password=PASSWORD,
        new_password="an even longer passphrase",
        current_token=here,
    )

    assert accounts.session_for_token(session=session, token=here) is None
    assert accounts.session_for_token(session=session, token=elsewhere) is None
    assert accounts.session_for_token(session=session, token=new_token).member_id == member.id


def test_change_password_needs_the_current_one(session):
    member = make_member(session, email="lee@example.org")

    with pytest.raises(FieldErrors) as raised:
        accounts.change_password(
            session=session,
            member=member,
            current_password="not my password",
            new_password="an even longer passphrase",
            current_token=None,
        )
    assert "current_password" in raised.value.errors


def test_access_tokens_authenticate_until_revoked(session):
    member = make_member(session)
    record, secret = accounts.create_access_token(session=session, member=member, name="Reports")

    assert secret.startswith("pbat_")
    assert accounts.member_for_access_token(session=session, secret=secret).id == member.id
    assert [t.name for t in accounts.list_access_tokens(session=session, member=member)] == [
        "Reports"
    ]

    accounts.revoke_access_token(session=session, member=member, token_id=record.id)

    assert accounts.member_for_access_token(session=session, secret=secret) is None


def test_a_member_cannot_revoke_another_members_token(session):
    owner = make_member(session)
    other = make_member(session)
    record, secret = accounts.create_access_token(session=session, member=owner, name="Reports")

    with pytest.raises(Exception, match="No such token"):
        accounts.revoke_access_token(session=session, member=other, token_id=record.id)
    assert accounts.member_for_access_token(session=session, secret=secret).id == owner.id


def test_purge_deletes_only_stale_sessions(session):
    member = make_member(session)
    now = utcnow()

    def started(member_id, **when):  # type: ignore[no-untyped-def]
        token = accounts.start_session(session=session, member_id=member_id)
        record = session.get(UserSession, accounts.token_hash(token))
        for name, value in when.items():
            setattr(record, name, value)
        session.add(record)
        session.commit()
        return record.id

    idle = accounts.idle_timeout()
    live = started(member.id)
    live_anonymous = started(None, last_seen_at=now - timedelta(hours=2))
    used_lately = started(member.id, last_seen_at=now - idle + timedelta(minutes=1))
    expired = started(member.id, expires_at=now - timedelta(seconds=1))
    revoked = started(member.id, revoked_at=now - timedelta(minutes=5))
    idle_anonymous = started(None, last_seen_at=now - timedelta(days=2))
    idle_signed_in = started(member.id, last_seen_at=now - idle - timedelta(minutes=1))

    purged = accounts.purge_stale_sessions(session=session, now=now)
    session.commit()

    assert purged == 4
    session.expire_all()
    left = {record.id for record in session.exec(select(UserSession)).all()}
    assert left == {live, live_anonymous, used_lately}
    assert not left & {expired, revoked, idle_anonymous, idle_signed_in}


def _seen(session, token, when):  # type: ignore[no-untyped-def]
    record = session.get(UserSession, accounts.token_hash(token))
    record.last_seen_at = when
    session.add(record)
    session.commit()


def _last_seen(session, token):  # type: ignore[no-untyped-def]
    session.expire_all()
    value = session.get(UserSession, accounts.token_hash(token)).last_seen_at
    session.rollback()
    return value


def test_touching_a_session_writes_at_most_once_a_minute(session, engine):
    member = make_member(session)
    token = accounts.start_session(session=session, member_id=member.id)
    session.commit()  # the sign-in request's unit of work ends here
    started = _last_seen(session, token)

    assert accounts.touch_session(engine=engine, token=token) is False  # just started
    assert _last_seen(session, token) == started

    _seen(session, token, utcnow() - timedelta(minutes=2))
    assert accounts.touch_session(engine=engine, token=token) is True
    touched = _last_seen(session, token)
    assert utcnow() - touched < timedelta(seconds=30)

    assert accounts.touch_session(engine=engine, token=token) is False  # within the minute
    assert _last_seen(session, token) == touched
    assert accounts.touch_session(engine=engine, token=None) is False
    assert accounts.touch_session(engine=engine, token="unknown") is False


def test_an_idle_session_ends_and_a_touch_cannot_revive_it(session, engine):
    member = make_member(session)
    token = accounts.start_session(session=session, member_id=member.id)
    gone = utcnow() - accounts.idle_timeout() - timedelta(seconds=5)
    _seen(session, token, gone)

    assert accounts.touch_session(engine=engine, token=token) is False
    assert _last_seen(session, token) == gone
    assert accounts.session_for_token(session=session, token=token) is None


def test_a_revoked_session_is_not_touched(session, engine):
    member = make_member(session)
    token = accounts.start_session(session=session, member_id=member.id)
    _seen(session, token, utcnow() - timedelta(minutes=5))
    before = _last_seen(session, token)
    accounts.revoke_session(session=session, token=token)
    session.commit()

    assert accounts.touch_session(engine=engine, token=token) is False
    assert _last_seen(session, token) == before


def test_the_periodic_pass_purges_stale_sessions(session, engine):
    from backend import jobs

    member = make_member(session)
    token = accounts.start_session(session=session, member_id=member.id)
    accounts.revoke_session(session=session, token=token)
    session.commit()

    done = jobs.run_once(engine)

    assert done["sessions_purged"] == 1
    session.expire_all()
    assert session.exec(select(UserSession)).all() == []


def test_a_touch_that_cannot_get_the_write_lock_lets_the_request_go_on(session, engine):
    import sqlite3

    from sqlalchemy import create_engine

    if engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    member = make_member(session)
    token = accounts.start_session(session=session, member_id=member.id)
    _seen(session, token, utcnow() - timedelta(minutes=5))
    impatient = create_engine(engine.url, connect_args={"timeout": 0.1})
    holder = sqlite3.connect(engine.url.database)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        assert accounts.touch_session(engine=impatient, token=token) is False
    finally:
        holder.rollback()
        holder.close()
        impatient.dispose()
    assert accounts.touch_session(engine=engine, token=token) is True


def _reset_link(session, mail_dir, email: str) -> str:  # type: ignore[no-untyped-def]
    accounts.request_password_reset(session=session, email=email)
    notifications.deliver_pending(session=session)
    [mail] = sorted(mail_dir.glob("*.eml"))[-1:]
    return mail.read_text().split("/reset-password?token=")[1].split()[0]


def test_password_reset_revokes_every_access_token_and_only_that_members(session, mail_dir):
    member = make_member(session, email="lee@example.org")
    other = make_member(session, email="sam@example.org")
    _, first = accounts.create_access_token(session=session, member=member, name="Reports")
    _, second = accounts.create_access_token(session=session, member=member, name="Sync")
    _, theirs = accounts.create_access_token(session=session, member=other, name="Theirs")

    token = _reset_link(session, mail_dir, "lee@example.org")
    accounts.reset_password(session=session, token=token, new_password="a brand new passphrase")

    assert accounts.member_for_access_token(session=session, secret=first) is None
    assert accounts.member_for_access_token(session=session, secret=second) is None
    assert accounts.member_for_access_token(session=session, secret=theirs).id == other.id
    listed = accounts.list_access_tokens(session=session, member=member)
    assert all(record.revoked_at is not None for record in listed) and len(listed) == 2


def test_change_password_revokes_every_access_token_but_keeps_this_session(session):
    member = make_member(session, email="lee@example.org")
    other = make_member(session, email="sam@example.org")
    _, here = accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)
    _, theirs_session = accounts.log_in(session=session, email="sam@example.org", password=PASSWORD)
    _, secret = accounts.create_access_token(session=session, member=member, name="Reports")
    _, theirs = accounts.create_access_token(session=session, member=other, name="Theirs")

    new_token = accounts.change_password(
        session=session,
        member=member,
        current_password=PASSWORD,
        new_password="an even longer passphrase",
        current_token=here,
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    )

    assert accounts.member_for_access_token(session=session, secret=secret) is None
    [kept] = accounts.list_sessions(session=session, member=member)
    assert devices.device_label(kept.user_agent) == "Firefox on Linux"  # the device stays named
    assert accounts.session_for_token(session=session, token=new_token).member_id == member.id
    assert accounts.member_for_access_token(session=session, secret=theirs).id == other.id
    assert accounts.session_for_token(session=session, token=theirs_session) is not None


def test_a_refused_password_change_revokes_nothing(session):
    member = make_member(session, email="lee@example.org")
    _, here = accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)
    _, secret = accounts.create_access_token(session=session, member=member, name="Reports")

    with pytest.raises(FieldErrors):
        accounts.change_password(
            session=session,
            member=member,
            current_password=PASSWORD,
            new_password="short",
            current_token=here,
        )

    assert accounts.member_for_access_token(session=session, secret=secret).id == member.id
    assert accounts.session_for_token(session=session, token=here) is not None


def test_a_member_lists_their_live_sessions_and_ends_one(session):
    member = make_member(session, email="lee@example.org")
    other = make_member(session, email="sam@example.org")
    _, phone = accounts.log_in(
        session=session,
        email="lee@example.org",
        password=PASSWORD,
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit Version/17.0 Safari/604.1",
    )
    _, desk = accounts.log_in(
        session=session,
        email="lee@example.org",
        password=PASSWORD,
        user_agent="Mozilla/5.0 (Windows NT 10.0; rv:120.0) Gecko/20100101 Firefox/120.0",
    )
    _, ended = accounts.log_in(session=session, email="lee@example.org", password=PASSWORD)
    accounts.log_out(session=session, token=ended)
    _, theirs = accounts.log_in(session=session, email="sam@example.org", password=PASSWORD)

    listed = accounts.list_sessions(session=session, member=member)

    assert {record.id for record in listed} == {
        accounts.token_hash(phone),
        accounts.token_hash(desk),
    }
    assert {devices.device_label(record.user_agent) for record in listed} == {
        "Safari on iPhone",
        "Firefox on Windows",
    }
    phone_record = accounts.session_for_token(session=session, token=phone)
    key = accounts.session_key(phone_record)
    assert phone not in key and phone_record.id not in key
    with pytest.raises(NotFound):  # someone else's session is not theirs to end
        accounts.end_session(session=session, member=other, key=key)
    theirs_key = accounts.session_key(accounts.session_for_token(session=session, token=theirs))
    with pytest.raises(NotFound):
        accounts.end_session(session=session, member=member, key=theirs_key)

    accounts.end_session(session=session, member=member, key=key)

    assert accounts.session_for_token(session=session, token=phone) is None
    assert accounts.session_for_token(session=session, token=desk) is not None
    assert accounts.session_for_token(session=session, token=theirs) is not None
    with pytest.raises(NotFound):
        accounts.end_session(session=session, member=member, key=key)


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0) AppleWebKit Chrome/120.0 Safari/537.36 Edg/120.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit Chrome/120.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit Chrome/120.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("python-httpx/0.27", "A program using the API"),
        ("", "Unknown device"),
    ],
)
def test_device_labels(agent, label):
    assert devices.device_label(agent) == label
