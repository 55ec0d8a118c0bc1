"""The organization's local weeks (Monday to Sunday): the rhythm duties are counted in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from core.params import iso_date
from metrics.days import day_bounds, local_day


@dataclass(frozen=True)
class Week:
    start: date  # a Monday

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(7)]

    def previous(self) -> Week:
        return Week(self.start - timedelta(days=7))

    def next(self) -> Week:
        return Week(self.start + timedelta(days=7))

    def bounds(self, org):
        """[start, end) instants of the week's local days."""
        return day_bounds(org, self.start, self.end)


def week_of(day: date) -> Week:
    return Week(day - timedelta(days=day.weekday()))


def today(org) -> date:
    return local_day(org, timezone.now())


def parse_week(org, raw) -> Week:
    """The week holding the day in `?week=YYYY-MM-DD`; this week when it is missing or bad."""
    day = iso_date(raw) if raw else None
    return week_of(day or today(org))
