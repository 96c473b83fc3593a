"""The admin console's services: finding members, the account summary, suspending and
reactivating with a reason code, resending the invitation, all admins-only and audited."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from backend.accounts import service as accounts
from backend.accounts.models import AccessToken, UserSession
from backend.audit import actions as a
from backend.errors import Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from backend.members import console
from backend.members.models import Member, MentoringOffer
from backend.mentoring.models import MentorRequest, Mentorship
from backend.notifications.models import Notification, OutboxEmail
from backend.rounds.models import MatchProposal
from tests.factories import (
    PASSWORD,
    audit_events,
    make_access_token,
    make_member,
    make_mentee,
    make_mentor,
    make_mentorship,
    make_organiser,
    make_proposal,
    make_request,
)


@pytest.fixture
def admin(session):  # type: ignore[no-untyped-def]
    return make_member(session, name="Ada Admin", email="ada@example.nhs.uk", roles=("admin",))


def test_only_admins_use_the_console(session, admin):  # type: ignore[no-untyped-def]
    organiser = make_organiser(session)
    member = make_member(session)
    wanted = console.MemberFilter()
    with pytest.raises(NotAuthenticated):
        console.find_members(session=session, admin=None, wanted=wanted)
    for somebody in (organiser, member):
        with pytest.raises(Forbidden, match="Only admins"):
            console.find_members(session=session, admin=somebody, wanted=wanted)
        with pytest.raises(Forbidden):
            console.account_summary(session=session, admin=somebody, member_id=member.id)
        with pytest.raises(Forbidden):
            console.suspend(session=session, admin=somebody, member_id=member.id, reason="conduct")
        with pytest.raises(Forbidden):
            console.reactivate(
                session=session, admin=somebody, member_id=member.id, reason="returned"
            )
        with pytest.raises(Forbidden):
            console.resend_invitation(session=session, admin=somebody, member_id=member.id)
    assert member.is_active
    rows, _ = console.find_members(session=session, admin=admin, wanted=wanted)
    assert member.id in [r.member.id for r in rows]


def test_find_members_by_fragment_role_status_and_confirmed(session, admin):  # type: ignore[no-untyped-def]
    rota = make_member(session, name="Rota Planner", email="rp@leeds.nhs.uk")
    organiser = make_organiser(session, name="Olu Organiser", email="olu@york.nhs.uk")
    unconfirmed = make_member(session, name="Una Unconfirmed", verified=False)
    gone = make_member(session, name="Sam Suspended", is_active=False)
    percent = make_member(session, name="100% Sure")

    def names(**wanted: str) -> list[str]:
        rows, _ = console.find_members(
            session=session, admin=admin, wanted=console.parse_filter(**wanted)
        )
        return [r.member.name for r in rows]

    assert names(text="ROTA") == [rota.name]
    assert names(text="@york.nhs") == [organiser.name]
    assert names(text="%") == [percent.name]  # a wildcard matches only itself
    assert names(role="organiser") == [organiser.name]
    assert names(role="admin") == [admin.name]
    assert organiser.name not in names(role="member") and rota.name in names(role="member")
    assert names(status="suspended") == [gone.name]
    assert gone.name not in names(status="active")
    assert names(confirmed="no") == [unconfirmed.name]
    with pytest.raises(Invalid) as error:
        console.parse_filter(role="boss")
    assert error.value.field == "role"
    with pytest.raises(Invalid) as error:
        console.parse_filter(text="x" * 101)
    assert error.value.field == "text"


def test_members_come_fifty_a_page(session, admin):  # type: ignore[no-untyped-def]
    for number in range(55):
        make_member(session, name=f"Paged {number:02d}")
    wanted = console.parse_filter(text="Paged")
    first, more = console.find_members(session=session, admin=admin, wanted=wanted)
    assert len(first) == 50 and more
    second, more = console.find_members(
        session=session, admin=admin, wanted=wanted, after=first[-1].member.id
    )
    assert [r.member.name for r in second] == [f"Paged {n}" for n in range(50, 55)]
    assert not more
    back, more = console.find_members(
        session=session, admin=admin, wanted=wanted, before=second[0].member.id
    )
    assert [r.member.id for r in back] == [r.member.id for r in first] and not more
    _, more = console.find_members(session=session, admin=admin, wanted=wanted, limit=500)
    assert more  # never more than 50 at once


def test_a_page_boundary_among_members_of_one_name_is_exact(session, admin):  # type: ignore[no-untyped-def]
    # Seven members share a name (in two cases), so only the id orders them: pages of three
    # neither skip nor repeat one, forwards or back, even when rows come and go meanwhile.
    twins = [make_member(session, name="Sam Smith" if n % 2 else "SAM SMITH") for n in range(7)]
    smithson = make_member(session, name="Sam Smithson")
    wanted = console.parse_filter(text="sam smith")
    ids = sorted(t.id for t in twins)

    def page(**cursor: int) -> tuple[list[int], bool]:
        rows, more = console.find_members(
            session=session, admin=admin, wanted=wanted, limit=3, **cursor
        )
        return [r.member.id for r in rows], more

    one, more = page()
    assert one == ids[:3] and more
    # A member added ahead of the page meanwhile shifts nothing (an offset would repeat one).
    ahead = make_member(session, name="Aaron Sam Smith")
    two, more = page(after=one[-1])
    assert two == ids[3:6] and more
    assert page(after=two[-1]) == ([ids[6], smithson.id], False)
    assert page(before=two[0]) == (ids[:3], True)  # and "Aaron" before them
    assert page(before=one[0]) == ([ahead.id], False)
    with pytest.raises(Invalid) as stale:
        page(after=2**31 - 1)
    assert stale.value.field == "after"
    with pytest.raises(Invalid):
        page(after=one[0], before=two[0])


def test_the_account_summary(session, admin):  # type: ignore[no-untyped-def]
    member = make_member(session, name="Sue Summary", roles=("organiser",))
    summary = console.account_summary(session=session, admin=admin, member_id=member.id)
    assert summary.roles == ["member", "organiser"]
    assert summary.last_sign_in is None and not summary.second_factor and not summary.invited
    assert summary.organisation
    accounts.start_session(session=session, member_id=member.id)
    session.flush()
    summary = console.account_summary(session=session, admin=admin, member_id=member.id)
    assert summary.last_sign_in is not None
    with pytest.raises(NotFound):
        console.account_summary(session=session, admin=admin, member_id=2**40)


def test_suspending_ends_every_session_and_token_and_is_audited(session, admin):  # type: ignore[no-untyped-def]
    member = make_member(session, email="sus@example.nhs.uk")
    token = accounts.start_session(session=session, member_id=member.id)
    _, secret = make_access_token(session, member=member)
    with pytest.raises(Invalid) as error:
        console.suspend(session=session, admin=admin, member_id=member.id, reason="he was rude")
    assert error.value.field == "reason" and member.is_active

    console.suspend(session=session, admin=admin, member_id=member.id, reason="conduct")
    session.commit()
    assert (
        accounts.member_for_session(
            session=session, record=accounts.session_for_token(session=session, token=token)
        )
        is None
    )
    assert accounts.member_for_access_token(session=session, secret=secret) is None
    assert all(
        r.revoked_at is not None
        for r in session.exec(select(UserSession).where(UserSession.member_id == member.id))
    )
    assert all(
        t.revoked_at is not None
        for t in session.exec(select(AccessToken).where(AccessToken.member_id == member.id))
    )
    with pytest.raises(Invalid) as refused:
        accounts.log_in(session=session, email="sus@example.nhs.uk", password=PASSWORD)
    assert refused.value.message == accounts.LOGIN_FAILED
    [event] = audit_events(session, a.MEMBER_SUSPENDED)
    assert (event.actor_id, event.subject_type, event.subject_id) == (admin.id, "member", member.id)
    details = json.loads(event.details)
    assert details["reason"] == "conduct" and details["sessions_ended"] == 1
    assert details["tokens_revoked"] == 1
    with pytest.raises(Conflict, match="already suspended"):
        console.suspend(session=session, admin=admin, member_id=member.id, reason="conduct")


def test_a_suspended_mentor_releases_requests_and_withdraws_offers(session, admin):  # type: ignore[no-untyped-def]
    mentor = make_mentor(session, capacity=3)
    asker = make_member(session, seeking_mentor=True)
    request = make_request(session, mentee=asker, mentor=mentor)
    offered = make_proposal(session, mentor=mentor, status="offered")
    console.suspend(session=session, admin=admin, member_id=mentor.id, reason="left_network")
    session.commit()
    assert session.get(MentorRequest, request.id).status == "released"
    assert session.get(MatchProposal, offered.id).status == "withdrawn"
    [event] = audit_events(session, a.MEMBER_SUSPENDED)
    details = json.loads(event.details)
    assert details["requests_released"] == 1 and details["offers_withdrawn"] == 1


def told(session, member):  # type: ignore[no-untyped-def]
    """What the member has been told, as "title: body" lines."""
    return [
        f"{n.title}: {n.body}"
        for n in session.exec(
            select(Notification)
            .where(Notification.member_id == member.id)
            .order_by(Notification.id)
        )
    ]


def assert_kind_words(lines: list[str]) -> None:
    """Nothing told blames, says why, or reads as a pause."""
    for line in lines:
        lowered = line.lower()
        assert "account is no longer active" in lowered, line
        for word in ("suspend", "paused", "break", "conduct", "breach", "security"):
            assert word not in lowered, line


def test_suspending_a_mentor_ends_their_mentoring_and_tells_the_mentees_plainly(session, admin):  # type: ignore[no-untyped-def]
    mentor = make_mentor(session, name="Maya Mentor", capacity=3)
    mentees = [make_mentee(session, name=f"Mentee {n}") for n in range(2)]
    mentorships = [make_mentorship(session, mentor=mentor, mentee=m) for m in mentees]
    asker = make_mentee(session, name="Asha Asker")
    request = make_request(session, mentee=asker, mentor=mentor)
    offered_to = make_mentee(session, name="Olu Offered")
    offered = make_proposal(session, mentor=mentor, mentee=offered_to, status="offered")
    assert session.get(MentoringOffer, mentor.id).active_mentees == 2

    console.suspend(session=session, admin=admin, member_id=mentor.id, reason="conduct")
    session.commit()

    for mentorship in mentorships:
        ended = session.get(Mentorship, mentorship.id)
        assert ended.status == "ended_early" and ended.ended_at is not None
        assert ended.end_reason == "The mentor's account is no longer active."
        assert ended.ended_by_id == admin.id
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0
    closed = session.get(MentorRequest, request.id)
    assert closed.status == "released" and "no longer active" in closed.decline_reason
    assert session.get(Member, asker.id).open_requests == 0
    withdrawn = session.get(MatchProposal, offered.id)
    assert withdrawn.status == "withdrawn" and withdrawn.reoffer_pending  # owed another mentor
    for mentee in mentees:
        [line] = told(session, mentee)
        assert line.startswith("Your mentorship has ended: Your mentor's account is no longer")
        assert_kind_words([line])
    assert_kind_words(told(session, asker) + told(session, offered_to))
    assert len(told(session, asker)) == 1 and len(told(session, offered_to)) == 1
    [event] = audit_events(session, a.MEMBER_SUSPENDED)
    details = json.loads(event.details)
    assert (
        details["mentorships_ended"],
        details["requests_released"],
        details["requests_withdrawn"],
        details["offers_withdrawn"],
    ) == (2, 1, 0, 1)


def test_suspending_a_mentee_closes_what_they_sent_and_frees_their_mentors_place(session, admin):  # type: ignore[no-untyped-def]
    mentee = make_mentee(session, name="Sam Mentee")
    mentor = make_mentor(session, name="Mo Mentor", capacity=2)
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    other_mentor = make_mentor(session, name="Rae Asked")
    request = make_request(session, mentee=mentee, mentor=other_mentor)
    round_mentor = make_mentor(session, name="Ola Offered")
    offered = make_proposal(session, mentor=round_mentor, mentee=mentee, status="offered")
    assert session.get(MentoringOffer, mentor.id).active_mentees == 1

    console.suspend(session=session, admin=admin, member_id=mentee.id, reason="left_network")
    session.commit()

    ended = session.get(Mentorship, mentorship.id)
    assert ended.status == "ended_early"
    assert ended.end_reason == "The mentee's account is no longer active."
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0  # the place is free
    assert session.get(MentorRequest, request.id).status == "withdrawn"
    assert session.get(Member, mentee.id).open_requests == 0
    withdrawn = session.get(MatchProposal, offered.id)
    assert withdrawn.status == "withdrawn" and not withdrawn.reoffer_pending
    [to_mentor] = told(session, mentor)
    assert to_mentor.startswith("Your mentorship has ended: Your mentee's account is no longer")
    assert_kind_words([to_mentor, *told(session, other_mentor), *told(session, round_mentor)])
    assert told(session, mentee) == []
    details = json.loads(audit_events(session, a.MEMBER_SUSPENDED)[0].details)
    assert (details["mentorships_ended"], details["requests_withdrawn"]) == (1, 1)
    assert details["offers_withdrawn"] == 1

    # Reactivating reopens nothing.
    console.reactivate(session=session, admin=admin, member_id=mentee.id, reason="returned")
    session.commit()
    assert session.get(Mentorship, mentorship.id).status == "ended_early"
    assert session.get(MentorRequest, request.id).status == "withdrawn"
    assert session.get(MatchProposal, offered.id).status == "withdrawn"
    assert session.get(MentoringOffer, mentor.id).active_mentees == 0


def test_a_suspension_and_its_closing_are_one_unit_of_work(session, admin):  # type: ignore[no-untyped-def]
    mentor = make_mentor(session, capacity=2)
    mentee = make_mentee(session)
    mentorship = make_mentorship(session, mentor=mentor, mentee=mentee)
    request = make_request(session, mentee=make_mentee(session), mentor=mentor)
    session.commit()
    console.suspend(session=session, admin=admin, member_id=mentor.id, reason="security")
    session.rollback()  # the request failed later: nothing of it stays
    session.expire_all()
    assert session.get(Member, mentor.id).is_active
    assert session.get(Mentorship, mentorship.id).status == "active"
    assert session.get(MentorRequest, request.id).status == "open"
    assert session.get(MentoringOffer, mentor.id).active_mentees == 1
    assert told(session, mentee) == [] and audit_events(session, a.MEMBER_SUSPENDED) == []


def test_a_round_published_after_a_suspension_offers_nobody_the_suspended(session, admin):  # type: ignore[no-untyped-def]
    from backend.rounds import service as rounds
    from tests.factories import make_round

    organiser = make_organiser(session)
    matching_round = make_round(session, organiser=organiser, status="ready")
    gone_mentor = make_mentor(session)
    waiting = make_mentee(session)
    first = make_proposal(
        session, matching_round=matching_round, mentor=gone_mentor, mentee=waiting
    )
    gone_mentee = make_mentee(session)
    second = make_proposal(session, matching_round=matching_round, mentee=gone_mentee)
    for member in (gone_mentor, gone_mentee):
        console.suspend(session=session, admin=admin, member_id=member.id, reason="duplicate")
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    session.commit()
    one, two = session.get(MatchProposal, first.id), session.get(MatchProposal, second.id)
    assert (one.status, one.reoffer_pending) == ("withdrawn", True)  # the mentee is owed one
    assert (two.status, two.reoffer_pending) == ("withdrawn", False)
    assert told(session, waiting) == [] and told(session, gone_mentee) == []


def test_not_oneself_and_never_the_last_admin(session, admin):  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict, match="your own"):
        console.suspend(session=session, admin=admin, member_id=admin.id, reason="security")
    other = make_member(session, roles=("admin",))
    console.suspend(session=session, admin=other, member_id=admin.id, reason="security")
    assert not admin.is_active
    # ``other`` is now the last active admin: they cannot suspend themselves, no active admin
    # is left to do it, and a suspended admin's stale object is refused as an actor.
    with pytest.raises(Conflict):
        console.suspend(session=session, admin=other, member_id=other.id, reason="security")
    with pytest.raises(Forbidden):
        console.suspend(session=session, admin=admin, member_id=other.id, reason="security")
    assert other.is_active and console._active_admins(session) == 1


def test_reactivating_needs_a_reason_and_is_audited(session, admin):  # type: ignore[no-untyped-def]
    member = make_member(session, email="back@example.nhs.uk")
    with pytest.raises(Conflict, match="not suspended"):
        console.reactivate(session=session, admin=admin, member_id=member.id, reason="returned")
    console.suspend(session=session, admin=admin, member_id=member.id, reason="member_request")
    with pytest.raises(Invalid):
        console.reactivate(session=session, admin=admin, member_id=member.id, reason="")
    console.reactivate(session=session, admin=admin, member_id=member.id, reason="returned")
    session.commit()
    assert member.is_active
    [event] = audit_events(session, a.MEMBER_REACTIVATED)
    assert json.loads(event.details) == {"reason": "returned"}
    assert event.subject_id == member.id


def test_resending_the_invitation_or_the_confirmation(session, admin):  # type: ignore[no-untyped-def]
    invited = make_member(session, email="inv@example.nhs.uk", verified=False, password=None)
    unconfirmed = make_member(session, email="unc@example.nhs.uk", verified=False)
    confirmed = make_member(session)

    assert console.resend_invitation(session=session, admin=admin, member_id=invited.id) == (
        "invitation",
        True,
    )
    assert console.resend_invitation(session=session, admin=admin, member_id=unconfirmed.id) == (
        "confirmation",
        True,
    )
    with pytest.raises(Conflict, match="already confirmed"):
        console.resend_invitation(session=session, admin=admin, member_id=confirmed.id)
    session.commit()
    kinds = {(e.to_address, e.kind) for e in session.exec(select(OutboxEmail)).all()}
    assert ("inv@example.nhs.uk", "invite") in kinds and ("unc@example.nhs.uk", "verify") in kinds
    events = audit_events(session, a.INVITATION_RESENT)
    assert [json.loads(e.details) for e in events] == [
        {"kind": "invitation", "sent": True},
        {"kind": "confirmation", "sent": True},
    ]


def test_resending_keeps_to_the_per_address_limit(session, admin, monkeypatch):  # type: ignore[no-untyped-def]
    from backend.settings import get_settings

    monkeypatch.setattr(get_settings(), "account_emails_per_address_per_hour", 2)
    invited = make_member(session, email="lim@example.nhs.uk", verified=False, password=None)
    sent = [
        console.resend_invitation(session=session, admin=admin, member_id=invited.id)[1]
        for _ in range(3)
    ]
    assert sent == [True, True, False]
    session.commit()
    count = session.exec(
        select(OutboxEmail).where(OutboxEmail.to_address == "lim@example.nhs.uk")
    ).all()
    assert len(count) == 2
    assert json.loads(audit_events(session, a.INVITATION_RESENT)[-1].details)["sent"] is False
