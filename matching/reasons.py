"""Plain-English reasons for a suggestion or a match, drawn from its largest score components."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matching.features import _as_tuple
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
    return describe_pairs(
        comps,
        scorer.weight_points_,
        person_facts(frame, pop.mentee_rows[mentee], pop.mentee_band[mentee]),
        person_facts(frame, pop.mentor_rows[mentor], pop.mentor_band[mentor]),
        max_reasons=max_reasons,
    )


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


def describe_pairs(
    comps: np.ndarray,
    weight_points: dict[str, float],
    mentee: dict,
    mentor: dict,
    *,
    max_reasons: int = 4,
) -> list[list[str]]:
    """Reasons for pairs from their components and both sides' facts (see ``person_facts``)."""
    w = np.array([weight_points[c] for c in COMPONENTS])
    contrib = comps * w
    out: list[list[str]] = []
    idx = {c: k for k, c in enumerate(COMPONENTS)}
    for p in range(len(comps)):
        items: list[tuple[float, str]] = []
        s_e = _as_tuple(mentee["sought"][p])
        o_m = set(_as_tuple(mentor["offered"][p]))
        if s_e:
            covered = [s for s in s_e if s in o_m]
            if covered:
                text = f"covers {len(covered)} of your {len(s_e)} skills sought: " + ", ".join(
                    skill_names(covered)
                )
                if len(s_e) == 1:
                    text = f"covers the skill you seek: {skill_names(covered)[0]}"
                items.append((contrib[p, idx["skills"]] + 1000.0, text))
        gap = int(mentor["band"][p] - mentee["band"][p])
        if gap > 0:
            items.append((contrib[p, idx["seniority"]], _bands_above(gap)))
        if comps[p, idx["organisation"]] > 0.5:
            items.append((contrib[p, idx["organisation"]], "works in another organisation"))
        if comps[p, idx["goals"]] >= 0.35:
            items.append((contrib[p, idx["goals"]], "experience close to your goals"))
        prof_e, prof_m = mentee["profession"][p], mentor["profession"][p]
        if prof_e == prof_m and prof_e in _BACKGROUND:
            items.append((contrib[p, idx["background"]], _BACKGROUND[prof_e]))
        elif comps[p, idx["background"]] <= 0.45:
            items.append(
                (
                    contrib[p, idx["background"]] * 0.5,
                    f"a different background: {humanise(prof_m).lower()}",
                )
            )
        region_e, region_m = mentee["region"][p], mentor["region"][p]
        if comps[p, idx["place"]] >= 0.99:
            items.append((contrib[p, idx["place"]], f"can meet in person in {region_m}"))
        elif region_e == region_m:
            items.append((contrib[p, idx["place"]], f"also in {region_m}"))
        elif comps[p, idx["place"]] > 0:
            items.append((contrib[p, idx["place"]] * 0.5, "happy to meet remotely"))
        role_e, role_m = mentee["role_family"][p], mentor["role_family"][p]
        if role_e == role_m:
            items.append((contrib[p, idx["role"]], f"same role family: {humanise(role_m).lower()}"))
        elif comps[p, idx["role"]] >= 0.55:
            items.append((contrib[p, idx["role"]] * 0.8, "works in a related role family"))
        items.sort(key=lambda t: -t[0])
        out.append([t for _, t in items[:max_reasons]])
    return out


def join_reasons(reasons: list[str]) -> str:
    """Reasons as one ';'-separated cell, as matches.csv writes them."""
    return "; ".join(r.replace(";", ",") for r in reasons)


def band_name(rank: int) -> str:
    """Band label of a seniority rank."""
    return BANDS[rank]


__all__ = [
    "band_name",
    "describe_pairs",
    "join_reasons",
    "pair_reasons",
    "person_facts",
    "skill_names",
]
