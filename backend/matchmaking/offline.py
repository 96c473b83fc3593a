"""The matcher's offline round (members CSV in, assignments CSV out), for the CLI."""

from __future__ import annotations

from matching.offline import MembersFileError, format_summary, run_offline_round
from matching.scoring import parse_weights

__all__ = ["MembersFileError", "format_summary", "parse_weights", "run_offline_round"]
