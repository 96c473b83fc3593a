"""Forward auction for the capacitated assignment (Bertsekas), vectorised with numpy.

Mentees bid for mentors on the candidate graph; a mentor with capacity ``c`` keeps the ``c``
highest bids, and its price is its lowest kept bid once full (0 while it has room). Every
mentee may also stay unmatched (value 0). All unassigned mentees bid at once each round
(Jacobi bidding). With bid increment ``epsilon`` the result is within ``n * epsilon`` of the
optimal total benefit of the candidate graph (epsilon-complementary slackness).
"""

from __future__ import annotations

import numpy as np

from matching.keys import unique_keys


def auction_assign(
    n_mentees: int,
    capacity: np.ndarray,
    mentee: np.ndarray,
    mentor: np.ndarray,
    benefit: np.ndarray,
    *,
    epsilon: float = 0.01,
    max_rounds: int = 1_000_000,
    trace: list[int] | None = None,
) -> tuple[np.ndarray, int]:
    """Mentor index per mentee (-1 if unmatched) and the number of bidding rounds.

    Edges must be sorted by mentee. Benefits should be positive where matching is wanted.
    """
    capacity = np.asarray(capacity, np.int64)
    n_m = len(capacity)
    match = np.full(n_mentees, -1, np.int64)
    if n_mentees == 0 or len(mentee) == 0 or n_m == 0:
        return match, 0
    mentee = np.asarray(mentee, np.int64)
    mentor = np.asarray(mentor, np.int64)
    benefit = np.asarray(benefit, np.float64)
    ptr = np.zeros(n_mentees + 1, np.int64)
    np.add.at(ptr, mentee + 1, 1)
    ptr = np.cumsum(ptr)
    cap_max = int(capacity.max()) if n_m else 0
    slot_person = np.full((n_m, cap_max), -1, np.int64)
    slot_price = np.full((n_m, cap_max), -np.inf)
    valid_slot = np.arange(cap_max)[None, :] < capacity[:, None]
    price = np.zeros(n_m)
    # 0: still bidding, 1: holds a mentor, 2: settled on staying unmatched
    state = np.where(np.diff(ptr) > 0, 0, 2)
    rounds = 0
    while rounds < max_rounds:
        active = np.flatnonzero(state == 0)
        if len(active) == 0:
            break
        rounds += 1
        if trace is not None:
            trace.append(len(active))
        lo, hi = ptr[active], ptr[active + 1]
        cnt = hi - lo
        first = np.repeat(np.cumsum(cnt) - cnt, cnt)
        edge = np.arange(cnt.sum()) - first + np.repeat(lo, cnt)
        owner = np.repeat(np.arange(len(active)), cnt)
        value = benefit[edge] - price[mentor[edge]]
        starts = np.cumsum(cnt) - cnt
        best = np.maximum.reduceat(value, starts)
        is_best = value == best[owner]
        # first best edge of each mentee
        best_pos = np.full(len(active), -1, np.int64)
        cand = np.flatnonzero(is_best)
        best_pos[owner[cand[::-1]]] = cand[::-1]
        masked = value.copy()
        masked[best_pos] = -np.inf
        second = np.maximum.reduceat(masked, starts)
        second = np.maximum(second, 0.0)  # staying unmatched is worth 0
        gives_up = best <= 0.0
        state[active[gives_up]] = 2
        bidders = active[~gives_up]
        if len(bidders) == 0:
            continue
        keep = ~gives_up
        target = mentor[edge[best_pos[keep]]]
        bid = price[target] + (best[keep] - second[keep]) + epsilon
        # Each receiving mentor keeps its capacity's worth of the highest bids.
        recv = unique_keys(target)
        held_p = slot_person[recv].ravel()
        held_b = slot_price[recv].ravel()
        held_m = np.repeat(recv, cap_max)
        held_ok = held_p >= 0
        all_m = np.concatenate([held_m[held_ok], target])
        all_p = np.concatenate([held_p[held_ok], bidders])
        all_b = np.concatenate([held_b[held_ok], bid])
        order = np.lexsort((-all_b, all_m))
        all_m, all_p, all_b = all_m[order], all_p[order], all_b[order]
        group_start = np.flatnonzero(np.r_[True, all_m[1:] != all_m[:-1]])
        sizes = np.diff(np.r_[group_start, len(all_m)])
        rank = np.arange(len(all_m)) - np.repeat(group_start, sizes)
        kept = rank < capacity[all_m]
        state[all_p[~kept]] = 0
        state[all_p[kept]] = 1
        match[all_p[~kept]] = -1
        match[all_p[kept]] = all_m[kept]
        slot_person[recv] = -1
        slot_price[recv] = -np.inf
        km, kp, kb, kr = all_m[kept], all_p[kept], all_b[kept], rank[kept]
        slot_person[km, kr] = kp
        slot_price[km, kr] = kb
        full = (slot_person[recv] >= 0).sum(axis=1) == capacity[recv]
        low = np.where(valid_slot[recv], slot_price[recv], np.inf).min(axis=1)
        price[recv] = np.where(full, low, 0.0)
    return match, rounds
