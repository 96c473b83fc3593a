"""Sparse candidate graph: the best-scoring feasible mentors of every mentee.

Mentors are sorted by band, so the mentors strictly above a mentee's band are one contiguous
range; mentees are processed band by band in blocks, and each block of scores is one float32
matrix product followed by the hard-rule masks and a partial sort.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from matching.scoring import PairScorer


@dataclass(frozen=True)
class CandidateGraph:
    """Candidate edges (mentee, mentor, score), sorted by mentee then score descending."""

    mentee: np.ndarray
    mentor: np.ndarray
    score: np.ndarray

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.mentee)


def _csr_gather(ptr: np.ndarray, idx: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, ...]:
    """(position in ``keys``, value) for every CSR entry of every key."""
    lo, hi = ptr[keys], ptr[keys + 1]
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        z = np.zeros(0, np.int64)
        return z, z
    rows = np.repeat(np.arange(len(keys)), counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    pos = np.arange(total) - first + np.repeat(lo, counts)
    return rows, idx[pos]


def top_k_per_row(s: np.ndarray, k: int, chunk: int = 32) -> np.ndarray:
    """Column indices of the ``k`` largest values of each row (unordered).

    The columns are dealt into ``width / chunk`` groups (column ``c`` to group
    ``c % n_groups``); the k largest values of a row all lie in the k groups with the largest
    maxima, so only those are partially sorted.
    """
    n, width = s.shape
    if width <= k:
        return np.broadcast_to(np.arange(width), (n, width)).copy()
    if width % chunk or width <= 4 * k * chunk:
        return np.argpartition(s, width - k, axis=1)[:, width - k :]
    n_chunks = width // chunk
    chunk_max = s.reshape(n, chunk, n_chunks).max(axis=1)
    best = np.argpartition(chunk_max, n_chunks - k, axis=1)[:, n_chunks - k :]
    cols = (best[:, :, None] + np.arange(chunk) * n_chunks).reshape(n, -1)
    vals = np.take_along_axis(s, cols, axis=1)
    pick = np.argpartition(vals, vals.shape[1] - k, axis=1)[:, vals.shape[1] - k :]
    return np.take_along_axis(cols, pick, axis=1)


class ScoreBlocks:
    """Masked score blocks of mentees against every mentor above their band.

    Mentors are sorted by band, so those strictly above a mentee's band are one contiguous
    range; mentees are grouped by band and cut into blocks. A block's scores are two float32
    matrix products (the text cosine apart, clipped at 0 as ``PairScorer.components`` does, so
    block scores equal ``score_pairs``), then the same-organisation penalty and the hard-rule
    masks (``-inf``).
    """

    def __init__(
        self,
        scorer: PairScorer,
        mentees: np.ndarray,
        *,
        block_size: int = 1024,
        chunk: int = 32,
    ):
        pop = scorer.population_
        self.pop = pop
        n_m = pop.n_mentors
        self.order_m = np.argsort(pop.mentor_band, kind="stable")
        sorted_band = pop.mentor_band[self.order_m]
        # Work on mentor-sorted copies so that every band suffix is a contiguous slice.
        goals = scorer.component_slices_["goals"]
        rest = np.r_[0 : goals.start, goals.stop : scorer.mentee_matrix_.shape[1]]
        self.e_rest = np.ascontiguousarray(scorer.mentee_matrix_[:, rest])
        self.e_goals = np.ascontiguousarray(scorer.mentee_matrix_[:, goals])
        self.goals_max = np.float32(scorer.weight_points_["goals"])
        m_mat = scorer.mentor_matrix_[self.order_m]
        self.inv_m = np.empty(n_m, np.int64)
        self.inv_m[self.order_m] = np.arange(n_m)
        # Mentor columns of each organisation (sorted positions), for the same-organisation terms.
        m_org = pop.mentor_org[self.order_m]
        self.by_org = np.argsort(m_org, kind="stable")
        org_ptr = np.zeros(pop.n_orgs + 1, np.int64)
        np.add.at(org_ptr, m_org + 1, 1)
        self.org_ptr = np.cumsum(org_ptr)
        self.penalty = np.float32(scorer.org_penalty_)
        self.jobs: list[tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray], int]] = []
        mentees = np.asarray(mentees, np.int64)
        by_band = mentees[np.argsort(pop.mentee_band[mentees], kind="stable")]
        bands = pop.mentee_band[by_band]
        for band in np.unique(bands):
            start = int(np.searchsorted(sorted_band, band, side="right"))
            if start >= n_m:
                continue
            group = by_band[bands == band]
            width = n_m - start
            padded = -(-width // chunk) * chunk
            cols_t = np.zeros((len(rest), padded), np.float32)
            cols_t[:, :width] = m_mat[start:, rest].T
            cols_g = np.zeros((goals.stop - goals.start, padded), np.float32)
            cols_g[:, :width] = m_mat[start:, goals].T
            for b0 in range(0, len(group), block_size):
                self.jobs.append((group[b0 : b0 + block_size], start, (cols_t, cols_g), width))

    def scores(self, job: tuple) -> np.ndarray:
        """Masked scores of one block: rows are its mentees, columns sorted mentors from start."""
        pop = self.pop
        blk, start, (cols_t, cols_g), width = job
        s = self.e_rest[blk] @ cols_t
        g = self.e_goals[blk] @ cols_g
        np.clip(g, 0.0, self.goals_max, out=g)
        s += g
        del g
        s[:, width:] = -np.inf
        # same organisation: lose the organisation points, or the pair if outside-only
        rows, cols = _csr_gather(self.org_ptr, self.by_org, pop.mentee_org[blk])
        cols = cols - start
        ok = cols >= 0
        rows, cols = rows[ok], cols[ok]
        s[rows, cols] -= self.penalty
        out_rows = pop.mentee_outside[blk][rows]
        s[rows[out_rows], cols[out_rows]] = -np.inf
        # line-management chains
        rows, idx = _csr_gather(pop.chain_ptr, pop.chain_idx, blk)
        cols = self.inv_m[idx] - start
        ok = cols >= 0
        s[rows[ok], cols[ok]] = -np.inf
        return s

    def map(self, fn, n_jobs: int | None = None) -> list:
        """``fn(job, scores)`` over every block, one block per core."""
        # One BLAS thread per block and one block per core: a 110-wide product parallelises
        # badly inside OpenBLAS, and the masks and selections are single-threaded numpy anyway.
        workers = n_jobs if n_jobs is not None else (os.cpu_count() or 1)

        def run(job):
            return fn(job, self.scores(job))

        if workers > 1 and len(self.jobs) > 1:
            with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
                return list(pool.map(run, self.jobs))
        return [run(job) for job in self.jobs]


def candidate_graph(
    scorer: PairScorer,
    k: int,
    *,
    block_size: int = 1024,
    mentees: np.ndarray | None = None,
    chunk: int = 32,
    n_jobs: int | None = None,
) -> CandidateGraph:
    """Top-``k`` feasible mentors by score for each mentee (all mentees by default)."""
    pop = scorer.population_
    if mentees is None:
        mentees = np.arange(pop.n_mentees)
    mentees = np.asarray(mentees, np.int64)
    n_m = pop.n_mentors
    if n_m == 0 or len(mentees) == 0 or k <= 0:
        z = np.zeros(0, np.int64)
        return CandidateGraph(z, z, np.zeros(0, np.float64))
    blocks = ScoreBlocks(scorer, mentees, block_size=block_size, chunk=chunk)

    def pick(job, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        blk, start, _, _ = job
        top = top_k_per_row(s, k, chunk)
        vals = np.take_along_axis(s, top, axis=1)
        keep = np.isfinite(vals)
        return np.repeat(blk, keep.sum(axis=1)), blocks.order_m[start + top[keep]]

    parts = blocks.map(pick, n_jobs)
    if not parts:
        z = np.zeros(0, np.int64)
        return CandidateGraph(z, z, np.zeros(0, np.float64))
    e = np.concatenate([p[0] for p in parts])
    m = np.concatenate([p[1] for p in parts])
    score = np.concatenate(
        [scorer.score_pairs(e[a : a + 65536], m[a : a + 65536]) for a in range(0, len(e), 65536)]
        or [np.zeros(0)]
    )
    order = np.lexsort((-score, e))
    return CandidateGraph(e[order], m[order], score[order])


def blocking_pairs_full(
    scorer: PairScorer,
    match: np.ndarray,
    own: np.ndarray,
    graph: CandidateGraph,
    *,
    n_jobs: int | None = None,
) -> int:
    """Blocking pairs over the *full* feasible graph, scanning only the rows that need it.

    A pair (e, m) blocks when e prefers m to its match (or has none) and m has room or prefers
    e to its weakest mentee. If e's match is in e's top-k candidate list, every mentor e
    prefers is in that list too (the list holds e's best mentors), so only unmatched mentees
    and those matched off their list are scanned against every mentor; the rest are counted
    on the candidate graph.
    """
    pop = scorer.population_
    n_m = pop.n_mentors
    matched = match >= 0
    own = np.where(matched, own, -np.inf)
    load = np.bincount(match[matched], minlength=n_m)
    weakest = np.full(n_m, np.inf)
    np.minimum.at(weakest, match[matched], own[matched])
    weakest = np.where(load < pop.mentor_capacity, -np.inf, weakest)
    width = max(n_m, 1)
    on_list = np.zeros(pop.n_mentees, bool)
    if graph.n_edges and matched.any():
        keys = graph.mentee * width + graph.mentor
        e = np.flatnonzero(matched)
        on_list[e] = np.isin(e * width + match[e], keys)
    full = np.flatnonzero(~on_list)
    tol = 1e-6
    # listed mentees: their candidate edges
    listed = on_list[graph.mentee]
    ge, gm, gs = graph.mentee[listed], graph.mentor[listed], graph.score[listed]
    block = (match[ge] != gm) & (gs > own[ge] + tol) & (gs > weakest[gm] + tol)
    count = int(block.sum())
    if len(full) == 0 or n_m == 0:
        return count
    blocks = ScoreBlocks(scorer, full)
    w_sorted = weakest[blocks.order_m]
    m_sorted_of = blocks.inv_m

    def scan(job, s: np.ndarray) -> int:
        blk, start, _, width_ = job
        s = s[:, :width_]
        hit = (s > own[blk][:, None] + tol) & (s > w_sorted[start:][None, :] + tol)
        mine = match[blk] >= 0
        if mine.any():
            rows = np.flatnonzero(mine)
            cols = m_sorted_of[match[blk][rows]] - start
            ok = cols >= 0
            hit[rows[ok], cols[ok]] = False
        return int(hit.sum())

    return count + sum(blocks.map(scan, n_jobs))


