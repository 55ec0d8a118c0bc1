"""The organization's local days: every rollup and window is counted in them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from members import partitions


def local_day(org, instant: datetime) -> date:
    return instant.astimezone(org.tzinfo).date()


def day_start(org, day: date) -> datetime:
    """The instant a local day begins (aware; DST-safe: zoneinfo resolves the wall time)."""
    return datetime.combine(day, time.min, tzinfo=org.tzinfo)


def day_bounds(org, first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """[start, end) instants covering the local days first..last (inclusive)."""
    last = last or first
    return day_start(org, first), day_start(org, last + timedelta(days=1))


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def first_kept_day(org) -> date | None:
    """The first local day whose raw events are all still stored, once months of them were
    dropped for retention (members/partitions.py); None: nothing was dropped. Days before it
    keep the figures computed while their events were there."""
    since = partitions.kept_since()
    if since is None:
        return None
    day = local_day(org, since)
    return day if day_start(org, day) >= since else day + timedelta(days=1)
