"""Why members leave (seed 002 §5.3): the leaving survey's answers and the counts per cause.

A `member.left` event records a `Leaving` (members/writes.py); when the bot gave no reason,
the member is sent a personal link to the survey (portal: bye/<leaving>/). Their answer:

- sets the leaving's reason (the member's word replaces the bot's; answering again updates it);
- becomes the reason of the leave in the membership's history (the `MembershipChange` to
  "left" at that moment), which the metric rollups count as the group's churn reasons (their
  trigger marks the day for recomputation), and the membership's `churn_reason` while it has
  not rejoined.

The group's page shows the last months per cause (`trend`) with the fix that fits each cause.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tenancy.permissions import require_for

from .models import ChurnReason, Leaving, Membership, MembershipChange, MembershipStatus

# How long after leaving a member may answer (and change their answer).
ANSWER_DAYS = 30
TEXT_MAX = 300
TREND_MONTHS = 6


def may_answer(leaving, now=None) -> bool:
    return (now or timezone.now()) <= leaving.left_at + timedelta(days=ANSWER_DAYS)


def leaving_answer(*, actor, leaving, reason: str, text: str = "") -> Leaving:
    """The member's answer to the leaving survey of `leaving` (theirs only: `require_for`)."""
    require_for(actor, "member.edit", leaving.member, leaving.community)
    reason = (reason or "").strip()
    text = " ".join((text or "").split())
    errors = {}
    if reason not in ChurnReason.values:
        errors["reason"] = _("Choose one of the reasons.")
    if len(text) > TEXT_MAX:
        errors["text"] = _("At most %(n)s characters, please.") % {"n": TEXT_MAX}
    if errors:
        raise ValidationError(errors)
    if not may_answer(leaving):
        raise ValidationError(_("This survey has closed."))
    org = leaving.organization
    now = timezone.now()
    with transaction.atomic():
        leaving = Leaving.objects.for_org(org).select_for_update().get(pk=leaving.pk)
        leaving.reason = reason
        leaving.text = text
        leaving.source = Leaving.Source.MEMBER
        leaving.answered_at = now
        leaving.save(update_fields=["reason", "text", "source", "answered_at"])
        # the leave in the membership's history carries the reason the rollups count
        MembershipChange.objects.for_org(org).filter(
            membership_id=leaving.membership_id,
            to_status=MembershipStatus.LEFT,
            created_at=leaving.left_at,
        ).update(reason=reason)
        Membership.objects.for_org(org).filter(
            pk=leaving.membership_id, status=MembershipStatus.LEFT, left_at=leaving.left_at
        ).update(churn_reason=reason)
    return leaving


# --- what the group's page shows ---------------------------------------------------------------

# The fix that fits each cause (seed 002 §5.3), the dashboard page that does it and what a
# person needs to open that page (the panel links it only for those who may).
FIXES = {
    ChurnReason.CONTENT: (
        gettext_lazy("Adjust the content calendar: more of the tips members care about."),
        "calendar",
        gettext_lazy("Content calendar"),
        "content.view",
    ),
    ChurnReason.ADS: (
        gettext_lazy(
            "Post ads less often (e.g. twice a week): the group's ads rules and daily post limit."
        ),
        "community-rules",
        gettext_lazy("Ads rules and post limit"),
        "community.manage",
    ),
    ChurnReason.NO_BENEFITS: (
        gettext_lazy("Add benefits: e.g. a lottery every week, flash sales and group buys."),
        "campaigns",
        gettext_lazy("Campaigns"),
        "campaign.view",
    ),
}


def _month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    starts = []
    for _i in range(months):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return starts[::-1]


def trend(org, community, *, months: int = TREND_MONTHS, now=None) -> dict:
    """Leaves of the last `months` local months per cause (one aggregate query): {"months":
    [first days], "rows": [{"reason", "counts": [...], "total"}], "asked", "answered",
    "recent": the latest answers in the members' own words}."""
    now = now or timezone.now()
    tz = org.tzinfo
    starts = _month_starts(now.astimezone(tz).date(), months)
    since = datetime.combine(starts[0], time.min, tzinfo=tz)
    leavings = Leaving.objects.for_org(org).filter(community=community, left_at__gte=since)
    counts = (
        leavings.annotate(month=TruncMonth("left_at", tzinfo=tz))
        .values("month", "reason")
        .annotate(
            n=Count("pk"),
            asked=Count("pk", filter=Q(asked_at__isnull=False)),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
        )
        .order_by()
    )
    index = {start: i for i, start in enumerate(starts)}
    table = {code: [0] * months for code in [*ChurnReason.values, ""]}
    asked = answered = 0
    for row in counts:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        i = index.get(month)
        if i is None:
            continue
        table[row["reason"] if row["reason"] in table else ChurnReason.OTHER][i] += row["n"]
        asked += row["asked"]
        answered += row["answered"]
    labels = dict(ChurnReason.choices)
    rows = []
    for code, per_month in table.items():
        fix = FIXES.get(code)
        rows.append(
            {
                "reason": code or "unknown",
                "label": labels.get(code, _("Not given")),
                "counts": per_month,
                "total": sum(per_month),
                "fix": fix[0] if fix else "",
                "fix_url_name": fix[1] if fix else "",
                "fix_tool": fix[2] if fix else "",
                "fix_capability": fix[3] if fix else "",
            }
        )
    recent = list(
        leavings.filter(source=Leaving.Source.MEMBER)
        .exclude(text="")
        .order_by("-answered_at")
        .values("reason", "text", "answered_at")[:5]
    )
    for row in recent:
        row["label"] = labels.get(row["reason"], "")
    given = [r for r in rows if r["reason"] != "unknown" and r["total"]]
    top = max(given, key=lambda r: r["total"], default=None)
    return {
        "months": starts,
        "rows": rows,
        "asked": asked,
        "answered": answered,
        "total": sum(r["total"] for r in rows),
        "top": top,
        "recent": recent,
    }
