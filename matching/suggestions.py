"""Ranked mentor suggestions for one member, with reasons and exposure control.

``MentorSuggester`` is fitted once on a member frame (every member, with ``mentor_capacity``
holding each mentor's *free* places) and then answers one request at a time: the top-k mentors
for a member, by the same 0-100 pair score as the rounds, after the hard rules of members-csv.md
(never themself, band strictly above, ``outside_organisation_only``, no one in the member's
line-management chain, free capacity > 0, and the caller's exclusions).

Exposure control (as Together does): a popular mentor should not be offered to many more
mentees than they have places at once. Each mentor's *exposure* is the number of outstanding
offers per free place: the caller's ``exposure_counts`` (offers or open requests it knows of),
plus, when ``exposure=True``, the suggester's own memory of what it offered, which halves every
``exposure_halflife`` requests. Ranking subtracts ``exposure_penalty`` points per offer per place
(capped at ``max_exposure``), and a mentor at ``max_exposure`` offers per place or more is held
back unless too few other mentors are eligible. The displayed score is always the plain pair
score; exposure changes only the order.

``exposure_counts`` may also be a function of a list of mentor ids (returning their counts):
then it is asked only about the mentors that can still reach the top k (best scores first,
widened until no mentor left out could rank above the k-th), so a caller whose counts live in
a database reads a few dozen rows, not one per mentor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from matching.features import PersonFeatures, _as_tuple, check_member_frame
from matching.learning import use_learned
from matching.reasons import describe_pairs, type_reasons
from matching.rules import SENIOR_LEADER_RANK, chain_pairs, check_band_rule
from matching.scoring import COMPONENTS, ScoreWeights, mentee_parts, mentor_parts
from vocabulary import BAND_RANK

# Offers per mentor id, or a function giving them for the mentor ids it is asked about.
ExposureCounts = Mapping[str, float] | Callable[[Sequence[str]], Mapping[str, float]]

# Defaults for a browsing member's profile fields that are missing from a request.
_PROFILE_DEFAULTS: dict[str, object] = {
    "member_id": "",
    "organisation_key": "",
    "line_manager_id": None,
    "seeking_mentor": True,
    "mentor_capacity": 0,
    "skills_sought": (),
    "skills_offered": (),
    "goals": "",
    "bio": "",
    "meeting_format": "either",
    "management_years": 0,
    "outside_organisation_only": False,
    "priority_access": False,
}


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


@dataclass(frozen=True)
class Suggestion:
    """One suggested mentor: id, pair score 0-100, plain-English reasons and the components."""

    mentor_id: str
    score: float
    reasons: list[str] = field(default_factory=list)
    components: dict[str, float] = field(default_factory=dict)


class MentorSuggester(BaseEstimator):
    """Top-k mentors with free capacity for one member, under the hard rules.

    Parameters
    ----------
    weights : ScoreWeights or None, default=None
        Score component weights; ``None`` means the defaults.
    exposure : bool, default=True
        Remember what was offered (decaying) and count it towards each mentor's exposure.
    exposure_halflife : float, default=100.0
        Requests after which a remembered offer counts half.
    exposure_penalty : float, default=4.0
        Ranking points subtracted per outstanding offer per free place.
    max_exposure : float, default=2.0
        Offers per free place at which a mentor is held back (offered only when too few
        others are eligible).
    text_components : int, default=32
        Dimension of the goals/experience text space.
    random_state : int, default=0
        Seed of the text projection.
    acceptance : AcceptanceModel or None, default=None
        A fitted model of acceptance (``matching.learning``). Used only when it beat the fixed
        weights on held-out outcomes (``beats_fixed_``): then the ``shortlist`` best mentors by
        the fixed score are re-ranked by learned probability, and ``score`` is 100 times it.
    shortlist : int, default=50
        Mentors re-ranked by the acceptance model (at least ``k``).

    Attributes
    ----------
    features_ : PersonFeatures
        Features fitted on the whole frame.
    mentor_ids_ : ndarray of shape (n_mentors,)
        Ids of the members with free capacity.
    mentor_capacity_ : ndarray of shape (n_mentors,)
        Their free places.
    mentor_matrix_ : ndarray of shape (n_mentors, n_dims)
        Mentor-side score vectors.
    person_matrix_ : ndarray of shape (n_members, n_dims)
        Unweighted mentee-side score vectors of every member of the frame.
    offers_ : ndarray of shape (n_mentors,)
        Decayed count of the suggester's own offers per mentor.
    """

    def __init__(
        self,
        weights: ScoreWeights | None = None,
        exposure: bool = True,
        exposure_halflife: float = 100.0,
        exposure_penalty: float = 4.0,
        max_exposure: float = 2.0,
        text_components: int = 32,
        random_state: int = 0,
        acceptance=None,
        shortlist: int = 50,
    ):
        self.weights = weights
        self.exposure = exposure
        self.exposure_halflife = exposure_halflife
        self.exposure_penalty = exposure_penalty
        self.max_exposure = max_exposure
        self.text_components = text_components
        self.random_state = random_state
        self.acceptance = acceptance
        self.shortlist = shortlist

    def fit(self, X: pd.DataFrame, y=None) -> MentorSuggester:
        """Fit the features on the frame and precompute every mentor's vectors; return self."""
        check_member_frame(X)
        if self.exposure_halflife <= 0 or self.max_exposure <= 0 or self.exposure_penalty < 0:
            raise ValueError("exposure settings must be positive")
        frame = X.reset_index(drop=True)
        weights = self.weights if self.weights is not None else ScoreWeights()
        self.weights_ = weights
        self.weight_points_ = dict(zip(COMPONENTS, weights.as_array() * 100.0, strict=True))
        self.features_ = PersonFeatures(self.text_components, self.random_state)
        feats = self.features_.fit_transform(frame)
        blocks = self.features_.blocks_
        self.frame_ = frame
        ids = frame["member_id"].astype(str).to_numpy()
        self.member_ids_ = ids
        self.row_of_ = {m: k for k, m in enumerate(ids)}
        band = frame["band"].astype(str).map(BAND_RANK)
        if band.isna().any():
            raise ValueError("unknown band in member frame")
        self.band_ = band.to_numpy(dtype=np.int64)
        org_codes, orgs = pd.factorize(frame["organisation_key"].astype(str))
        self.org_code_ = org_codes.astype(np.int64)
        self.org_index_ = {o: k for k, o in enumerate(orgs)}
        capacity = pd.to_numeric(frame["mentor_capacity"]).fillna(0).to_numpy(dtype=np.int64)
        mentor_rows = np.flatnonzero(capacity > 0)
        self.mentor_rows_ = mentor_rows
        self.mentor_ids_ = ids[mentor_rows]
        self.mentor_capacity_ = capacity[mentor_rows]
        self.mentor_band_ = self.band_[mentor_rows]
        self.mentor_org_ = self.org_code_[mentor_rows]
        self.mentor_pos_ = np.full(len(frame), -1, np.int64)
        self.mentor_pos_[mentor_rows] = np.arange(len(mentor_rows))

        e_parts = mentee_parts(feats, blocks)
        m_parts = mentor_parts(feats[mentor_rows], blocks)
        self.component_slices_: dict[str, slice] = {}
        start = 0
        for c in COMPONENTS:
            width = e_parts[c].shape[1]
            self.component_slices_[c] = slice(start, start + width)
            start += width
        self.person_matrix_ = np.hstack([e_parts[c] for c in COMPONENTS]).astype(np.float32)
        self.scale_ = np.concatenate(
            [np.full(e_parts[c].shape[1], self.weight_points_[c], np.float32) for c in COMPONENTS]
        )
        self.mentor_matrix_ = np.ascontiguousarray(
            np.hstack([m_parts[c] for c in COMPONENTS]).astype(np.float32)
        )
        self.org_penalty_ = np.float32(self.weight_points_["organisation"])
        goals = self.component_slices_["goals"]
        self.rest_cols_ = np.r_[0 : goals.start, goals.stop : self.mentor_matrix_.shape[1]]
        self.mentor_rest_ = np.ascontiguousarray(self.mentor_matrix_[:, self.rest_cols_])
        self.mentor_goals_ = np.ascontiguousarray(self.mentor_matrix_[:, goals])

        # Line-management chains, both directions, as CSR over frame rows.
        managers = frame["line_manager_id"].to_numpy(dtype=object)
        person, ancestor = chain_pairs(ids, managers)
        a = np.concatenate([person, ancestor])
        b = np.concatenate([ancestor, person])
        order = np.argsort(a, kind="stable")
        self.chain_idx_ = b[order]
        self.chain_ptr_ = np.concatenate([[0], np.cumsum(np.bincount(a, minlength=len(ids)))])
        self.offers_ = np.zeros(len(mentor_rows))
        self.n_requests_ = 0
        return self

    # ------------------------------------------------------------------------------------------
    def _person(self, mentee: str | Mapping | pd.Series) -> tuple[int, np.ndarray, dict]:
        """(frame row or -1, unweighted mentee-side vector, profile facts) of the requester."""
        if isinstance(mentee, str):
            row = self.row_of_.get(mentee)
            if row is None:
                raise KeyError(f"unknown member_id {mentee!r}")
            return row, self.person_matrix_[row], self.frame_.iloc[row].to_dict()
        if isinstance(mentee, pd.DataFrame):
            if len(mentee) != 1:
                raise ValueError("suggest() takes one member at a time")
            mentee = mentee.iloc[0]
        values = dict(mentee.items()) if isinstance(mentee, pd.Series) else dict(mentee)
        for key, default in _PROFILE_DEFAULTS.items():
            if (
                key not in values
                or values[key] is None
                or (isinstance(values[key], float) and np.isnan(values[key]))
            ):
                values[key] = default
        if not values["organisation_key"] and values.get("organisation"):
            values["organisation_key"] = " ".join(str(values["organisation"]).split()).casefold()
        row = self.row_of_.get(str(values["member_id"]), -1)
        feats = self._mentee_features(values)
        parts = mentee_parts(feats, self.features_.blocks_)
        vec = np.hstack([parts[c] for c in COMPONENTS]).astype(np.float32)[0]
        return row, vec, values

    def _mentee_features(self, values: dict) -> np.ndarray:
        """The feature row of one profile (mentee-side blocks only), without the pipeline.

        ``PersonFeatures.transform`` costs tens of milliseconds for one row (pandas and the
        column transformer); the blocks a mentee vector reads are filled in directly instead.
        """
        pf = self.features_
        ct = pf.pipeline_.named_steps["columns"]
        out = np.zeros((1, pf.n_features_out_), np.float32)
        blocks = pf.blocks_
        index = ct.named_transformers_["sought"].index_
        for skill in _as_tuple(values["skills_sought"]):
            k = index.get(skill)
            if k is not None:
                out[0, blocks["sought"].start + k] = 1.0
        goals = "" if values["goals"] is None else str(values["goals"])
        text = ct.named_transformers_["text"]
        if goals and text.dim_:
            out[0, blocks["goals"]] = text.project_text(goals)
        place = f"{values.get('region')}|{values.get('meeting_format')}"
        for name, value in (
            ("band", str(values.get("band"))),
            ("role_family", str(values.get("role_family"))),
            ("profession", str(values.get("profession"))),
            ("place", place),
        ):
            cats = list(ct.named_transformers_[name].categories_[0])
            if value in cats:
                out[0, blocks[name].start + cats.index(value)] = 1.0
        return out

    def _chain_mentors(self, row: int, facts: dict) -> np.ndarray:
        """Mentor positions in the requester's line-management chain (either direction)."""
        rows: list[int] = []
        if row >= 0:
            rows.extend(self.chain_idx_[self.chain_ptr_[row] : self.chain_ptr_[row + 1]].tolist())
        else:
            # A member not in the frame: their managers up the chain (nobody reports to them).
            seen: set[int] = set()
            cur = facts.get("line_manager_id")
            managers = self.frame_["line_manager_id"].to_numpy(dtype=object)
            while isinstance(cur, str) and cur in self.row_of_:
                r = self.row_of_[cur]
                if r in seen:
                    break
                seen.add(r)
                cur = managers[r]
            rows.extend(seen)
        pos = self.mentor_pos_[np.asarray(rows, np.int64)] if rows else np.zeros(0, np.int64)
        return pos[pos >= 0]

    def eligible(
        self,
        mentee: str | Mapping | pd.Series,
        exclude: Iterable[str] = (),
        *,
        band_rule: str = "senior",
    ) -> np.ndarray:
        """Boolean mask over ``mentor_ids_`` of the mentors the hard rules allow for a member."""
        check_is_fitted(self, "mentor_matrix_")
        row, _, facts = self._person(mentee)
        return self._mask(row, facts, exclude, band_rule)

    def _mask(
        self, row: int, facts: dict, exclude: Iterable[str], band_rule: str = "senior"
    ) -> np.ndarray:
        check_band_rule(band_rule)
        band_e = BAND_RANK.get(str(facts["band"]))
        if band_e is None:
            raise ValueError(f"unknown band {facts['band']!r}")
        if band_rule == "senior":
            ok = self.mentor_band_ > band_e
        else:  # reciprocal: a senior leader, for a member with widening-access priority
            flagged = bool(facts.get("priority_access", False))
            ok = (self.mentor_band_ >= SENIOR_LEADER_RANK) & flagged
        ok &= self.mentor_capacity_ > 0
        if row >= 0 and self.mentor_pos_[row] >= 0:
            ok[self.mentor_pos_[row]] = False
        if bool(facts["outside_organisation_only"]):
            org = self.org_index_.get(str(facts["organisation_key"]), -1)
            ok &= self.mentor_org_ != org
        ok[self._chain_mentors(row, facts)] = False
        ex = [self.row_of_.get(str(x), -1) for x in exclude]
        ex_pos = self.mentor_pos_[np.asarray([r for r in ex if r >= 0], np.int64)]
        ok[ex_pos[ex_pos >= 0]] = False
        return ok

    def exposure_of(self, exposure_counts: Mapping[str, float] | None = None) -> np.ndarray:
        """Outstanding offers per free place of every mentor (``mentor_ids_`` order)."""
        check_is_fitted(self, "mentor_matrix_")
        offers = self.offers_.copy() if self.exposure else np.zeros(len(self.mentor_rows_))
        if exposure_counts:
            for mentor_id, count in exposure_counts.items():
                r = self.row_of_.get(str(mentor_id), -1)
                p = self.mentor_pos_[r] if r >= 0 else -1
                if p >= 0:
                    offers[p] += float(count)
        return offers / np.maximum(self.mentor_capacity_, 1)

    def suggest(
        self,
        mentee: str | Mapping | pd.Series,
        k: int = 10,
        exclude: Iterable[str] = (),
        *,
        exposure_counts: ExposureCounts | None = None,
        record: bool = True,
        band_rule: str = "senior",
    ) -> list[Suggestion]:
        """Top-``k`` mentors for one member (a member_id of the frame, or a profile mapping),
        under the programme type's ``band_rule`` (``matching.rules``)."""
        check_is_fitted(self, "mentor_matrix_")
        if k < 1:
            return []
        row, vec, facts = self._person(mentee)
        ok = self._mask(row, facts, exclude, band_rule)
        cand = np.flatnonzero(ok)
        if len(cand) == 0:
            return []
        # Products over every mentor are cheaper than gathering the eligible rows first; the
        # text cosine is clipped at 0 as in the components, so the order matches the scores.
        wv = vec * self.scale_
        goals = self.component_slices_["goals"]
        # One BLAS thread: a threaded matrix-vector product of this size is no faster, and on a
        # busy server its threads wait for cores (p95 4 ms against 1 ms measured).
        with _blas_controller().limit(limits=1, user_api="blas"):
            text = self.mentor_goals_ @ wv[goals]
            rest = self.mentor_rest_ @ wv[self.rest_cols_]
        text = np.clip(text, 0.0, self.weight_points_["goals"])
        score = (rest + text)[cand]
        org = self.org_index_.get(str(facts["organisation_key"]), -1)
        score -= (self.mentor_org_[cand] == org) * self.org_penalty_
        learned = use_learned(self.acceptance)
        if learned and len(cand) > max(self.shortlist, k):
            keep = np.argpartition(-score, max(self.shortlist, k) - 1)[: max(self.shortlist, k)]
            cand, score = cand[keep], score[keep]
        comps_all = self._components(vec, cand, org) if learned else None
        if learned:
            score = self.acceptance.score_pairs(comps_all)
        part, load = self._candidate_load(cand, score, k, exposure_counts)
        if len(part) < len(cand):
            cand, score = cand[part], score[part]
            comps_all = comps_all[part] if comps_all is not None else None
        key = self._ranking_key(score, load)
        take = min(k, len(cand))
        if take < len(cand):  # every mentor tied with the k-th, so ties go by mentor id
            top = np.flatnonzero(key >= -np.partition(-key, take - 1)[take - 1])
        else:
            top = np.arange(len(cand))
        top = top[np.lexsort((self.mentor_ids_[cand[top]], -key[top]))][:take]
        chosen = cand[top]
        if comps_all is not None:  # the learned model scored these pairs
            comps = comps_all[top]
            scores = np.clip(score[top], 0.0, 100.0)
        else:
            comps = self._components(vec, chosen, org)
            w = np.array([self.weight_points_[c] for c in COMPONENTS])
            scores = np.clip(comps @ w, 0.0, 100.0)
        requester_facts = self._facts_of_requester(facts, len(chosen))
        mentor_facts = self._facts_of_mentors(chosen)
        reasons = describe_pairs(comps, self.weight_points_, requester_facts, mentor_facts)
        if band_rule != "senior":
            requester_facts["offered"] = [_as_tuple(facts.get("skills_offered"))] * len(chosen)
            reasons = [
                [*type_reasons(band_rule, requester_facts, mentor_facts, i), *r]
                for i, r in enumerate(reasons)
            ]
        if record:
            self._record(chosen)
        return [
            Suggestion(
                mentor_id=str(self.mentor_ids_[p]),
                score=round(float(s), 1),
                reasons=r,
                components={c: round(float(v), 3) for c, v in zip(COMPONENTS, cv, strict=True)},
            )
            for p, s, r, cv in zip(chosen, scores, reasons, comps, strict=True)
        ]

    def _ranking_key(self, score: np.ndarray, load: np.ndarray) -> np.ndarray:
        key = score - self.exposure_penalty * np.minimum(load, self.max_exposure)
        # Held back at max_exposure: they rank after every mentor who is not.
        return np.where(load >= self.max_exposure, key - 1e4, key)

    def _candidate_load(
        self,
        cand: np.ndarray,
        score: np.ndarray,
        k: int,
        exposure_counts: ExposureCounts | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which candidates (positions in ``cand``) to rank, and their exposure load.

        Given a mapping, every candidate. Given a function, only the best-scoring candidates
        are looked up, widened until the k-th best ranking key among them is above every
        score left out (exposure only lowers a key), so the top k is the same as over all.
        """
        if not callable(exposure_counts):
            return np.arange(len(cand)), self.exposure_of(exposure_counts)[cand]
        size = min(len(cand), max(8 * k, 64))
        while True:
            if size < len(cand):
                part = np.argpartition(-score, size - 1)[:size]
            else:
                part = np.arange(len(cand))
            mentors = cand[part]
            ids = [str(x) for x in self.mentor_ids_[mentors]]
            offers = self.offers_[mentors].copy() if self.exposure else np.zeros(len(mentors))
            index = {mentor_id: i for i, mentor_id in enumerate(ids)}
            for mentor_id, count in exposure_counts(ids).items():
                i = index.get(str(mentor_id))
                if i is not None:
                    offers[i] += float(count)
            load = offers / np.maximum(self.mentor_capacity_[mentors], 1)
            if size == len(cand):
                return part, load
            key = self._ranking_key(score[part], load)
            kth = np.partition(key, len(key) - k)[len(key) - k]
            left_out = np.ones(len(cand), dtype=bool)
            left_out[part] = False
            if kth > score[left_out].max():
                return part, load
            size = min(len(cand), size * 4)

    def _components(self, vec: np.ndarray, mentors: np.ndarray, org: int) -> np.ndarray:
        m = self.mentor_matrix_[mentors]
        out = np.empty((len(mentors), len(COMPONENTS)))
        for j, c in enumerate(COMPONENTS):
            s = self.component_slices_[c]
            out[:, j] = m[:, s] @ vec[s]
        out[:, COMPONENTS.index("organisation")] = self.mentor_org_[mentors] != org
        return np.clip(out, 0.0, 1.0)

    def _facts_of_requester(self, facts: dict, n: int) -> dict:
        return {
            "sought": [_as_tuple(facts["skills_sought"])] * n,
            "offered": [()] * n,
            "region": [facts.get("region")] * n,
            "profession": [facts.get("profession")] * n,
            "role_family": [facts.get("role_family")] * n,
            "band": np.full(n, BAND_RANK[str(facts["band"])]),
        }

    def _facts_of_mentors(self, mentors: np.ndarray) -> dict:
        rows = self.mentor_rows_[mentors]
        f = self.frame_
        return {
            "sought": f["skills_sought"].to_numpy(dtype=object)[rows],
            "offered": f["skills_offered"].to_numpy(dtype=object)[rows],
            "region": f["region"].to_numpy(dtype=object)[rows],
            "profession": f["profession"].to_numpy(dtype=object)[rows],
            "role_family": f["role_family"].to_numpy(dtype=object)[rows],
            "band": self.band_[rows],
        }

    def _record(self, mentors: np.ndarray) -> None:
        self.n_requests_ += 1
        if not self.exposure:
            return
        self.offers_ *= 0.5 ** (1.0 / self.exposure_halflife)
        self.offers_[mentors] += 1.0

    def reset_exposure(self) -> None:
        """Forget the suggester's own record of offers."""
        check_is_fitted(self, "offers_")
        self.offers_[:] = 0.0


__all__ = ["MentorSuggester", "Suggestion"]
