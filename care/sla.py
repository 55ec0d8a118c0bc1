"""The first-response clock. It runs in the organization's service hours, in its time zone: a
complaint at 23:30 with a 10-minute target is due at 08:10 the next morning (with 08:00–22:00
hours), and a deadline that would fall after closing time carries over to the next opening."""

from __future__ import annotations

from datetime import datetime, timedelta


def _windows(moment: datetime, tz, start, end):
    """Service windows (aware start, aware end) from the one containing `moment` on."""
    day = moment.astimezone(tz).date() - timedelta(days=1)
    while True:
        opens = datetime.combine(day, start, tzinfo=tz)
        closes = datetime.combine(day + timedelta(days=1 if end <= start else 0), end, tzinfo=tz)
        if closes > moment:
            yield max(opens, moment), closes
        day += timedelta(days=1)


def clock(opened_at: datetime, minutes: int, tz, start, end) -> tuple[datetime, datetime]:
    """(when the clock starts, when the first response is due) for a case opened at
    `opened_at`, with `minutes` of service time allowed. Equal start and end: all day."""
    if start == end:
        return opened_at, opened_at + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    started = None
    for opens, closes in _windows(opened_at, tz, start, end):
        if opens >= closes:
            continue
        started = started or opens
        if opens + left <= closes:
            return started, opens + left
        left -= closes - opens
    raise AssertionError("unreachable")  # pragma: no cover
