"""Plain-English reasons for a suggestion or a match, drawn from its largest score components."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from matching.features import _as_tuple
from matching.rules import RECIPROCAL_REASON
from matching.scoring import COMPONENTS, PairScorer
from vocabulary import BANDS, SKILL_NAMES, humanise

_BACKGROUND = {
    "doctor": "also a doctor who moved into management",
    "nurse-or-midwife": "also moved from nursing or midwifery into management",
    "allied-health-professional": "also an allied health professional who moved into management",
    "healthcare-scientist": "also a healthcare scientist who moved into management",
    "pharmacist": "also a pharmacist who moved into management",
}


def skill_names(ids: tuple[str, ...] | list[str]) -> list[str]:
    """Display names of skill ids, lower case as they read inside a sentence."""
    return [SKILL_NAMES.get(s, humanise(s)).lower() for s in ids]


def _bands_above(gap: int) -> str:
    return "1 band above you" if gap == 1 else f"{gap} bands above you"


def pair_reasons(
    scorer: PairScorer, mentee: np.ndarray, mentor: np.ndarray, *, max_reasons: int = 4
) -> list[list[str]]:
    """Reasons for each (mentee, mentor) index pair, largest contribution first."""
    mentee = np.asarray(mentee, np.int64)
    mentor = np.asarray(mentor, np.int64)
    if len(mentee) == 0:
        return []
    comps = scorer.components(mentee, mentor)
    pop = scorer.population_
    frame = scorer.frame_
    mentee_facts = person_facts(frame, pop.mentee_rows[mentee], pop.mentee_level[mentee])
    mentor_facts = person_facts(frame, pop.mentor_rows[mentor], pop.mentor_level[mentor])
    found = describe_pairs(
        comps, scorer.weight_points_, mentee_facts, mentor_facts, max_reasons=max_reasons
    )
    if pop.band_rule != "reciprocal":
        return found
    return [
        [*type_reasons(pop.band_rule, mentee_facts, mentor_facts, i), *r]
        for i, r in enumerate(found)
    ]


def type_reasons(band_rule: str, mentee_facts: dict, mentor_facts: dict, i: int) -> list[str]:
    """The programme type's own reasons for pair ``i``: the rule that formed it, first, and,
    in reciprocal mentoring, what the mentor can learn from the mentee in return."""
    if band_rule != "reciprocal":
        return []
    out = [RECIPROCAL_REASON]
    _, back = skills_overlap([mentor_facts["sought"][i]], [mentee_facts["offered"][i]])
    if back and back[0]:
        offered = _and(skill_names(back[0]))
        out.append(f"In return you offer {offered}, which they want to learn")
    return out


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def person_facts(frame: pd.DataFrame, rows: np.ndarray, band_rank: np.ndarray) -> dict:
    """The profile facts that reasons quote, for the given frame rows (one entry per pair)."""
    rows = np.asarray(rows, np.int64)
    return {
        "sought": frame["skills_sought"].to_numpy(dtype=object)[rows],
        "offered": frame["skills_offered"].to_numpy(dtype=object)[rows],
        "region": frame["region"].to_numpy(dtype=object)[rows],
        "profession": frame["profession"].to_numpy(dtype=object)[rows],
        "role_family": frame["role_family"].to_numpy(dtype=object)[rows],
        "band": np.asarray(band_rank, np.int64),
    }


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def skills_overlap(
    sought: np.ndarray | list, offered: np.ndarray | list
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Per pair: the mentee's skills sought, and those of them the mentor offers (in order)."""
    as_tuple: dict = {}
    as_set: dict = {}
    sought_t: list[tuple[str, ...]] = []
    covered: list[tuple[str, ...]] = []
    for s, o in zip(sought, offered, strict=True):
        s_t = as_tuple.get(s) if _hashable(s) else None
        if s_t is None:
            s_t = _as_tuple(s)
            if _hashable(s):
                as_tuple[s] = s_t
        sought_t.append(s_t)
        if not s_t:
            covered.append(())
            continue
        o_s = as_set.get(o) if _hashable(o) else None
        if o_s is None:
            o_s = frozenset(_as_tuple(o))
            if _hashable(o):
                as_set[o] = o_s
        covered.append(tuple(x for x in s_t if x in o_s))
    return sought_t, covered


def _each(values, fn) -> np.ndarray:
    """``fn(value)`` for every value, each distinct value computed once (object array)."""
    cache: dict = {}
    out = np.empty(len(values), dtype=object)
    for p, v in enumerate(values):
        text = cache.get(v)
        if text is None:
            text = cache[v] = fn(v)
        out[p] = text
    return out


def _skills_text(key: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    sought, covered = key
    names = skill_names(covered)
    if len(sought) == 1:
        return f"covers the skill you seek: {names[0]}"
    return f"covers {len(covered)} of your {len(sought)} skills sought: " + ", ".join(names)


def _reason_table(
    comps: np.ndarray, weight_points: dict[str, float], mentee: dict, mentor: dict
) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Every reason a pair could give, one column per kind, with the weight that ranks it.

    Columns are in the order the reasons are considered (skills, seniority, organisation,
    goals, background, place, role), so a stable sort on the weights breaks ties by that
    order; a reason a pair does not have weighs ``-inf``.
    """
    n = len(comps)
    idx = {c: k for k, c in enumerate(COMPONENTS)}
    w = np.array([weight_points[c] for c in COMPONENTS])
    contrib = comps * w
    keys = np.full((n, 7), -np.inf)
    texts = np.full((n, 7), "", dtype=object)
    col = {c: contrib[:, idx[c]] for c in COMPONENTS}
    comp = {c: comps[:, idx[c]] for c in COMPONENTS}

    sought, covered = skills_overlap(mentee["sought"], mentor["offered"])
    has = np.fromiter((bool(c) for c in covered), bool, n)
    if has.any():
        rows = np.flatnonzero(has)
        texts[rows, 0] = _each([(sought[p], covered[p]) for p in rows], _skills_text)
        keys[rows, 0] = col["skills"][rows] + 1000.0

    gap = np.asarray(mentor["band"], np.int64) - np.asarray(mentee["band"], np.int64)
    up = gap > 0
    keys[up, 1] = col["seniority"][up]
    texts[up, 1] = _each(gap[up].tolist(), _bands_above)

    other = comp["organisation"] > 0.5
    keys[other, 2] = col["organisation"][other]
    texts[other, 2] = "works in another organisation"

    close = comp["goals"] >= 0.35
    keys[close, 3] = col["goals"][close]
    texts[close, 3] = "experience close to your goals"

    prof_e = np.asarray(mentee["profession"], dtype=object)
    prof_m = np.asarray(mentor["profession"], dtype=object)
    same = (prof_e == prof_m) & np.fromiter((p in _BACKGROUND for p in prof_e), bool, n)
    keys[same, 4] = col["background"][same]
    texts[same, 4] = _each(prof_e[same].tolist(), _BACKGROUND.__getitem__)
    differ = ~same & (comp["background"] <= 0.45)
    keys[differ, 4] = col["background"][differ] * 0.5
    texts[differ, 4] = _each(
        prof_m[differ].tolist(), lambda p: f"a different background: {humanise(p).lower()}"
    )

    region_e = np.asarray(mentee["region"], dtype=object)
    region_m = np.asarray(mentor["region"], dtype=object)
    in_person = comp["place"] >= 0.99
    keys[in_person, 5] = col["place"][in_person]
    texts[in_person, 5] = _each(
        region_m[in_person].tolist(), lambda r: f"can meet in person in {r}"
    )
    also = ~in_person & (region_e == region_m)
    keys[also, 5] = col["place"][also]
    texts[also, 5] = _each(region_m[also].tolist(), lambda r: f"also in {r}")
    remote = ~in_person & ~also & (comp["place"] > 0)
    keys[remote, 5] = col["place"][remote] * 0.5
    texts[remote, 5] = "happy to meet remotely"

    role_e = np.asarray(mentee["role_family"], dtype=object)
    role_m = np.asarray(mentor["role_family"], dtype=object)
    same_role = role_e == role_m
    keys[same_role, 6] = col["role"][same_role]
    texts[same_role, 6] = _each(
        role_m[same_role].tolist(), lambda r: f"same role family: {humanise(r).lower()}"
    )
    related = ~same_role & (comp["role"] >= 0.55)
    keys[related, 6] = col["role"][related] * 0.8
    texts[related, 6] = "works in a related role family"
    return texts, keys, sought, covered


def _ranked(texts: np.ndarray, keys: np.ndarray, max_reasons: int) -> list[list[str]]:
    order = np.argsort(-keys, axis=1, kind="stable")[:, :max_reasons]
    top = np.take_along_axis(texts, order, axis=1).tolist()
    present = np.isfinite(np.take_along_axis(keys, order, axis=1)).tolist()
    return [
        [t for t, ok in zip(row, oks, strict=True) if ok]
        for row, oks in zip(top, present, strict=True)
    ]


def describe_pairs(
    comps: np.ndarray,
    weight_points: dict[str, float],
    mentee: dict,
    mentor: dict,
    *,
    max_reasons: int = 4,
) -> list[list[str]]:
    """Reasons for pairs from their components and both sides' facts (see ``person_facts``)."""
    if len(comps) == 0:
        return []
    texts, keys, _, _ = _reason_table(comps, weight_points, mentee, mentor)
    return _ranked(texts, keys, max_reasons)


@dataclass(frozen=True)
class MatchReasons:
    """Reasons of matched pairs as matches.csv cells, and the skills they cover."""

    cells: list[str]
    skills_sought: int  # skills sought by the matched mentees, in all
    skills_covered: int  # of them, offered by their mentors


def match_reasons(
    scorer: PairScorer, mentee: np.ndarray, mentor: np.ndarray, *, max_reasons: int = 4
) -> MatchReasons:
    """``join_reasons`` of every pair's reasons in one pass, with the skills they cover."""
    mentee = np.asarray(mentee, np.int64)
    mentor = np.asarray(mentor, np.int64)
    if len(mentee) == 0:
        return MatchReasons([], 0, 0)
    pop = scorer.population_
    frame = scorer.frame_
    mentee_facts = person_facts(frame, pop.mentee_rows[mentee], pop.mentee_level[mentee])
    mentor_facts = person_facts(frame, pop.mentor_rows[mentor], pop.mentor_level[mentor])
    texts, keys, sought, covered = _reason_table(
        scorer.components(mentee, mentor), scorer.weight_points_, mentee_facts, mentor_facts
    )
    cells = [
        join_reasons([*type_reasons(pop.band_rule, mentee_facts, mentor_facts, i), *r])
        for i, r in enumerate(_ranked(texts, keys, max_reasons))
    ]
    return MatchReasons(cells, sum(len(s) for s in sought), sum(len(c) for c in covered))


def join_reasons(reasons: list[str]) -> str:
    """Reasons as one ';'-separated cell, as matches.csv writes them."""
    return "; ".join(r.replace(";", ",") for r in reasons)


def band_name(rank: int) -> str:
    """Band label of a seniority rank."""
    return BANDS[rank]


__all__ = [
    "MatchReasons",
    "band_name",
    "describe_pairs",
    "join_reasons",
    "match_reasons",
    "pair_reasons",
    "person_facts",
    "skill_names",
    "skills_overlap",
    "type_reasons",
]
