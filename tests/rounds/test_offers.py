"""Round offers behave like requests: reminded, closed with notice, re-offered by the worker,
and the round's figures follow every change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.db import utcnow
from backend.errors import Conflict
from backend.members.models import Member
from backend.notifications import service as notifications
from backend.notifications.models import Notification
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import make_member
from tests.rounds.test_rounds import run


def titles(session, member_id: int) -> list[str]:
    return [
        n.title
        for n in session.exec(
            select(Notification)
            .where(Notification.member_id == member_id)
            .order_by(Notification.id)
        )
    ]


def published(session, engine, organiser):
    matching_round = run(session, engine, organiser)
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    session.expire_all()
    offers = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="offered"
    )
    return session.get(MatchingRound, matching_round.id), offers


def figures(session, round_id):
    session.expire_all()
    return rounds.summary_of(session.get(MatchingRound, round_id))


def test_a_decline_only_marks_the_offer_and_the_worker_re_offers(session, engine, network):
    organiser, _, _ = network
    matching_round, offers = published(session, engine, organiser)
    offer = offers[0]
    mentor = session.get(Member, offer.mentor_id)
    late = make_member(session, band="8d", organisation="Late Trust", capacity=1)

    rounds.respond_to_proposal(
        session=session, member=mentor, proposal_id=offer.id, accept=False, reason="On leave"
    )

    session.expire_all()
    assert session.get(MatchProposal, offer.id).status == "declined"
    assert (
        session.exec(select(MatchProposal).where(MatchProposal.replaces_id == offer.id)).all() == []
    )
    # The member's request only notes that the figures changed; the worker recounts.
    assert session.get(MatchingRound, matching_round.id).figures_stale is True

    assert rounds.reoffer_pending(session=session) == 1
    assert rounds.reoffer_pending(session=session) == 0  # claimed once

    session.expire_all()
    replacement = session.exec(
        select(MatchProposal).where(MatchProposal.replaces_id == offer.id)
    ).one()
    assert (replacement.status, replacement.mentor_id) == ("offered", late.id)
    assert replacement.respond_by > utcnow() + timedelta(days=6)
    assert figures(session, matching_round.id)["matched"] == 3
    assert session.get(MatchingRound, matching_round.id).figures_stale is False


def test_a_mentee_who_declines_frees_the_place_for_the_rounds_unmatched_mentee(
    session, engine, network
):
    organiser, _, _ = network
    matching_round, offers = published(session, engine, organiser)
    before = figures(session, matching_round.id)
    [(waiting, _)] = rounds.unmatched_of(
        session=session, organiser=organiser, round_id=matching_round.id
    )
    offer = offers[0]
    mentee = session.get(Member, offer.mentee_id)

    rounds.respond_to_proposal(session=session, member=mentee, proposal_id=offer.id, accept=False)
    assert rounds.reoffer_pending(session=session) == 1

    # No other mentor is free for the mentee who declined, and they are told so ...
    assert titles(session, mentee.id)[-1] == "No other mentor is free in this round"
    # ... while the place they freed goes to the mentee the round could not match.
    [freed] = rounds.my_proposals(session=session, member=waiting)
    assert (freed.mentor_id, freed.replaces_id, freed.status) == (
        offer.mentor_id,
        offer.id,
        "offered",
    )
    after = figures(session, matching_round.id)
    assert after["matched"] == before["matched"]
    named = {
        member.id: why
        for member, why in rounds.unmatched_of(
            session=session, organiser=organiser, round_id=matching_round.id
        )
    }
    assert list(named) == [mentee.id] and "declined" in named[mentee.id]


def test_the_side_that_has_not_answered_is_reminded_once_before_the_offer_closes(
    session, engine, network
):
    organiser, _, _ = network
    _, offers = published(session, engine, organiser)
    offer = offers[0]
    mentee = session.get(Member, offer.mentee_id)
    rounds.respond_to_proposal(session=session, member=mentee, proposal_id=offer.id, accept=True)
    soon = offer.respond_by - timedelta(days=1)

    assert rounds.remind_offers(session=session, now=offer.respond_by - timedelta(days=5)) == 0
    assert rounds.remind_offers(session=session, now=soon) >= 1
    assert rounds.remind_offers(session=session, now=soon) == 0

    session.commit()
    reminder = f"Please answer: your proposed match with {mentee.name}"
    assert titles(session, offer.mentor_id).count(reminder) == 1
    assert not any(t.startswith("Please answer") for t in titles(session, mentee.id))


def test_an_expired_offer_tells_both_sides_and_the_organiser_and_updates_the_figures(
    session, engine, network
):
    organiser, _, _ = network
    matching_round, offers = published(session, engine, organiser)
    before = figures(session, matching_round.id)["matched"]
    mentee_id, mentor_id = offers[0].mentee_id, offers[0].mentor_id
    mentor = session.get(Member, mentor_id)

    closed = rounds.expire_offers(session=session, now=utcnow() + timedelta(days=8))

    assert closed == len(offers) == before
    assert titles(session, mentee_id)[-1] == f"Your proposed match with {mentor.name} has closed"
    assert titles(session, mentor_id)[-1].startswith("The proposed match with")
    assert titles(session, organiser.id)[-1].startswith(f"{closed} offers in Spring cohort")
    after = figures(session, matching_round.id)
    assert after["matched"] == 0 and after["unmatched"] == after["mentees"]
    assert after["at_run"]["matched"] == before
    # Nobody had accepted: nobody is waiting for a re-offer.
    assert rounds.reoffer_pending(session=session) == 0


def test_a_mentee_who_accepted_an_offer_that_expired_is_offered_another_mentor(
    session, engine, network
):
    organiser, _, _ = network
    _, offers = published(session, engine, organiser)
    offer = offers[0]
    mentee = session.get(Member, offer.mentee_id)
    rounds.respond_to_proposal(session=session, member=mentee, proposal_id=offer.id, accept=True)
    make_member(session, band="8d", organisation="Late Trust", capacity=1)

    rounds.expire_offers(session=session, now=utcnow() + timedelta(days=8))
    assert (
        "looking for another mentor"
        in session.exec(
            select(Notification.body)
            .where(Notification.member_id == mentee.id)
            .order_by(Notification.id.desc())
        ).first()
    )

    assert rounds.reoffer_pending(session=session) == 1
    assert [p.mentee_id for p in rounds.my_proposals(session=session, member=mentee)] == [mentee.id]


def test_a_swap_rescores_both_pairs_and_swapping_back_restores_them(session, engine, network):
    organiser, _, _ = network
    matching_round = run(session, engine, organiser)
    first, second = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="proposed"
    )[:2]
    original = {p.id: (p.score, p.reasons) for p in (first, second)}

    rounds.swap_mentors(
        session=session, organiser=organiser, proposal_id=first.id, other_proposal_id=second.id
    )
    for p in (first, second):
        assert p.reasons != "swapped by the organiser" and p.reason_list
        assert 0 <= p.score <= 100
    rounds.swap_mentors(
        session=session, organiser=organiser, proposal_id=first.id, other_proposal_id=second.id
    )

    for p in (first, second):
        assert p.score == pytest.approx(original[p.id][0], abs=5)


def test_removing_a_pair_recounts_the_figures_and_names_the_mentee_with_why(
    session, engine, network
):
    organiser, _, _ = network
    matching_round = run(session, engine, organiser)
    before = figures(session, matching_round.id)
    proposal = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="proposed"
    )[0]

    rounds.remove_proposal(session=session, organiser=organiser, proposal_id=proposal.id)

    after = figures(session, matching_round.id)
    assert after["matched"] == before["matched"] - 1
    assert after["unmatched"] == before["unmatched"] + 1
    unmatched = rounds.unmatched_of(
        session=session, organiser=organiser, round_id=matching_round.id
    )
    assert len(unmatched) == after["unmatched"]
    named = {member.id: why for member, why in unmatched}
    assert named[proposal.mentee_id] == "removed from the round by the organiser"
    assert all(why for why in named.values())


def test_publishing_says_how_many_will_be_emailed_and_refuses_a_stale_count(
    session, engine, network
):
    organiser, _, _ = network
    matching_round = run(session, engine, organiser)
    pairs = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="proposed"
    )
    quiet = session.get(Member, pairs[0].mentee_id)
    notifications.set_preferences(session=session, member_id=quiet.id, modes={"round": "off"})
    session.commit()

    preview = rounds.publish_preview(
        session=session, organiser=organiser, round_id=matching_round.id
    )

    assert preview.pairs == len(pairs)
    assert preview.people == len({p.mentee_id for p in pairs} | {p.mentor_id for p in pairs})
    assert preview.emailed == preview.people - 1
    with pytest.raises(Conflict):
        rounds.publish_round(
            session=session,
            organiser=organiser,
            round_id=matching_round.id,
            expected_emails=preview.emailed + 1,
        )
    session.rollback()
    assert session.get(MatchingRound, matching_round.id).status == "ready"
    rounds.publish_round(
        session=session,
        organiser=organiser,
        round_id=matching_round.id,
        expected_emails=preview.emailed,
    )
    assert session.get(MatchingRound, matching_round.id).status == "published"


def _set_offer(session, mentor, *, capacity, paused):  # type: ignore[no-untyped-def]
    from backend.members import service as member_service

    member_service.set_mentoring_offer(
        session=session,
        member=mentor,
        offer=member_service.OfferUpdate(
            capacity=capacity, paused=paused, skills_offered=["quality-improvement"]
        ),
    )
    session.commit()  # the request's unit of work ends here
    session.expire_all()


def test_a_mentor_who_pauses_withdraws_their_open_offer_and_the_mentee_is_offered_another(
    session, engine, network
):
    organiser, _, _ = network
    matching_round, offers = published(session, engine, organiser)
    offer = offers[0]
    mentor = session.get(Member, offer.mentor_id)
    mentee_id = offer.mentee_id
    late = make_member(
        session,
        band="8d",
        organisation="Late Trust",
        capacity=1,
        skills_offered=("quality-improvement",),
    )

    _set_offer(session, mentor, capacity=1, paused=True)

    closed = session.get(MatchProposal, offer.id)
    assert (closed.status, closed.reoffer_pending) == ("withdrawn", True)
    assert titles(session, mentee_id)[-1] == f"{mentor.name} can no longer take on your match"
    assert session.get(MatchingRound, matching_round.id).figures_stale is True
    with pytest.raises(Conflict, match="withdrawn"):
        rounds.respond_to_proposal(
            session=session,
            member=session.get(Member, mentee_id),
            proposal_id=offer.id,
            accept=True,
        )
    session.rollback()

    assert rounds.reoffer_pending(session=session) == 1
    session.expire_all()
    replacement = session.exec(
        select(MatchProposal).where(MatchProposal.replaces_id == offer.id)
    ).one()
    assert (replacement.mentee_id, replacement.mentor_id, replacement.status) == (
        mentee_id,
        late.id,
        "offered",
    )
    assert all(session.get(MatchProposal, o.id).status == "offered" for o in offers[1:])


def test_lowering_capacity_below_open_offers_withdraws_the_newest_and_keeps_accepted_ones(
    session, engine
):
    from tests.mentoring.test_lifecycle import published_offer

    mentor = make_member(session, band="8a", organisation="Trust A", capacity=3)
    mentees = [make_member(session, band="4", organisation="Mentee Trust") for _ in range(3)]
    _, _, accepted = published_offer(session, mentee=mentees[0], mentor=mentor)
    _, _, older = published_offer(session, mentee=mentees[1], mentor=mentor, mentor_answer=None)
    _, _, newer = published_offer(session, mentee=mentees[2], mentor=mentor, mentor_answer=None)

    _set_offer(session, mentor, capacity=3, paused=False)  # still covered: nothing changes
    assert [session.get(MatchProposal, p.id).status for p in (accepted, older, newer)] == [
        "offered"
    ] * 3

    _set_offer(session, mentor, capacity=2, paused=False)

    statuses = [session.get(MatchProposal, p.id).status for p in (accepted, older, newer)]
    assert statuses == ["offered", "offered", "withdrawn"]
    assert titles(session, mentees[2].id)[-1] == f"{mentor.name} can no longer take on your match"
    assert f"{mentor.name} can no longer take on your match" not in titles(session, mentees[1].id)


def test_unmatched_mentees_are_paged_in_the_database(session, engine, network):
    from sqlalchemy import event

    organiser, _, _ = network
    for _ in range(4):  # more mentees than places: five are left unmatched
        make_member(
            session,
            band="4",
            organisation="Mentee Trust",
            seeking_mentor=True,
            skills_sought=("quality-improvement",),
        )
    matching_round = run(session, engine, organiser)
    everyone = rounds.unmatched_of(
        session=session, organiser=organiser, round_id=matching_round.id, limit=100
    )
    assert len(everyone) == 5
    assert (
        rounds.unmatched_count(session=session, organiser=organiser, round_id=matching_round.id)
        == 5
    )

    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        first = rounds.unmatched_of(
            session=session, organiser=organiser, round_id=matching_round.id, limit=2
        )
        rest = rounds.unmatched_of(
            session=session, organiser=organiser, round_id=matching_round.id, offset=2, limit=10
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert [m.id for m, _ in first] == [m.id for m, _ in everyone[:2]]
    assert [m.id for m, _ in rest] == [m.id for m, _ in everyone[2:]]
    paged = [s for s in statements if "max(" in s.lower() and "match_proposal" in s]
    assert len(paged) == 2 and all("LIMIT" in s.upper() for s in paged)


def test_a_pair_whose_mentor_paused_before_publishing_is_not_offered(session, engine, network):
    organiser, _, _ = network
    matching_round = run(session, engine, organiser)
    proposal = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="proposed"
    )[0]
    mentor = session.get(Member, proposal.mentor_id)
    _set_offer(session, mentor, capacity=1, paused=True)

    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)

    session.expire_all()
    closed = session.get(MatchProposal, proposal.id)
    assert (closed.status, closed.reoffer_pending) == ("withdrawn", True)
    assert closed.decline_reason == "The mentor has paused mentoring."
    assert not any(
        t.startswith("We have found you a mentor") for t in titles(session, closed.mentee_id)
    )
    assert "Would you mentor" not in " ".join(titles(session, mentor.id))
    others = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="offered"
    )
    assert others and all(o.mentor_id != mentor.id for o in others)
