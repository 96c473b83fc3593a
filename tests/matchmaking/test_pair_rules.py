"""Requests and swaps keep the matcher's hard rules, read from the database for one pair."""

from __future__ import annotations

import pytest

from backend.errors import Forbidden, Invalid
from backend.matchmaking import rules as pair_rules
from backend.mentoring import service as mentoring
from tests.factories import make_member


def ask(session, mentee, mentor):
    return mentoring.request_mentor(
        session=session, mentee=mentee, mentor_id=mentor.id, message="Could you help me?"
    )


def test_a_mentor_at_the_same_band_cannot_be_asked(session):
    mentee = make_member(session, band="6")
    peer = make_member(session, band="6", organisation="Other Trust", capacity=2)

    with pytest.raises(Invalid) as raised:
        ask(session, mentee, peer)

    assert "higher band" in raised.value.message and raised.value.field == "mentor_id"


def test_a_mentee_who_wants_someone_from_elsewhere_cannot_ask_a_colleague(session):
    mentee = make_member(session, band="4", outside_organisation_only=True)
    colleague = make_member(session, band="8a", capacity=2)  # the same organisation

    with pytest.raises(Invalid) as raised:
        ask(session, mentee, colleague)

    assert "another" in raised.value.message


def test_anyone_up_the_chain_is_refused_however_far(session):
    top = make_member(session, band="VSM", organisation="Other Trust", capacity=2)
    above = top
    for band in ("9", "8d", "8c", "8b", "8a", "7"):
        above = make_member(session, band=band, line_manager_id=above.id)
    mentee = make_member(session, band="5", line_manager_id=above.id)

    with pytest.raises(Forbidden):
        ask(session, mentee, top)
    links = pair_rules.chain_links(session=session, member_ids=[mentee.id])
    assert len(links) == 8 and links[str(top.id)] is None


def test_a_pair_within_the_rules_passes(session):
    mentee = make_member(session, band="4")
    mentor = make_member(session, band="8a", organisation="Other Trust", capacity=1)

    assert (
        pair_rules.pair_violation(session=session, mentee_id=mentee.id, mentor_id=mentor.id) is None
    )
    assert (
        pair_rules.pair_violation(session=session, mentee_id=mentor.id, mentor_id=mentee.id)
        == pair_rules.VIOLATION_NOT_OFFERING
    )
