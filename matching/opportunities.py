"""Development opportunities ranked for one member, with plain reasons.

Rules first: an opportunity the member may not apply for (a band, region, role family or
profession it is not open to) or one that has closed is never recommended. The open, eligible
rest are scored on the skills they develop against the skills the member wants and the gaps
of their self-assessment, on how close their text is to the member's goals (the matcher's own
TF-IDF + LSA text space, ``SharedTextSpace``), and on being aimed at the member's band and
region; each recommendation says why, in the words of the mentor suggestions.

Pure: a frame of opportunities in, ranked ids, scores and reasons out; no database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from matching.features import SharedTextSpace, SkillsEncoder, _as_tuple, _text
from matching.reasons import skill_names

# What the member profile holds for each eligibility dimension (the opportunity frame's
# column of allowed values is the plural).
DIMENSIONS: dict[str, str] = {
    "band": "bands",
    "region": "regions",
    "role_family": "role_families",
    "profession": "professions",
}
OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    "opportunity_id",
    "title",
    "provider",
    "description",
    "skills",
    "closes_on",
    *DIMENSIONS.values(),
)

# Points of each kind of fit; the score is their sum as a share of the most a member could get.
SOUGHT_POINTS = 3.0  # per skill wanted that it develops
GAP_POINTS = 2.0  # per self-assessment gap it develops (not already wanted)
TEXT_POINTS = 2.0  # times the cosine of its text and the member's goals
BAND_POINTS = 1.0  # aimed at bands that include the member's
REGION_POINTS = 1.0  # aimed at regions that include the member's
CLOSE_TO_GOALS = 0.2
LSA_FROM = 50  # opportunities open to the member, from which texts are compared in LSA space
LSA_COMPONENTS = 32  # the cosine above which "close to your goals" is said


@dataclass(frozen=True)
class Seeker:
    """The member recommendations are for: profile facts, skills wanted, assessment gaps."""

    band: str
    region: str
    role_family: str
    profession: str
    skills_sought: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    goals: str = ""

    def value_of(self, dimension: str) -> str:
        """The member's value for an eligibility dimension (``band``, ``region`` ...)."""
        return str(getattr(self, dimension))


@dataclass(frozen=True)
class Recommendation:
    """One opportunity for the member: its id, a 0-100 score and the reasons, best first."""

    opportunity_id: int
    score: float
    reasons: list[str] = field(default_factory=list)


def eligible(allowed: Mapping[str, Collection[str]], seeker: Seeker) -> bool:
    """True when every dimension with allowed values (keyed ``band``, ``region``,
    ``role_family``, ``profession``) includes the member's; an empty one is open to all."""
    return all(
        not allowed.get(dimension) or seeker.value_of(dimension) in allowed[dimension]
        for dimension in DIMENSIONS
    )


def eligible_rows(allowed: Mapping[str, Collection[str]], people: pd.DataFrame) -> np.ndarray:
    """``eligible`` for many members at once: ``people`` has a column per dimension (``band``,
    ``region``, ``role_family``, ``profession``); a boolean array, True where one may apply."""
    fits = np.ones(len(people), dtype=bool)
    for dimension in DIMENSIONS:
        values = allowed.get(dimension)
        if values:
            fits &= people[dimension].astype(str).isin([str(v) for v in values]).to_numpy()
    return fits


def is_open(closes_on: date, today: date) -> bool:
    """True until the end of the closing day."""
    return closes_on >= today


def check_opportunity_frame(frame: pd.DataFrame) -> None:
    """Raise ``ValueError`` if the frame lacks a column of the opportunity-frame contract."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of opportunities, got {type(frame).__name__}")
    missing = [c for c in OPPORTUNITY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"opportunity frame lacks columns: {', '.join(missing)}")


def _document(row: Mapping[str, object]) -> str:
    # The words only (the skills already count on their own): title and description.
    return " ".join(part for part in (_text(row["title"]), _text(row["description"])) if part)


def _band_text(band: str) -> str:
    return f"open to band {band}" if band != "VSM" else "open to very senior managers"


def _developed_text(wanted: Sequence[str]) -> str:
    names = ", ".join(skill_names(list(wanted)))
    if len(wanted) == 1:
        return f"develops a skill you want: {names}"
    return f"develops {len(wanted)} of the skills you want: {names}"


def _gaps_text(gaps: Sequence[str]) -> str:
    return "builds on your self-assessment: " + ", ".join(skill_names(list(gaps)))


_SPACES: OrderedDict[tuple[str, ...], tuple[SharedTextSpace, np.ndarray]] = OrderedDict()
_SPACES_LOCK = threading.Lock()
SPACES_KEPT = 32  # fitted text spaces kept per process (one per catalogue members see)


def _text_space(documents: tuple[str, ...]) -> tuple[SharedTextSpace, np.ndarray]:
    """The text space fitted on ``documents`` and their projected rows, fitted once per
    distinct catalogue in this process (a cache of a pure function: any process may refit)."""
    with _SPACES_LOCK:
        found = _SPACES.get(documents)
        if found is not None:
            _SPACES.move_to_end(documents)
            return found
    # A small catalogue leaves too few documents for a latent space: plain TF-IDF then.
    space = SharedTextSpace(n_components=LSA_COMPONENTS if len(documents) >= LSA_FROM else 0)
    texts = space.fit_transform(pd.DataFrame({"text": list(documents)}))
    with _SPACES_LOCK:
        _SPACES[documents] = (space, texts)
        while len(_SPACES) > SPACES_KEPT:
            _SPACES.popitem(last=False)
    return space, texts


def reason_sentence(reasons: Sequence[str]) -> str:
    """Reasons as one sentence: "Develops 2 of the skills you want: ...; open to band 4"."""
    text = "; ".join(reasons)
    return text[:1].upper() + text[1:]


def recommend(
    opportunities: pd.DataFrame, seeker: Seeker, *, today: date, first: int = 3
) -> list[Recommendation]:
    """The ``first`` best open, eligible opportunities for ``seeker``, best first.

    Only opportunities with at least one reason are recommended; ties go to the one closing
    sooner, then to the lower id.
    """
    check_opportunity_frame(opportunities)
    if first <= 0 or opportunities.empty:
        return []
    frame = opportunities.reset_index(drop=True)
    # The text space is fitted on every opportunity given, eligible or not, so that members
    # who see the same catalogue share one fitted space (see ``_text_space``).
    space, all_texts = _text_space(tuple(_document(r) for r in frame.to_dict("records")))
    keep = [
        k
        for k, row in enumerate(frame.to_dict("records"))
        if is_open(row["closes_on"], today)
        and eligible({d: _as_tuple(row[c]) for d, c in DIMENSIONS.items()}, seeker)
    ]
    if not keep:
        return []
    frame = frame.iloc[keep].reset_index(drop=True)
    rows = frame.to_dict("records")

    encoder = SkillsEncoder().fit(None)
    developed = encoder.transform(frame[["skills"]])
    sought_set = set(seeker.skills_sought)
    gaps = tuple(g for g in seeker.gaps if g not in sought_set)
    wanted = encoder.transform(pd.DataFrame({"skills": [seeker.skills_sought]}))[0]
    gap_vector = encoder.transform(pd.DataFrame({"skills": [gaps]}))[0]
    sought_hits = developed @ wanted
    gap_hits = developed @ gap_vector

    texts = all_texts[keep]
    goals = seeker.goals.strip()
    closeness = (
        np.clip(texts @ space.project_text(goals), 0.0, 1.0) if goals else np.zeros(len(rows))
    )

    band_aimed = np.array([seeker.band in _as_tuple(r["bands"]) for r in rows])
    region_aimed = np.array([seeker.region in _as_tuple(r["regions"]) for r in rows])
    points = (
        SOUGHT_POINTS * sought_hits
        + GAP_POINTS * gap_hits
        + TEXT_POINTS * closeness
        + BAND_POINTS * band_aimed
        + REGION_POINTS * region_aimed
    )
    best = (
        SOUGHT_POINTS * max(len(seeker.skills_sought), 1)
        + GAP_POINTS * len(gaps)
        + TEXT_POINTS
        + BAND_POINTS
        + REGION_POINTS
    )
    scores = np.clip(100.0 * points / best, 0.0, 100.0)

    out: list[Recommendation] = []
    for k in sorted(
        range(len(rows)),
        key=lambda k: (
            -round(float(scores[k]), 6),
            rows[k]["closes_on"],
            rows[k]["opportunity_id"],
        ),
    ):
        row = rows[k]
        skills = _as_tuple(row["skills"])
        reasons: list[str] = []
        wanted_here = [s for s in seeker.skills_sought if s in skills]
        if wanted_here:
            reasons.append(_developed_text(wanted_here))
        gaps_here = [g for g in gaps if g in skills]
        if gaps_here:
            reasons.append(_gaps_text(gaps_here))
        if closeness[k] >= CLOSE_TO_GOALS:
            reasons.append("close to your goals")
        if band_aimed[k]:
            reasons.append(_band_text(seeker.band))
        if region_aimed[k]:
            reasons.append("in your region")
        if not reasons:
            continue
        out.append(Recommendation(int(row["opportunity_id"]), round(float(scores[k]), 1), reasons))
        if len(out) == first:
            break
    return out


__all__ = [
    "DIMENSIONS",
    "OPPORTUNITY_COLUMNS",
    "Recommendation",
    "Seeker",
    "check_opportunity_frame",
    "eligible",
    "is_open",
    "reason_sentence",
    "recommend",
]
