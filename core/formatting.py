"""How a number reads on a page: counts, amounts of money, percentages, durations.

One set of functions for the whole dashboard, in the active language's number format (Django's
`number_format`: decimal separator and grouping of the locale). Templates use them as filters
(`{% load ui %}` or `{% load qunyun %}`: `count`, `num`, `money`, `pct`, `points`, `duration`,
`signed_duration`); Python that builds a sentence for a person calls them directly. Missing
values read "—", never "None" or a blank.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

MISSING = "—"
CURRENCY = "¥"  # every organization sells in yuan; the symbol is part of the amount's format


def _decimal(value) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _round(number: Decimal, decimals: int) -> Decimal:
    rounded = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded  # no "-0.00"


def _format(number: Decimal, decimals: int) -> str:
    """In the active language's format, grouped the locale's way (zh-hans: no separator)."""
    return number_format(
        _round(number, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True
    )


def count(value) -> str:
    """A whole number: 12345 → "12,345" in English, "12345" in zh-hans."""
    number = _decimal(value)
    if number is None:
        return MISSING
    return _format(number, 0)


def num(value, decimals: int = 2) -> str:
    """A measured number with at most `decimals` places, no trailing zeros: 240.0 → "240",
    384.029618 → "384.03"."""
    number = _decimal(value)
    if number is None:
        return MISSING
    text = _format(number, int(decimals))
    if int(decimals) > 0:
        separator = get_format("DECIMAL_SEPARATOR")
        if separator in text:
            text = text.rstrip("0").rstrip(separator)
    return text


def money(value, decimals: int = 2) -> str:
    """An amount in yuan: 1045 → "¥1,045.00"; -5 → "-¥5.00"."""
    number = _decimal(value)
    if number is None:
        return MISSING
    decimals = int(decimals)
    sign = "-" if _round(number, decimals) < 0 else ""
    return f"{sign}{CURRENCY}{_format(abs(number), decimals)}"


def pct(value, decimals: int = 1) -> str:
    """A share (0.4251) as a percentage: "42.5%"."""
    number = _decimal(value)
    if number is None:
        return MISSING
    return _("%(number)s%%") % {"number": _format(number * 100, int(decimals))}


def percent(value, decimals: int = 2) -> str:
    """A number that already is a percentage (a commission of 12.50): "12.5%"."""
    number = _decimal(value)
    if number is None:
        return MISSING
    return _("%(number)s%%") % {"number": num(number, decimals)}


def points(value, decimals: int = 1) -> str:
    """A change in percentage points, with its sign: "+3.2", "-0.5", "0"."""
    number = _decimal(value)
    if number is None:
        return MISSING
    text = num(abs(number), decimals)
    if text == num(0, decimals):
        return text
    return f"+{text}" if number > 0 else f"-{text}"


def pct_points(value, decimals: int = 1) -> str:
    """The difference between two shares, in percentage points: 0.125 → "+12.5"."""
    number = _decimal(value)
    if number is None:
        return MISSING
    return points(number * 100, decimals)


def duration(seconds) -> str:
    """A length of time for a person: "45 s", "4 min", "4 min 12 s" (under ten minutes),
    "1 h 5 min", "3 days"."""
    number = _decimal(seconds)
    if number is None:
        return MISSING
    total = int(abs(number).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if total < 60:
        return pgettext("duration", "%(s)s s") % {"s": total}
    minutes, rest = divmod(total, 60)
    if minutes < 10 and rest:
        return pgettext("duration", "%(m)s min %(s)s s") % {"m": minutes, "s": rest}
    minutes = (total + 30) // 60
    if minutes < 60:
        return pgettext("duration", "%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        if not minutes:
            return pgettext("duration", "%(h)s h") % {"h": hours}
        return pgettext("duration", "%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return pgettext("duration", "%(d)s days") % {"d": count(hours // 24)}


def signed_duration(seconds) -> str:
    """A difference between two durations: "+2 min 24 s", "-45 s", "0 s"."""
    number = _decimal(seconds)
    if number is None:
        return MISSING
    text = duration(abs(number))
    if abs(number) < Decimal("0.5"):
        return text
    return f"+{text}" if number > 0 else f"-{text}"
