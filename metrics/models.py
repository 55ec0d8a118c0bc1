"""Rollups: what the metric pages read instead of raw events.

Two grains, both keyed by the organization's local day:

- `MemberDay`: one member in one community on one day (messages, check-ins, shares, orders,
  spend, first and last activity). Top contributors and exports read it.
- `CommunityDay`: one community on one day: counters plus the member sets behind them (roaring
  bitmaps of member ids), so that "distinct members over any window" is an exact union of a
  few dozen small bitmaps instead of a scan of millions of rows.

`DirtyDay` is the queue of (community, day) pairs whose sources changed; the refresh job
recomputes exactly those and nothing else.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from tenancy.models import TenantModel


class MemberDay(TenantModel):
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    messages = models.PositiveIntegerField(default=0)
    checkins = models.PositiveIntegerField(default=0)
    shares = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "community", "day", "member"], name="memberday_unique"
            )
        ]
        indexes = [models.Index(fields=["organization", "member", "day"])]


class CommunityDay(TenantModel):
    community = models.ForeignKey(
        "communities.Community", on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField()
    # members in the group at the end of the day: a running total of `net`
    members_end = models.IntegerField(default=0)
    net = models.IntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    removals = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    speakers = models.PositiveIntegerField(default=0)
    active = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0)
    repeat_buyers = models.PositiveIntegerField(default=0)  # two or more orders on this day
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    # serialized roaring bitmaps of member ids
    speaker_ids = models.BinaryField(default=bytes)
    active_ids = models.BinaryField(default=bytes)
    buyer_ids = models.BinaryField(default=bytes)
    repeat_ids = models.BinaryField(default=bytes)  # two or more orders on this day
    joined_ids = models.BinaryField(default=bytes)
    hours = models.JSONField(default=list)  # messages per local hour, 24 numbers
    leave_reasons = models.JSONField(default=dict)  # {churn reason: leaves}

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "community", "day"], name="communityday_unique"
            )
        ]


class DirtyDay(TenantModel):
    """A (community, local day) whose rollups must be recomputed.

    Not unique on purpose: each writing transaction inserts its own marks, which become visible
    exactly when its records do. A refresh that deletes the marks it recomputed can then never
    swallow the mark of a transaction it could not see yet (an "insert if missing" would have
    reused the refresher's row and lost the late writer's events)."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["organization", "community", "day"])]


class CommissionTier(TenantModel):
    """A step of the org's commission ladder (seed 002: 10% from 10 orders, 12% from 20). A
    staff member's month earns the rate of the highest step their order count reaches, on the
    whole month's revenue of their groups."""

    min_orders = models.PositiveIntegerField(_("from orders"))
    rate_percent = models.DecimalField(_("commission %"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("commission step")
        verbose_name_plural = _("commission steps")
        ordering = ["min_orders"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "min_orders"], name="commissiontier_unique"
            )
        ]

    def __str__(self):
        return f"{self.min_orders}+ → {self.rate_percent}%"


class Leaderboard(TenantModel):
    """What the refresh job keeps ready for a group's last 7, 30 or 90 days ending `end_day`:
    the top contributors (summing a window's member-days grows with the group) and the member
    sets of that window and of the one before it (so the rates of a preset window read two
    rows instead of merging 2 × `days` day sets). Other windows are computed on demand."""

    community = models.ForeignKey(
        "communities.Community", on_delete=models.CASCADE, related_name="+"
    )
    days = models.PositiveSmallIntegerField()
    end_day = models.DateField()
    rows = models.JSONField(default=list)
    # serialized roaring bitmaps: speakers, buyers, repeat buyers; this window, then the previous
    sets = models.BinaryField(default=bytes)
    previous_sets = models.BinaryField(default=bytes)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "community", "days"], name="leaderboard_unique"
            )
        ]
