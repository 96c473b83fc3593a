"""A round with nobody seeking a mentor is an empty round, not a failure."""

from __future__ import annotations

import pytest

from matching.rounds import run_round
from matching.synthetic import person, small_frame


@pytest.mark.parametrize(
    "people",
    [
        (),  # nobody at all
        (person("M1", band="8a", seeking_mentor=False, mentor_capacity=2),),  # mentors only
    ],
)
def test_a_round_with_no_mentee_matches_nobody_and_counts_the_places(people):
    result = run_round(small_frame(*people), seed=1)

    assert (result.n_mentees, result.matched, result.bound) == (0, 0, 0)
    assert result.matches.empty and list(result.matches.columns) == [
        "mentee_id",
        "mentor_id",
        "score",
        "reasons",
        "priority",
    ]
    assert result.total_capacity == sum(p["mentor_capacity"] for p in people)
    assert result.n_mentors == len(people)
    assert result.coverage == 1.0
