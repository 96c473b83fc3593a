"""Peer circles as an optimisation: sizes, band spread and organisations as hard constraints.

A circle has 4-6 members, its bands at most ``MAX_BAND_SPREAD`` apart, and no two members from
one organisation. Waiting people top up existing circles with room first, then form new
circles; whoever cannot be placed without breaking a rule keeps waiting.

One mixed-integer programme (``scipy.optimize.milp``) decides, for every band window
``[w, w + MAX_BAND_SPREAD]``, who joins a new circle in that window and how many circles it
has (``k``), and who tops up which existing circle. A window's pool splits into ``k`` circles of
4-6 with distinct organisations exactly when ``4k <= pool <= 6k`` and no organisation has more
than ``k`` people in it (deal them round-robin, organisation by organisation), so the programme
stays small (people x windows) and solves in well under a second for a few hundred people.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

MIN_SIZE = 4
MAX_SIZE = 6
MAX_BAND_SPREAD = 2  # highest band rank minus lowest, within one circle


@dataclass(frozen=True)
class Waiting:
    """One person waiting for a circle."""

    person_id: int
    band_rank: int
    organisation: Hashable
    interests: tuple[float, ...] = ()


@dataclass(frozen=True)
class OpenCircle:
    """An existing circle: its members' bands and organisations."""

    circle_id: int
    band_ranks: tuple[int, ...]
    organisations: tuple[Hashable, ...]

    @property
    def room(self) -> int:
        return max(MAX_SIZE - len(self.band_ranks), 0)


@dataclass
class Plan:
    """Who tops up which circle, the new circles (person ids), and who keeps waiting."""

    top_ups: dict[int, list[int]] = field(default_factory=dict)
    new_circles: list[list[int]] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)


def plan(people: Sequence[Waiting], circles: Sequence[OpenCircle] = ()) -> Plan:
    """Place as many people as the rules allow: top-ups first, then new circles, then fit."""
    if len({p.person_id for p in people}) != len(people):
        raise ValueError("people: each person may wait only once")
    n = len(people)
    if n == 0:
        return Plan()
    bands = [p.band_rank for p in people]
    lo, hi = min(bands), max(bands)
    windows = list(range(lo, max(hi - MAX_BAND_SPREAD, lo) + 1))
    # Variables: x[i, w] (person i in window w's new circles), k[w], z[i, c] (top-up).
    x_index: dict[tuple[int, int], int] = {}
    for i, p in enumerate(people):
        for w in windows:
            if w <= p.band_rank <= w + MAX_BAND_SPREAD:
                x_index[(i, w)] = len(x_index)
    k_index = {w: len(x_index) + j for j, w in enumerate(windows)}
    z_index: dict[tuple[int, int], int] = {}
    base = len(x_index) + len(windows)
    for ci, c in enumerate(circles):
        if c.room == 0:
            continue
        for i, p in enumerate(people):
            spread = max((*c.band_ranks, p.band_rank)) - min((*c.band_ranks, p.band_rank))
            if spread <= MAX_BAND_SPREAD and p.organisation not in c.organisations:
                z_index[(i, ci)] = base + len(z_index)
    # Top-ups into one circle must also keep its spread: give each circle one window.
    u_index: dict[tuple[int, int], int] = {}
    base = base + len(z_index)
    for ci, c in enumerate(circles):
        if c.room == 0 or not c.band_ranks:
            continue
        for w in range(max(c.band_ranks) - MAX_BAND_SPREAD, min(c.band_ranks) + 1):
            u_index[(ci, w)] = base + len(u_index)
    size = base + len(u_index)

    place, top_up_bonus = float((n + 1) * (n + 2)), float(n + 1)
    cost = np.zeros(size)
    for (i, w), v in x_index.items():
        cost[v] = -place + abs(people[i].band_rank - (w + MAX_BAND_SPREAD / 2)) / (n + 1)
    for v in z_index.values():
        cost[v] = -place - top_up_bonus
    rows: list[tuple[dict[int, float], float, float]] = []
    for i in range(n):  # each person at most once
        terms = {v: 1.0 for (j, _), v in x_index.items() if j == i}
        terms.update({v: 1.0 for (j, _), v in z_index.items() if j == i})
        rows.append((terms, 0, 1))
    for w in windows:
        pool = {v: 1.0 for (_, ww), v in x_index.items() if ww == w}
        rows.append(({**pool, k_index[w]: -MIN_SIZE}, 0, np.inf))
        rows.append(({**pool, k_index[w]: -MAX_SIZE}, -np.inf, 0))
        by_org: dict[Hashable, dict[int, float]] = defaultdict(dict)
        for (i, ww), v in x_index.items():
            if ww == w:
                by_org[people[i].organisation][v] = 1.0
        for terms in by_org.values():
            rows.append(({**terms, k_index[w]: -1.0}, -np.inf, 0))
    for ci, c in enumerate(circles):
        mine = {(i, v) for (i, cc), v in z_index.items() if cc == ci}
        if not mine:
            continue
        rows.append(({v: 1.0 for _, v in mine}, 0, c.room))
        by_org = defaultdict(dict)
        for i, v in mine:
            by_org[people[i].organisation][v] = 1.0
        rows.extend((terms, 0, 1) for terms in by_org.values())
        choices = {w: v for (cc, w), v in u_index.items() if cc == ci}
        rows.append(({v: 1.0 for v in choices.values()}, 0, 1))
        for i, v in mine:
            fits = {
                u: -1.0
                for w, u in choices.items()
                if w <= people[i].band_rank <= w + MAX_BAND_SPREAD
            }
            rows.append(({v: 1.0, **fits}, -np.inf, 0))
    matrix = lil_matrix((len(rows), size))
    low, up = np.zeros(len(rows)), np.zeros(len(rows))
    for r, (terms, a, b) in enumerate(rows):
        for v, coefficient in terms.items():
            matrix[r, v] = coefficient
        low[r], up[r] = a, b
    upper = np.ones(size)
    for v in k_index.values():
        upper[v] = n // MIN_SIZE
    result = milp(
        cost,
        constraints=LinearConstraint(matrix.tocsr(), low, up),
        integrality=np.ones(size),
        bounds=Bounds(np.zeros(size), upper),
        options={"time_limit": 20},
    )
    if result.x is None:
        return Plan(waiting=[p.person_id for p in people])
    chosen = np.round(result.x).astype(int)
    outcome = Plan()
    placed: set[int] = set()
    for (i, ci), v in sorted(z_index.items()):
        if chosen[v]:
            outcome.top_ups.setdefault(circles[ci].circle_id, []).append(people[i].person_id)
            placed.add(i)
    for w in windows:
        members = [i for (i, ww), v in x_index.items() if ww == w and chosen[v]]
        k = int(chosen[k_index[w]])
        if not members or k == 0:
            continue
        groups = _deal(members, k, people)
        _polish(groups, people)
        outcome.new_circles.extend([people[i].person_id for i in g] for g in groups)
        placed.update(members)
    outcome.waiting = [p.person_id for i, p in enumerate(people) if i not in placed]
    return outcome


def _deal(pool: list[int], k: int, people: Sequence[Waiting]) -> list[list[int]]:
    """Deal a pool into ``k`` circles, organisation by organisation, so none shares one."""
    counts: dict[Hashable, int] = defaultdict(int)
    for i in pool:
        counts[people[i].organisation] += 1
    order = sorted(
        pool,
        key=lambda i: (-counts[people[i].organisation], str(people[i].organisation), i),
    )
    groups: list[list[int]] = [[] for _ in range(k)]
    for slot, i in enumerate(order):
        groups[slot % k].append(i)
    return groups


def _vectors(people: Sequence[Waiting]) -> np.ndarray:
    """Interest vectors as one matrix (zeros when absent or of mixed lengths)."""
    sizes = {len(p.interests) for p in people}
    if len(sizes) != 1 or not next(iter(sizes)):
        return np.zeros((len(people), 1))
    return np.array([p.interests for p in people], dtype=float)


def _cost(group: list[int], bands: np.ndarray, vectors: np.ndarray) -> float:
    """Lower is better: the spread of bands, less the interest the members share."""
    b = bands[group]
    spread = float(((b - b.mean()) ** 2).sum())
    total = vectors[group].sum(axis=0)
    shared = (float(total @ total) - float((vectors[group] ** 2).sum())) / 2
    return spread - 0.5 * shared


def _swap_costs(g: list[int], h: list[int], bands: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """The cost of circles ``g`` and ``h`` after swapping ``g[a]`` with ``h[b]``, for every
    ``(a, b)`` at once (the same sums ``_cost`` takes, updated for the swap)."""
    bg, bh = bands[g], bands[h]
    vg, vh = vectors[g], vectors[h]
    cross = vg @ vh.T  # vx . vy
    norms_g, norms_h = (vg**2).sum(axis=1), (vh**2).sum(axis=1)

    def side(b_out, b_in, v_out, v_in, sums, n_out, n_in, cross_out_in):
        sb, sb2 = sums[0].sum(), (sums[0] ** 2).sum()
        total = sums[1].sum(axis=0)
        squares = (sums[1] ** 2).sum()
        new_sb = sb - b_out[:, None] + b_in[None, :]
        new_sb2 = sb2 - b_out[:, None] ** 2 + b_in[None, :] ** 2
        spread = new_sb2 - new_sb**2 / len(sums[0])
        # |T - v_out + v_in|^2 with every dot product from the matrices above.
        t_out, t_in = v_out @ total, v_in @ total
        new_total = (
            total @ total
            + n_out[:, None]
            + n_in[None, :]
            - 2 * t_out[:, None]
            + 2 * t_in[None, :]
            - 2 * cross_out_in
        )
        new_squares = squares - n_out[:, None] + n_in[None, :]
        return spread - 0.5 * (new_total - new_squares) / 2

    cost_g = side(bg, bh, vg, vh, (bg, vg), norms_g, norms_h, cross)
    cost_h = side(bh, bg, vh, vg, (bh, vh), norms_h, norms_g, cross.T).T
    return cost_g + cost_h


def _polish(groups: list[list[int]], people: Sequence[Waiting], rounds: int = 3) -> None:
    """Swaps between circles of one window that improve fit and keep organisations apart."""
    bands = np.array([p.band_rank for p in people], dtype=float)
    vectors = _vectors(people)
    orgs = [p.organisation for p in people]
    for _ in range(rounds):
        improved = False
        for gi in range(len(groups)):
            for hi in range(gi + 1, len(groups)):
                g, h = groups[gi], groups[hi]
                before = _cost(g, bands, vectors) + _cost(h, bands, vectors)
                after = _swap_costs(g, h, bands, vectors)
                # A swap may not bring an organisation into a circle that already has it.
                count_g: dict[Hashable, int] = defaultdict(int)
                count_h: dict[Hashable, int] = defaultdict(int)
                for i in g:
                    count_g[orgs[i]] += 1
                for i in h:
                    count_h[orgs[i]] += 1
                for a, x in enumerate(g):
                    for b, y in enumerate(h):
                        if orgs[x] != orgs[y] and (count_g[orgs[y]] or count_h[orgs[x]]):
                            after[a, b] = np.inf
                best_a, best_b = np.unravel_index(int(np.argmin(after)), after.shape)
                if after[best_a, best_b] < before - 1e-9:
                    g[best_a], h[best_b] = h[best_b], g[best_a]
                    improved = True
        if not improved:
            return
