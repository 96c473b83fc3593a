"""Sets of integer keys (pair keys such as ``mentee * n_mentors + mentor``) by sorting.

numpy 2.4's ``np.unique`` and ``np.isin`` hash integer arrays with many distinct values about
a hundred times slower than sorting them (888,000 pair keys: 1.0 s against 0.01 s), so the
matcher's hot paths use these instead; the results are the same.
"""

from __future__ import annotations

import numpy as np


def unique_keys(keys: np.ndarray) -> np.ndarray:
    """The distinct values of a 1-D integer array, sorted (as ``np.unique``)."""
    s = np.sort(np.asarray(keys).ravel())
    if len(s) < 2:
        return s
    return s[np.concatenate([[True], s[1:] != s[:-1]])]


def in_keys(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Whether each key is in ``sorted_keys`` (sorted, as ``unique_keys`` returns them)."""
    keys = np.asarray(keys)
    if len(sorted_keys) == 0:
        return np.zeros(keys.shape, bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys


__all__ = ["in_keys", "unique_keys"]
