"""The matcher's round and its score weights, as the platform's round service uses them."""

from __future__ import annotations

from matching.reasons import join_reasons, pair_reasons
from matching.rounds import run_round
from matching.scoring import PairScorer, ScoreWeights

__all__ = ["PairScorer", "ScoreWeights", "join_reasons", "pair_reasons", "run_round"]
