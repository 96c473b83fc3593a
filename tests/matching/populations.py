"""Random small member frames for the matcher's property tests (Hypothesis strategies)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from matching.synthetic import person, small_frame
from vocabulary import BANDS

ORGS = ("Leeds NHS Trust", "York NHS Trust", "Hull NHS Trust")


@st.composite
def populations(
    draw,
    *,
    max_size: int = 14,
    orgs: Sequence[str] = ORGS,
    capacities: Sequence[int] = (0, 0, 1, 1, 2, 3),
    priority: bool = False,
    sought: Sequence[str] = (),
    offered: Sequence[str] = (),
):
    """Random populations of 1 to ``max_size`` members: line-manager chains (also across
    organisations), outside-only mentees, members who both mentor and seek, capacity 0; with
    ``priority``, widening-access priority drawn too; skills drawn from ``sought`` / ``offered``
    when given (else the ``person`` defaults)."""
    n = draw(st.integers(1, max_size))
    rows = []
    for i in range(n):
        manager = draw(st.one_of(st.none(), st.integers(0, n - 1)))
        extra: dict[str, object] = {}
        if priority:
            extra["priority_access"] = draw(st.booleans())
        if sought:
            extra["skills_sought"] = tuple(draw(st.sets(st.sampled_from(list(sought)))))
        if offered:
            extra["skills_offered"] = tuple(draw(st.sets(st.sampled_from(list(offered)))))
        rows.append(
            person(
                f"P{i}",
                organisation=draw(st.sampled_from(list(orgs))),
                band=draw(st.sampled_from(BANDS)),
                seeking_mentor=draw(st.booleans()),
                mentor_capacity=draw(st.sampled_from(list(capacities))),
                outside_organisation_only=draw(st.booleans()),
                line_manager_id=None if manager is None or manager == i else f"P{manager}",
                **extra,
            )
        )
    return small_frame(*rows)
