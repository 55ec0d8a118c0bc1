"""Dates from query parameters, checked in one place: ISO format and a plausible year, so
that the arithmetic around them (the previous window, next week, the month after) never leaves
Python's date range (years 1 to 9999): `?date=9999-12-31` or `?start=0001-01-01` used to be
OverflowErrors, i.e. 500s, on the calendar and the metrics pages."""

from datetime import date

EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)


def plausible(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def iso_date(value) -> date | None:
    """`YYYY-MM-DD` within EARLIEST..LATEST, else None."""
    try:
        day = date.fromisoformat(str(value or ""))
    except ValueError:
        return None
    return day if plausible(day) else None


def year_month(value) -> date | None:
    """`YYYY-MM` as the month's first day within EARLIEST..LATEST, else None."""
    try:
        year, month = (int(part) for part in str(value or "").split("-"))
        day = date(year, month, 1)
    except (TypeError, ValueError):
        return None
    return day if plausible(day) else None
