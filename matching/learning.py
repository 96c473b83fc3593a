"""Learning from outcomes: a scikit-learn model of acceptance on pair components.

Outcomes are pairs (mentee, mentor) with what happened: a request or a proposed match that was
``accepted`` or ``declined``, and a mentorship that was ``completed`` or ``ended_early``
(completion feedback). Accepted and completed count as positive, declined and ended early as
negative. Each pair is described by the seven score components of :mod:`matching.scoring`
(each in [0, 1]), so the learned model and the fixed weights see exactly the same evidence.

``AcceptanceModel.fit`` holds out part of the history, measures the ROC AUC of the learned model
and of the fixed-weight score on it, and sets ``beats_fixed_`` only when the learned model is
better by at least ``min_gain`` and a paired bootstrap of the held-out AUCs puts the gain above
zero in at least 95% of resamples. Rounds and suggestions use the learned score only then
(``RoundMatcher(acceptance=...)``, ``MentorSuggester(acceptance=...)``); otherwise the fixed
weights stay in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from matching.features import PersonFeatures, check_member_frame
from matching.scoring import COMPONENTS, ScoreWeights, mentee_parts, mentor_parts

POSITIVE_OUTCOMES = frozenset({"accepted", "completed"})
NEGATIVE_OUTCOMES = frozenset({"declined", "ended_early"})


def _component_matrix(X) -> np.ndarray:
    """The seven components as an (n, 7) float array from a frame with those columns."""
    if isinstance(X, pd.DataFrame):
        missing = [c for c in COMPONENTS if c not in X.columns]
        if missing:
            raise ValueError(f"pair frame lacks component columns: {', '.join(missing)}")
        return X[list(COMPONENTS)].to_numpy(dtype=np.float64)
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != len(COMPONENTS):
        raise ValueError(f"expected {len(COMPONENTS)} component columns, got shape {arr.shape}")
    return arr


def fixed_score(X, weights: ScoreWeights | None = None) -> np.ndarray:
    """The fixed-weight pair score 0-100 of component rows."""
    w = (weights if weights is not None else ScoreWeights()).as_array() * 100.0
    return _component_matrix(X) @ w


def _bootstrap_gain(
    y: np.ndarray, learned: np.ndarray, fixed: np.ndarray, n_boot: int, seed: int
) -> float:
    """Share of bootstrap resamples of the held-out set where the learned AUC is higher."""
    rng = np.random.default_rng(seed)
    wins = total = 0
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            continue
        total += 1
        wins += roc_auc_score(y[idx], learned[idx]) > roc_auc_score(y[idx], fixed[idx])
    return wins / total if total else 0.0


class AcceptanceModel(ClassifierMixin, BaseEstimator):
    """Probability that a pair accepts (and completes), from its score components.

    Parameters
    ----------
    model : {"logistic", "boosting"}, default="logistic"
        ``StandardScaler`` + ``LogisticRegression`` (interpretable, needs little data), or
        ``HistGradientBoostingClassifier`` (interactions, needs more).
    C : float, default=1.0
        Inverse regularisation of the logistic model.
    holdout : float, default=0.3
        Share of the history held out to compare with the fixed weights (0 skips the check,
        and the learned model is then never preferred).
    min_gain : float, default=0.01
        Smallest held-out AUC gain over the fixed weights for the model to be used.
    confidence : float, default=0.95
        Share of bootstrap resamples of the held-out set in which the learned AUC must be
        higher.
    n_bootstrap : int, default=200
        Bootstrap resamples for that check.
    weights : ScoreWeights or None, default=None
        The fixed weights to compare with; ``None`` means the defaults.
    random_state : int, default=0
        Seed of the split, the bootstrap and the boosting model.

    Attributes
    ----------
    pipeline_ : Pipeline
        The model refitted on the whole history.
    classes_ : ndarray of shape (2,)
        ``[0, 1]``.
    auc_learned_ : float
        Held-out ROC AUC of the learned model (nan without a holdout).
    auc_fixed_ : float
        Held-out ROC AUC of the fixed-weight score.
    gain_confidence_ : float
        Share of bootstrap resamples in which the learned AUC was higher.
    beats_fixed_ : bool
        Whether rounds and suggestions may use the learned score.
    n_train_ : int
        Pairs used to fit the model compared on the holdout.
    n_test_ : int
        Held-out pairs.
    """

    def __init__(
        self,
        model: str = "logistic",
        C: float = 1.0,
        holdout: float = 0.3,
        min_gain: float = 0.01,
        confidence: float = 0.95,
        n_bootstrap: int = 200,
        weights: ScoreWeights | None = None,
        random_state: int = 0,
    ):
        self.model = model
        self.C = C
        self.holdout = holdout
        self.min_gain = min_gain
        self.confidence = confidence
        self.n_bootstrap = n_bootstrap
        self.weights = weights
        self.random_state = random_state

    def _pipeline(self) -> Pipeline:
        if self.model == "logistic":
            est = LogisticRegression(C=self.C, max_iter=1000)
            return Pipeline([("scale", StandardScaler()), ("model", est)])
        if self.model == "boosting":
            est = HistGradientBoostingClassifier(
                max_iter=100, max_leaf_nodes=15, learning_rate=0.1, random_state=self.random_state
            )
            return Pipeline([("model", est)])
        raise ValueError(f"unknown model {self.model!r}")

    def fit(self, X, y) -> AcceptanceModel:
        """Compare with the fixed weights on a holdout, then refit on all pairs; return self."""
        comps = _component_matrix(X)
        y = np.asarray(y).astype(int).ravel()
        if len(y) != len(comps):
            raise ValueError("X and y have different lengths")
        if set(np.unique(y)) - {0, 1} or len(np.unique(y)) < 2:
            raise ValueError("y must hold both outcomes, as 0 (declined) and 1 (accepted)")
        self.n_features_in_ = len(COMPONENTS)
        self.feature_names_in_ = np.asarray(COMPONENTS, dtype=object)
        self.classes_ = np.array([0, 1])
        self.auc_learned_ = self.auc_fixed_ = float("nan")
        self.gain_confidence_ = 0.0
        self.beats_fixed_ = False
        self.n_train_, self.n_test_ = len(y), 0
        if self.holdout > 0:
            tr, te = train_test_split(
                np.arange(len(y)),
                test_size=self.holdout,
                random_state=self.random_state,
                stratify=y,
            )
            probe = clone(self._pipeline()).fit(comps[tr], y[tr])
            learned = probe.predict_proba(comps[te])[:, 1]
            fixed = fixed_score(comps[te], self.weights)
            self.auc_learned_ = float(roc_auc_score(y[te], learned))
            self.auc_fixed_ = float(roc_auc_score(y[te], fixed))
            self.gain_confidence_ = _bootstrap_gain(
                y[te], learned, fixed, self.n_bootstrap, self.random_state
            )
            self.n_train_, self.n_test_ = len(tr), len(te)
            self.beats_fixed_ = bool(
                self.auc_learned_ >= self.auc_fixed_ + self.min_gain
                and self.gain_confidence_ >= self.confidence
            )
        self.pipeline_ = self._pipeline().fit(comps, y)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of decline and acceptance, shape (n, 2)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(_component_matrix(X))

    def predict(self, X) -> np.ndarray:
        """Predicted outcome (1 = accepted)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def score_pairs(self, X) -> np.ndarray:
        """Learned pair score 0-100 (100 times the probability of acceptance)."""
        return 100.0 * self.predict_proba(X)[:, 1]

    def report(self) -> OutcomeReport:
        """The held-out comparison with the fixed weights."""
        check_is_fitted(self, "pipeline_")
        return OutcomeReport(
            auc_learned=self.auc_learned_,
            auc_fixed=self.auc_fixed_,
            gain_confidence=self.gain_confidence_,
            n_train=self.n_train_,
            n_test=self.n_test_,
            use_learned=self.beats_fixed_,
        )


@dataclass(frozen=True)
class OutcomeReport:
    """Held-out ROC AUC of the learned model and of the fixed weights, and the decision."""

    auc_learned: float
    auc_fixed: float
    gain_confidence: float
    n_train: int
    n_test: int
    use_learned: bool


def use_learned(acceptance: AcceptanceModel | None) -> bool:
    """Whether a fitted acceptance model may replace the fixed weights."""
    return acceptance is not None and bool(getattr(acceptance, "beats_fixed_", False))


def outcome_labels(outcome: Sequence[str]) -> np.ndarray:
    """1 for accepted or completed, 0 for declined or ended early; other values raise."""
    out = np.empty(len(outcome), np.int64)
    for k, o in enumerate(outcome):
        if o in POSITIVE_OUTCOMES:
            out[k] = 1
        elif o in NEGATIVE_OUTCOMES:
            out[k] = 0
        else:
            raise ValueError(f"unknown outcome {o!r}")
    return out


def pair_components(
    frame: pd.DataFrame,
    mentee_ids: Sequence[str],
    mentor_ids: Sequence[str],
    *,
    random_state: int = 0,
) -> pd.DataFrame:
    """The seven score components of given (mentee, mentor) pairs of a member frame.

    Works for any two members (whatever their ``seeking_mentor`` and capacity today), so past
    pairs whose mentor has since filled their places still describe the outcome.
    """
    check_member_frame(frame)
    frame = frame.reset_index(drop=True)
    pf = PersonFeatures(random_state=random_state)
    feats = pf.fit_transform(frame)
    row = {m: k for k, m in enumerate(frame["member_id"].astype(str))}
    try:
        e = np.array([row[str(m)] for m in mentee_ids], np.int64)
        r = np.array([row[str(m)] for m in mentor_ids], np.int64)
    except KeyError as err:
        raise ValueError(f"member {err.args[0]!r} is not in the frame") from None
    ep = mentee_parts(feats[e], pf.blocks_)
    mp = mentor_parts(feats[r], pf.blocks_)
    out = {c: np.einsum("ij,ij->i", ep[c], mp[c]) for c in COMPONENTS}
    org = frame["organisation_key"].astype(str).to_numpy()
    out["organisation"] = (org[e] != org[r]).astype(np.float64)
    return pd.DataFrame({c: np.clip(out[c], 0.0, 1.0) for c in COMPONENTS})


def history_dataset(
    frame: pd.DataFrame, outcomes: pd.DataFrame, *, random_state: int = 0
) -> tuple[pd.DataFrame, np.ndarray]:
    """Components and labels of an outcome history (columns mentee_id, mentor_id, outcome)."""
    comps = pair_components(
        frame, outcomes["mentee_id"], outcomes["mentor_id"], random_state=random_state
    )
    return comps, outcome_labels(list(outcomes["outcome"]))


def compare_with_fixed_weights(
    history: pd.DataFrame,
    test_size: float = 0.3,
    seed: int = 0,
    *,
    weights: ScoreWeights | None = None,
    model: str = "logistic",
) -> OutcomeReport:
    """Held-out AUC of a learned acceptance model against the fixed weights.

    ``history`` has the seven component columns and ``accepted`` (0/1), or ``outcome``.
    """
    y = (
        history["accepted"].to_numpy()
        if "accepted" in history.columns
        else outcome_labels(list(history["outcome"]))
    )
    est = AcceptanceModel(model=model, holdout=test_size, weights=weights, random_state=seed)
    return est.fit(history, y).report()


__all__ = [
    "AcceptanceModel",
    "OutcomeReport",
    "compare_with_fixed_weights",
    "fixed_score",
    "history_dataset",
    "outcome_labels",
    "pair_components",
    "use_learned",
]
