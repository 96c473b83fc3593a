"""The offline round: members.csv in, matches.csv out, with no database (members-csv.md).

The CLI (``peerbridge match-round``) calls :func:`run_offline_round` and prints
:func:`format_summary`.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from matching.rounds import Progress, RoundResult, StageClock, run_round
from matching.scoring import ScoreWeights
from members_csv import parse_members_csv, records_to_frame, safe_writer

MATCHES_HEADER: tuple[str, ...] = ("mentee_id", "mentor_id", "score", "reasons")
# The upload limit of the web import guards a shared server; an organiser's own file on their
# own machine may be larger (a national pool of 75,000 members with goals is about 22 MB).
OFFLINE_MAX_BYTES = 256 * 1024 * 1024


class MembersFileError(ValueError):
    """The members file has errors; nothing was matched. ``errors`` lists them as text."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        shown = "\n".join(errors[:20])
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"members file has {len(errors)} error(s):\n{shown}{more}")


@dataclass
class RoundSummary:
    """What an offline round did, for the summary table."""

    result: RoundResult
    members: int
    out_path: str
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds by stage
    cpu_timings: dict[str, float] = field(default_factory=dict)  # CPU seconds by stage

    @property
    def total_seconds(self) -> float:
        """Wall time of the whole round, file in to file out."""
        return sum(self.timings.values())


def write_matches_csv(result: RoundResult, out: str | os.PathLike[str]) -> None:
    """Write matches.csv: ``mentee_id,mentor_id,score,reasons``, one row per mentee."""
    buf = io.StringIO()
    writer = safe_writer(buf, lineterminator="\r\n")
    writer.writerow(MATCHES_HEADER)
    m = result.matches
    scores = [
        "" if mid == "" else f"{s:.1f}" for mid, s in zip(m["mentor_id"], m["score"], strict=False)
    ]
    writer.writerows(zip(m["mentee_id"], m["mentor_id"], scores, m["reasons"], strict=False))
    Path(out).write_text(buf.getvalue(), encoding="utf-8", newline="")


def run_offline_round(
    members_csv_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    priority: bool = False,
    seed: int = 0,
    weights: ScoreWeights | None = None,
    progress: Progress | None = None,
    max_bytes: int = OFFLINE_MAX_BYTES,
) -> RoundSummary:
    """Read members.csv, run a round, write matches.csv; raise MembersFileError on bad input."""
    clock = StageClock()
    clock.start()
    if progress is not None:
        progress("reading", 0.0)
    parsed = parse_members_csv(Path(members_csv_path).read_bytes(), max_bytes=max_bytes)
    if not parsed.ok:
        raise MembersFileError([str(e) for e in parsed.errors])
    frame = records_to_frame(parsed.records)
    del parsed  # the frame has what the round needs: never hold the records and the frame
    clock.stop("read")
    result = run_round(frame, weights=weights, priority=priority, seed=seed, progress=progress)
    clock.wall.update(result.timings)
    clock.cpu.update(result.cpu_timings)
    clock.start()
    write_matches_csv(result, out_path)
    clock.stop("write")
    if progress is not None:
        progress("written", 1.0)
    return RoundSummary(
        result=result,
        members=len(frame),
        out_path=str(out_path),
        timings=clock.wall,
        cpu_timings=clock.cpu,
    )


def _pct(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{100 * x:.1f}%"


def format_summary(summary: RoundSummary) -> str:
    """A plain-text table of the round: matched, unmatched and why, shares, priority, time."""
    r = summary.result
    rows: list[tuple[str, str]] = [
        ("members read", f"{summary.members:,}"),
        ("mentees (seeking a mentor)", f"{r.n_mentees:,}"),
        ("mentors (capacity > 0)", f"{r.n_mentors:,} (capacity {r.total_capacity:,})"),
        ("matched", f"{r.matched:,} ({_pct(r.coverage)})"),
        ("most that any assignment could match", f"{r.bound:,}"),
        ("unmatched", f"{r.n_mentees - r.matched:,}"),
    ]
    for why, count in sorted(r.unmatched_why.items(), key=lambda kv: -kv[1]):
        rows.append((f"  {why}", f"{count:,}"))
    mean = r.total_score / r.matched if r.matched else 0.0
    rows += [
        ("mean score of matches", f"{mean:.1f} / 100"),
        ("mentor in another organisation", _pct(r.cross_org_share)),
        ("skills sought that the mentor offers", _pct(r.skills_covered)),
        ("blocking pairs (both would rather swap)", f"{r.blocking_pairs:,}"),
        ("widening-access priority", "on" if r.priority else "off"),
        (
            "match rate: priority / others",
            f"{_pct(r.priority_rate)} / {_pct(r.other_rate)}",
        ),
        (
            "  where the rules allow a match",
            f"{_pct(r.priority_rate_matchable)} / {_pct(r.other_rate_matchable)}",
        ),
    ]
    if r.priority_score_cost is not None:
        rows.append(("score cost of priority", _pct(r.priority_score_cost)))
    for name, secs in summary.timings.items():
        rows.append((f"time: {name}", f"{secs:.2f} s"))
    rows.append(("time: total", f"{summary.total_seconds:.2f} s"))
    rows.append(("matches written to", summary.out_path))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
