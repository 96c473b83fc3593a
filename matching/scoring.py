"""Pair scores 0-100 from named components with organiser-tunable weights.

Every component is a number in [0, 1] for a (mentee, mentor) pair:

- ``skills``: share of the mentee's skills sought that the mentor offers (0.5 when the mentee
  named none, so it neither helps nor hurts anyone);
- ``seniority``: 1 when the mentor is 1-3 bands above, less beyond that;
- ``goals``: cosine similarity of the mentee's goals with the mentor's experience (bio, goals,
  skills offered) in a TF-IDF + LSA space fitted on the population;
- ``organisation``: 1 when the mentor works in another organisation;
- ``background``: shared or complementary professional background;
- ``place``: region and meeting-format fit;
- ``role``: same or related role family.

The score is ``100 * sum(w_c * component_c) / sum(w_c)``. Each component is an inner product of
a mentee-side and a mentor-side vector, so a block of scores is one matrix product; hard rules
are applied afterwards as masks that no weight can break.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from matching.features import PersonFeatures, check_member_frame
from matching.rules import build_population
from vocabulary import BANDS, MEETING_FORMATS, PROFESSIONS, REGIONS, ROLE_FAMILIES

COMPONENTS: tuple[str, ...] = (
    "skills",
    "seniority",
    "goals",
    "organisation",
    "background",
    "place",
    "role",
)


@dataclass(frozen=True)
class ScoreWeights:
    """Organiser-tunable weights of the score components (any non-negative scale)."""

    skills: float = 35.0
    seniority: float = 15.0
    goals: float = 12.0
    organisation: float = 12.0
    background: float = 8.0
    place: float = 10.0
    role: float = 8.0

    def as_array(self) -> np.ndarray:
        """Weights in ``COMPONENTS`` order, normalised to sum to 1."""
        w = np.array([getattr(self, c) for c in COMPONENTS], dtype=np.float64)
        if (w < 0).any() or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("score weights must be non-negative, finite and not all zero")
        return w / w.sum()

    def as_dict(self) -> dict[str, float]:
        """Weights as a plain dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, float]) -> ScoreWeights:
        """Build weights from a dict, ignoring unknown keys."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in values.items() if k in names})


WEIGHT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(ScoreWeights))
MAX_WEIGHT = 1000.0


def weights_problem(chosen: Mapping[str, float | str]) -> str | None:
    """What is wrong with organiser-chosen weights (unnamed ones keep their defaults), if any.

    The messages are the ones the organisers' round form shows.
    """
    unknown = sorted(set(chosen) - set(WEIGHT_NAMES))
    if unknown:
        return f"Unknown weight: {', '.join(unknown)}. Use {', '.join(WEIGHT_NAMES)}."
    try:
        numbers = {name: float(value) for name, value in chosen.items()}
        ScoreWeights.from_dict({**ScoreWeights().as_dict(), **numbers}).as_array()
    except (TypeError, ValueError):
        return "Weights must be numbers of 0 or more, and not all 0."
    if any(value > MAX_WEIGHT for value in numbers.values()):
        return "Weights must be 1,000 or less."
    return None


def parse_weights(text: str) -> ScoreWeights:
    """Weights from ``name=number`` pairs separated by commas, e.g. ``skills=2,goals=1``.

    Weights not named keep their defaults. Raises ``ValueError`` with a message naming what is
    wrong (unknown name, a value that is not a number, a name given twice, out of range).
    """
    chosen: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        name, eq, value = (x.strip() for x in part.partition("="))
        if not part or not eq or not name:
            raise ValueError(
                f"Write weights as name=number separated by commas, like skills=2,goals=1 "
                f"(got {text.strip()!r})."
            )
        if name in chosen:
            raise ValueError(f"Weight {name} is given twice.")
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is None or not math.isfinite(number):
            problem = weights_problem({name: 1.0})
            if problem:
                raise ValueError(problem)
            raise ValueError(f"Weight {name} must be a number of 0 or more, not {value!r}.")
        chosen[name] = number
    problem = weights_problem(chosen)
    if problem:
        raise ValueError(problem)
    return ScoreWeights.from_dict({**ScoreWeights().as_dict(), **chosen})


def seniority_fit(gap: np.ndarray) -> np.ndarray:
    """Fit of a band gap (mentor rank minus mentee rank): 1 for 1-3 bands above."""
    gap = np.asarray(gap)
    table = np.array([0.0, 1.0, 1.0, 1.0, 0.7, 0.45, 0.3, 0.2])
    return np.where(gap <= 0, 0.0, table[np.clip(gap, 0, len(table) - 1)])


def _seniority_table() -> np.ndarray:
    ranks = np.arange(len(BANDS))
    return seniority_fit(ranks[None, :] - ranks[:, None])  # [mentee, mentor]


CLINICAL = {
    "doctor",
    "nurse-or-midwife",
    "allied-health-professional",
    "healthcare-scientist",
    "pharmacist",
}


def _background_table() -> np.ndarray:
    n = len(PROFESSIONS)
    t = np.zeros((n, n))
    for i, a in enumerate(PROFESSIONS):
        for j, b in enumerate(PROFESSIONS):
            if a == b:
                t[i, j] = 1.0 if a in CLINICAL else 0.6
            elif a in CLINICAL and b in CLINICAL:
                t[i, j] = 0.6  # both made the move from clinical work into management
            else:
                t[i, j] = 0.4  # complementary: clinical and non-clinical perspectives
    return t


def place_fit(region_e: str, format_e: str, region_m: str, format_m: str) -> float:
    """Region and meeting-format fit of a pair, in [0, 1]."""
    same = region_e == region_m
    remote_ok = format_e != "in-person" and format_m != "in-person"
    in_person_ok = same and format_e != "remote" and format_m != "remote"
    if in_person_ok:
        return 1.0
    if remote_ok:
        return 0.9 if same else 0.7
    return 0.0


def _place_table() -> np.ndarray:
    places = [(r, f) for r in REGIONS for f in MEETING_FORMATS]
    return np.array([[place_fit(re, fe, rm, fm) for rm, fm in places] for re, fe in places])


ROLE_CLUSTERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "operational-management",
            "clinical-management",
            "nursing-leadership",
            "primary-care-management",
        }
    ),
    frozenset({"finance", "strategy-and-transformation", "digital-and-data"}),
    frozenset({"people-and-hr", "workforce-and-rostering", "administration"}),
    frozenset({"quality-and-governance", "clinical-management", "nursing-leadership"}),
    frozenset({"estates-and-facilities", "operational-management"}),
)


def _role_table() -> np.ndarray:
    n = len(ROLE_FAMILIES)
    t = np.full((n, n), 0.2)
    for i, a in enumerate(ROLE_FAMILIES):
        for j, b in enumerate(ROLE_FAMILIES):
            if a == b:
                t[i, j] = 1.0
            elif any(a in c and b in c for c in ROLE_CLUSTERS):
                t[i, j] = 0.6
    return t


TABLES: dict[str, np.ndarray] = {
    "band": _seniority_table(),
    "profession": _background_table(),
    "place": _place_table(),
    "role_family": _role_table(),
}


def mentee_parts(feats: np.ndarray, blocks: dict[str, slice]) -> dict[str, np.ndarray]:
    """Mentee-side vectors of each score component, from ``PersonFeatures`` rows."""

    def b(name: str) -> np.ndarray:
        return feats[:, blocks[name]]

    sought = b("sought")
    n_sought = sought.sum(axis=1, keepdims=True)
    sought_norm = np.divide(sought, n_sought, out=np.zeros_like(sought), where=n_sought > 0)
    neutral = (n_sought == 0).astype(np.float32) * 0.5
    return {
        "skills": np.hstack([sought_norm, neutral]),
        "seniority": b("band"),
        "goals": b("goals"),
        "organisation": np.ones((len(feats), 1), np.float32),
        "background": b("profession"),
        "place": b("place"),
        "role": b("role_family"),
    }


def mentor_parts(feats: np.ndarray, blocks: dict[str, slice]) -> dict[str, np.ndarray]:
    """Mentor-side vectors of each score component, from ``PersonFeatures`` rows."""

    def b(name: str) -> np.ndarray:
        return feats[:, blocks[name]]

    return {
        "skills": np.hstack([b("offered"), np.ones((len(feats), 1), np.float32)]),
        "seniority": b("band") @ TABLES["band"].T,
        "goals": b("experience"),
        "organisation": np.ones((len(feats), 1), np.float32),
        "background": b("profession") @ TABLES["profession"].T,
        "place": b("place") @ TABLES["place"].T,
        "role": b("role_family") @ TABLES["role_family"].T,
    }


class PairScorer(BaseEstimator):
    """Scores (mentee, mentor) pairs of one population.

    ``fit`` learns the features of the population and precomputes a weighted mentee-side matrix
    and a mentor-side matrix whose product is the score of every pair, before the same-
    organisation correction and the hard-rule masks.

    Parameters
    ----------
    weights : ScoreWeights or None, default=None
        Component weights; ``None`` means ``ScoreWeights()``.
    text_components : int, default=32
        Dimension of the goals/experience text space.
    random_state : int, default=0
        Seed of the text projection.

    Attributes
    ----------
    population_ : Population
        Hard-rule arrays of the fitted frame.
    features_ : PersonFeatures
        Fitted per-person features.
    mentee_matrix_ : ndarray of shape (n_mentees, n_dims)
        Weighted mentee-side vectors (float32).
    mentor_matrix_ : ndarray of shape (n_mentors, n_dims)
        Mentor-side vectors (float32).
    org_penalty_ : float
        Points subtracted when mentor and mentee share an organisation.
    """

    def __init__(
        self,
        weights: ScoreWeights | None = None,
        text_components: int = 32,
        random_state: int = 0,
        band_rule: str = "senior",
        excluded_pairs=(),
    ):
        self.weights = weights
        self.text_components = text_components
        self.random_state = random_state
        self.band_rule = band_rule
        self.excluded_pairs = excluded_pairs

    def fit(self, X: pd.DataFrame, y=None) -> PairScorer:
        """Fit features on the member frame and precompute the score factors; return self."""
        check_member_frame(X)
        weights = self.weights if self.weights is not None else ScoreWeights()
        self.weights_ = weights
        w = dict(zip(COMPONENTS, weights.as_array() * 100.0, strict=False))
        self.population_ = build_population(
            X, band_rule=self.band_rule, excluded_pairs=self.excluded_pairs
        )
        self.features_ = PersonFeatures(self.text_components, self.random_state)
        feats = self.features_.fit_transform(X)
        blocks = self.features_.blocks_
        pop = self.population_
        fe = feats[pop.mentee_rows]
        fm = feats[pop.mentor_rows]
        self.frame_ = X.reset_index(drop=True)

        e_parts = mentee_parts(fe, blocks)
        self.n_sought_ = fe[:, blocks["sought"]].sum(axis=1).astype(np.int64)
        m_parts = mentor_parts(fm, blocks)
        self.component_slices_ = {}
        start = 0
        for c in COMPONENTS:
            width = e_parts[c].shape[1]
            self.component_slices_[c] = slice(start, start + width)
            start += width
        self.mentee_parts_ = np.hstack([e_parts[c] for c in COMPONENTS]).astype(np.float32)
        self.mentor_matrix_ = np.hstack([m_parts[c] for c in COMPONENTS]).astype(np.float32)
        scale = np.concatenate([np.full(e_parts[c].shape[1], w[c], np.float32) for c in COMPONENTS])
        self.mentee_matrix_ = self.mentee_parts_ * scale
        self.org_penalty_ = float(w["organisation"])
        self.weight_points_ = w
        return self

    def components(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """Component values in [0, 1] for (mentee, mentor) index pairs, shape (n_pairs, 7)."""
        check_is_fitted(self, "mentor_matrix_")
        mentee = np.asarray(mentee, np.int64)
        mentor = np.asarray(mentor, np.int64)
        e = self.mentee_parts_[mentee]
        m = self.mentor_matrix_[mentor]
        out = np.empty((len(mentee), len(COMPONENTS)), np.float64)
        for k, c in enumerate(COMPONENTS):
            s = self.component_slices_[c]
            out[:, k] = np.einsum("ij,ij->i", e[:, s], m[:, s])
        pop = self.population_
        out[:, COMPONENTS.index("organisation")] = pop.mentee_org[mentee] != pop.mentor_org[mentor]
        return np.clip(out, 0.0, 1.0)

    def skills_covered(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """How many of the mentee's skills sought (of the framework) each mentor offers."""
        check_is_fitted(self, "mentor_matrix_")
        mentee = np.asarray(mentee, np.int64)
        mentor = np.asarray(mentor, np.int64)
        s = self.component_slices_["skills"]
        cols = slice(s.start, s.stop - 1)  # without the "none named" column
        share = np.einsum(
            "ij,ij->i", self.mentee_parts_[mentee, cols], self.mentor_matrix_[mentor, cols]
        )
        return np.rint(share * self.n_sought_[mentee]).astype(np.int64)

    def score_pairs(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        """Scores 0-100 for (mentee, mentor) index pairs (hard rules not applied)."""
        comps = self.components(mentee, mentor)
        w = np.array([self.weight_points_[c] for c in COMPONENTS])
        return comps @ w

    def raw_block(self, mentees: np.ndarray, mentor_slice: slice) -> np.ndarray:
        """Unmasked scores of a block of mentees against a contiguous range of mentors."""
        pop = self.population_
        s = self.mentee_matrix_[mentees] @ self.mentor_matrix_[mentor_slice].T
        same = pop.mentee_org[mentees][:, None] == pop.mentor_org[mentor_slice][None, :]
        s -= same * np.float32(self.org_penalty_)
        return s
