"""Learning from outcomes on synthetic histories whose hidden acceptance rule is known."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from matching.learning import (
    AcceptanceModel,
    compare_with_fixed_weights,
    history_dataset,
    outcome_labels,
    use_learned,
)
from matching.rounds import RoundMatcher
from matching.scoring import COMPONENTS
from matching.suggestions import MentorSuggester
from matching.synthetic import make_history, make_population

# A hidden rule unlike the fixed weights: place and role matter, skills do not.
LOCAL_RULE = {"place": 1.0, "role": 1.0, "background": 0.5}


@pytest.fixture(scope="module")
def population():
    return make_population(1200, seed=4)


@pytest.fixture(scope="module")
def local_history(population):
    return make_history(population, 3000, rule=LOCAL_RULE, seed=1)


def test_learned_model_beats_fixed_weights_when_the_hidden_rule_differs(local_history):
    report = compare_with_fixed_weights(local_history, test_size=0.3, seed=0)
    assert report.auc_learned > report.auc_fixed + 0.1
    assert report.use_learned
    assert report.n_train + report.n_test == len(local_history)


def test_learned_model_is_not_used_when_the_fixed_weights_are_the_hidden_rule(population):
    history = make_history(population, 3000, rule=None, seed=2)
    report = compare_with_fixed_weights(history, test_size=0.3, seed=0)
    assert abs(report.auc_learned - report.auc_fixed) < 0.03
    assert not report.use_learned


def test_boosting_model_also_learns_the_hidden_rule(local_history):
    part = local_history.iloc[:1500]
    y = part["accepted"].to_numpy()
    # one OpenMP thread: on a busy machine its spinning threads make this fit 10x slower
    with threadpool_limits(1, user_api="openmp"):
        model = AcceptanceModel(model="boosting").fit(part, y)
    assert model.beats_fixed_
    proba = model.predict_proba(part)
    assert proba.shape == (len(y), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(part)) <= {0, 1}


def test_history_from_outcomes_of_requests_and_mentorships(population):
    h = make_history(population, 50, seed=3)
    outcomes = h[["mentee_id", "mentor_id"]].copy()
    outcomes["outcome"] = np.where(h["accepted"] == 1, "completed", "ended_early")
    X, y = history_dataset(population, outcomes)
    assert list(X.columns) == list(COMPONENTS)
    assert np.allclose(X.to_numpy(), h[list(COMPONENTS)].to_numpy())
    assert (y == h["accepted"].to_numpy()).all()
    with pytest.raises(ValueError):
        outcome_labels(["maybe"])


def test_rounds_and_suggestions_use_the_model_only_when_it_wins(population, local_history):
    y = local_history["accepted"].to_numpy()
    winner = AcceptanceModel().fit(local_history, y)
    loser = AcceptanceModel(min_gain=1.0).fit(local_history, y)  # a bar no model can clear
    assert use_learned(winner) and not use_learned(loser) and not use_learned(None)
    f = make_population(300, seed=9)
    base = RoundMatcher().fit(f)
    with_model = RoundMatcher(acceptance=winner).fit(f)
    fixed, learned = base.result_, with_model.result_
    ignored = RoundMatcher(acceptance=loser).fit(f).result_
    assert (fixed.scoring, learned.scoring, ignored.scoring) == ("fixed", "learned", "fixed")
    assert ignored.matches.equals(fixed.matches)
    assert learned.matched == fixed.matched  # coverage still equals the bound

    def mean_place(matcher):
        e = np.flatnonzero(matcher.match_ >= 0)
        comps = matcher.scorer_.components(e, matcher.match_[e])
        return comps[:, COMPONENTS.index("place")].mean()

    # the learned round favours what the hidden rule rewards
    assert mean_place(with_model) > mean_place(base)
    me = f.loc[f["seeking_mentor"], "member_id"].iloc[0]
    got = MentorSuggester(acceptance=winner, exposure=False).fit(f).suggest(me, k=5)
    assert [s.score for s in got] == sorted((s.score for s in got), reverse=True)
    assert np.allclose(
        [s.score for s in got],
        winner.score_pairs(np.array([[s.components[c] for c in COMPONENTS] for s in got])),
        atol=0.2,
    )


def test_scikit_learn_conventions_and_input_checks(local_history):
    est = AcceptanceModel(C=0.5)
    assert clone(est).get_params() == est.get_params()
    y = local_history["accepted"].to_numpy()
    assert est.fit(local_history, y) is est
    assert est.classes_.tolist() == [0, 1]
    with pytest.raises(ValueError):
        AcceptanceModel().fit(local_history.drop(columns="place"), y)
    with pytest.raises(ValueError):
        AcceptanceModel().fit(local_history, np.ones(len(y)))
