"""Peer connect: monthly pairs at similar bands across organisations, never repeated."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from backend.community import circles, peer_connect
from backend.community.models import PeerPairing
from backend.community.peer_connect import Candidate, pair_up
from backend.notifications.models import Notification
from tests.factories import make_member, make_organiser

NOVEMBER = datetime(2026, 11, 3, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 2, tzinfo=UTC)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 11)), max_size=40))
def test_pairs_respect_band_organisation_and_each_person_once(rows):
    people = [Candidate(i + 1, org, band, frozenset()) for i, (org, band) in enumerate(rows)]
    by_id = {p.member_id: p for p in people}

    pairs = pair_up(people, set())

    seen = [i for pair in pairs for i in pair]
    assert len(seen) == len(set(seen))
    for a, b in pairs:
        assert a < b
        assert by_id[a].organisation_id != by_id[b].organisation_id
        assert abs(by_id[a].band_rank - by_id[b].band_rank) <= 1


def test_people_who_met_are_not_paired_again():
    people = [Candidate(1, 1, 5, frozenset()), Candidate(2, 2, 5, frozenset())]

    assert pair_up(people, {(1, 2)}) == []


def test_shared_skills_win_among_equals():
    people = [
        Candidate(1, 1, 5, frozenset({"budget-management"})),
        Candidate(2, 2, 5, frozenset()),
        Candidate(3, 3, 5, frozenset({"budget-management"})),
    ]

    assert pair_up(people, set()) == [(1, 3)]


def _opted_in(session, **fields):
    member = make_member(session, **fields)
    circles.set_preferences(session=session, member=member, peer_connect=True)
    return member


def test_a_monthly_run_pairs_and_notifies_both_with_profile_links(session):
    ann = _opted_in(session, name="Ann", organisation="Trust A", band="6")
    bob = _opted_in(session, name="Bob", organisation="Trust B", band="7")
    _opted_in(session, name="Cat", organisation="Trust C", band="9")  # no peer near her band
    make_member(session, organisation="Trust D", band="6")  # not opted in

    made = peer_connect.run_pairing(session=session, now=NOVEMBER)

    assert [(p.member_a_id, p.member_b_id, p.period) for p in made] == [(ann.id, bob.id, "2026-11")]
    notes = session.exec(select(Notification).order_by(Notification.member_id)).all()
    assert [(n.member_id, n.link) for n in notes] == [
        (ann.id, f"/members/{bob.id}"),
        (bob.id, f"/members/{ann.id}"),
    ]
    assert "Bob" in notes[0].title


def test_the_due_check_runs_once_a_month_and_never_repeats_a_pair(session):
    _opted_in(session, organisation="Trust A", band="6")
    _opted_in(session, organisation="Trust B", band="6")

    assert peer_connect.run_if_due(session=session, now=NOVEMBER) == 1
    assert peer_connect.run_if_due(session=session, now=NOVEMBER) == 0
    assert peer_connect.run_if_due(session=session, now=DECEMBER) == 0  # they have met
    assert len(session.exec(select(PeerPairing)).all()) == 1


def test_organisers_trigger_a_run(session):
    olu = make_organiser(session)
    _opted_in(session, organisation="Trust A", band="6")
    _opted_in(session, organisation="Trust B", band="5")

    assert len(peer_connect.trigger(session=session, organiser=olu)) == 1
