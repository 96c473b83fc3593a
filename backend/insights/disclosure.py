"""Statistical disclosure control for every published figure (NHS practice).

- a count of 0 is shown as 0; 1-7 as ``*``; any other count rounded to the nearest 5;
- totals go through the same rule (a total is a count like any other);
- complementary suppression: in a line that adds up to a published total, a lone hidden cell
  is joined by the next-smallest non-zero cell, so the total less the others gives a range,
  never the hidden count;
- rounding is deterministic, so asking again (or through another breakdown of the same
  population) gives the same figure and averaging learns nothing;
- every derived figure (share, rate, ratio, interval) is computed from the *published* counts,
  and hidden where any count behind it is hidden: it tells nothing the counts do not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HIDDEN = "*"
SMALLEST_SHOWN = 8
ROUND_TO = 5
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class Count:
    """A published count: ``value`` is the rounded figure, None when hidden (shown ``*``)."""

    value: int | None

    @property
    def hidden(self) -> bool:
        """True when the count is suppressed."""
        return self.value is None

    @property
    def text(self) -> str:
        """The count as shown on a page or in a CSV file."""
        return HIDDEN if self.value is None else f"{self.value:,}"

    @property
    def csv(self) -> str:
        """The count as written to CSV (no thousands separator)."""
        return HIDDEN if self.value is None else str(self.value)


def round_count(n: int) -> int | None:
    """The published form of a true count: 0, None (hidden: 1-7), or nearest multiple of 5."""
    if n < 0:
        raise ValueError("counts are never negative")
    if n == 0:
        return 0
    if n < SMALLEST_SHOWN:
        return None
    # Half up (12.5 -> 15), in integers so no float rounding mode can change it.
    return ((n + ROUND_TO // 2) // ROUND_TO) * ROUND_TO


def publish(n: int) -> Count:
    """A true count as published (primary suppression and rounding)."""
    return Count(round_count(n))


@dataclass(frozen=True)
class ProtectedTable:
    """A table of counts after disclosure control: cells, and the totals of each column."""

    cells: list[list[Count]]
    column_totals: list[Count]
    row_totals: list[Count] | None


def protect_table(
    counts: Sequence[Sequence[int]], *, column_totals: bool = True, row_totals: bool = False
) -> ProtectedTable:
    """Round and suppress a table; columns (and rows, if totalled) are additive lines.

    A column adds up to its total when rows partition the population (groups of a
    breakdown); rows add up only when asked (columns that partition, such as roles).
    """
    grid = [list(row) for row in counts]
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    hidden = [[round_count(n) is None for n in row] for row in grid]
    lines: list[list[tuple[int, int]]] = []
    if column_totals:
        lines += [[(r, c) for r in range(rows)] for c in range(cols)]
    if row_totals:
        lines += [[(r, c) for c in range(cols)] for r in range(rows)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            secret = [(r, c) for r, c in line if hidden[r][c]]
            if len(secret) != 1:
                continue
            # The smallest visible non-zero cell: hiding it costs the reader least.
            visible = [(grid[r][c], r, c) for r, c in line if not hidden[r][c] and grid[r][c]]
            if visible:
                _, r, c = min(visible)
                hidden[r][c] = True
                changed = True
    cells = [
        [Count(None) if hidden[r][c] else publish(grid[r][c]) for c in range(cols)]
        for r in range(rows)
    ]
    col_tot = [publish(sum(grid[r][c] for r in range(rows))) for c in range(cols)]
    row_tot = [publish(sum(row)) for row in grid] if row_totals else None
    return ProtectedTable(cells=cells, column_totals=col_tot, row_totals=row_tot)


def share(part: Count, whole: Count) -> float | None:
    """``part / whole`` as a percentage from published counts; None if either is hidden."""
    if part.value is None or whole.value is None or whole.value == 0:
        return None
    return round(100.0 * part.value / whole.value, 1)


@dataclass(frozen=True)
class Ratio:
    """A relative likelihood with its 95% interval (Katz log method), from published counts."""

    value: float
    low: float
    high: float


def relative_likelihood(
    events: Count, trials: Count, ref_events: Count, ref_trials: Count
) -> Ratio | None:
    """(events/trials) / (ref_events/ref_trials) with a 95% interval; None where undefined.

    Katz et al. (1978): ln(RR) +- 1.96 * sqrt(1/a - 1/n1 + 1/c - 1/n2). Hidden whenever a
    count behind it is hidden, or zero (the log interval is then undefined).
    """
    a, n1, c, n2 = events.value, trials.value, ref_events.value, ref_trials.value
    if a is None or n1 is None or c is None or n2 is None:
        return None
    if min(a, n1, c, n2) <= 0 or a > n1 or c > n2:
        return None
    rr = (a / n1) / (c / n2)
    se = math.sqrt(max(1 / a - 1 / n1 + 1 / c - 1 / n2, 0.0))
    return Ratio(
        value=round(rr, 2),
        low=round(math.exp(math.log(rr) - Z_95 * se), 2),
        high=round(math.exp(math.log(rr) + Z_95 * se), 2),
    )
