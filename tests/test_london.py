"""London time: shown and read back with the right summer time either side of a change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from backend import london


def test_a_summer_moment_is_shown_in_bst() -> None:
    # 09:30 UTC on 1 July is 10:30 in London (BST).
    moment = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert london.format_datetime(moment) == "1 July 2026 at 10:30am"
    assert london.utc_offset_label(moment) == "BST"
    assert london.iso_london(moment) == "2026-07-01T10:30+01:00"


def test_a_winter_moment_is_shown_in_gmt_and_naive_values_are_utc() -> None:
    moment = datetime(2026, 12, 1, 9, 30)  # naive, as SQLite returns it: UTC
    assert london.format_datetime(moment) == "1 December 2026 at 9:30am"
    assert london.utc_offset_label(moment) == "GMT"


def test_london_input_becomes_the_right_utc_either_side_of_the_clock_change() -> None:
    # Clocks go back at 02:00 BST on 25 October 2026.
    assert london.london_to_utc(date(2026, 10, 24), time(10, 30)) == datetime(
        2026, 10, 24, 9, 30, tzinfo=UTC
    )
    assert london.london_to_utc(date(2026, 10, 26), time(10, 30)) == datetime(
        2026, 10, 26, 10, 30, tzinfo=UTC
    )
    # The repeated hour reads as its first (BST) occurrence.
    assert london.london_to_utc(date(2026, 10, 25), time(1, 30)) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )


def test_a_time_london_skips_is_refused_with_a_reason() -> None:
    # Clocks go forward at 01:00 GMT on 29 March 2026: 01:30 does not happen.
    with pytest.raises(london.NotALondonTime, match="clocks go forward"):
        london.london_to_utc(date(2026, 3, 29), time(1, 30))


@pytest.mark.parametrize(
    ("at", "words"),
    [(time(9), "9am"), (time(12), "midday"), (time(0), "midnight"), (time(16, 5), "4:05pm")],
)
def test_times_read_in_nhs_style(at: time, words: str) -> None:
    assert london.format_time_of_day(at) == words


def test_london_today_turns_over_at_london_midnight() -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London.
    assert london.london_today(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == date(2026, 7, 2)
