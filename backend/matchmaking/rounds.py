"""The matcher's round and its score weights, as the platform's round service uses them."""

from __future__ import annotations

from matching.rounds import run_round
from matching.scoring import ScoreWeights

__all__ = ["ScoreWeights", "run_round"]
