"""Learning from outcomes: the platform's answers train the matcher's acceptance model."""

from __future__ import annotations

import random
from datetime import timedelta

from backend.db import utcnow
from backend.matchmaking import learning
from backend.rounds import service as rounds
from backend.rounds.models import MatchingRound
from tests.factories import make_member, make_organiser, make_request
from vocabulary import REGIONS


def history(session, *, hidden_rule: bool, pairs: int = 160, seed: int = 1) -> None:
    """Answered requests between random pairs; accepted iff same region when ``hidden_rule``.

    Mentors differ in the skills they offer, which the fixed weights value most; the hidden rule
    ignores skills, so only a model that learns from the answers can rank pairs well.
    """
    rng = random.Random(seed)
    offers = [("quality-improvement",), ("rota-management",), ("budget-management",)]
    mentors = [
        make_member(
            session,
            band="8a",
            organisation=f"Mentor Trust {i}",
            region=REGIONS[i % 7],
            capacity=3,
            skills_offered=offers[i % 3],
        )
        for i in range(14)
    ]
    mentees = [
        make_member(
            session,
            band="4",
            organisation=f"Mentee Trust {i}",
            region=REGIONS[(i * 3) % 7],
            skills_sought=("quality-improvement",),
        )
        for i in range(24)
    ]
    seen = set()
    now = utcnow()
    while len(seen) < pairs:
        mentee, mentor = rng.choice(mentees), rng.choice(mentors)
        if (mentee.id, mentor.id) in seen:
            continue
        seen.add((mentee.id, mentor.id))
        accepted = mentee.region == mentor.region if hidden_rule else rng.random() < 0.5
        make_request(
            session,
            mentee=mentee,
            mentor=mentor,
            message="Hello",
            status="accepted" if accepted else "declined",
            created_at=now - timedelta(days=30),
            responded_at=now - timedelta(days=20),
        )


def test_a_hidden_rule_the_fixed_weights_miss_is_learned_and_used(session):
    history(session, hidden_rule=True)

    outcome = learning.learn(session=session)

    assert outcome.outcomes == 160
    assert outcome.used
    assert outcome.auc_learned > outcome.auc_fixed
    assert "Learned model used" in outcome.explanation


def test_outcomes_that_are_noise_leave_the_fixed_weights_in_force(session):
    history(session, hidden_rule=False)

    outcome = learning.learn(session=session)

    assert not outcome.used
    assert "Fixed weights used" in outcome.explanation


def test_too_little_history_keeps_the_fixed_weights(session):
    history(session, hidden_rule=True, pairs=10)

    outcome = learning.learn(session=session)

    assert outcome.model is None and not outcome.used
    assert "at least 40" in outcome.explanation


def test_a_round_that_learns_says_which_score_it_used(session, engine):
    history(session, hidden_rule=True)
    organiser = make_organiser(session, band="8b")
    make_member(session, band="5", seeking_mentor=True, region=REGIONS[0])
    matching_round = rounds.create_round(
        session=session,
        organiser=organiser,
        settings=rounds.RoundSettings(name="Learning", learn_from_outcomes=True),
    )
    session.commit()

    assert rounds.run_round_job(matching_round.id, engine=engine) == "ready"

    session.expire_all()
    summary = rounds.summary_of(session.get(MatchingRound, matching_round.id))
    assert summary["scoring"] == "learned"
    assert summary["learning"]["used"] and summary["learning"]["outcomes"] == 160
    assert summary["matched"] == 1
