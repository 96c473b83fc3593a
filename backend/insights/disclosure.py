"""Statistical disclosure control for every published figure.

Two layers, in this order, on every count (cells and totals alike):

1. **Cell-key perturbation** (the cell key method the Office for National Statistics used for
   Census 2021): every counted record has a secret record key, a cell's key is the sum of its
   records' keys, and a perturbation table (the p-table) indexed by the cell's count and key
   gives a small whole number (at most ``MAX_PERTURBATION`` either way) added to the count.
   The same records always give the same key, so a table is always published the same way
   (asking again, or through another table holding the same people, learns nothing); one
   record more or less gives an unrelated key, so adding records one at a time moves the
   figures unpredictably instead of walking them across a threshold. Zero stays zero and a
   count of one or more never becomes zero; the noise has mean exactly zero.
2. **The NHS rule on the perturbed count**: 0 is shown as 0; 1-7 as ``*``; any other count
   rounded to the nearest 5. Because the rule sees the perturbed count, the moment a cell
   turns from ``*`` into a figure says little about its true count.

Then, as before:

- complementary suppression: in a line that adds up to a published total, a lone hidden cell
  is joined by the next-smallest non-zero cell (a total only where no cell is left), so the
  total less the others gives a range,
  never the hidden count; a line's total is one of its figures (a hidden cell alone in its
  line takes the total with it), and a table totalled both ways is audited as an attacker
  would (an integer program over every published figure, knowing the perturbation is at most
  ``MAX_PERTURBATION``) until no hidden cell is pinned;
- every derived figure (share, rate, ratio, interval) is computed from the *published* counts,
  and hidden where any count behind it is hidden: it tells nothing the counts do not.

Record keys: a uniform integer in ``[0, KEY_RANGE)`` per record, derived from the record's id
with HMAC-SHA256 keyed by a server secret (``PEERBRIDGE_INSIGHTS_SECRET``, or one derived from
``PEERBRIDGE_SECRET_KEY``): nothing is stored, and nobody without the secret can work a key
out. A cell's key is the sum of its records' keys modulo ``KEY_RANGE``, and its p-table column
(one of ``PTABLE_COLUMNS``) comes from that key through the same secret HMAC. The ONS reads the
column straight from a cell key in 0-255; the wider key and the keyed step mean an organiser
who controls some records cannot learn their keys' sums from cells holding only their own
records and carry that knowledge to a cell of real members. See docs/insights.md.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

HIDDEN = "*"
SMALLEST_SHOWN = 8
ROUND_TO = 5
Z_95 = 1.959963984540054

# The cell key method's parameters ------------------------------------------------------------

KEY_RANGE = 1 << 32  # record and cell keys are integers in [0, KEY_RANGE)
PTABLE_COLUMNS = 256  # each p-table row spreads its probabilities over 256 columns (1/256 each)
MAX_PERTURBATION = 6  # D: no count moves by more than this, either way (see PTABLE)

# The p-table: for a true count n, how many of the 256 columns add each perturbation. Built by
# the maximum-entropy method (Giessing 2016, as for the ONS and Eurostat p-tables): the most
# even spread with mean exactly 0, variance 4 where the count allows (4.06 for counts of 7 or
# more after rounding to 1/256: a standard deviation of 2), no perturbation beyond +-D, and
# never a result below 1 (a real group never vanishes; 0 is never perturbed, so no group
# appears from nothing). The tails are thin (+-5 and +-6 are 3 columns in 256 each side), so
# almost every figure is within 4, yet no run of figures can rule a value out until it has
# seen the rarest perturbations. A count of 1 cannot move down, so with mean 0 it cannot move
# at all (it is always "*"); 2 to 6 have as much spread as mean 0 allows. Row 7 serves every
# count of 7 or more.
PTABLE: dict[int, dict[int, int]] = {
    0: {0: 256},
    1: {0: 256},
    2: {-1: 127, 0: 63, 1: 33, 2: 17, 3: 8, 4: 5, 5: 2, 6: 1},
    3: {-2: 73, -1: 57, 0: 42, 1: 31, 2: 20, 3: 14, 4: 9, 5: 6, 6: 4},
    4: {-3: 27, -2: 39, -1: 46, 0: 47, 1: 39, 2: 28, 3: 17, 4: 8, 5: 3, 6: 2},
    5: {-4: 8, -3: 20, -2: 33, -1: 45, 0: 49, 1: 43, 2: 30, 3: 17, 4: 7, 5: 3, 6: 1},
    6: {-5: 2, -4: 8, -3: 17, -2: 32, -1: 45, 0: 49, 1: 45, 2: 31, 3: 17, 4: 7, 5: 2, 6: 1},
    7: {-6: 1, -5: 2, -4: 7, -3: 17, -2: 31, -1: 45, 0: 50, 1: 45, 2: 31, 3: 17, 4: 7, 5: 2, 6: 1},
}
_LAST_ROW = max(PTABLE)
# Column c of row n holds the perturbation whose cumulative share of the row covers c.
_LOOKUP: tuple[tuple[int, ...], ...] = tuple(
    tuple(v for v, share in sorted(PTABLE[n].items()) for _ in range(share))
    for n in range(_LAST_ROW + 1)
)


def perturbation(count: int, column: int) -> int:
    """The p-table's entry for a true ``count`` and a p-table ``column`` (0-255)."""
    if count < 0:
        raise ValueError("counts are never negative")
    return _LOOKUP[min(count, _LAST_ROW)][column]


@dataclass
class CellKeys:
    """Record keys and p-table columns under one server secret.

    Keys are a pure function of the secret and the record, so every process agrees; the
    memo (sorted arrays per kind of record) only saves recomputing the HMAC of a record this
    process has already seen, and lets many keys be looked up at once.
    """

    secret: bytes
    _memo: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)

    def _key(self, kind: str, record: int) -> int:
        message = f"record:{kind}:{record}".encode()
        digest = hmac.digest(self.secret, message, hashlib.sha256)
        return int.from_bytes(digest[:4], "big") % KEY_RANGE

    def record_keys(self, kind: str, ids: Iterable[int]) -> np.ndarray:
        """Keys of records of one ``kind`` ("member", "mentorship", "place:0"...), by id, as
        float64 (exact; so are sums of fewer than 2**21 keys, below 2**53)."""
        wanted = (
            ids.astype(np.int64)
            if isinstance(ids, np.ndarray)
            else np.fromiter((int(i) for i in ids), dtype=np.int64)
        )
        known, keys = self._memo.get(kind, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        at = np.searchsorted(known, wanted)
        found = np.zeros(len(wanted), dtype=bool)
        if len(known):
            found = (at < len(known)) & (known[np.minimum(at, len(known) - 1)] == wanted)
        missing = np.unique(wanted[~found])
        if len(missing):
            new = np.array([self._key(kind, int(i)) for i in missing], dtype=np.int64)
            known, keys = np.concatenate([known, missing]), np.concatenate([keys, new])
            order = np.argsort(known, kind="stable")
            known, keys = known[order], keys[order]
            self._memo[kind] = (known, keys)
            at = np.searchsorted(known, wanted)
        return keys[at].astype(np.float64) if len(wanted) else np.zeros(0)

    def record_key(self, kind: str, record: int) -> int:
        """The key of one record."""
        return int(self.record_keys(kind, [record])[0])

    def column(self, cell_key: int) -> int:
        """The p-table column of a cell: its key through the secret HMAC, 0-255."""
        digest = hmac.digest(
            self.secret, b"cell:" + (cell_key % KEY_RANGE).to_bytes(4, "big"), hashlib.sha256
        )
        return digest[0]  # one byte: PTABLE_COLUMNS is 256

    def perturb(self, count: int, cell_key: int) -> int:
        """A true count with its cell's perturbation added (0 stays 0; never below 1 else)."""
        return count + perturbation(count, self.column(cell_key))


def cell_key(record_keys: Iterable[float | int]) -> int:
    """A cell's key: the sum of its records' keys, modulo ``KEY_RANGE``."""
    keys = np.asarray(list(record_keys), dtype=np.float64)
    return int(keys.astype(np.int64).sum()) % KEY_RANGE  # exact below 2**31 records


@lru_cache(maxsize=8)
def _cell_keys_for(secret: bytes) -> CellKeys:
    return CellKeys(secret)


def default_cell_keys() -> CellKeys:
    """The cell keys of this deployment: ``insights_secret``, else one derived from the key."""
    from backend.settings import get_settings

    settings = get_settings()
    if settings.insights_secret:
        secret = settings.insights_secret.encode()
    else:
        secret = hmac.digest(
            settings.secret_key.encode(), b"peerbridge insights record keys", hashlib.sha256
        )
    return _cell_keys_for(secret)


# Published counts ---------------------------------------------------------------------------


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
    """The NHS rule on a (perturbed) count: 0, None (hidden: 1-7), or nearest multiple of 5."""
    if n < 0:
        raise ValueError("counts are never negative")
    if n == 0:
        return 0
    if n < SMALLEST_SHOWN:
        return None
    # Half up (12.5 -> 15), in integers so no float rounding mode can change it.
    return ((n + ROUND_TO // 2) // ROUND_TO) * ROUND_TO


def publish(n: int, key: int, *, keys: CellKeys | None = None) -> Count:
    """A true count of a cell with key ``key`` as published: perturbed, then the NHS rule."""
    return Count(round_count((keys or default_cell_keys()).perturb(n, key)))


@dataclass(frozen=True)
class ProtectedTable:
    """A table of counts after disclosure control: cells, and the totals of each column."""

    cells: list[list[Count]]
    column_totals: list[Count]
    row_totals: list[Count] | None


def protect_table(
    counts: Sequence[Sequence[int]],
    cell_keys: Sequence[Sequence[int]],
    *,
    column_totals: bool = True,
    row_totals: bool = False,
    keys: CellKeys | None = None,
) -> ProtectedTable:
    """Perturb, round and suppress a table; columns (and rows, if totalled) are additive lines.

    ``cell_keys`` holds each cell's key (the sum of its records' keys). A total is a cell of
    its own: its records are those of its line, so its key is the sum of the line's keys and
    its perturbation its own, not the sum of the cells' perturbations.

    A column adds up to its total when rows partition the population (groups of a
    breakdown); rows add up only when asked (columns that partition, such as roles).

    A line is its cells and its total: a hidden cell that its line's total would give away
    (a line of one cell) takes the total with it. A table totalled both ways is then audited
    as an attacker would (``_recoverable``): while any hidden cell can be pinned to one value
    from everything published, the smallest figure still shown beside it is hidden too. Every
    choice is made on the perturbed figures, so which cells are hidden tells no more than the
    figures themselves.
    """
    keys = keys or default_cell_keys()
    grid = [list(row) for row in counts]
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    true: dict[Slot, int] = {("cell", r, c): grid[r][c] for r in range(rows) for c in range(cols)}
    key: dict[Slot, int] = {
        ("cell", r, c): int(cell_keys[r][c]) % KEY_RANGE for r in range(rows) for c in range(cols)
    }
    lines: list[list[Slot]] = []
    column_lines: list[list[Slot]] = []
    for c in range(cols):
        line = [("cell", r, c) for r in range(rows)]
        true[("col", c, c)] = sum(true[s] for s in line)
        key[("col", c, c)] = sum(key[s] for s in line) % KEY_RANGE
        column_lines.append([*line, ("col", c, c)])
    if column_totals:
        lines.extend(column_lines)
    if row_totals:
        for r in range(rows):
            line = [("cell", r, c) for c in range(cols)]
            true[("row", r, r)] = sum(true[s] for s in line)
            key[("row", r, r)] = sum(key[s] for s in line) % KEY_RANGE
            lines.append([*line, ("row", r, r)])
    value = {slot: keys.perturb(n, key[slot]) for slot, n in true.items()}
    hidden = {slot for slot, n in value.items() if round_count(n) is None}

    def hide_smallest_beside(line: list[Slot]) -> bool:
        # The smallest visible non-zero cell (hiding it costs the reader least); a total only
        # when no cell is left, so which figure goes says nothing of how the totals compare.
        visible = [(s[0] != "cell", value[s], s) for s in line if s not in hidden and value[s]]
        if not visible:
            return False
        hidden.add(min(visible)[2])
        return True

    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(s in hidden for s in line) == 1 and hide_smallest_beside(line):
                changed = True
    if row_totals and column_totals:
        while (leak := _recoverable(true, value, lines, hidden)) is not None:
            beside = [s for line in lines if leak in line for s in line]
            if not hide_smallest_beside(beside):
                break  # everything beside it is hidden or zero: nothing more to hide

    def shown(slot: Slot) -> Count:
        return Count(None) if slot in hidden else Count(round_count(value[slot]))

    cells = [[shown(("cell", r, c)) for c in range(cols)] for r in range(rows)]
    col_tot = [
        shown(("col", c, c)) if column_totals else Count(round_count(value[("col", c, c)]))
        for c in range(cols)
    ]
    row_tot = [shown(("row", r, r)) for r in range(rows)] if row_totals else None
    return ProtectedTable(cells=cells, column_totals=col_tot, row_totals=row_tot)


Slot = tuple[str, int, int]  # ("cell", row, column), ("col", c, c) or ("row", r, r)


def window(published: Count, upper: int) -> tuple[int, int]:
    """What a reader who knows the method learns of a true count from its published form.

    A figure ``v`` is a perturbed count in ``[max(8, v - 2), v + 2]``, so the true count is
    within ``MAX_PERTURBATION`` of that; ``*`` says only "at least 1" (a hidden figure may be
    hidden beside another); 0 is exactly 0.
    """
    if published.value is None:
        return 1, upper
    if published.value == 0:
        return 0, 0
    low = max(SMALLEST_SHOWN, published.value - ROUND_TO // 2) - MAX_PERTURBATION
    return max(1, low), published.value + ROUND_TO // 2 + MAX_PERTURBATION


def _recoverable(
    true: dict[Slot, int], value: dict[Slot, int], lines: list[list[Slot]], hidden: set[Slot]
) -> Slot | None:
    """A hidden cell whose true count follows from the published figures, if any.

    The attacker's integer program: one variable per cell, each published figure bounding its
    cell or the sum of its line's cells; the smallest and largest value of each hidden cell.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    def published(slot: Slot) -> Count:
        return Count(None) if slot in hidden else Count(round_count(value[slot]))

    cells = [s for s in true if s[0] == "cell"]
    index = {s: i for i, s in enumerate(cells)}
    # The attacker is granted a bound near the grand total (as the tests' attacker is).
    upper = sum(true[s] for s in cells) + MAX_PERTURBATION + ROUND_TO
    rows, low, high = [], [], []
    for slot in cells:
        row = np.zeros(len(cells))
        row[index[slot]] = 1
        rows.append(row)
        lo, hi = window(published(slot), upper)
        low.append(lo)
        high.append(hi)
    for line in lines:
        total = line[-1]
        row = np.zeros(len(cells))
        row[[index[s] for s in line[:-1]]] = 1
        rows.append(row)
        lo, hi = window(published(total), upper)
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
    """``part / whole`` as a percentage of published counts; None if either is hidden.

    Both figures are perturbed on their own, so a part can be published above its whole: the
    share is then shown as 100 (a part is never more than its whole).
    """
    if part.value is None or whole.value is None or whole.value == 0:
        return None
    return round(min(100.0, 100.0 * part.value / whole.value), 1)


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
