"""Coverage: the maximum number of mentees any assignment could match, and a matching that size.

The full feasible graph (every pair that passes the hard rules) has about half of all
mentee-mentor pairs, far too many edges to build at national scale. Its maximum cardinality is
the maximum flow of an exact *compressed* network with the same reachability:

- every mentor is a node with an arc of its capacity to the sink;
- mentors are grouped by (band, organisation); a group node reaches each of its mentors;
- ``U[b]`` reaches every mentor above band ``b`` (a chain over the bands);
- ``Pre[b][o]`` and ``Suf[b][o]`` reach the band-``b`` mentors of organisations before and
  after ``o``, and ``N[o][b]`` every mentor above band ``b`` outside organisation ``o``;
- mentees with the same band, the same exclusions (own organisation when outside-only) and the
  same line-management mentors above their band form one class, fed from the source with its
  size; a class reaches exactly the mentors its members may take: ``U[b]`` or ``N[o][b]``, plus
  the groups of the organisations of its chain mentors, those groups that hold one of them
  mentor by mentor.

Every path from a class ends at a mentor its members may take, and every such mentor is reached,
so the maximum flow is the maximum-cardinality bound of the full feasible graph (tests check it
against brute force). OR-Tools' ``SimpleMaxFlow`` solves it (scipy's Dinic when OR-Tools is
missing).

A matching of that size is then found without building the graph: Hopcroft-Karp on the
candidate graph, grown with edges from mentors that still have room to sampled feasible mentees
(and from unmatched mentees to sampled feasible mentors with room), and, only for what is still
missing, breadth-first augmenting paths on the full feasible graph, which stop as soon as the
bound is reached.
"""

from __future__ import annotations

import numpy as np

from matching.assignment import augment_to_maximum, maximum_on_edges
from matching.keys import in_keys, unique_keys
from matching.rules import Population, feasible_pairs

N_BANDS = 13


def _classes(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mentee classes: class of each mentee, and per class the CSR of its chain mentors.

    A mentee's chain mentors are the mentors of its line-management chain that the band and
    organisation rules would otherwise allow. Returns (class per mentee, representative mentee
    per class, class CSR pointer, class CSR mentors).
    """
    n = pop.n_mentees
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(pop.chain_ptr))
    cols = pop.chain_idx
    keep = pop.mentor_band[cols] > pop.mentee_band[rows]
    keep &= ~(pop.mentee_outside[rows] & (pop.mentor_org[cols] == pop.mentee_org[rows]))
    rows, cols = rows[keep], cols[keep]
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    x_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    # Two independent 64-bit hashes of each mentee's chain-mentor list, checked after grouping.
    rng = np.random.default_rng(12345)
    salt = rng.integers(1, 2**62, size=(2, max(pop.n_mentors, 1)), dtype=np.int64)
    h1 = np.zeros(n, np.int64)
    h2 = np.zeros(n, np.int64)
    np.add.at(h1, rows, salt[0][cols])
    np.bitwise_xor.at(h2, rows, salt[1][cols])
    has_x = np.diff(x_ptr) > 0
    org = np.where(pop.mentee_outside | has_x, pop.mentee_org, -1)
    code = (pop.mentee_band * (pop.n_orgs + 1) + org + 1) * 2 + pop.mentee_outside
    with np.errstate(over="ignore"):
        key = h1 * np.int64(0x9E3779B97F4A7C15 - 2**64) + h2 + code * np.int64(0x632BE59BD9B4E019)
    _, rep, cls = np.unique(key, return_index=True, return_inverse=True)
    cls = cls.ravel()
    # Check that every mentee's class is really its representative's (hash collisions).
    length = np.diff(x_ptr)
    same = (length == length[rep[cls]]) & (code == code[rep[cls]])
    if rows.size:
        mine = np.arange(len(rows)) - x_ptr[rows]
        theirs = cols[x_ptr[rep[cls[rows]]] + np.minimum(mine, length[rep[cls[rows]]] - 1)]
        bad = np.zeros(n, bool)
        np.logical_or.at(bad, rows, theirs != cols)
        same &= ~bad
    if not same.all():  # astronomically unlikely: give the odd mentees classes of their own
        odd = np.flatnonzero(~same)
        cls = cls.copy()
        cls[odd] = len(rep) + np.arange(len(odd))
        rep = np.concatenate([rep, odd])
    c_ptr = np.concatenate([[0], np.cumsum(length[rep])])
    cnt = length[rep]
    pos = np.repeat(x_ptr[rep], cnt) + np.arange(cnt.sum()) - np.repeat(c_ptr[:-1], cnt)
    c_idx = cols[pos]
    return cls, rep, c_ptr, c_idx


def feasible_network(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """The compressed network of the full feasible graph: (tails, heads, capacities, source,
    sink). Its maximum flow from source to sink is the maximum-cardinality bound."""
    n_m, n_o, nb = pop.n_mentors, max(pop.n_orgs, 1), N_BANDS
    inf = max(pop.n_mentees, 1)
    cls, rep, c_ptr, c_idx = _classes(pop)
    # Only mentors in some class's chain list need a node of their own; the others of each
    # (band, organisation) group are one "clean" node with their total capacity.
    chain_m = unique_keys(c_idx)
    leaf_of = np.full(n_m, -1, np.int64)
    leaf_of[chain_m] = np.arange(len(chain_m))
    source, sink = 0, 1
    leaf0 = 2
    # dense (band, org) blocks of node ids
    q0 = leaf0 + len(chain_m)
    clean0 = q0 + nb * n_o
    pre0 = clean0 + nb * n_o
    suf0 = pre0 + nb * n_o
    nn0 = suf0 + nb * n_o
    u0 = nn0 + nb * n_o
    cls0 = u0 + nb

    def q(b, o):
        return q0 + b * n_o + o

    def clean(b, o):
        return clean0 + b * n_o + o

    def pre(b, o):
        return pre0 + b * n_o + o

    def suf(b, o):
        return suf0 + b * n_o + o

    def nn(o, b):
        return nn0 + b * n_o + o

    tails: list[np.ndarray] = []
    heads: list[np.ndarray] = []
    caps: list[np.ndarray] = []

    def arcs(t, h, c=inf):
        t = np.asarray(t, np.int64).ravel()
        tails.append(t)
        heads.append(np.broadcast_to(np.asarray(h, np.int64), t.shape).ravel())
        caps.append(np.broadcast_to(np.asarray(c, np.int64), t.shape).ravel())

    is_clean = leaf_of < 0
    group = pop.mentor_band * n_o + pop.mentor_org
    clean_cap = np.bincount(
        group[is_clean], weights=pop.mentor_capacity[is_clean], minlength=nb * n_o
    ).astype(np.int64)
    arcs(clean0 + np.arange(nb * n_o), sink, clean_cap)
    arcs(q0 + np.arange(nb * n_o), clean0 + np.arange(nb * n_o))
    arcs(leaf0 + np.arange(len(chain_m)), sink, pop.mentor_capacity[chain_m])
    arcs(q0 + group[chain_m], leaf0 + np.arange(len(chain_m)))
    bands = np.arange(nb)
    orgs = np.arange(n_o)
    bb, oo = np.meshgrid(bands, orgs, indexing="ij")
    # Pre[b][o] -> Pre[b][o-1], Q[b][o-1]; Suf[b][o] -> Suf[b][o+1], Q[b][o+1]
    sel = oo >= 1
    arcs(pre(bb[sel], oo[sel]), pre(bb[sel], oo[sel] - 1))
    arcs(pre(bb[sel], oo[sel]), q(bb[sel], oo[sel] - 1))
    sel = oo <= n_o - 2
    arcs(suf(bb[sel], oo[sel]), suf(bb[sel], oo[sel] + 1))
    arcs(suf(bb[sel], oo[sel]), q(bb[sel], oo[sel] + 1))
    # N[o][b] -> N[o][b+1], Pre[b+1][o], Suf[b+1][o]; U[b] -> U[b+1], Q[b+1][*]
    sel = bb <= nb - 2
    b1, o1 = bb[sel], oo[sel]
    arcs(nn(o1, b1), nn(o1, b1 + 1))
    arcs(nn(o1, b1), pre(b1 + 1, o1))
    arcs(nn(o1, b1), suf(b1 + 1, o1))
    arcs(u0 + b1, q(b1 + 1, o1))
    arcs(u0 + bands[:-1], u0 + bands[1:])

    n_c = len(rep)
    size = np.bincount(cls, minlength=n_c)
    arcs(np.full(n_c, source), cls0 + np.arange(n_c), size)
    c_band = pop.mentee_band[rep]
    c_org = pop.mentee_org[rep]
    c_out = pop.mentee_outside[rep]
    n_x = np.diff(c_ptr)
    x_org = pop.mentor_org[c_idx]
    x_cls = np.repeat(np.arange(n_c), n_x)
    # special organisations of each class: own (outside-only) and those of its chain mentors
    sp_keys = unique_keys(
        np.concatenate([np.flatnonzero(c_out) * n_o + c_org[c_out], x_cls * n_o + x_org]).astype(
            np.int64
        )
    )
    sp_cls, sp_org = sp_keys // n_o, sp_keys % n_o
    n_sp = np.bincount(sp_cls, minlength=n_c)
    ids = np.arange(n_c)
    plain = n_sp == 0
    arcs(cls0 + ids[plain], u0 + c_band[plain])
    one = n_sp == 1
    first = np.full(n_c, -1, np.int64)
    first[sp_cls[::-1]] = sp_org[::-1]
    arcs(cls0 + ids[one], nn(first[one], c_band[one]))
    # classes with two or more special organisations: every other (band, org) group directly
    many = np.flatnonzero(n_sp >= 2)
    for c in many:
        skip = set(sp_org[sp_cls == c].tolist())
        others = np.array([o for o in range(n_o) if o not in skip], np.int64)
        gb, go = np.meshgrid(np.arange(c_band[c] + 1, nb), others, indexing="ij")
        arcs(np.full(gb.size, cls0 + c), q(gb.ravel(), go.ravel()))
    # partially excluded organisations (those of chain mentors, unless outside-only excludes
    # the whole organisation): clean groups whole, groups holding a chain mentor one by one
    part = unique_keys(x_cls * n_o + x_org)
    p_cls, p_org = part // n_o, part % n_o
    full_out = c_out[p_cls] & (p_org == c_org[p_cls])
    p_cls, p_org = p_cls[~full_out], p_org[~full_out]
    span = nb - 1 - c_band[p_cls]
    g_cls = np.repeat(p_cls, span)
    g_org = np.repeat(p_org, span)
    g_band = np.repeat(c_band[p_cls] + 1, span) + (
        np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span)
    )
    dirty_keys = unique_keys((x_cls * nb + pop.mentor_band[c_idx]) * n_o + x_org)
    g_keys = (g_cls * nb + g_band) * n_o + g_org
    dirty = in_keys(g_keys, dirty_keys)
    arcs(cls0 + g_cls[~dirty], q(g_band[~dirty], g_org[~dirty]))
    if dirty.any():
        # the clean part of each dirty group, and its chain mentors not in the class's list
        d_cls = g_cls[dirty]
        d_grp = g_band[dirty] * n_o + g_org[dirty]
        arcs(cls0 + d_cls, clean0 + d_grp)
        gkey = group[chain_m]
        by_group = np.argsort(gkey, kind="stable")
        g_ptr = np.concatenate([[0], np.cumsum(np.bincount(gkey, minlength=nb * n_o))])
        cnt = g_ptr[d_grp + 1] - g_ptr[d_grp]
        e_cls = np.repeat(d_cls, cnt)
        start = np.repeat(g_ptr[d_grp], cnt)
        e_leaf = by_group[start + np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)]
        n_l = max(len(chain_m), 1)
        banned = in_keys(e_cls * n_l + e_leaf, unique_keys(x_cls * n_l + leaf_of[c_idx]))
        arcs(cls0 + e_cls[~banned], leaf0 + e_leaf[~banned])
    return (
        np.concatenate(tails),
        np.concatenate(heads),
        np.concatenate(caps),
        source,
        sink,
    )


def maximum_cardinality(pop: Population) -> int:
    """The maximum-cardinality bound of the full feasible graph (exact, by maximum flow)."""
    if pop.n_mentees == 0 or pop.n_mentors == 0:
        return 0
    tails, heads, caps, source, sink = feasible_network(pop)
    return max_flow_value(tails, heads, caps, source, sink)


def max_flow_value(
    tails: np.ndarray, heads: np.ndarray, caps: np.ndarray, source: int, sink: int
) -> int:
    """Maximum flow value: OR-Tools ``SimpleMaxFlow``, or scipy's Dinic without OR-Tools."""
    try:
        from ortools.graph.python import max_flow
    except ImportError:  # pragma: no cover - OR-Tools is a dependency; scipy is the fallback
        return _scipy_max_flow(tails, heads, caps, source, sink)
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps)
    status = flow.solve(source, sink)
    if status != flow.OPTIMAL:
        raise RuntimeError(f"max flow failed: {status}")
    return int(flow.optimal_flow())


def _scipy_max_flow(tails, heads, caps, source, sink) -> int:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    n = int(max(tails.max(), heads.max())) + 1
    graph = csr_matrix((caps.astype(np.int32), (tails, heads)), shape=(n, n))
    return int(maximum_flow(graph, source, sink, method="dinic").flow_value)


def _sample_edges(
    pop: Population, match: np.ndarray, per: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Feasible edges from mentors with room to sampled mentees below their band, and from
    unmatched mentees to sampled mentors with room above theirs."""
    load = np.bincount(match[match >= 0], minlength=pop.n_mentors)
    open_ = np.flatnonzero(load < pop.mentor_capacity)
    free = np.flatnonzero(match < 0)
    e_parts, m_parts = [], []
    if len(open_) and pop.n_mentees:
        # any mentee (a matched one may move here and free its place for someone else)
        by_band = np.argsort(pop.mentee_band, kind="stable")
        below = np.searchsorted(pop.mentee_band[by_band], pop.mentor_band[open_], side="left")
        m = np.repeat(open_, per)
        hi = np.repeat(below, per)
        ok = hi > 0
        m, hi = m[ok], hi[ok]
        e_parts.append(by_band[(rng.random(len(m)) * hi).astype(np.int64)])
        m_parts.append(m)
        if len(free):
            f_band = np.sort(pop.mentee_band[free])
            f_sorted = free[np.argsort(pop.mentee_band[free], kind="stable")]
            below = np.searchsorted(f_band, pop.mentor_band[open_], side="left")
            m = np.repeat(open_, per)
            hi = np.repeat(below, per)
            ok = hi > 0
            m, hi = m[ok], hi[ok]
            e_parts.append(f_sorted[(rng.random(len(m)) * hi).astype(np.int64)])
            m_parts.append(m)
    if len(free) and len(open_):
        o_sorted = open_[np.argsort(pop.mentor_band[open_], kind="stable")]
        o_band = pop.mentor_band[o_sorted]
        above = np.searchsorted(o_band, pop.mentee_band[free], side="right")
        e = np.repeat(free, per)
        lo = np.repeat(above, per)
        ok = lo < len(o_sorted)
        e, lo = e[ok], lo[ok]
        pick = lo + (rng.random(len(e)) * (len(o_sorted) - lo)).astype(np.int64)
        e_parts.append(e)
        m_parts.append(o_sorted[pick])
    if not e_parts:
        z = np.zeros(0, np.int64)
        return z, z
    e = np.concatenate(e_parts)
    m = np.concatenate(m_parts)
    ok = feasible_pairs(pop, e, m)
    return e[ok], m[ok]


def cover(
    pop: Population,
    mentee: np.ndarray,
    mentor: np.ndarray,
    *,
    bound: int | None = None,
    rounds: int = 4,
    per: int = 16,
    seed: int = 0,
) -> tuple[np.ndarray, int]:
    """A maximum-cardinality matching of the full feasible graph, and its size (the bound).

    ``mentee``/``mentor`` are candidate edges (feasible). Hopcroft-Karp on them first; while
    short of the bound, edges from mentors with room are sampled in (``per`` a mentor, doubling
    each round); what is still missing is found by augmenting paths on the full graph.
    """
    if bound is None:
        bound = maximum_cardinality(pop)
    n = pop.n_mentees
    mentee = np.asarray(mentee, np.int64)
    mentor = np.asarray(mentor, np.int64)
    match = maximum_on_edges(n, pop.mentor_capacity, mentee, mentor)
    rng = np.random.default_rng(seed)
    e_all, m_all = mentee, mentor
    for r in range(rounds):
        if int((match >= 0).sum()) >= bound:
            break
        ne, nm = _sample_edges(pop, match, per << r, rng)
        # keep the edges of the current matching so Hopcroft-Karp cannot do worse
        cur = np.flatnonzero(match >= 0)
        e_all = np.concatenate([e_all, ne, cur])
        m_all = np.concatenate([m_all, nm, match[cur]])
        key = unique_keys(e_all * max(pop.n_mentors, 1) + m_all)
        e_all, m_all = key // max(pop.n_mentors, 1), key % max(pop.n_mentors, 1)
        match = maximum_on_edges(n, pop.mentor_capacity, e_all, m_all)
    missing = bound - int((match >= 0).sum())
    if missing > 0:
        match, _ = augment_to_maximum(pop, match, max_rounds=missing)
    got = int((match >= 0).sum())
    if got != bound:
        raise RuntimeError(f"coverage reached {got} of the bound {bound}")
    return match, bound


__all__ = ["cover", "feasible_network", "max_flow_value", "maximum_cardinality"]
