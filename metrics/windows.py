"""Reporting windows: the last 7, 30 or 90 local days, or a custom range, and the window before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.params import iso_date

from .days import local_day

PRESETS = (7, 30, 90)
MAX_DAYS = 366


@dataclass(frozen=True)
class Window:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Window:
        """The window of the same length just before (week over week, month over month)."""
        return Window(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def key(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def last_days(org, days: int, today: date | None = None) -> Window:
    today = today or local_day(org, timezone.now())
    return Window(today - timedelta(days=days - 1), today)


def parse_window(org, params, today: date | None = None) -> Window:
    """From query parameters: `window=7|30|90` (default 30, ending today) or `start` and `end`
    (ISO dates, inclusive, at most a year). Raises ValidationError with field errors."""
    start, end = params.get("start"), params.get("end")
    if start or end:
        errors = {}
        parsed = {}
        for name, value in (("start", start), ("end", end)):
            parsed[name] = iso_date(value)
            if parsed[name] is None:
                errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        if errors:
            raise ValidationError(errors)
        window = Window(parsed["start"], parsed["end"])
        if window.end < window.start:
            raise ValidationError({"end": [_("The end must not be before the start.")]})
        if window.days > MAX_DAYS:
            raise ValidationError({"end": [_("A window is at most %(n)s days.") % {"n": MAX_DAYS}]})
        return window
    raw = params.get("window") or "30"
    try:
        days = int(raw)
    except (TypeError, ValueError):
        days = 0
    if days not in PRESETS:
        raise ValidationError(
            {"window": [_("Choose 7, 30 or 90 days, or give a start and an end.")]}
        )
    return last_days(org, days, today)
