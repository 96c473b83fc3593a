"""Statistical disclosure control for every published figure (NHS practice).

- a count of 0 is shown as 0; 1-7 as ``*``; any other count rounded to the nearest 5;
- totals go through the same rule (a total is a count like any other);
- complementary suppression: in a line that adds up to a published total, a lone hidden cell
  is joined by the next-smallest non-zero cell, so the total less the others gives a range,
  never the hidden count; a line's total is one of its figures (a hidden cell alone in its
  line takes the total with it), and a table totalled both ways is audited as an attacker
  would (an integer program over every published figure) until no hidden cell is pinned;
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

    A line is its cells and its total: a hidden cell that its line's total would give away
    (a line of one cell) takes the total with it. A table totalled both ways is then audited
    as an attacker would (``_recoverable``): while any hidden cell can be pinned to one value
    from everything published, the smallest figure still shown beside it is hidden too.
    """
    grid = [list(row) for row in counts]
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    value: dict[Slot, int] = {("cell", r, c): grid[r][c] for r in range(rows) for c in range(cols)}
    lines: list[list[Slot]] = []
    if column_totals:
        for c in range(cols):
            value[("col", c, c)] = sum(grid[r][c] for r in range(rows))
            lines.append([("cell", r, c) for r in range(rows)] + [("col", c, c)])
    if row_totals:
        for r in range(rows):
            value[("row", r, r)] = sum(grid[r])
            lines.append([("cell", r, c) for c in range(cols)] + [("row", r, r)])
    hidden = {slot for slot, n in value.items() if round_count(n) is None}

    def hide_smallest_beside(line: list[Slot]) -> bool:
        # The smallest visible non-zero figure: hiding it costs the reader least.
        visible = [(value[s], s) for s in line if s not in hidden and value[s]]
        if not visible:
            return False
        hidden.add(min(visible)[1])
        return True

    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(s in hidden for s in line) == 1 and hide_smallest_beside(line):
                changed = True
    if row_totals and column_totals:
        while (leak := _recoverable(value, lines, hidden)) is not None:
            beside = [s for line in lines if leak in line for s in line]
            if not hide_smallest_beside(beside):
                break  # everything beside it is hidden or zero: nothing more to hide

    def shown(slot: Slot) -> Count:
        return Count(None) if slot in hidden else publish(value[slot])

    cells = [[shown(("cell", r, c)) for c in range(cols)] for r in range(rows)]
    col_tot = [
        shown(("col", c, c)) if column_totals else publish(sum(grid[r][c] for r in range(rows)))
        for c in range(cols)
    ]
    row_tot = [shown(("row", r, r)) for r in range(rows)] if row_totals else None
    return ProtectedTable(cells=cells, column_totals=col_tot, row_totals=row_tot)


Slot = tuple[str, int, int]  # ("cell", row, column), ("col", c, c) or ("row", r, r)


def _window(n: int, hidden: bool, upper: int) -> tuple[int, int]:
    """What a reader learns of a true count ``n`` from its published form."""
    if hidden:
        return 1, upper
    if n == 0:
        return 0, 0
    shown = round_count(n)
    assert shown is not None
    return max(SMALLEST_SHOWN, shown - ROUND_TO // 2), shown + ROUND_TO // 2


def _recoverable(value: dict[Slot, int], lines: list[list[Slot]], hidden: set[Slot]) -> Slot | None:
    """A hidden cell whose true count follows from the published figures, if any.

    The attacker's integer program: one variable per cell, each published figure bounding its
    cell or the sum of its line's cells; the smallest and largest value of each hidden cell.
    """
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp

    cells = [s for s in value if s[0] == "cell"]
    index = {s: i for i, s in enumerate(cells)}
    upper = sum(value[s] for s in cells)
    rows, low, high = [], [], []
    for slot in cells:
        row = np.zeros(len(cells))
        row[index[slot]] = 1
        rows.append(row)
        lo, hi = _window(value[slot], slot in hidden, upper)
        low.append(lo)
        high.append(hi)
    for line in lines:
        total = line[-1]
        row = np.zeros(len(cells))
        row[[index[s] for s in line[:-1]]] = 1
        rows.append(row)
        lo, hi = _window(value[total], total in hidden, upper)
        low.append(lo)
        high.append(hi)
    constraints = LinearConstraint(np.array(rows), low, high)
    for slot in cells:
        if slot not in hidden:
            continue
        bounds = []
        for sign in (1, -1):
            objective = np.zeros(len(cells))
            objective[index[slot]] = sign
            result = milp(
                objective,
                constraints=constraints,
                integrality=np.ones(len(cells)),
                bounds=Bounds(0, upper),
            )
            if result.status != 0:  # pragma: no cover - the true counts always satisfy it
                return slot
            bounds.append(round(sign * result.fun))
        if bounds[0] >= bounds[1]:
            return slot
    return None


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
