"""Whole-pool matching rounds: capacitated assignment that maximises total score under the
hard rules, with coverage equal to the maximum-cardinality bound of the full feasible graph.

Stages: features (fit the pair scorer), candidates (top-k feasible mentors per mentee by score,
plus the best mentees of mentors in few lists), coverage (the exact maximum-cardinality bound
of the full feasible graph, by maximum flow of a compressed network: ``matching.coverage``),
solve (exact min-cost flow on the candidate graph with OR-tools when installed, else scipy's
LAPJVsp up to ``exact_limit`` mentees and a vectorised auction above; checked against the bound,
and only when short is a maximum matching grown and its edges added), reasons and figures
(blocking pairs over the full feasible graph).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from matching.assignment import flow_available, solve_flow, solve_weighted
from matching.auction import auction_assign
from matching.candidates import add_mentor_side, blocking_pairs_full, candidate_graph
from matching.coverage import cover, maximum_cardinality
from matching.features import check_member_frame
from matching.keys import in_keys, unique_keys
from matching.learning import use_learned
from matching.reasons import match_reasons
from matching.rules import feasible_counts, unmatched_reasons
from matching.scoring import PairScorer, ScoreWeights

Progress = Callable[[str, float], None]


@dataclass
class RoundResult:
    """Outcome of a round: one row per mentee in ``matches`` plus the figures organisers read."""

    matches: pd.DataFrame  # mentee_id, mentor_id ('' if none), score, reasons, priority
    n_mentees: int
    n_mentors: int
    total_capacity: int
    matched: int
    bound: int  # maximum-cardinality bound of the full feasible graph
    total_score: float
    cross_org_share: float
    skills_covered: float  # share of matched mentees' skills sought that the mentor offers
    unmatched_why: dict[str, int]
    priority: bool
    priority_rate: float
    other_rate: float
    priority_rate_matchable: float
    other_rate_matchable: float
    priority_score_cost: float | None  # relative loss of total score against priority off
    blocking_pairs: int
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds by stage
    cpu_timings: dict[str, float] = field(default_factory=dict)  # CPU seconds, every thread
    solver: str = ""
    scoring: str = "fixed"  # "learned" when an acceptance model beat the fixed weights

    @property
    def coverage(self) -> float:
        """Share of mentees matched."""
        return self.matched / self.n_mentees if self.n_mentees else 1.0


class StageClock:
    """Wall and CPU seconds of named stages (CPU of the whole process: every thread)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self._at = (0.0, 0.0)

    def start(self) -> None:
        """Start timing a stage."""
        self._at = (time.perf_counter(), time.process_time())

    def stop(self, name: str) -> None:
        """End the stage started last and record it under ``name``."""
        wall, cpu = self._at
        self.wall[name] = time.perf_counter() - wall
        self.cpu[name] = time.process_time() - cpu


class RoundMatcher(BaseEstimator):
    """Capacitated whole-pool matching round over a member frame.

    Parameters
    ----------
    weights : ScoreWeights or None, default=None
        Score component weights; ``None`` means the defaults.
    n_candidates : int or None, default=None
        Candidate mentors kept per mentee for the weighted solve; ``None`` means
        :func:`default_candidates` (64 up to 15,000 mentees, 32 up to 30,000, 16 above).
    priority : bool, default=False
        Widening-access priority for mentees with ``priority_access``.
    priority_points : float, default=1000.0
        Worth of matching a priority mentee, in score points; large values make priority
        lexicographic (first match as many priority mentees as the rules allow).
    solver : {"auto", "flow", "exact", "auction"}, default="auto"
        "flow" is a min-cost flow on the candidate graph (OR-tools cost scaling, exact, no
        capacity slots); "exact" the same optimum as a min-cost full matching on capacity slots
        (scipy LAPJVsp); "auction" a vectorised auction within ``n * epsilon`` of it; "auto"
        picks flow when OR-tools is installed, else exact up to ``exact_limit`` mentees.
    exact_limit : int, default=12000
        Largest pool solved with "exact" under "auto".
    epsilon : float, default=0.5
        Bid increment of the auction, in score points.
    compare_priority : bool, default=True
        With priority on, also solve without it to report the score cost.
    skills_tiebreak : float, default=0.01
        Points per skill sought that the mentor offers, added to a pair's score in the solve
        only (reported scores are the plain ones): among near-equal assignments the round
        prefers the one that covers more skills. At 10,000 members 0.01 covers 0.02 points
        more of the skills sought for 0.06 points less of total score (of 440,520).
    widen : int or None, default=None
        When larger than the lists, a second pass gives the mentees left unmatched or matched
        in the lower half of their list their ``widen`` best mentors, and solves again (off by
        default: at 6,200 mentees, 16 widened to 64 reaches 0.020% of the exact optimum where
        plain lists of 64 reach 0.007% in less time).
    random_state : int, default=0
        Seed: fixes the text projection; the solve itself is deterministic.
    band_rule : {"senior", "reciprocal"}, default="senior"
        The programme type's band rule (``matching.rules``): a hard rule, so no weight can
        break it. "senior": the mentor's band is above the mentee's; "reciprocal": a senior
        leader (8a or above) with a member who has widening-access priority.
    excluded_pairs : collection of (mentee id, mentor id), default=()
        Pairs the round leaves out whatever they score (already paired in another programme).
    acceptance : AcceptanceModel or None, default=None
        A fitted model of acceptance (``matching.learning``). The round maximises its
        probability instead of the fixed-weight score only when it beat the fixed weights on
        held-out outcomes (``beats_fixed_``); candidates are still the best by the fixed score,
        and ``matches.score`` stays the fixed score that the reasons explain.

    Attributes
    ----------
    result_ : RoundResult
        Matches and figures.
    scorer_ : PairScorer
        Fitted scorer of the population.
    match_ : ndarray of shape (n_mentees,)
        Mentor index per mentee (-1 when unmatched).
    """

    def __init__(
        self,
        weights: ScoreWeights | None = None,
        n_candidates: int | None = None,
        priority: bool = False,
        priority_points: float = 1000.0,
        solver: str = "auto",
        exact_limit: int = 12000,
        epsilon: float = 0.5,
        compare_priority: bool = True,
        random_state: int = 0,
        acceptance=None,
        widen: int | None = None,
        skills_tiebreak: float = 0.01,
        band_rule: str = "senior",
        excluded_pairs=(),
    ):
        self.weights = weights
        self.n_candidates = n_candidates
        self.priority = priority
        self.priority_points = priority_points
        self.solver = solver
        self.exact_limit = exact_limit
        self.epsilon = epsilon
        self.compare_priority = compare_priority
        self.random_state = random_state
        self.acceptance = acceptance
        self.widen = widen
        self.skills_tiebreak = skills_tiebreak
        self.band_rule = band_rule
        self.excluded_pairs = excluded_pairs

    def _pair_score(self, scorer: PairScorer) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """The score the round maximises: learned acceptance when allowed, else the fixed one."""
        if use_learned(self.acceptance):
            acceptance = self.acceptance
            return lambda e, m: acceptance.score_pairs(scorer.components(e, m))
        return scorer.score_pairs

    def _objective(self, scorer: PairScorer, graph) -> np.ndarray:
        """Edge scores the solve maximises: the graph's, plus the skills tie-break (fixed)."""
        if self.skills_tiebreak and not use_learned(self.acceptance) and graph.n_edges:
            covered = scorer.skills_covered(graph.mentee, graph.mentor)
            return graph.score + self.skills_tiebreak * covered
        return graph.score

    def _solve(self, scorer: PairScorer, graph, priority: bool) -> tuple[np.ndarray, str]:
        pop = scorer.population_
        score = self._objective(scorer, graph)
        n = pop.n_mentees
        method = self.solver
        if method == "auto":
            fallback = "exact" if n <= self.exact_limit else "auction"
            method = "flow" if flow_available() else fallback
        prio = pop.mentee_priority if priority else None
        if method == "flow":
            match = solve_flow(
                n,
                pop.mentor_capacity,
                graph.mentee,
                graph.mentor,
                score,
                priority=prio,
                priority_points=self.priority_points,
            )
        elif method == "exact":
            match = solve_weighted(
                n,
                pop.mentor_capacity,
                graph.mentee,
                graph.mentor,
                score,
                priority=prio,
                priority_points=self.priority_points,
            )
        elif method == "auction":
            benefit = score + 100.0
            if prio is not None:
                benefit = benefit + np.where(prio[graph.mentee], self.priority_points, 0.0)
            match, _ = auction_assign(
                n,
                pop.mentor_capacity,
                graph.mentee,
                graph.mentor,
                benefit,
                epsilon=self.epsilon,
            )
        else:
            raise ValueError(f"unknown solver {self.solver!r}")
        return match, method

    def fit(self, X: pd.DataFrame, y=None, *, progress: Progress | None = None) -> RoundMatcher:
        """Run the round on the member frame; return self."""
        check_member_frame(X)
        if self.n_candidates is not None and self.n_candidates < 1:
            raise ValueError("n_candidates must be at least 1")
        clock = StageClock()

        def stage(name: str, share: float) -> None:
            if progress is not None:
                progress(name, share)

        if not X["seeking_mentor"].astype(bool).any():
            # Nobody to match (a cohort nobody in which has joined yet, say): an empty round.
            self.result_ = _nobody_to_match(X, self.priority)
            self.match_ = np.empty(0, dtype=np.int64)
            stage("done", 1.0)
            return self

        clock.start()
        stage("features", 0.0)
        scorer = PairScorer(
            self.weights,
            random_state=self.random_state,
            band_rule=self.band_rule,
            excluded_pairs=self.excluded_pairs,
        ).fit(X)
        pop = scorer.population_
        clock.stop("features")

        clock.start()
        stage("candidates", 0.2)
        k = (
            self.n_candidates
            if self.n_candidates is not None
            else default_candidates(pop.n_mentees)
        )
        graph = add_mentor_side(scorer, candidate_graph(scorer, k), k)
        score_fn = self._pair_score(scorer)
        if use_learned(self.acceptance):
            graph = _rescored(graph, score_fn)
        clock.stop("candidates")

        clock.start()
        stage("coverage", 0.4)
        # The maximum-cardinality bound of the *full* feasible graph, exact: the maximum flow
        # of a compressed network with the same reachability (matching.coverage).
        bound = maximum_cardinality(pop)
        clock.stop("coverage")

        clock.start()
        stage("solve", 0.55)
        match, method = self._solve(scorer, graph, self.priority)
        if int((match >= 0).sum()) < bound:
            # The candidate graph holds no maximum matching: grow one from this matching along
            # sampled and augmenting edges of the full graph, add its edges, solve again.
            cover_match, _ = cover(
                pop,
                np.concatenate([graph.mentee, np.flatnonzero(match >= 0)]),
                np.concatenate([graph.mentor, match[match >= 0]]),
                bound=bound,
                seed=self.random_state,
            )
            graph = _with_edges(scorer, graph, cover_match, score_fn)
            match, method = self._solve(scorer, graph, self.priority)
            if int((match >= 0).sum()) < bound:
                match = cover_match  # coverage first, always
        clock.stop("solve")

        wide = self.widen or 0
        if wide > k:
            # Larger lists where they pay: the mentees left unmatched, or matched in the lower
            # half of their list, are the ones competing for places; give them their ``wide``
            # best mentors and solve again (the graph only grows, so the total cannot fall).
            clock.start()
            stage("widen", 0.7)
            frontier = _frontier(pop, graph, match, k)
            if len(frontier):
                more = candidate_graph(scorer, wide, mentees=frontier)
                if use_learned(self.acceptance):
                    more = _rescored(more, score_fn)
                graph = _merged(graph, more)
                again, method = self._solve(scorer, graph, self.priority)
                if int((again >= 0).sum()) >= int((match >= 0).sum()):
                    match = again
            clock.stop("widen")

        cost = None
        if self.priority and self.compare_priority and pop.mentee_priority.any():
            clock.start()
            base, _ = self._solve(scorer, graph, False)
            clock.stop("priority baseline")
            base_total = _total(score_fn, base)
            cost = (base_total - _total(score_fn, match)) / base_total if base_total else 0.0

        clock.start()
        stage("reasons", 0.85)
        # Stability is judged on the fixed scores both sides see explained in the reasons.
        fixed_graph = (
            _rescored(graph, scorer.score_pairs) if use_learned(self.acceptance) else graph
        )
        self.result_ = _summarise(scorer, fixed_graph, match, self.priority, cost, bound, k)
        clock.stop("reasons")
        self.result_.timings = clock.wall
        self.result_.cpu_timings = clock.cpu
        self.result_.solver = method
        self.result_.scoring = "learned" if use_learned(self.acceptance) else "fixed"
        self.scorer_ = scorer
        self.match_ = match
        self.candidates_ = graph
        stage("done", 1.0)
        return self

    def predict(self, X=None) -> pd.DataFrame:
        """The matches of the fitted round (one row per mentee)."""
        check_is_fitted(self, "result_")
        return self.result_.matches


def default_candidates(n_mentees: int) -> int:
    """Candidate mentors a mentee when ``n_candidates`` is None: larger lists where they pay.

    Measured on realistic populations (bench/bench_national.py): at 6,200 mentees the gap to
    the exact optimum is 0.035% with 16, 0.015% with 32 and 0.007% with 64 for about +1 s;
    above 30,000 mentees the candidate stage and the solve grow with k, so lists stay at 16.
    """
    if n_mentees <= 15_000:
        return 64
    if n_mentees <= 30_000:
        return 32
    return 16


def _frontier(pop, graph, match: np.ndarray, k: int) -> np.ndarray:
    """Mentees unmatched (but matchable) or matched in the lower half of their first ``k``."""
    from matching.rules import feasible_counts

    n = pop.n_mentees
    first = np.searchsorted(graph.mentee, np.arange(n))
    rank = np.arange(graph.n_edges) - first[graph.mentee]
    mine = match[graph.mentee] == graph.mentor
    my_rank = np.full(n, -1, np.int64)
    my_rank[graph.mentee[mine]] = rank[mine]
    _, _, feasible = feasible_counts(pop)
    low = (match < 0) & (feasible > 0)
    low |= my_rank >= k // 2
    return np.flatnonzero(low)


def _merged(graph, more):
    """Union of two candidate graphs (sorted by mentee, then score descending)."""
    from matching.candidates import CandidateGraph

    width = max(int(max(graph.mentor.max(initial=0), more.mentor.max(initial=0))) + 1, 1)
    mentee = np.concatenate([graph.mentee, more.mentee])
    mentor = np.concatenate([graph.mentor, more.mentor])
    score = np.concatenate([graph.score, more.score])
    _, keep = np.unique(mentee * width + mentor, return_index=True)
    mentee, mentor, score = mentee[keep], mentor[keep], score[keep]
    order = np.lexsort((-score, mentee))
    return CandidateGraph(mentee[order], mentor[order], score[order])


def _rescored(graph, score_fn: Callable[[np.ndarray, np.ndarray], np.ndarray]):
    """The same edges with scores from ``score_fn`` (sorted by mentee, then score)."""
    from matching.candidates import CandidateGraph

    score = score_fn(graph.mentee, graph.mentor) if graph.n_edges else graph.score
    order = np.lexsort((-score, graph.mentee))
    return CandidateGraph(graph.mentee[order], graph.mentor[order], score[order])


def _with_edges(
    scorer: PairScorer,
    graph,
    match: np.ndarray,
    score_fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
):
    """The candidate graph plus the edges of a matching that it lacks (sorted as before)."""
    from matching.candidates import CandidateGraph

    width = max(scorer.population_.n_mentors, 1)
    e = np.flatnonzero(match >= 0)
    new_keys = e * width + match[e]
    have = graph.mentee * width + graph.mentor
    new_keys = new_keys[~in_keys(new_keys, unique_keys(have))]
    if len(new_keys) == 0:
        return graph
    ne, nm = new_keys // width, new_keys % width
    mentee = np.concatenate([graph.mentee, ne])
    mentor = np.concatenate([graph.mentor, nm])
    score = np.concatenate([graph.score, score_fn(ne, nm)])
    order = np.lexsort((-score, mentee))
    return CandidateGraph(mentee[order], mentor[order], score[order])


def _total(score_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], match: np.ndarray) -> float:
    e = np.flatnonzero(match >= 0)
    return float(score_fn(e, match[e]).sum()) if len(e) else 0.0


def _summarise(
    scorer: PairScorer,
    graph,
    match: np.ndarray,
    priority: bool,
    cost: float | None,
    bound: int,
    n_candidates: int,
) -> RoundResult:
    pop = scorer.population_
    n = pop.n_mentees
    matched = match >= 0
    e = np.flatnonzero(matched)
    m = match[e]
    score = np.zeros(n)
    score[e] = scorer.score_pairs(e, m)
    # The stability scan is numpy and BLAS (it releases the GIL): run it beside the reasons,
    # which are Python.
    pool = ThreadPoolExecutor(1)
    blocking_job = pool.submit(blocking_pairs_full, scorer, match, score, graph, n_candidates)
    reasons = np.full(n, "", dtype=object)
    explained = match_reasons(scorer, e, m)
    reasons[e] = explained.cells
    why = unmatched_reasons(pop, matched)
    reasons[~matched] = why[~matched]
    mentor_ids = np.full(n, "", dtype=object)
    mentor_ids[e] = pop.member_ids[pop.mentor_rows[m]]
    matches = pd.DataFrame(
        {
            "mentee_id": pop.member_ids[pop.mentee_rows],
            "mentor_id": mentor_ids,
            "score": np.round(np.clip(score, 0, 100), 1),
            "reasons": reasons,
            "priority": pop.mentee_priority,
        }
    )
    n_sought, n_cov = explained.skills_sought, explained.skills_covered
    _, _, feasible = feasible_counts(pop)
    matchable = feasible > 0
    prio = pop.mentee_priority

    def rate(mask: np.ndarray) -> float:
        return float(matched[mask].mean()) if mask.any() else float("nan")

    blocking = blocking_job.result()
    pool.shutdown()
    why_counts = pd.Series(why[~matched]).value_counts().to_dict() if (~matched).any() else {}
    return RoundResult(
        matches=matches,
        n_mentees=n,
        n_mentors=pop.n_mentors,
        total_capacity=int(pop.mentor_capacity.sum()),
        matched=int(matched.sum()),
        bound=max(bound, int(matched.sum())),
        total_score=float(score[e].sum()),
        cross_org_share=float((pop.mentee_org[e] != pop.mentor_org[m]).mean()) if len(e) else 0.0,
        skills_covered=n_cov / n_sought if n_sought else float("nan"),
        unmatched_why={str(k): int(v) for k, v in why_counts.items()},
        priority=priority,
        priority_rate=rate(prio),
        other_rate=rate(~prio),
        priority_rate_matchable=rate(prio & matchable),
        other_rate_matchable=rate(~prio & matchable),
        priority_score_cost=cost,
        blocking_pairs=blocking,
    )


def _nobody_to_match(frame: pd.DataFrame, priority: bool) -> RoundResult:
    """The result of a round with no mentee in it: nothing matched, the mentors counted."""
    places = pd.to_numeric(frame["mentor_capacity"], errors="coerce").fillna(0)
    return RoundResult(
        matches=pd.DataFrame(
            {"mentee_id": [], "mentor_id": [], "score": [], "reasons": [], "priority": []}
        ),
        n_mentees=0,
        n_mentors=int((places > 0).sum()),
        total_capacity=int(places.sum()),
        matched=0,
        bound=0,
        total_score=0.0,
        cross_org_share=0.0,
        skills_covered=float("nan"),
        unmatched_why={},
        priority=priority,
        priority_rate=float("nan"),
        other_rate=float("nan"),
        priority_rate_matchable=float("nan"),
        other_rate_matchable=float("nan"),
        priority_score_cost=None,
        blocking_pairs=0,
    )


def run_round(
    frame: pd.DataFrame,
    *,
    weights: ScoreWeights | None = None,
    priority: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
    **params,
) -> RoundResult:
    """Run a matching round over a member frame and return its result."""
    matcher = RoundMatcher(weights=weights, priority=priority, random_state=seed, **params)
    return matcher.fit(frame, progress=progress).result_
