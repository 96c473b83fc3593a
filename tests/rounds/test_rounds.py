"""Organisers' matching rounds: create, run, review, publish, and both sides answer."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from backend.errors import Conflict, FieldErrors, Forbidden
from backend.members.models import MentoringOffer
from backend.mentoring.models import Mentorship
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound, MatchProposal
from tests.factories import make_member
from vocabulary import BAND_RANK


def run(session, engine, organiser, **kwargs):
    settings = rounds.RoundSettings(name=kwargs.pop("name", "Spring cohort"), **kwargs)
    matching_round = rounds.create_round(session=session, organiser=organiser, settings=settings)
    session.commit()
    assert rounds.run_round_job(matching_round.id, engine=engine) == "ready"
    session.expire_all()
    return session.get(MatchingRound, matching_round.id)


def test_only_organisers_create_rounds(session, network):
    _, mentors, _ = network

    with pytest.raises(Forbidden):
        rounds.create_round(
            session=session, organiser=mentors[0], settings=rounds.RoundSettings(name="Mine")
        )


def test_bad_settings_are_named_and_nothing_is_created(session, network):
    organiser, _, _ = network

    with pytest.raises(FieldErrors) as raised:
        rounds.create_round(
            session=session,
            organiser=organiser,
            settings=rounds.RoundSettings(
                name=" ", weights={"skills": -1, "charm": 3}, respond_days=90
            ),
        )

    assert set(raised.value.errors) == {"name", "weights", "respond_days"}
    assert session.exec(select(MatchingRound)).all() == []


def test_a_round_matches_everyone_it_can_within_the_rules(session, engine, network):
    organiser, mentors, mentees = network

    matching_round = run(session, engine, organiser)

    assert matching_round.status == "ready"
    summary = rounds.summary_of(matching_round)
    assert summary["mentees"] == 4 and summary["matched"] == 3 and summary["bound"] == 3
    proposals = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id
    )
    paired = [p for p in proposals if p.status == "proposed"]
    assert len(paired) == 3
    assert len({p.mentor_id for p in paired}) == 3  # one place each
    by_id = {m.id: m for m in mentors + mentees}
    for p in paired:
        assert BAND_RANK[by_id[p.mentor_id].band] > BAND_RANK[by_id[p.mentee_id].band]
        assert 0 < p.score <= 100 and p.reason_list
    [unmatched] = [p for p in proposals if p.status == "unmatched"]
    assert unmatched.mentor_id is None and unmatched.reasons


def test_publishing_offers_each_pair_and_both_accepting_starts_a_mentorship(
    session, engine, network
):
    organiser, _, _ = network
    matching_round = run(session, engine, organiser)

    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    offers = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="offered"
    )
    assert len(offers) == 3
    offer = offers[0]
    mentee = session.get(type(organiser), offer.mentee_id)
    mentor = session.get(type(organiser), offer.mentor_id)
    assert [p.id for p in rounds.my_proposals(session=session, member=mentee)] == [offer.id]

    rounds.respond_to_proposal(session=session, member=mentee, proposal_id=offer.id, accept=True)
    done = rounds.respond_to_proposal(
        session=session, member=mentor, proposal_id=offer.id, accept=True
    )

    assert done.status == "accepted" and done.mentorship_id
    mentorship = session.get(Mentorship, done.mentorship_id)
    assert (mentorship.mentee_id, mentorship.mentor_id) == (mentee.id, mentor.id)
    assert session.get(MentoringOffer, mentor.id).active_mentees == 1
    with pytest.raises(Conflict):
        rounds.respond_to_proposal(
            session=session, member=mentor, proposal_id=offer.id, accept=True
        )


def test_a_declined_offer_goes_to_the_next_best_available_mentor(session, engine, network):
    organiser, _mentors, _mentees = network
    extra = make_member(
        session,
        band="8c",
        organisation="Spare Trust",
        capacity=1,
        skills_offered=("quality-improvement",),
    )
    matching_round = run(session, engine, organiser)
    # Everyone got a mentor (4 places for 4 mentees); take one of them out of the offer.
    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    offer = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="offered"
    )[0]
    mentor = session.get(type(organiser), offer.mentor_id)
    # Free a place: a fifth mentor joins after the round ran.
    late = make_member(
        session,
        band="8d",
        organisation="Late Trust",
        capacity=1,
        skills_offered=("quality-improvement",),
    )

    rounds.respond_to_proposal(
        session=session, member=mentor, proposal_id=offer.id, accept=False, reason="On leave"
    )
    rounds.reoffer_pending(session=session)  # the worker's step

    session.expire_all()
    replacement = session.exec(
        select(MatchProposal).where(MatchProposal.replaces_id == offer.id)
    ).one()
    assert replacement.status == "offered"
    assert replacement.mentee_id == offer.mentee_id
    assert replacement.mentor_id == late.id  # the only mentor with a free place
    assert extra.id != replacement.mentor_id


def test_pairs_can_be_removed_or_swapped_only_within_the_rules(session, engine, network):
    organiser, _, _ = network
    matching_round = run(session, engine, organiser)
    first, second = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id, status="proposed"
    )[:2]
    mentors = (first.mentor_id, second.mentor_id)

    rounds.swap_mentors(
        session=session, organiser=organiser, proposal_id=first.id, other_proposal_id=second.id
    )
    assert (first.mentor_id, second.mentor_id) == mentors[::-1]
    rounds.remove_proposal(session=session, organiser=organiser, proposal_id=first.id)

    rounds.publish_round(session=session, organiser=organiser, round_id=matching_round.id)
    session.expire_all()
    assert session.get(MatchProposal, first.id).status == "removed"
    with pytest.raises(Conflict):
        rounds.remove_proposal(session=session, organiser=organiser, proposal_id=second.id)


def test_export_lists_every_mentee_with_score_reasons_and_status(session, engine, network):
    organiser, _, _mentees = network
    matching_round = run(session, engine, organiser)

    rows = list(
        csv.DictReader(
            io.StringIO(
                rounds.export_csv(session=session, organiser=organiser, round_id=matching_round.id)
            )
        )
    )

    assert len(rows) == 4
    assert {r["status"] for r in rows} == {"proposed", "unmatched"}
    assert all(r["reasons"] for r in rows)


def test_export_neutralises_formula_cells_and_keeps_numbers(session, engine, network):
    # Given members whose names and ids a spreadsheet would run as formulas, and one whose id
    # is a plain negative number
    organiser, mentors, mentees = network
    hostile = [
        ('=HYPERLINK("http://x","y")', "@SUM(1)"),
        ("+1+1", "-1+1"),
        (" =1+1", "-3"),
        ("-Mentor", "@M1"),
    ]
    for member, (name, external_id) in zip([*mentees[:3], mentors[0]], hostile, strict=True):
        member.name, member.external_id = name, external_id
        session.add(member)
    session.commit()
    matching_round = run(session, engine, organiser)

    # When the round is exported and read back
    text = rounds.export_csv(session=session, organiser=organiser, round_id=matching_round.id)
    rows = list(csv.reader(io.StringIO(text, newline="")))

    # Then each formula is quote-prefixed, the negative number stays a number
    cells = [cell for row in rows for cell in row]
    for name, external_id in hostile:
        assert name not in cells and "'" + name in cells
        if external_id == "-3":
            assert "-3" in cells and "'-3" not in cells
        else:
            assert external_id not in cells and "'" + external_id in cells


def test_a_members_cohort_matches_only_those_members(session, engine, network):
    organiser, _, mentees = network

    matching_round = run(
        session, engine, organiser, cohort="members", cohort_member_ids=[m.id for m in mentees[:2]]
    )

    proposals = rounds.proposals_of(
        session=session, organiser=organiser, round_id=matching_round.id
    )
    assert {p.mentee_id for p in proposals} == {m.id for m in mentees[:2]}


def test_a_running_round_reports_its_stages_in_words(session, engine, network, monkeypatch):
    """Every stage the matcher reports reaches the organiser as words, never its code name."""
    organiser, _, _ = network
    seen: list[str] = []
    real = rounds._set_progress

    def recording(engine, round_id, stage, fraction, attempt):  # type: ignore[no-untyped-def]
        seen.append(stage)
        real(engine, round_id, stage, fraction, attempt)

    monkeypatch.setattr(rounds, "_set_progress", recording)
    monkeypatch.setattr(rounds.time, "monotonic", iter(range(0, 10_000, 10)).__next__)

    run(session, engine, organiser)

    assert seen, "the round reported no progress"
    assert set(seen) <= set(rounds.STAGE_WORDS.values()), seen
    assert "Choosing the best pairs" in seen
