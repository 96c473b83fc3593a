"""The exact optimum of a round's own score over the *full* feasible graph (a reference).

A round solves on a sparse candidate graph; this module finds the optimum over every feasible
pair without building them all, by pricing (column generation) on the min-cost flow of
``assignment.solve_flow``: source-free network mentees (supply 1) -> mentors (capacity) ->
sink, plus one "unmatched" arc per mentee that costs more than any rearrangement, so the
flow first matches as many mentees as the rules allow, then maximises total score.

1. Solve the min-cost flow on the current edges (OR-tools, integer costs).
2. Node potentials: shortest distances in the residual network from a virtual root joined to
   every node (Bellman-Ford, vectorised). At an optimum there is no negative cycle, and every
   residual arc has reduced cost ``cost + d[tail] - d[head] >= 0``.
3. Price every feasible pair not yet in the graph (every block of scores, as the candidate
   stage computes them): a pair with negative reduced cost could improve the flow; add them
   all and go back to 1.

When no feasible pair prices out, the potentials certify that the flow is optimal on the full
feasible graph (linear-programming duality; the min-cost flow polytope is integral), so the
result is the exact optimum. Costs are the score in units of 1/``scale`` of a point, so the
total differs from the optimum of the unrounded scores by at most ``matched / scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matching.candidates import CandidateGraph, ScoreBlocks
from matching.scoring import PairScorer


@dataclass
class ExactResult:
    """The exact optimum: mentor per mentee (-1 unmatched), its total score, and the work done."""

    match: np.ndarray
    total: float
    matched: int
    rounds: int  # min-cost flow solves
    edges: int  # edges of the last graph
    added: int  # edges added by pricing


def _solve(n: int, capacity: np.ndarray, e: np.ndarray, m: np.ndarray, cost: np.ndarray, big):
    from ortools.graph.python import min_cost_flow

    n_m = len(capacity)
    sink = n + n_m
    tails = np.concatenate([e, np.arange(n), n + np.arange(n_m)])
    heads = np.concatenate([n + m, np.full(n + n_m, sink)])
    caps = np.concatenate([np.ones(len(e) + n, np.int64), capacity])
    costs = np.concatenate([cost, np.full(n, big, np.int64), np.zeros(n_m, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supply = np.zeros(sink + 1, np.int64)
    supply[:n] = 1
    supply[sink] = -n
    flow.set_nodes_supplies(np.arange(sink + 1), supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    return flow.flows(np.arange(len(tails))), tails, heads, caps, costs


def potentials(
    n_nodes: int,
    tails: np.ndarray,
    heads: np.ndarray,
    caps: np.ndarray,
    costs: np.ndarray,
    flows: np.ndarray,
) -> np.ndarray:
    """Shortest distances in the residual network from a root joined to every node (cost 0).

    Raises ``RuntimeError`` if the residual network has a negative cycle (the flow is not
    optimal).
    """
    fwd = flows < caps
    back = flows > 0
    t = np.concatenate([tails[fwd], heads[back]])
    h = np.concatenate([heads[fwd], tails[back]])
    c = np.concatenate([costs[fwd], -costs[back]]).astype(np.int64)
    order = np.argsort(h, kind="stable")
    t, h, c = t[order], h[order], c[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]]) if len(h) else np.zeros(0, np.int64)
    targets = h[starts]
    d = np.zeros(n_nodes, np.int64)
    for _ in range(n_nodes + 1):
        best = np.minimum.reduceat(d[t] + c, starts) if len(t) else np.zeros(0, np.int64)
        better = best < d[targets]
        if not better.any():
            return d
        d[targets[better]] = best[better]
    raise RuntimeError("negative cycle in the residual network: the flow is not optimal")


def exact_optimum(
    scorer: PairScorer,
    graph: CandidateGraph,
    *,
    scale: int = 10_000,
    max_rounds: int = 50,
    margin: float = 0.01,
) -> ExactResult:
    """The exact optimum of ``scorer``'s scores over the full feasible graph, from ``graph``.

    ``graph`` is any set of feasible edges to start from (a round's candidate graph: the
    closer to the optimum, the fewer rounds). Scores are ``score_pairs`` in units of
    1/``scale`` of a point; ``margin`` (points) covers the float32 block scores when pricing,
    and every priced pair is checked on its exact score.
    """
    pop = scorer.population_
    n, n_m = pop.n_mentees, pop.n_mentors
    capacity = np.asarray(pop.mentor_capacity, np.int64)
    e = np.asarray(graph.mentee, np.int64)
    m = np.asarray(graph.mentor, np.int64)
    units = np.rint(np.clip(scorer.score_pairs(e, m), 0, 100) * scale).astype(np.int64)
    top = 100 * scale + 1  # cost of a pair = top - units >= 1
    # Unmatched costs more than any path of alternating pairs could gain: most matches first.
    big = (n + 1) * top
    blocks = ScoreBlocks(scorer, np.arange(n))
    width = max(n_m, 1)
    added = 0
    for rounds in range(1, max_rounds + 1):
        flows, tails, heads, caps, costs = _solve(n, capacity, e, m, top - units, big)
        d = potentials(n + n_m + 1, tails, heads, caps, costs, flows)
        # A pair (i, j) prices out when top - u_ij + d[i] - d[n + j] < 0, i.e. u_ij > limit.
        limit_e = top + d[:n]
        d_m = d[n : n + n_m]
        have = np.sort(e * width + m)

        def price(job, s: np.ndarray, limit_e=limit_e, d_m=d_m) -> tuple[np.ndarray, ...]:
            blk, start, _, w = job
            cols = blocks.order_m[start : start + w]
            limit = (limit_e[blk][:, None] - d_m[cols][None, :]) / scale
            r, c = np.nonzero(s[:, :w] > limit - margin)
            return blk[r], cols[c]

        fresh = [p for p in blocks.map(price) if len(p[0])]
        if fresh:
            fe = np.concatenate([p[0] for p in fresh])
            fm = np.concatenate([p[1] for p in fresh])
            key = fe * width + fm
            at = np.minimum(np.searchsorted(have, key), len(have) - 1)
            new = have[at] != key if len(have) else np.ones(len(key), bool)
            fe, fm = fe[new], fm[new]
            fu = np.rint(np.clip(scorer.score_pairs(fe, fm), 0, 100) * scale).astype(np.int64)
            out = fu > limit_e[fe] - d_m[fm]
            fe, fm, fu = fe[out], fm[out], fu[out]
        else:
            fe = fm = fu = np.zeros(0, np.int64)
        if len(fe) == 0:
            used = flows[: len(e)] > 0
            match = np.full(n, -1, np.int64)
            match[e[used]] = m[used]
            total = float(scorer.score_pairs(e[used], m[used]).sum()) if used.any() else 0.0
            return ExactResult(match, total, int(used.sum()), rounds, len(e), added)
        e, m, units = np.concatenate([e, fe]), np.concatenate([m, fm]), np.concatenate([units, fu])
        added += len(fe)
    raise RuntimeError(f"pricing did not converge in {max_rounds} rounds")


__all__ = ["ExactResult", "exact_optimum", "potentials"]
