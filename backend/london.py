"""Time as members read it: every date and time is shown and entered in Europe/London.

The database keeps UTC (aware on PostgreSQL, naive-but-UTC on SQLite); pages and emails turn
it into London time with the right summer time, and forms turn London wall-clock input back into
UTC here, in one place. Wording follows the NHS.UK content style: "28 November 2026",
"10:30am", "9am", "midday".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class NotALondonTime(ValueError):
    """A wall-clock time that London skips (the hour the clocks go forward in March)."""


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive value is taken to be UTC (as stored)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def in_london(moment: datetime) -> datetime:
    """A stored (UTC) moment as London wall-clock time, aware, with BST or GMT as due."""
    return as_utc(moment).astimezone(LONDON)


def london_to_utc(day: date, at: time) -> datetime:
    """The UTC moment of London wall-clock ``day`` at ``at``.

    When the clocks go back the repeated hour is read as its first (BST) occurrence; a time in
    the hour skipped when they go forward raises ``NotALondonTime``.
    """
    wall = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    local = wall.replace(tzinfo=LONDON)
    # A skipped time does not survive the round trip through UTC unchanged.
    if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != wall:
        raise NotALondonTime(
            f"{format_time_of_day(at)} on {format_date(day)} does not exist in London: "
            "the clocks go forward an hour then"
        )
    return local.astimezone(UTC)


def london_today(now: datetime | None = None) -> date:
    """Today's date in London (after midnight BST it is already tomorrow there)."""
    return in_london(now or datetime.now(UTC)).date()


def format_date(value: date | datetime | None) -> str:
    """'28 November 2026' (a datetime is first turned into London time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = in_london(value).date()
    return f"{value.day} {value.strftime('%B %Y')}"


def format_time_of_day(at: time) -> str:
    """'9am', '10:30am', 'midday', 'midnight', '4:05pm' (NHS.UK style)."""
    if at.hour == 12 and at.minute == 0:
        return "midday"
    if at.hour == 0 and at.minute == 0:
        return "midnight"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def format_time(value: datetime | None) -> str:
    """The London time of day of a stored moment: '10:30am'."""
    if value is None:
        return ""
    return format_time_of_day(in_london(value).time())


def format_datetime(value: datetime | None) -> str:
    """'28 November 2026 at 10:30am', in London time."""
    if value is None:
        return ""
    return f"{format_date(value)} at {format_time(value)}"


def iso_london(value: datetime | None) -> str:
    """A machine-readable London time with its offset, for ``<time datetime>``."""
    if value is None:
        return ""
    return in_london(value).isoformat(timespec="minutes")


def utc_offset_label(value: datetime) -> str:
    """'BST' or 'GMT' for that moment in London."""
    return in_london(value).tzname() or ""


def days_between(start: datetime, end: datetime) -> int:
    """Whole London calendar days from ``start`` to ``end``."""
    return (in_london(end).date() - in_london(start).date()) // timedelta(days=1)
