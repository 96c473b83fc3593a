"""The min-cost-flow solver, coverage-first rounds and the full-graph stability figure."""

from __future__ import annotations

import numpy as np
import pytest

from matching.assignment import (
    exact_total,
    flow_available,
    maximum_cardinality_bruteforce,
    maximum_on_edges,
    solve_flow,
    solve_weighted,
)
from matching.candidates import (
    ScoreBlocks,
    add_mentor_side,
    blocking_pairs_full,
    candidate_graph,
)
from matching.rounds import RoundMatcher
from matching.rules import feasible_matrix
from matching.scoring import PairScorer
from matching.synthetic import make_population

needs_flow = pytest.mark.skipif(not flow_available(), reason="ortools is not installed")


def _random_graph(seed: int, n: int = 60, n_m: int = 25):
    rng = np.random.default_rng(seed)
    e = np.repeat(np.arange(n), 5)
    m = rng.integers(0, n_m, len(e))
    key = np.unique(e * n_m + m)
    e, m = key // n_m, key % n_m
    score = rng.uniform(0, 100, len(e)).round(2)
    cap = rng.integers(0, 3, n_m)
    prio = rng.random(n) < 0.3
    return n, cap, e, m, score, prio


@needs_flow
@pytest.mark.parametrize("seed", range(6))
def test_flow_solver_reaches_the_same_optimum_as_scipy(seed):
    n, cap, e, m, score, prio = _random_graph(seed)
    for priority in (None, prio):
        a = solve_flow(n, cap, e, m, score, priority=priority)
        b = solve_weighted(n, cap, e, m, score, priority=priority)
        assert (a >= 0).sum() == (b >= 0).sum()
        if priority is not None:
            assert (a[prio] >= 0).sum() == (b[prio] >= 0).sum()
        assert np.bincount(a[a >= 0], minlength=len(cap)).max(initial=0) <= cap.max(initial=0)
        lookup = {(i, j): s for i, j, s in zip(e, m, score, strict=True)}
        total = [sum(lookup[(i, x[i])] for i in np.flatnonzero(x >= 0)) for x in (a, b)]
        assert total[0] == pytest.approx(total[1], abs=0.01 * n)


def test_hopcroft_karp_on_edges_matches_the_brute_force_bound():
    f = make_population(200, seed=3)
    scorer = PairScorer().fit(f)
    pop = scorer.population_
    e, m = np.nonzero(feasible_matrix(pop))
    got = maximum_on_edges(pop.n_mentees, pop.mentor_capacity, e, m)
    assert (got >= 0).sum() == maximum_cardinality_bruteforce(pop)


def test_score_blocks_equal_pair_scores_and_candidates_are_the_best():
    f = make_population(250, seed=7)
    scorer = PairScorer().fit(f)
    pop = scorer.population_
    feas = feasible_matrix(pop)
    e = np.repeat(np.arange(pop.n_mentees), pop.n_mentors)
    m = np.tile(np.arange(pop.n_mentors), pop.n_mentees)
    dense = scorer.score_pairs(e, m).reshape(pop.n_mentees, pop.n_mentors)
    blocks = ScoreBlocks(scorer, np.arange(pop.n_mentees), block_size=17)
    for job in blocks.jobs:
        blk, start, _, width = job
        s = blocks.scores(job)[:, :width]
        cols = blocks.order_m[start : start + width]
        ok = feas[np.ix_(blk, cols)]
        assert (np.isfinite(s) == ok).all()
        assert np.allclose(s[ok], dense[np.ix_(blk, cols)][ok], atol=1e-3)
        some = np.flatnonzero(np.random.default_rng(start).random(width) < 0.3)[::-1]
        sub = blocks.scores(job, some)
        assert np.array_equal(np.isfinite(sub), np.isfinite(s[:, some]))
        assert np.allclose(sub[ok[:, some]], s[:, some][ok[:, some]], atol=1e-4)
    k = 4
    g = candidate_graph(scorer, k)
    for i in range(pop.n_mentees):
        mine = g.score[g.mentee == i]
        allowed = np.sort(dense[i, feas[i]])[::-1]
        assert len(mine) == min(k, len(allowed))
        assert np.allclose(np.sort(mine)[::-1], allowed[: len(mine)], atol=1e-3)


@pytest.mark.parametrize("seed", [1, 2])
def test_blocking_pairs_count_every_feasible_pair(seed):
    f = make_population(220, seed=seed)
    matcher = RoundMatcher(n_candidates=3).fit(f)
    scorer, match = matcher.scorer_, matcher.match_
    pop = scorer.population_
    feas = feasible_matrix(pop)
    e = np.repeat(np.arange(pop.n_mentees), pop.n_mentors)
    m = np.tile(np.arange(pop.n_mentors), pop.n_mentees)
    dense = scorer.score_pairs(e, m).reshape(pop.n_mentees, pop.n_mentors)
    matched = match >= 0
    own = np.where(matched, dense[np.arange(pop.n_mentees), np.maximum(match, 0)], -np.inf)
    load = np.bincount(match[matched], minlength=pop.n_mentors)
    weakest = np.full(pop.n_mentors, np.inf)
    np.minimum.at(weakest, match[matched], own[matched])
    weakest[load < pop.mentor_capacity] = -np.inf
    brute = feas & (dense > own[:, None] + 1e-4) & (dense > weakest[None, :] + 1e-4)
    brute[np.flatnonzero(matched), match[matched]] = False
    own0 = np.where(matched, own, 0.0)
    got = blocking_pairs_full(scorer, match, own0, matcher.candidates_, 3)
    assert got == int(brute.sum())
    assert matcher.result_.blocking_pairs == got


def test_exact_total_agrees_with_the_round_on_a_small_pool():
    f = make_population(150, seed=5)
    matcher = RoundMatcher().fit(f)
    scorer = matcher.scorer_
    pop = scorer.population_

    def block(rows):
        e = np.repeat(rows, pop.n_mentors)
        m = np.tile(np.arange(pop.n_mentors), len(rows))
        return scorer.score_pairs(e, m).reshape(len(rows), -1)

    _, total = exact_total(pop, block, matcher.result_.bound)
    assert matcher.result_.total_score >= total * 0.999
    assert matcher.result_.total_score <= total + 1e-6


def test_mentors_in_few_lists_get_their_best_mentees_added():
    f = make_population(300, seed=11)
    scorer = PairScorer().fit(f)
    pop = scorer.population_
    feas = feasible_matrix(pop)
    e = np.repeat(np.arange(pop.n_mentees), pop.n_mentors)
    m = np.tile(np.arange(pop.n_mentors), pop.n_mentees)
    dense = scorer.score_pairs(e, m).reshape(pop.n_mentees, pop.n_mentors)
    g = candidate_graph(scorer, 3)
    low = np.flatnonzero(np.bincount(g.mentor, minlength=pop.n_mentors) < 4 * pop.mentor_capacity)
    assert len(low)
    g2 = add_mentor_side(scorer, g, 5, mentor_chunk=7)
    # every new edge is feasible, and each such mentor now has its 5 best mentees
    assert feas[g2.mentee, g2.mentor].all()
    assert np.allclose(g2.score, dense[g2.mentee, g2.mentor], atol=1e-6)
    for j in low:
        best = np.sort(dense[feas[:, j], j])[::-1][:5]
        mine = np.sort(g2.score[g2.mentor == j])[::-1][: len(best)]
        assert np.allclose(mine, best, atol=1e-3)


def test_widened_lists_never_lower_the_total_and_keep_coverage_and_rules():
    from matching.assignment import check_assignment
    from matching.synthetic import make_realistic_population

    f = make_realistic_population(800, seed=4)
    narrow = RoundMatcher(n_candidates=3).fit(f)
    wide = RoundMatcher(n_candidates=3, widen=24).fit(f)
    pop = wide.scorer_.population_
    check_assignment(pop, wide.match_)
    assert wide.result_.matched == narrow.result_.matched == maximum_cardinality_bruteforce(pop)
    # the mentees competing for places got longer lists, so the graph grew and the total rose
    assert wide.candidates_.n_edges > narrow.candidates_.n_edges
    assert wide.result_.total_score > narrow.result_.total_score
    assert "widen" in wide.result_.timings


@needs_flow
@pytest.mark.parametrize("seed", [5, 6])
def test_exact_optimum_by_pricing_equals_dense_lsa_from_a_poor_start(seed):
    from matching.assignment import exact_assignment
    from matching.exact import exact_optimum

    f = make_population(160, seed=seed)
    scorer = PairScorer().fit(f)
    pop = scorer.population_
    e = np.repeat(np.arange(pop.n_mentees), pop.n_mentors)
    m = np.tile(np.arange(pop.n_mentors), pop.n_mentees)
    dense = scorer.score_pairs(e, m).reshape(pop.n_mentees, pop.n_mentors)
    want_match, want = exact_assignment(pop, dense)
    start = candidate_graph(scorer, 1)  # far from the optimum: pricing has to add edges
    got = exact_optimum(scorer, start)
    assert got.added > 0 and got.rounds > 1
    assert got.matched == int((want_match >= 0).sum()) == maximum_cardinality_bruteforce(pop)
    assert got.total == pytest.approx(want, abs=got.matched / 10_000 + 1e-6)
    assert feasible_matrix(pop)[np.flatnonzero(got.match >= 0), got.match[got.match >= 0]].all()
    load = np.bincount(got.match[got.match >= 0], minlength=pop.n_mentors)
    assert (load <= pop.mentor_capacity).all()
