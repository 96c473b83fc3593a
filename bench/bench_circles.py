"""Forming peer circles with the optimiser (``matching.circles.plan``): time to place everyone
waiting, by how many wait, with circles already open to top up.

Each size runs three times on a seeded population (8 bands, one organisation per 8 people on
average) and prints the median, the share placed and the circles made; every plan is checked
against the rules, so a fast wrong answer fails the run.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import machine, markdown_table
from matching.circles import MAX_BAND_SPREAD, OpenCircle, Waiting, plan

SIZES = (50, 100, 300, 600)


def population(seed: int, n: int) -> tuple[list[Waiting], list[OpenCircle]]:
    rng = np.random.default_rng(seed)
    orgs = max(n // 8, 2)
    people = [
        Waiting(i + 1, int(rng.integers(0, 8)), int(rng.integers(0, orgs)), tuple(rng.random(8)))
        for i in range(n)
    ]
    circles = []
    for c in range(max(n // 30, 1)):
        low = int(rng.integers(0, 6))
        size = int(rng.integers(3, 6))
        circles.append(
            OpenCircle(
                10_000 + c,
                tuple(low + int(rng.integers(0, MAX_BAND_SPREAD + 1)) for _ in range(size)),
                tuple(int(o) for o in rng.choice(orgs + 100, size=size, replace=False) + orgs),
            )
        )
    return people, circles


def checked(people: list[Waiting], circles: list[OpenCircle]):
    result = plan(people, circles)
    by_id = {p.person_id: p for p in people}
    for group in result.new_circles:
        ranks = [by_id[i].band_rank for i in group]
        assert 4 <= len(group) <= 6 and max(ranks) - min(ranks) <= MAX_BAND_SPREAD
        assert len({by_id[i].organisation for i in group}) == len(group)
    return result


def main() -> None:
    print(machine())
    rows = []
    for n in SIZES:
        people, circles = population(n, n)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            result = checked(people, circles)
            times.append(time.perf_counter() - started)
        placed = n - len(result.waiting)
        rows.append(
            {
                "waiting": n,
                "open circles": len(circles),
                "median s": statistics.median(times),
                "placed %": 100 * placed / n,
                "new circles": len(result.new_circles),
                "topped up": len(result.top_ups),
            }
        )
    print("\n".join(markdown_table(rows)))


if __name__ == "__main__":
    main()
