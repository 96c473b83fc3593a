"""Per-person features of the member frame, built with scikit-learn.

``PersonFeatures`` is a ``Pipeline`` (column preparation, then a ``ColumnTransformer``) that turns
the member frame into one dense row per person. Its blocks (skills sought and offered as
multi-hot over the framework, goals and experience in one shared TF-IDF + LSA text space, band,
role family, profession, region-with-meeting-format as one-hot, management years) are what the
pair scorer multiplies together, so that a whole block of pair scores is one matrix product.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FunctionTransformer, Pipeline
from sklearn.preprocessing import OneHotEncoder, normalize
from sklearn.utils.validation import check_is_fitted

from vocabulary import (
    BANDS,
    MEETING_FORMATS,
    PROFESSIONS,
    REGIONS,
    ROLE_FAMILIES,
    SKILL_IDS,
    SKILL_NAMES,
)

PLACES: tuple[str, ...] = tuple(f"{r}|{f}" for r in REGIONS for f in MEETING_FORMATS)

REQUIRED_COLUMNS: tuple[str, ...] = (
    "member_id",
    "organisation_key",
    "region",
    "role_family",
    "band",
    "profession",
    "management_years",
    "line_manager_id",
    "seeking_mentor",
    "mentor_capacity",
    "skills_sought",
    "skills_offered",
    "goals",
    "meeting_format",
    "outside_organisation_only",
    "priority_access",
)
# The required columns and the optional free text the features also read (a missing "bio"
# reads as empty): what a frame built for the matcher carries.
FRAME_COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, "bio")


def check_member_frame(frame: pd.DataFrame) -> None:
    """Raise ``ValueError`` if the frame lacks a column of the member-frame contract."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of members, got {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"member frame lacks columns: {', '.join(missing)}")
    if frame["member_id"].duplicated().any():
        raise ValueError("member_id values must be unique")


def _as_tuple(value: object) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    if isinstance(value, str):
        return tuple(s for s in (p.strip() for p in value.split(";")) if s)
    return tuple(cast(Iterable[str], value))


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def prepare_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Derive the columns the features read: experience text and region-with-format."""
    sought = frame["skills_sought"].map(_as_tuple)
    offered = frame["skills_offered"].map(_as_tuple)
    # astype(str): an empty frame's mapped columns are float64, and text cannot be added to them.
    goals = frame["goals"].map(_text).astype(str)
    bio = (
        frame["bio"].map(_text).astype(str)
        if "bio" in frame.columns
        else pd.Series("", index=frame.index, dtype=object)
    )
    offered_names = offered.map(lambda s: " ".join(SKILL_NAMES.get(k, k) for k in s)).astype(str)
    out = pd.DataFrame(
        {
            "skills_sought": sought,
            "skills_offered": offered,
            "goals": goals,
            "experience": (bio + " " + goals + " " + offered_names).str.strip(),
            "band": frame["band"].astype(str),
            "role_family": frame["role_family"].astype(str),
            "profession": frame["profession"].astype(str),
            "place": frame["region"].astype(str) + "|" + frame["meeting_format"].astype(str),
            "management_years": pd.to_numeric(frame["management_years"]).astype(float),
        },
        index=frame.index,
    )
    return out


class SkillsEncoder(TransformerMixin, BaseEstimator):
    """Multi-hot encoding of skill-id tuples over the skills framework.

    Parameters
    ----------
    skills : tuple of str, default=SKILL_IDS
        The skill ids, in column order. Unknown ids are ignored.
    """

    def __init__(self, skills: tuple[str, ...] = SKILL_IDS):
        self.skills = skills

    def fit(self, X, y=None):
        """Learn the skill index; return self."""
        self.index_ = {s: k for k, s in enumerate(self.skills)}
        self.n_features_in_ = 1
        return self

    def transform(self, X) -> np.ndarray:
        """Return one multi-hot row per person."""
        check_is_fitted(self, "index_")
        col = X.iloc[:, 0] if isinstance(X, pd.DataFrame) else pd.Series(np.asarray(X).ravel())
        out = np.zeros((len(col), len(self.skills)), dtype=np.float32)
        for row, value in enumerate(col):
            for s in _as_tuple(value):
                k = self.index_.get(s)
                if k is not None:
                    out[row, k] = 1.0
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns."""
        return np.asarray([f"skill_{s}" for s in self.skills], dtype=object)


class SharedTextSpace(TransformerMixin, BaseEstimator):
    """Goals and experience texts projected into one TF-IDF + LSA space.

    One vectoriser is fitted on both columns, so that a mentee's goals and a mentor's experience
    land in the same space and their inner product is a cosine similarity.

    Parameters
    ----------
    n_components : int, default=32
        Dimension of the latent space (capped by the vocabulary size).
    min_df : int, default=1
        Minimum document frequency of a term.
    random_state : int, default=0
        Seed of the randomised SVD.
    """

    def __init__(self, n_components: int = 32, min_df: int = 1, random_state: int = 0):
        self.n_components = n_components
        self.min_df = min_df
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the vocabulary and the projection on every text of the population."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        """Fit on every text of the population and return the projected columns."""
        n_cols = X.shape[1]
        docs = np.concatenate([np.asarray(X.iloc[:, k], dtype=object) for k in range(n_cols)])
        # Identical texts (above all, empty ones) are tokenised once.
        codes, unique = pd.factorize(pd.Series(docs, dtype=object).fillna(""))
        unique = np.asarray(unique, dtype=object)
        self.n_features_in_ = n_cols
        self.vectorizer_ = None
        self.svd_ = None
        self.dim_ = 0
        nonempty = np.array([bool(d) for d in unique], dtype=bool)
        projected = np.zeros((len(unique), 0), np.float32)
        if nonempty.any():
            vec = TfidfVectorizer(
                min_df=self.min_df, stop_words="english", sublinear_tf=True, dtype=np.float32
            )
            try:
                tfidf = vec.fit_transform(unique[nonempty])
            except ValueError:  # only stop words
                tfidf = None
            if tfidf is not None:
                self.vectorizer_ = vec
                n_terms = tfidf.shape[1]
                dim = min(self.n_components, n_terms - 1, tfidf.shape[0] - 1)
                if dim >= 1:
                    self.svd_ = TruncatedSVD(n_components=dim, random_state=self.random_state)
                    # identical texts leave no variance: sklearn's ratio divides by zero
                    with np.errstate(invalid="ignore", divide="ignore"):
                        dense = self.svd_.fit_transform(tfidf)
                    self.dim_ = dim
                else:
                    dense = tfidf.toarray()
                    self.dim_ = n_terms
                projected = np.zeros((len(unique), self.dim_), np.float32)
                projected[nonempty] = normalize(dense)
        rows = projected[codes].reshape(n_cols, len(X), -1)
        return np.hstack(list(rows)) if n_cols else np.zeros((len(X), 0), np.float32)

    def _project(self, docs) -> np.ndarray:
        if self.vectorizer_ is None:
            return np.zeros((len(docs), self.dim_), dtype=np.float32)
        codes, unique = pd.factorize(pd.Series(list(docs), dtype=object).fillna(""))
        tfidf = self.vectorizer_.transform(list(unique))
        dense = self.svd_.transform(tfidf) if self.svd_ is not None else tfidf.toarray()
        return normalize(dense).astype(np.float32)[codes]

    def project_text(self, doc: str) -> np.ndarray:
        """Project one text (same result as a column of ``transform``), fast for one request."""
        check_is_fitted(self, "dim_")
        out = np.zeros(self.dim_, np.float32)
        vec = self.vectorizer_
        if vec is None or not doc:
            return out
        if not hasattr(self, "analyzer_"):
            # Built lazily: fitted objects from older pickles lack them.
            self.analyzer_ = vec.build_analyzer()
            self.idf_ = vec.idf_.astype(np.float64)
            self.basis_ = (
                self.svd_.components_.T.astype(np.float64) if self.svd_ is not None else None
            )
        counts: dict[int, int] = {}
        vocab = vec.vocabulary_
        for token in self.analyzer_(doc):
            j = vocab.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return out
        cols = np.fromiter(counts.keys(), np.int64, len(counts))
        tf = np.fromiter(counts.values(), np.float64, len(counts))
        if vec.sublinear_tf:
            tf = 1.0 + np.log(tf)
        w = tf * self.idf_[cols]
        w /= np.linalg.norm(w)
        dense = w @ self.basis_[cols] if self.basis_ is not None else np.zeros(self.dim_)
        if self.basis_ is None:
            dense[cols] = w
        norm = np.linalg.norm(dense)
        return (dense / norm if norm > 0 else dense).astype(np.float32)

    def transform(self, X) -> np.ndarray:
        """Return the projected columns side by side (each row L2-normalised)."""
        check_is_fitted(self, "dim_")
        parts = [self._project(list(X.iloc[:, k])) for k in range(X.shape[1])]
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns."""
        names = input_features if input_features is not None else ["goals", "experience"]
        return np.asarray([f"{c}_lsa{k}" for c in names for k in range(self.dim_)], dtype=object)


def _onehot(name: str, categories: tuple[str, ...]) -> tuple[str, OneHotEncoder, list[str]]:
    enc = OneHotEncoder(
        categories=[list(categories)],
        handle_unknown="ignore",
        sparse_output=False,
        dtype=np.float32,
    )
    return (name, enc, [name])


class PersonFeatures(TransformerMixin, BaseEstimator):
    """Dense per-person feature blocks for pair scoring.

    A ``Pipeline`` of column preparation and a ``ColumnTransformer`` with one transformer per
    block. After ``fit``, ``blocks_`` maps each block name to its column slice.

    Parameters
    ----------
    text_components : int, default=32
        Dimension of the shared goals/experience text space.
    random_state : int, default=0
        Seed of the text projection.
    """

    def __init__(self, text_components: int = 32, random_state: int = 0):
        self.text_components = text_components
        self.random_state = random_state

    def _build(self) -> Pipeline:
        columns = ColumnTransformer(
            [
                ("sought", SkillsEncoder(), ["skills_sought"]),
                ("offered", SkillsEncoder(), ["skills_offered"]),
                (
                    "text",
                    SharedTextSpace(self.text_components, random_state=self.random_state),
                    ["goals", "experience"],
                ),
                _onehot("band", BANDS),
                _onehot("role_family", ROLE_FAMILIES),
                _onehot("profession", PROFESSIONS),
                _onehot("place", PLACES),
                ("years", "passthrough", ["management_years"]),
            ],
            sparse_threshold=0.0,
        )
        return Pipeline(
            [
                ("prepare", FunctionTransformer(prepare_columns, validate=False)),
                ("columns", columns),
            ]
        )

    def fit(self, X: pd.DataFrame, y=None) -> PersonFeatures:
        """Fit the text space on the population; return self."""
        check_member_frame(X)
        self._finish_fit(self._build().fit(X), X)
        return self

    def _finish_fit(self, pipeline: Pipeline, X: pd.DataFrame) -> None:
        self.pipeline_ = pipeline
        ct = self.pipeline_.named_steps["columns"]
        blocks = dict(ct.output_indices_)
        text = blocks.pop("text")
        half = (text.stop - text.start) // 2
        blocks["goals"] = slice(text.start, text.start + half)
        blocks["experience"] = slice(text.start + half, text.stop)
        self.blocks_ = blocks
        self.n_features_out_ = max(s.stop for s in blocks.values())
        self.n_features_in_ = X.shape[1]

    def fit_transform(self, X: pd.DataFrame, y=None) -> np.ndarray:
        """Fit on the member frame and return its feature matrix."""
        check_member_frame(X)
        out = self._build()
        feats = out.fit_transform(X)
        self._finish_fit(out, X)
        return np.asarray(feats, dtype=np.float32)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Return the feature matrix (float32, one row per member)."""
        check_is_fitted(self, "pipeline_")
        return np.asarray(self.pipeline_.transform(X), dtype=np.float32)
