"""The organization's home: "what needs me now".

Apps above tenancy take part through two hooks (tenancy/hooks.py) and hand over plain values
in the shapes below, so the page's templates run no queries and tenancy knows no app:

- `dashboard_panels(actor)` returns a dict. Its `today` (TodaySection), `figures` (Figure) and
  `alerts` (Alert) lists are joined across apps; every other key goes into the template context
  as it is (the older per-app panels: `groups`, `care_counts`, …).
- `first_steps(actor)` returns the Steps of the new organization's checklist that the app can
  tell are done, each read from the data that completes it (a group exists, an event arrived).

Each app decides what the actor may see: a deputy's sections hold only their groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Exists
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from . import hooks
from .models import Invitation, Organization, OrgMembership
from .permissions import can
from .roles import OrgRole

ITEMS_PER_SECTION = 5
LISTS = ("today", "figures", "alerts")


@dataclass
class TodayItem:
    """One thing to do: a case to answer, a newcomer to greet, a sale ending."""

    title: str
    url: str = ""
    meta: str = ""  # a second line: the group, the member, how much is left
    deadline: datetime | None = None  # when it is due, or when it ends
    deadline_kind: str = "due"  # "due": overdue once past; "ends": a sale, a team closing

    @property
    def overdue(self) -> bool:
        return self.deadline_kind == "due" and self.deadline is not None and self.deadline <= _now()

    @property
    def seconds_left(self) -> float | None:
        """Until the deadline; its absolute value once it has passed."""
        if self.deadline is None:
            return None
        return abs((self.deadline - _now()).total_seconds())


@dataclass
class TodaySection:
    """Things of one kind that need the actor, the most urgent first (at most
    ITEMS_PER_SECTION of them), with how many there are in all and the page listing them."""

    key: str  # stable: tests and the page's data-testid
    title: str
    count: int
    items: list[TodayItem] = field(default_factory=list)
    url: str = ""
    order: int = 100  # among sections without a deadline

    @property
    def first_deadline(self) -> datetime | None:
        deadlines = [i.deadline for i in self.items if i.deadline is not None]
        return min(deadlines) if deadlines else None

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.overdue)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.items))

    def sort_key(self):
        """Overdue work first, then the nearest deadline, then the sections without one."""
        first = self.first_deadline
        if first is None:
            return (2, 0.0, self.order)
        return (0 if self.overdue else 1, first.timestamp(), self.order)


@dataclass
class Figure:
    """One of today's and this week's figures, with the week before and a daily series."""

    key: str
    label: str
    today: int | Decimal
    week: int | Decimal
    previous_week: int | Decimal
    spark: str = ""  # an SVG polyline's points: the daily series (metrics.charts)
    money: bool = False
    signed: bool = False  # week and previous week are changes (+12 members), not totals
    today_label: str = ""  # what the big number is, when it is not today's total
    order: int = 100

    @property
    def change(self) -> float | None:
        """This week against the week before, as a share (0.25: 25% more)."""
        if not self.previous_week:
            return None
        return float(
            (Decimal(self.week) - Decimal(self.previous_week)) / Decimal(self.previous_week)
        )

    @property
    def change_size(self) -> float | None:
        return None if self.change is None else abs(self.change)

    @property
    def times(self) -> float | None:
        """This week as a multiple of the week before (shown instead of a change of 100% or
        more: "×3.1" reads better than "+211%")."""
        if not self.previous_week:
            return None
        return float(Decimal(self.week) / Decimal(self.previous_week))

    @property
    def direction(self) -> str:
        if self.week > self.previous_week:
            return "up"
        return "down" if self.week < self.previous_week else "flat"


@dataclass
class Alert:
    key: str
    text: str
    url: str = ""
    link_text: str = ""
    level: str = "warning"  # a Bootstrap alert colour: warning or danger


@dataclass
class Step:
    """One step of a new organization's checklist."""

    key: str
    label: str
    done: bool
    order: int
    url: str = ""  # the page that does it ("" when the actor may not open it)
    hint: str = ""


def _now():
    return timezone.now()


def first_of(queryset, *ordering) -> tuple[list, int]:
    """The first ITEMS_PER_SECTION rows in this order and how many there are in all, in two
    queries: the count without the rows' joins (an index count), and the first rows alone (a
    window count riding on each row made the database join every matching row first)."""
    rows = list(queryset.order_by(*ordering)[:ITEMS_PER_SECTION])
    return rows, queryset.order_by().count()


def first_steps(actor) -> dict | None:
    """The checklist while the organization is new: shown to those who set it up, until every
    step is done or an owner puts it away."""
    org = actor.organization
    if org.first_steps_dismissed_at is not None or not can(actor, "team.manage"):
        return None
    steps = sorted(
        (step for found in hooks.first_steps(actor=actor) for step in found),
        key=lambda step: step.order,
    )
    done = sum(1 for step in steps if step.done)
    if not steps or done == len(steps):
        return None
    return {
        "steps": steps,
        "done": done,
        "total": len(steps),
        "may_dismiss": can(actor, "org.manage"),
    }


def gather(actor) -> dict:
    """The home page's context from every app's panel."""
    context: dict = {name: [] for name in LISTS}
    for panel in hooks.dashboard_panels(actor=actor):
        panel = dict(panel)
        for name in LISTS:
            context[name].extend(panel.pop(name, None) or [])
        context.update(panel)
    context["today"] = sorted(
        (section for section in context["today"] if section.count), key=TodaySection.sort_key
    )
    context["figures"].sort(key=lambda figure: figure.order)
    context["first_steps"] = first_steps(actor)
    return context


# --- tenancy's own step ------------------------------------------------------------------------


def team_steps(*, actor) -> list[Step]:
    """ "Invite a deputy": done once an invitation went out (and was not taken back) or someone
    besides the owners has joined. One query (registered on `hooks.first_steps`)."""
    org = actor.organization
    invited, joined = (
        Organization.objects.filter(pk=org.pk)
        .annotate(
            invited=Exists(Invitation.objects.for_org(org).filter(revoked_at=None)),
            joined=Exists(
                OrgMembership.objects.for_org(org)
                .filter(is_active=True)
                .exclude(role=OrgRole.OWNER)
            ),
        )
        .values_list("invited", "joined")
        .get()
    )
    return [
        Step(
            key="invite",
            label=_("Invite a deputy"),
            done=invited or joined,
            order=40,
            url=reverse("team", args=[org.slug]) if can(actor, "team.manage") else "",
            hint=_("Invite them by email, then make them deputy of their groups."),
        )
    ]
