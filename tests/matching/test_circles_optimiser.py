"""The circles optimiser keeps every promise the circles page makes, on random populations."""

from __future__ import annotations

import numpy as np
import pytest

from matching.circles import MAX_BAND_SPREAD, OpenCircle, Waiting, plan


def _population(seed: int, n: int, orgs: int = 8, bands: int = 8) -> list[Waiting]:
    rng = np.random.default_rng(seed)
    return [
        Waiting(i + 1, int(rng.integers(0, bands)), f"org-{rng.integers(0, orgs)}")
        for i in range(n)
    ]


def _open(seed: int, count: int) -> list[OpenCircle]:
    rng = np.random.default_rng(seed + 10_000)
    found = []
    for c in range(count):
        size = int(rng.integers(1, 7))
        low = int(rng.integers(0, 6))
        found.append(
            OpenCircle(
                100 + c,
                tuple(low + int(rng.integers(0, MAX_BAND_SPREAD + 1)) for _ in range(size)),
                tuple(f"org-{o}" for o in rng.choice(8, size=size, replace=False)),
            )
        )
    return found


def _check(people: list[Waiting], circles: list[OpenCircle]) -> None:
    by_id = {p.person_id: p for p in people}
    result = plan(people, circles)
    placed = [i for g in result.new_circles for i in g]
    placed += [i for ids in result.top_ups.values() for i in ids]
    assert len(placed) == len(set(placed)), "nobody in two circles"
    assert sorted(placed + result.waiting) == sorted(by_id)
    for group in result.new_circles:
        assert 4 <= len(group) <= 6
        ranks = [by_id[i].band_rank for i in group]
        assert max(ranks) - min(ranks) <= MAX_BAND_SPREAD
        orgs = [by_id[i].organisation for i in group]
        assert len(orgs) == len(set(orgs))
    existing = {c.circle_id: c for c in circles}
    for circle_id, ids in result.top_ups.items():
        circle = existing[circle_id]
        ranks = list(circle.band_ranks) + [by_id[i].band_rank for i in ids]
        orgs = list(circle.organisations) + [by_id[i].organisation for i in ids]
        assert len(ranks) <= 6
        assert max(ranks) - min(ranks) <= MAX_BAND_SPREAD
        assert len(orgs) == len(set(orgs))
    # Top-ups first: nobody left waiting could have joined a circle that still has room.
    for person_id in result.waiting:
        p = by_id[person_id]
        for circle_id, circle in existing.items():
            ids = result.top_ups.get(circle_id, [])
            ranks = list(circle.band_ranks) + [by_id[i].band_rank for i in ids] + [p.band_rank]
            orgs = list(circle.organisations) + [by_id[i].organisation for i in ids]
            assert not (
                len(ranks) <= 6
                and max(ranks) - min(ranks) <= MAX_BAND_SPREAD
                and p.organisation not in orgs
            ), "a waiting person fits a circle with room"


@pytest.mark.parametrize("seed", range(60))
def test_every_promise_holds_on_random_populations(seed):
    rng = np.random.default_rng(seed)
    people = _population(seed, int(rng.integers(0, 40)), orgs=int(rng.integers(2, 10)))
    _check(people, _open(seed, int(rng.integers(0, 4))))


def test_one_waiting_person_waits():
    result = plan([Waiting(1, 4, "a")])

    assert result.new_circles == [] and result.waiting == [1]


def test_seven_across_bands_3_to_7_with_two_from_one_trust_form_no_illegal_circle():
    people = [
        Waiting(i, b, o)
        for i, (b, o) in enumerate(
            [(1, "t1"), (2, "t1"), (3, "t2"), (4, "t3"), (5, "t4"), (2, "t5"), (3, "t6")], start=1
        )
    ]

    _check(people, [])
    result = plan(people)
    assert all(len(g) >= 4 for g in result.new_circles)


def test_nine_compatible_make_circles_of_4_and_5():
    people = [Waiting(i, 4 + i % 2, f"trust-{i}") for i in range(1, 10)]

    result = plan(people)

    assert sorted(len(g) for g in result.new_circles) == [4, 5]
    assert result.waiting == []


def test_top_ups_come_before_new_circles():
    people = [Waiting(i, 4, f"trust-{i}") for i in range(1, 7)]
    circle = OpenCircle(50, (4, 4, 4, 4), ("x", "y", "z", "w"))

    result = plan(people, [circle])

    assert len(result.top_ups[50]) == 2  # the circle fills up first
    assert [len(g) for g in result.new_circles] == [4] and result.waiting == []


def test_three_hundred_waiting_with_open_circles_keep_every_promise():
    # How fast: bench/bench_circles.py (docs/organisers.md has the figures).
    _check(_population(7, 300, orgs=40), _open(7, 10))


@pytest.mark.parametrize("seed", range(5))
def test_the_swap_costs_are_the_costs_after_each_swap(seed):
    from matching.circles import _cost, _swap_costs

    rng = np.random.default_rng(seed)
    bands, vectors = rng.integers(0, 8, 11).astype(float), rng.random((11, 4))
    g, h = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9, 10]

    found = _swap_costs(g, h, bands, vectors)

    for a in range(len(g)):
        for b in range(len(h)):
            gg, hh = list(g), list(h)
            gg[a], hh[b] = h[b], g[a]
            expected = _cost(gg, bands, vectors) + _cost(hh, bands, vectors)
            assert found[a, b] == pytest.approx(expected)


def test_polishing_seats_like_with_like_within_a_band_window():
    # Twelve at one band from twelve trusts, in two interest camps: two circles, one per camp.
    people = [
        Waiting(i, 3, f"trust-{i}", (1.0, 0.0) if i % 2 else (0.0, 1.0)) for i in range(1, 13)
    ]

    result = plan(people)

    camps = [{people[i - 1].interests for i in g} for g in result.new_circles]
    assert sorted(len(g) for g in result.new_circles) == [6, 6]
    assert all(len(c) == 1 for c in camps), camps
