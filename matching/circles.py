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


def _cost(group: list[int], people: Sequence[Waiting]) -> float:
    bands = np.array([people[i].band_rank for i in group], dtype=float)
    spread = float(((bands - bands.mean()) ** 2).sum())
    vectors = [np.array(people[i].interests, dtype=float) for i in group]
    if not vectors or not vectors[0].size or len({v.size for v in vectors}) != 1:
        return spread
    total = np.sum(vectors, axis=0)
    shared = (float(total @ total) - sum(float(v @ v) for v in vectors)) / 2
    return spread - 0.5 * shared


def _polish(groups: list[list[int]], people: Sequence[Waiting], rounds: int = 3) -> None:
    """Swaps between circles of one window that improve fit and keep organisations apart."""
    for _ in range(rounds):
        improved = False
        for gi in range(len(groups)):
            for hi in range(gi + 1, len(groups)):
                g, h = groups[gi], groups[hi]
                for a in range(len(g)):
                    for b in range(len(h)):
                        x, y = g[a], h[b]
                        org_g = {people[i].organisation for i in g if i != x}
                        org_h = {people[i].organisation for i in h if i != y}
                        if people[y].organisation in org_g or people[x].organisation in org_h:
                            continue
                        before = _cost(g, people) + _cost(h, people)
                        g[a], h[b] = y, x
                        if _cost(g, people) + _cost(h, people) < before - 1e-9:
                            improved = True
                        else:
                            g[a], h[b] = x, y
        if not improved:
            return
