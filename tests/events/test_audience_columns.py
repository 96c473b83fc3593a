"""An event's audience for a whole population at once (``Belongings``, the reach tables)
agrees with the rule for one member (``Belonging``, the events pages), on random populations."""

from __future__ import annotations

from random import Random

import numpy as np

from backend.events.models import Event
from backend.events.service import Belonging, Belongings
from vocabulary import BAND_RANK, BANDS

CHAPTERS = (1, 2, 3)
PROGRAMMES = (10, 11)


def _event(rng: Random) -> Event:
    low, high = sorted(rng.sample(range(len(BANDS)), 2))
    return Event(
        kind="meetup",
        title="Meetup",
        capacity=10,
        chapter_id=rng.choice((None, *CHAPTERS)),
        programme_id=rng.choice((None, None, *PROGRAMMES)),
        band_min=rng.choice((None, BANDS[low])),
        band_max=rng.choice((None, BANDS[high])),
    )


def test_the_audience_of_a_population_agrees_with_each_members():
    rng = Random(1203)
    people = [
        Belonging(
            band=rng.choice(BANDS),
            chapter_ids=frozenset(c for c in CHAPTERS if rng.random() < 0.4),
            programme_ids=frozenset(p for p in PROGRAMMES if rng.random() < 0.3),
        )
        for _ in range(200)
    ]
    columns = Belongings(
        band_ranks=np.array([BAND_RANK[p.band] for p in people]),
        chapters={c: np.array([c in p.chapter_ids for p in people]) for c in CHAPTERS},
        programmes={g: np.array([g in p.programme_ids for p in people]) for g in PROGRAMMES},
    )
    mixed = 0
    for _ in range(60):
        event = _event(rng)
        one_by_one = [p.includes(event) for p in people]
        assert columns.includes(event).tolist() == one_by_one
        mixed += any(one_by_one) and not all(one_by_one)
    assert mixed >= 20  # most events tried let some in and kept others out


def test_a_chapter_or_programme_nobody_belongs_to_includes_nobody():
    columns = Belongings(band_ranks=np.array([0, 3]), chapters={}, programmes={})

    assert columns.includes(Event(kind="meetup", title="x", capacity=1, chapter_id=9)).tolist() == [
        False,
        False,
    ]
    assert columns.includes(Event(kind="meetup", title="x", capacity=1)).tolist() == [True, True]
