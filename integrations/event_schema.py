"""The events bots send, validated with msgspec (a DRF serializer per event would dominate the
ingestion path). `parse_batch` keeps the valid events and explains each rejected one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from django.utils import timezone
from django.utils.translation import gettext as _

from .platforms import Platform

MAX_BATCH = 1000
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
ShortText = Annotated[str, msgspec.Meta(max_length=120)]
PlatformName = Literal[tuple(Platform.values)]  # type: ignore[valid-type]


def _check_money(value: Decimal, field: str) -> None:
    if not value.is_finite() or value < 0 or value > 100_000_000:
        raise ValueError(f"{field} must be between 0 and 100000000")
    if value.as_tuple().exponent < -2:
        raise ValueError(f"{field} has at most 2 decimal places")


class _Base(msgspec.Struct, tag_field="type", forbid_unknown_fields=False, kw_only=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    occurred_at: datetime
    platform: PlatformName = "wechat"
    community: Id
    user: Id
    display_name: ShortText = ""
    name_card: ShortText = ""


class MemberJoined(_Base, tag="member.joined"):
    invited_by: Id | None = None


class MemberLeft(_Base, tag="member.left"):
    reason: Literal["content_not_useful", "too_many_ads", "no_benefits", "other", ""] = ""


class MessagePosted(_Base, tag="message.posted"):
    kind: Literal["text", "image", "link", "other"] = "text"
    length: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0
    has_link: bool = False
    links: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=500)]], msgspec.Meta(max_length=20)
    ] = []
    text: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    reply_to: Id | None = None  # the `id` of the event (message) this one answers


class MemberCheckedIn(_Base, tag="member.checked_in"):
    pass


class MemberOpenedApp(_Base, tag="member.opened_app"):
    """The member opened the organization's member pages as an app inside the platform (a
    Telegram Mini App): they are around, nothing more. Qunyun records it itself for its own
    Mini App; a bot that hosts one may send it too."""


class ContentShared(_Base, tag="content.shared"):
    url: Annotated[str, msgspec.Meta(max_length=500)] = ""


class MemberInvited(_Base, tag="member.invited"):
    invitee: Id


class OrderItem(msgspec.Struct, forbid_unknown_fields=False):
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    sku: Annotated[str, msgspec.Meta(max_length=100)] = ""
    quantity: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1
    price: Decimal = Decimal("0")

    def __post_init__(self):
        _check_money(self.price, "price")


class OrderPlaced(_Base, tag="order.placed"):
    order_id: Id
    amount: Decimal
    items: Annotated[list[OrderItem], msgspec.Meta(max_length=200)] = []

    def __post_init__(self):
        _check_money(self.amount, "amount")


class OrderRefunded(_Base, tag="order.refunded"):
    order_id: Id
    amount: Decimal | None = None

    def __post_init__(self):
        if self.amount is not None:
            _check_money(self.amount, "amount")


class OrderShipped(_Base, tag="order.shipped"):
    """Recorded by member care (follow-ups after shipping); `user` is the buyer."""

    order_id: Id
    tracking: Annotated[str, msgspec.Meta(max_length=100)] = ""


class OrderDelivered(_Base, tag="order.delivered"):
    """Recorded by member care (follow-ups N days after delivery); `user` is the buyer."""

    order_id: Id


Event = (
    MemberJoined
    | MemberLeft
    | MessagePosted
    | MemberCheckedIn
    | MemberOpenedApp
    | ContentShared
    | MemberInvited
    | OrderPlaced
    | OrderRefunded
    | OrderShipped
    | OrderDelivered
)
EVENT_TYPES = [cls.__struct_config__.tag for cls in Event.__args__]

_PATH = re.compile(r" - at `\$\.?([^`]*)`$")


_MESSAGES = [
    (re.compile(r"^Object missing required field `(\w+)`"), lambda m: _("This field is required.")),
    (
        re.compile(r"^Expected `(.+?)`, got `(\w+)`"),
        lambda m: (
            _("Expected %(expected)s, got %(got)s.") % {"expected": m.group(1), "got": m.group(2)}
        ),
    ),
    (
        re.compile(r"^Expected `(.+?)`"),
        lambda m: _("Expected %(expected)s.") % {"expected": m.group(1)},
    ),
    (
        re.compile(r"^Invalid value '(.*)'"),
        lambda m: _("“%(value)s” is not one of the allowed values.") % {"value": m.group(1)[:50]},
    ),
    (re.compile(r"^(\w+) must be between"), lambda m: _("Must be between 0 and 100000000.")),
    (
        re.compile(r"^(\w+) has at most 2 decimal places"),
        lambda m: _("Use at most 2 decimal places."),
    ),
]


def _field_error(exc: msgspec.ValidationError) -> dict[str, list[str]]:
    """msgspec's message, turned into {field: [translated message]}."""
    raw = str(exc)
    match = _PATH.search(raw)
    field = match.group(1) if match else ""
    message = _PATH.sub("", raw)
    if message.startswith("Object missing required field"):
        field = ".".join(filter(None, [field, message.split("`")[1]]))
    for pattern, translate in _MESSAGES:
        found = pattern.match(message)
        if found:
            if not field and pattern.pattern.startswith("^(\\w+)"):
                field = found.group(1)
            return {field or "non_field_errors": [str(translate(found))]}
    return {field or "non_field_errors": [_("Invalid value.")]}


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # clocks of bots and platforms drift, not by days
MIN_OFFSET, MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)  # the world's time zones


def _unstorable_text(value, path: str = "") -> str | None:
    """The path of the first string PostgreSQL cannot store (a NUL, a lone surrogate), or
    None."""
    if isinstance(value, str):
        if "\x00" in value:
            return path or "non_field_errors"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "non_field_errors"
        return None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return None
    for key, item in items:
        found = _unstorable_text(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _implausible_time(at: datetime) -> str | None:
    try:
        utc = at.astimezone(UTC)
    except (OverflowError, ValueError):
        return str(_("This time is out of range."))
    if utc < EARLIEST:
        return str(_("Events before 2000 are not accepted."))
    if utc > timezone.now() + FUTURE_SLACK:
        return str(_("This time is more than a day in the future."))
    return None


def parse_batch(raw) -> tuple[list, list[dict]]:
    """(valid events with their index, rejected [{"index", "errors"}]). Raises ValueError when
    the body itself is not a list of at most MAX_BATCH events."""
    if not isinstance(raw, list):
        raise ValueError(_("Send a JSON array of events, or an object with an “events” array."))
    if len(raw) > MAX_BATCH:
        raise ValueError(_("At most %(n)s events per request.") % {"n": MAX_BATCH})
    valid, rejected, seen = [], [], set()
    for index, item in enumerate(raw):
        try:
            event = msgspec.convert(item, Event, strict=False)
        except msgspec.ValidationError as exc:
            rejected.append({"index": index, "errors": _field_error(exc)})
            continue
        if event.occurred_at.tzinfo is None:
            rejected.append(
                {
                    "index": index,
                    "errors": {"occurred_at": [_("Give a time zone (e.g. +08:00 or Z).")]},
                }
            )
            continue
        offset = event.occurred_at.utcoffset()
        if not MIN_OFFSET <= offset <= MAX_OFFSET:  # PostgreSQL refuses past ±15:59
            rejected.append(
                {
                    "index": index,
                    "errors": {
                        "occurred_at": [_("Give a real time zone offset, from -12:00 to +14:00.")]
                    },
                }
            )
            continue
        bad_text = _unstorable_text(msgspec.to_builtins(event))
        if bad_text:
            rejected.append(
                {
                    "index": index,
                    "errors": {
                        bad_text: [_("Null characters and lone surrogates are not allowed.")]
                    },
                }
            )
            continue
        when = _implausible_time(event.occurred_at)
        if when:
            rejected.append({"index": index, "errors": {"occurred_at": [when]}})
            continue
        if event.id in seen:  # the same id twice in one batch: the second is a duplicate
            valid.append((index, None))
            continue
        seen.add(event.id)
        valid.append((index, event))
    return valid, rejected


def event_type(event) -> str:
    """The event's `type` ("member.joined", …), from its parsed struct."""
    return type(event).__struct_config__.tag


@dataclass
class EventBatch:
    """A batch's new events (in time order) with the groups and people they name, as the
    ingestion edge hands them to each app's event handlers inside one transaction."""

    organization: Any
    actor: Any
    events: list
    communities: dict  # {(platform, external id): Community}
    identities: dict  # {(platform, external user id): MemberIdentity with .member}

    def community(self, event):
        return self.communities[(event.platform, event.community)]

    def identity(self, event, user: str | None = None):
        return self.identities[(event.platform, user or event.user)]
