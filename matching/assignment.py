"""Capacitated assignment: weighted solve on the candidate graph, augmentation to the maximum
cardinality of the full feasible graph, and exact references for tests and benchmarks.

The weighted solve is a minimum-cost full matching (scipy's LAPJVsp,
``min_weight_full_bipartite_matching``) on mentor capacity slots plus one private "unmatched"
column per mentee. Costs are tiered so that the solver first matches as many mentees as the
graph allows, then (when priority is on) as many priority mentees as it can, then maximises the
total score.

The full feasible graph (every pair that passes the hard rules) has about half of all
mentee-mentor pairs, far too many edges to build at 50,000 x 25,000. Its maximum cardinality is
computed exactly by ``matching.coverage`` (maximum flow of a compressed network); this module's
breadth-first augmenting-path search, which never builds the graph either, finds the last few
paths of a covering matching: the mentors reachable from
a set of mentees are counted with band histograms (bands are ordered), organisation histograms
(for outside-organisation-only mentees) and the sparse list of line-management pairs. When no
augmenting path is left, the matching is maximum (Berge), so the bound is exact.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching, min_weight_full_bipartite_matching

from matching.rules import Population, feasible_matrix, feasible_pairs, in_chain

SCORE_UNITS = 100  # scores are solved in hundredths of a point
MAX_SCORE_UNITS = 100 * SCORE_UNITS
UNMATCHED_FACTOR = 20.0


def _slots(capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First slot of each mentor and the mentor of each slot."""
    capacity = np.asarray(capacity, np.int64)
    start = np.concatenate([[0], np.cumsum(capacity)])
    owner = np.repeat(np.arange(len(capacity)), capacity)
    return start, owner


def _expand(
    mentee: np.ndarray, mentor: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges to mentors -> edges to every capacity slot of those mentors."""
    start, _ = _slots(capacity)
    reps = capacity[mentor]
    edge = np.repeat(np.arange(len(mentee)), reps)
    offset = np.arange(len(edge)) - np.repeat(np.cumsum(reps) - reps, reps)
    return mentee[edge], start[mentor][edge] + offset, edge


def solve_weighted(
    n_mentees: int,
    capacity: np.ndarray,
    mentee: np.ndarray,
    mentor: np.ndarray,
    score: np.ndarray,
    *,
    priority: np.ndarray | None = None,
    priority_points: float = 1000.0,
) -> np.ndarray:
    """Best capacitated matching on the given edges: mentor index per mentee, -1 if none.

    Lexicographic objective: most mentees matched; then (with ``priority``) most priority
    mentees matched, worth ``priority_points`` each against the score; then highest total score.
    """
    capacity = np.asarray(capacity, np.int64)
    match = np.full(n_mentees, -1, np.int64)
    if n_mentees == 0 or len(mentee) == 0 or capacity.sum() == 0:
        return match
    n_slots = int(capacity.sum())
    units = np.rint(np.clip(score, 0, 100) * SCORE_UNITS).astype(np.int64)
    cost = (MAX_SCORE_UNITS - units + 1).astype(np.float64)
    top_tier = float(MAX_SCORE_UNITS + 1)
    if priority is not None and priority.any():
        bonus = priority_points * SCORE_UNITS
        cost += np.where(priority[mentee], 0.0, bonus)
        top_tier += bonus
    # An unmatched mentee must cost more than any rearrangement a longer matching needs.
    unmatched_cost = top_tier * UNMATCHED_FACTOR
    rows, cols, edge = _expand(np.asarray(mentee), np.asarray(mentor), capacity)
    all_rows = np.concatenate([rows, np.arange(n_mentees)])
    all_cols = np.concatenate([cols, n_slots + np.arange(n_mentees)])
    data = np.concatenate([cost[edge], np.full(n_mentees, unmatched_cost)])
    graph = csr_matrix((data, (all_rows, all_cols)), shape=(n_mentees, n_slots + n_mentees))
    row_ind, col_ind = min_weight_full_bipartite_matching(graph)
    _, owner = _slots(capacity)
    real = col_ind < n_slots
    match[row_ind[real]] = owner[col_ind[real]]
    return match


def _costs(
    score: np.ndarray,
    mentee: np.ndarray,
    priority: np.ndarray | None,
    priority_points: float,
) -> tuple[np.ndarray, int]:
    """Integer edge costs of the lexicographic objective and the cost of leaving one unmatched."""
    units = np.rint(np.clip(score, 0, 100) * SCORE_UNITS).astype(np.int64)
    cost = MAX_SCORE_UNITS - units + 1
    top_tier = MAX_SCORE_UNITS + 1
    if priority is not None and priority.any():
        bonus = round(priority_points * SCORE_UNITS)
        cost = cost + np.where(priority[mentee], 0, bonus)
        top_tier += bonus
    return cost, int(top_tier * UNMATCHED_FACTOR)


def flow_available() -> bool:
    """Whether OR-tools' min-cost-flow solver can be imported."""
    try:
        from ortools.graph.python import min_cost_flow  # noqa: F401
    except ImportError:
        return False
    return True


def solve_flow(
    n_mentees: int,
    capacity: np.ndarray,
    mentee: np.ndarray,
    mentor: np.ndarray,
    score: np.ndarray,
    *,
    priority: np.ndarray | None = None,
    priority_points: float = 1000.0,
) -> np.ndarray:
    """Same optimum as :func:`solve_weighted`, as a min-cost flow (OR-tools cost scaling).

    Mentors are nodes with their capacity on the arc to the sink, so no capacity slots are
    expanded; every mentee also has an arc to the sink that costs more than any score.
    """
    from ortools.graph.python import min_cost_flow

    capacity = np.asarray(capacity, np.int64)
    n_m = len(capacity)
    match = np.full(n_mentees, -1, np.int64)
    if n_mentees == 0 or len(mentee) == 0 or capacity.sum() == 0:
        return match
    mentee = np.asarray(mentee, np.int64)
    mentor = np.asarray(mentor, np.int64)
    cost, unmatched = _costs(score, mentee, priority, priority_points)
    sink = n_mentees + n_m
    tails = np.concatenate([mentee, np.arange(n_mentees), n_mentees + np.arange(n_m)])
    heads = np.concatenate([n_mentees + mentor, np.full(n_mentees + n_m, sink)])
    caps = np.concatenate([np.ones(len(mentee) + n_mentees, np.int64), capacity])
    costs = np.concatenate([cost, np.full(n_mentees, unmatched), np.zeros(n_m, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supply = np.zeros(sink + 1, np.int64)
    supply[:n_mentees] = 1
    supply[sink] = -n_mentees
    flow.set_nodes_supplies(np.arange(sink + 1), supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = flow.flows(np.arange(len(mentee))) > 0
    match[mentee[used]] = mentor[used]
    return match


def maximum_on_edges(
    n_mentees: int, capacity: np.ndarray, mentee: np.ndarray, mentor: np.ndarray
) -> np.ndarray:
    """A maximum-cardinality capacitated matching on the given edges (Hopcroft-Karp)."""
    capacity = np.asarray(capacity, np.int64)
    match = np.full(n_mentees, -1, np.int64)
    if n_mentees == 0 or len(mentee) == 0 or capacity.sum() == 0:
        return match
    rows, cols, _ = _expand(np.asarray(mentee), np.asarray(mentor), capacity)
    n_slots = int(capacity.sum())
    graph = csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(n_mentees, n_slots))
    res = maximum_bipartite_matching(graph, perm_type="column")
    _, owner = _slots(capacity)
    ok = res >= 0
    match[ok] = owner[res[ok]]
    return match


def _mentee_lists(match: np.ndarray, n_mentors: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of mentees by matched mentor."""
    matched = np.flatnonzero(match >= 0)
    order = matched[np.argsort(match[matched], kind="stable")]
    ptr = np.zeros(n_mentors + 1, np.int64)
    np.add.at(ptr, match[order] + 1, 1)
    return np.cumsum(ptr), order


class _Reach:
    """Counts, for a set of mentees, how many of them each mentor could take (hard rules)."""

    def __init__(self, pop: Population):
        self.pop = pop
        self.n_bands = 13
        self.chain_rows = np.repeat(np.arange(pop.n_mentees), np.diff(pop.chain_ptr))

    def counts(self, frontier: np.ndarray, mentors: np.ndarray) -> np.ndarray:
        """Number of mentees in ``frontier`` each of ``mentors`` may take."""
        pop = self.pop
        nb = self.n_bands
        mb = pop.mentor_band[mentors]
        hist = np.bincount(pop.mentee_band[frontier], minlength=nb)
        below = np.concatenate([[0], np.cumsum(hist)])  # below[b] = # band < b
        total = below[mb]
        out_f = frontier[pop.mentee_outside[frontier]]
        if len(out_f):
            org_keys, inv = np.unique(pop.mentee_org[out_f], return_inverse=True)
            grid = np.zeros((len(org_keys), nb + 1), np.int64)
            np.add.at(grid, (inv, pop.mentee_band[out_f] + 1), 1)
            grid = np.cumsum(grid, axis=1)  # grid[o, b] = # outside mentees of org o, band < b
            mo = pop.mentor_org[mentors]
            at = np.searchsorted(org_keys, mo)
            at = np.minimum(at, len(org_keys) - 1)
            hit = org_keys[at] == mo
            total = total - np.where(hit, grid[at, mb], 0)
        # line-management pairs that would otherwise count
        lo, hi = pop.chain_ptr[frontier], pop.chain_ptr[frontier + 1]
        cnt = hi - lo
        if cnt.sum():
            rows = np.repeat(frontier, cnt)
            first = np.repeat(np.cumsum(cnt) - cnt, cnt)
            cols = pop.chain_idx[np.arange(cnt.sum()) - first + np.repeat(lo, cnt)]
            ok = pop.mentor_band[cols] > pop.mentee_band[rows]
            ok &= ~(pop.mentee_outside[rows] & (pop.mentee_org[rows] == pop.mentor_org[cols]))
            pos = np.full(pop.n_mentors, -1, np.int64)
            pos[mentors] = np.arange(len(mentors))
            p = pos[cols[ok]]
            p = p[p >= 0]
            if len(p):
                total = total - np.bincount(p, minlength=len(mentors))
        return total

    def witness(self, layer: np.ndarray, mentor: int) -> int:
        """One mentee of ``layer`` that ``mentor`` may take."""
        pop = self.pop
        ok = pop.mentee_band[layer] < pop.mentor_band[mentor]
        ok &= ~(pop.mentee_outside[layer] & (pop.mentee_org[layer] == pop.mentor_org[mentor]))
        cand = layer[ok]
        cand = cand[~in_chain(pop, cand, np.full(len(cand), mentor))]
        return int(cand[0])


def augment_to_maximum(
    pop: Population, match: np.ndarray, *, max_rounds: int | None = None
) -> tuple[np.ndarray, int]:
    """Grow a feasible matching along augmenting paths of the full feasible graph.

    Returns the new matching and the number of augmentations. When it returns (without hitting
    ``max_rounds``), no augmenting path is left, so the matching has maximum cardinality.
    """
    match = match.copy()
    load = np.bincount(match[match >= 0], minlength=pop.n_mentors)
    reach = _Reach(pop)
    done = 0
    while max_rounds is None or done < max_rounds:
        free = np.flatnonzero(match < 0)
        if len(free) == 0 or pop.n_mentors == 0:
            break
        ptr, by_mentor = _mentee_lists(match, pop.n_mentors)
        seen_mentor = np.zeros(pop.n_mentors, bool)
        layers = [free]
        mentor_layers: list[np.ndarray] = []
        found = -1
        while True:
            unseen = np.flatnonzero(~seen_mentor)
            if len(unseen) == 0:
                break
            reached = unseen[reach.counts(layers[-1], unseen) > 0]
            if len(reached) == 0:
                break
            seen_mentor[reached] = True
            mentor_layers.append(reached)
            open_ = reached[load[reached] < pop.mentor_capacity[reached]]
            if len(open_):
                found = int(open_[0])
                break
            lo, hi = ptr[reached], ptr[reached + 1]
            cnt = hi - lo
            first = np.repeat(np.cumsum(cnt) - cnt, cnt)
            nxt = by_mentor[np.arange(cnt.sum()) - first + np.repeat(lo, cnt)]
            layers.append(nxt)
        if found < 0:
            break
        # Walk back: the mentor of layer L takes a witness mentee from mentee layer L, which
        # leaves its current mentor (in mentor layer L-1), and so on down to a free mentee.
        mentor = found
        load[mentor] += 1
        for level in range(len(layers) - 1, -1, -1):
            mentee = reach.witness(layers[level], mentor)
            previous = int(match[mentee])
            match[mentee] = mentor
            if level == 0:
                break
            mentor = previous
        done += 1
    return match, done


def maximum_cardinality_bruteforce(pop: Population) -> int:
    """Maximum number of mentees matchable, on the full capacity-expanded graph (small only)."""
    if pop.n_mentees == 0 or pop.n_mentors == 0:
        return 0
    feas = feasible_matrix(pop)
    e, m = np.nonzero(feas)
    rows, cols, _ = _expand(e, m, pop.mentor_capacity)
    n_slots = int(pop.mentor_capacity.sum())
    if n_slots == 0 or len(rows) == 0:
        return 0
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(pop.n_mentees, n_slots))
    res = maximum_bipartite_matching(graph, perm_type="column")
    return int((res >= 0).sum())


def exact_assignment(
    pop: Population, score: np.ndarray, *, cardinality: int | None = None
) -> tuple[np.ndarray, float]:
    """Exact lexicographic optimum (most matches, then highest total) by dense LSA.

    ``score`` is the dense (mentees x mentors) score matrix; infeasible pairs are excluded by
    the hard rules. Columns are capacity slots plus ``n - cardinality`` "unmatched" columns, so
    exactly ``cardinality`` mentees are matched. Returns (mentor per mentee, total score).
    """
    n = pop.n_mentees
    match = np.full(n, -1, np.int64)
    if n == 0 or pop.n_mentors == 0:
        return match, 0.0
    if cardinality is None:
        cardinality = maximum_cardinality_bruteforce(pop)
    feas = feasible_matrix(pop)
    _, owner = _slots(pop.mentor_capacity)
    big = 1e6
    slot_cost = np.where(feas[:, owner], -score[:, owner], big)
    dummy = np.zeros((n, n - cardinality))
    cost = np.hstack([slot_cost, dummy])
    rows, cols = linear_sum_assignment(cost)
    real = cols < len(owner)
    real &= cost[rows, cols] < big / 2
    match[rows[real]] = owner[cols[real]]
    total = float(score[rows[real], owner[cols[real]]].sum())
    return match, total


def exact_total(
    pop: Population,
    score_block,
    cardinality: int,
    *,
    block_size: int = 512,
) -> tuple[np.ndarray, float]:
    """Exact optimum by dense LSA on capacity-expanded columns, built a block of rows at a time.

    ``score_block(mentees)`` returns the (len(mentees) x n_mentors) score matrix. Memory is one
    float64 cost matrix of n x (slots + n - cardinality), so 10k mentees need about 1 GiB.
    Returns (mentor per mentee, total score).
    """
    n = pop.n_mentees
    match = np.full(n, -1, np.int64)
    if n == 0 or pop.n_mentors == 0 or cardinality == 0:
        return match, 0.0
    _, owner = _slots(pop.mentor_capacity)
    n_slots = len(owner)
    big = 1e6
    cost = np.zeros((n, n_slots + n - cardinality))
    m_all = np.arange(pop.n_mentors)
    for a in range(0, n, block_size):
        rows = np.arange(a, min(n, a + block_size))
        e = np.repeat(rows, pop.n_mentors)
        m = np.tile(m_all, len(rows))
        feas = feasible_pairs(pop, e, m).reshape(len(rows), -1)
        sc = np.asarray(score_block(rows), np.float64)
        cost[rows, :n_slots] = np.where(feas, -sc, big)[:, owner]
    rows, cols = linear_sum_assignment(cost)
    real = cols < n_slots
    real &= cost[rows, cols] < big / 2
    match[rows[real]] = owner[cols[real]]
    total = -float(cost[rows[real], cols[real]].sum())
    return match, total


def check_assignment(pop: Population, match: np.ndarray) -> None:
    """Raise ``AssertionError`` if the matching breaks a hard rule or a capacity."""
    e = np.flatnonzero(match >= 0)
    m = match[e]
    if not feasible_pairs(pop, e, m).all():
        raise AssertionError("matching contains a pair that breaks a hard rule")
    load = np.bincount(m, minlength=pop.n_mentors)
    if (load > pop.mentor_capacity).any():
        raise AssertionError("a mentor is over capacity")


def blocking_pairs(
    match: np.ndarray,
    mentee: np.ndarray,
    mentor: np.ndarray,
    score: np.ndarray,
    capacity: np.ndarray,
    match_score: np.ndarray,
) -> int:
    """Count candidate pairs that would both rather be together than with their matches.

    Preferences are the pair scores on both sides: a mentee prefers a higher-scoring mentor to
    its match (or to none), and a mentor prefers the pair to its weakest mentee, or has room.
    """
    n_m = len(capacity)
    matched = match >= 0
    own = np.where(matched, match_score, -np.inf)
    load = np.bincount(match[matched], minlength=n_m)
    weakest = np.full(n_m, np.inf)
    np.minimum.at(weakest, match[matched], match_score[matched])
    weakest = np.where(load < capacity, -np.inf, weakest)
    not_own = match[mentee] != mentor
    block = not_own & (score > own[mentee] + 1e-9) & (score > weakest[mentor] + 1e-9)
    return int(block.sum())


__all__ = [
    "augment_to_maximum",
    "blocking_pairs",
    "check_assignment",
    "exact_assignment",
    "exact_total",
    "flow_available",
    "maximum_cardinality_bruteforce",
    "maximum_on_edges",
    "solve_flow",
    "solve_weighted",
]
