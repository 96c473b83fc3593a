"""The hard rules of members-csv.md, as arrays and masks that no weight can break.

A pair (mentee, mentor) is feasible when:
- they are different people;
- the mentor offers mentoring (capacity > 0; the round also never exceeds it);
- neither is the other's line manager, directly or up the chain;
- the mentee's ``outside_organisation_only`` is respected;
- the band rule of the programme type (``band_rule``), never a weight:
  - ``"senior"`` (one-to-one and group mentoring): the mentor's band is strictly above the
    mentee's;
  - ``"reciprocal"`` (reciprocal mentoring): the mentor is a senior leader (band 8a or above,
    or VSM) and the mentee has widening-access priority (the flag only, never its reason); the
    band order between them is lifted: each learns from the other.

The band rule is applied as rule ranks in ``Population.mentee_band`` / ``mentor_band`` (the
whole solver, coverage bound and candidate search read "mentor rank above mentee rank"), so
a rule holds wherever the solver looks; the members' real bands are ``mentee_level`` /
``mentor_level``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from matching.keys import unique_keys
from vocabulary import BAND_RANK


@dataclass(frozen=True)
class Population:
    """Arrays of a member frame that the rules and the solver need, mentees and mentors apart.

    Mentee arrays are indexed by position in ``mentee_rows``; mentor arrays by position in
    ``mentor_rows`` (rows of the original frame).
    """

    member_ids: np.ndarray
    mentee_rows: np.ndarray
    mentor_rows: np.ndarray
    mentee_band: np.ndarray
    mentor_band: np.ndarray
    mentee_org: np.ndarray
    mentor_org: np.ndarray
    mentee_outside: np.ndarray
    mentee_priority: np.ndarray
    mentor_capacity: np.ndarray
    chain_ptr: np.ndarray  # CSR over mentees: mentors in the same line-management chain
    chain_idx: np.ndarray
    n_orgs: int
    mentee_level: np.ndarray  # real band ranks (mentee_band / mentor_band are rule ranks)
    mentor_level: np.ndarray
    band_rule: str = "senior"

    @property
    def n_mentees(self) -> int:
        """Number of mentees (members seeking a mentor)."""
        return len(self.mentee_rows)

    @property
    def n_mentors(self) -> int:
        """Number of mentors (members with capacity > 0)."""
        return len(self.mentor_rows)

    @cached_property
    def chain_keys(self) -> np.ndarray:
        """Sorted keys ``mentee * n_mentors + mentor`` of chain-excluded pairs."""
        rows = np.repeat(np.arange(self.n_mentees, dtype=np.int64), np.diff(self.chain_ptr))
        return np.sort(rows * max(self.n_mentors, 1) + self.chain_idx)


def _isna(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def chain_pairs(member_ids: np.ndarray, manager_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (person, ancestor) row pairs for every line-management chain in the frame."""
    n = len(member_ids)
    pos = {m: k for k, m in enumerate(member_ids)}
    parent = np.array([-1 if _isna(m) else pos.get(m, -1) for m in manager_ids], dtype=np.int64)
    people: list[np.ndarray] = []
    ancestors: list[np.ndarray] = []
    cur = parent.copy()
    alive = np.flatnonzero(cur >= 0)
    for _ in range(n):  # a chain is at most n long; cycles stop here too
        if len(alive) == 0:
            break
        alive = alive[cur[alive] != alive]
        people.append(alive)
        ancestors.append(cur[alive])
        cur[alive] = parent[cur[alive]]
        alive = alive[cur[alive] >= 0]
    if not people:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a, b = np.concatenate(people), np.concatenate(ancestors)
    key = unique_keys(a * n + b)  # cycles may repeat pairs
    return key // n, key % n


BAND_RULES: tuple[str, ...] = ("senior", "reciprocal")
SENIOR_LEADER_RANK = BAND_RANK["8a"]
RECIPROCAL_REASON = (
    "Reciprocal mentoring: a senior leader paired with a member of an under-represented "
    "group, and each learns from the other"
)


def check_band_rule(band_rule: str) -> None:
    """Refuse an unknown band rule."""
    if band_rule not in BAND_RULES:
        raise ValueError(f"unknown band rule {band_rule!r}; expected one of {BAND_RULES}")


def rule_ranks(
    mentee_level: np.ndarray,
    mentee_priority: np.ndarray,
    mentor_level: np.ndarray,
    band_rule: str,
) -> tuple[np.ndarray, np.ndarray]:
    """The ranks the band rule compares ("mentor rank above mentee rank"), mentees and mentors.

    Reciprocal: senior leaders rank 1 and other mentors 0; mentees with widening-access
    priority rank 0 and others 1, so only a senior leader with a flagged member is above.
    """
    check_band_rule(band_rule)
    if band_rule == "senior":
        return mentee_level, mentor_level
    mentee = np.where(np.asarray(mentee_priority, bool), 0, 1).astype(np.int64)
    mentor = (np.asarray(mentor_level) >= SENIOR_LEADER_RANK).astype(np.int64)
    return mentee, mentor


def build_population(
    frame: pd.DataFrame,
    band_rule: str = "senior",
    excluded_pairs: Collection[tuple[str, str]] = (),
) -> Population:
    """Extract the arrays of the hard rules from a member frame, under ``band_rule``.

    ``excluded_pairs`` are (mentee id, mentor id) pairs the round must leave out (a pair
    already working together in another programme); they join the chain exclusions, so every
    stage of the solver leaves them out as it does a line-management chain.
    """
    ids = frame["member_id"].astype(str).to_numpy()
    band = frame["band"].astype(str).map(BAND_RANK).to_numpy()
    if np.isnan(band.astype(float)).any():
        raise ValueError("unknown band in member frame")
    band = band.astype(np.int64)
    org_codes, _ = pd.factorize(frame["organisation_key"].astype(str))
    seeking = frame["seeking_mentor"].astype(bool).to_numpy()
    capacity = pd.to_numeric(frame["mentor_capacity"]).fillna(0).astype(np.int64).to_numpy()
    mentee_rows = np.flatnonzero(seeking)
    mentor_rows = np.flatnonzero(capacity > 0)

    managers = frame["line_manager_id"].to_numpy(dtype=object)
    person, ancestor = chain_pairs(ids, managers)
    # A pair is excluded in both directions: person→ancestor and ancestor→person.
    n = len(frame)
    row_of = {m: k for k, m in enumerate(ids)}
    extra = [(row_of[e], row_of[m]) for e, m in excluded_pairs if e in row_of and m in row_of]
    ex_a = np.array([e for e, _ in extra], np.int64)
    ex_b = np.array([m for _, m in extra], np.int64)
    a = np.concatenate([person, ancestor, ex_a])
    b = np.concatenate([ancestor, person, ex_b])
    mentee_pos = np.full(n, -1, np.int64)
    mentee_pos[mentee_rows] = np.arange(len(mentee_rows))
    mentor_pos = np.full(n, -1, np.int64)
    mentor_pos[mentor_rows] = np.arange(len(mentor_rows))
    ea, mb = mentee_pos[a], mentor_pos[b]
    keep = (ea >= 0) & (mb >= 0)
    ea, mb = ea[keep], mb[keep]
    if len(extra):  # an excluded pair may also be a chain pair: keep each pair once
        width = max(len(mentor_rows), 1)
        key = unique_keys(ea * width + mb)
        ea, mb = key // width, key % width
    order = np.lexsort((mb, ea))
    ea, mb = ea[order], mb[order]
    ptr = np.zeros(len(mentee_rows) + 1, np.int64)
    np.add.at(ptr, ea + 1, 1)
    ptr = np.cumsum(ptr)

    priority = frame["priority_access"].astype(bool).to_numpy()[mentee_rows]
    mentee_rank, mentor_rank = rule_ranks(band[mentee_rows], priority, band[mentor_rows], band_rule)
    return Population(
        member_ids=ids,
        mentee_rows=mentee_rows,
        mentor_rows=mentor_rows,
        mentee_band=mentee_rank,
        mentor_band=mentor_rank,
        mentee_level=band[mentee_rows],
        mentor_level=band[mentor_rows],
        band_rule=band_rule,
        mentee_org=org_codes[mentee_rows].astype(np.int64),
        mentor_org=org_codes[mentor_rows].astype(np.int64),
        mentee_outside=frame["outside_organisation_only"].astype(bool).to_numpy()[mentee_rows],
        mentee_priority=priority,
        mentor_capacity=capacity[mentor_rows],
        chain_ptr=ptr,
        chain_idx=mb.astype(np.int64),
        n_orgs=int(org_codes.max()) + 1 if len(org_codes) else 0,
    )


def in_chain(pop: Population, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
    """Whether each (mentee, mentor) pair is in one line-management chain."""
    mentee = np.asarray(mentee, np.int64)
    mentor = np.asarray(mentor, np.int64)
    keys = pop.chain_keys
    if len(keys) == 0 or len(mentee) == 0:
        return np.zeros(len(mentee), dtype=bool)
    q = mentee * max(pop.n_mentors, 1) + mentor
    at = np.searchsorted(keys, q)
    at = np.minimum(at, len(keys) - 1)
    return keys[at] == q


def feasible_pairs(pop: Population, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
    """Whether each (mentee, mentor) pair passes every hard rule (capacity aside)."""
    mentee = np.asarray(mentee, np.int64)
    mentor = np.asarray(mentor, np.int64)
    ok = pop.mentor_band[mentor] > pop.mentee_band[mentee]
    ok &= pop.mentee_rows[mentee] != pop.mentor_rows[mentor]
    ok &= ~(pop.mentee_outside[mentee] & (pop.mentee_org[mentee] == pop.mentor_org[mentor]))
    ok &= pop.mentor_capacity[mentor] > 0
    ok &= ~in_chain(pop, mentee, mentor)
    return ok


def feasible_matrix(pop: Population) -> np.ndarray:
    """Dense (mentees x mentors) boolean matrix of feasible pairs; for small populations."""
    e = np.repeat(np.arange(pop.n_mentees), pop.n_mentors)
    m = np.tile(np.arange(pop.n_mentors), pop.n_mentees)
    return feasible_pairs(pop, e, m).reshape(pop.n_mentees, pop.n_mentors)


UNMATCHED_NO_HIGHER_BAND = "no mentor is at a higher band than yours"
UNMATCHED_OWN_ORG = "every mentor at a higher band works in your own organisation"
UNMATCHED_CHAIN = "every mentor at a higher band is in your line-management chain"
UNMATCHED_CAPACITY = "the mentors who could take you were all needed for other mentees"
UNMATCHED_NOT_FLAGGED = (
    "reciprocal mentoring pairs senior leaders with members who have widening-access "
    "priority in this programme, and you do not have it"
)
UNMATCHED_NO_SENIOR = "no senior leader (band 8a or above) is offering a place"
UNMATCHED_SENIOR_OWN_ORG = "every senior leader offering a place works in your own organisation"
UNMATCHED_SENIOR_CHAIN = "every senior leader offering a place is in your line-management chain"

# Reasons are written to the mentee ("1 band above you"); an organiser reads them about the
# mentee. Longest phrases first, so verbs agree ("you seek" reads "the mentee seeks").
_ABOUT_THE_MENTEE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (
            r"\bIn return you offer (.+), which they want to learn",
            r"In return the mentee offers \1, which the mentor wants to learn",
        ),
        (r"\byou seek\b", "the mentee seeks"),
        (r"\bcould take you\b", "could take them"),
        (r"\bdo not have it\b", "does not have it"),
        (r"\band you\b", "and the mentee"),
        (r"\babove you\b", "above the mentee"),
        (r"\byours\b", "theirs"),
        (r"\byour\b", "their"),
        (r"\byou\b", "the mentee"),
    )
)


def about_the_mentee(reason: str) -> str:
    """A reason written to the mentee, as an organiser reads it: "1 band above the mentee",
    "covers 2 of their 3 skills sought", "the mentors who could take them were all needed"."""
    for pattern, words in _ABOUT_THE_MENTEE:
        reason = pattern.sub(words, reason)
    return reason


def feasible_counts(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per mentee: mentors at a higher band, of them allowed by organisation, and feasible."""
    n_bands = 13
    band_hist = np.bincount(pop.mentor_band, minlength=n_bands)
    above = np.concatenate([np.cumsum(band_hist[::-1])[::-1], [0]])  # above[b] = # band >= b
    higher = above[pop.mentee_band + 1]
    # mentors of the same organisation at a higher band
    org_band = np.zeros((max(pop.n_orgs, 1), n_bands + 1), np.int64)
    np.add.at(org_band, (pop.mentor_org, pop.mentor_band), 1)
    org_above = np.cumsum(org_band[:, ::-1], axis=1)[:, ::-1]
    same_org_higher = org_above[pop.mentee_org, pop.mentee_band + 1]
    by_org = higher - np.where(pop.mentee_outside, same_org_higher, 0)
    # chain pairs that would otherwise be allowed
    rows = np.repeat(np.arange(pop.n_mentees), np.diff(pop.chain_ptr))
    cols = pop.chain_idx
    allowed = pop.mentor_band[cols] > pop.mentee_band[rows]
    allowed &= ~(pop.mentee_outside[rows] & (pop.mentee_org[rows] == pop.mentor_org[cols]))
    chain_cut = np.bincount(rows[allowed], minlength=pop.n_mentees)
    # the member themself, where they also mentor, is never at a higher band: nothing to remove
    return higher, by_org, by_org - chain_cut


def unmatched_reasons(pop: Population, matched: np.ndarray) -> np.ndarray:
    """Plain-English reason for each mentee left unmatched ('' for matched mentees)."""
    higher, by_org, feasible = feasible_counts(pop)
    out = np.full(pop.n_mentees, "", dtype=object)
    un = ~matched
    reciprocal = pop.band_rule == "reciprocal"
    out[un & (feasible > 0)] = UNMATCHED_CAPACITY
    out[un & (feasible == 0)] = UNMATCHED_SENIOR_CHAIN if reciprocal else UNMATCHED_CHAIN
    out[un & (by_org == 0)] = UNMATCHED_SENIOR_OWN_ORG if reciprocal else UNMATCHED_OWN_ORG
    out[un & (higher == 0)] = UNMATCHED_NO_SENIOR if reciprocal else UNMATCHED_NO_HIGHER_BAND
    if reciprocal:
        out[un & ~pop.mentee_priority] = UNMATCHED_NOT_FLAGGED
    return out


# One pair at a time ---------------------------------------------------------------------------
# The same rules as ``feasible_pairs``, for one (mentee, mentor) pair given as two rows of a
# member frame (only ``RULE_COLUMNS`` are read), with the reason a person can read. The backend
# calls this for requests, swaps and re-offers; a property test keeps it equal to the mask.

RULE_COLUMNS: tuple[str, ...] = (
    "member_id",
    "organisation_key",
    "band",
    "line_manager_id",
    "mentor_capacity",
    "outside_organisation_only",
)
VIOLATION_SELF = "nobody can mentor themselves"
VIOLATION_NOT_OFFERING = "the mentor is not offering mentoring"
VIOLATION_BAND = "the mentor's band must be above the mentee's"
VIOLATION_OWN_ORGANISATION = "the mentee asked for a mentor from another organisation"
VIOLATION_CHAIN = "they are in the same line-management chain"
VIOLATION_NOT_SENIOR_LEADER = (
    "in reciprocal mentoring the mentor must be a senior leader (band 8a or above)"
)
VIOLATION_NOT_FLAGGED = (
    "in reciprocal mentoring the mentee must have widening-access priority in the programme"
)


def band_violation(
    mentee: Mapping[str, object], mentor: Mapping[str, object], band_rule: str = "senior"
) -> str | None:
    """The band rule of the programme type a pair breaks, or None (``priority_access`` is
    read from the mentee's row for the reciprocal rule)."""
    check_band_rule(band_rule)
    mentee_rank, mentor_rank = BAND_RANK[str(mentee["band"])], BAND_RANK[str(mentor["band"])]
    if band_rule == "senior":
        return VIOLATION_BAND if mentor_rank <= mentee_rank else None
    if mentor_rank < SENIOR_LEADER_RANK:
        return VIOLATION_NOT_SENIOR_LEADER
    if not bool(mentee.get("priority_access", False)):
        return VIOLATION_NOT_FLAGGED
    return None


def _key(value: object) -> str | None:
    return None if _isna(value) else str(value)


def ancestors(member_id: str, managers: Mapping[str, object]) -> set[str]:
    """Everyone above ``member_id`` in its line-management chain (cycles stop the walk)."""
    seen: set[str] = set()
    current = _key(managers.get(member_id))
    while current is not None and current not in seen and current != member_id:
        seen.add(current)
        current = _key(managers.get(current))
    return seen


def pair_violation(
    mentee: Mapping[str, object],
    mentor: Mapping[str, object],
    *,
    managers: Mapping[str, object],
    band_rule: str = "senior",
) -> str | None:
    """The hard rule a pair breaks, in plain English, or None when the pair is allowed.

    ``managers`` maps member ids to their line manager's id (None at the top), covering at
    least both members' chains.
    """
    mentee_id, mentor_id = str(mentee["member_id"]), str(mentor["member_id"])
    if mentee_id == mentor_id:
        return VIOLATION_SELF
    capacity = pd.to_numeric(pd.Series([mentor.get("mentor_capacity")])).fillna(0).iloc[0]
    if not capacity > 0:
        return VIOLATION_NOT_OFFERING
    band = band_violation(mentee, mentor, band_rule)
    if band is not None:
        return band
    if bool(mentee["outside_organisation_only"]) and str(mentee["organisation_key"]) == str(
        mentor["organisation_key"]
    ):
        return VIOLATION_OWN_ORGANISATION
    if mentor_id in ancestors(mentee_id, managers) or mentee_id in ancestors(mentor_id, managers):
        return VIOLATION_CHAIN
    return None
