"""Top contributors per group: summed from member-days, kept ready for the preset windows."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from members.models import Member

from . import page_cache
from .days import local_day
from .models import Leaderboard, MemberDay
from .rates import window_sets
from .windows import PRESETS, Window, last_days

KEEP = 20


def compute(org, community_id, window: Window, limit=KEEP) -> list[dict]:
    rows = list(
        MemberDay.objects.for_org(org)
        .filter(community_id=community_id, day__gte=window.start, day__lte=window.end)
        .values("member_id")
        .annotate(
            messages=Sum("messages"),
            checkins=Sum("checkins"),
            shares=Sum("shares"),
            orders=Sum("orders"),
            spend=Sum("spend"),
            days=Count("pk"),
        )
        .order_by("-messages", "-days", "member_id")[:limit]
    )
    names = dict(
        Member.objects.for_org(org)
        .filter(pk__in=[r["member_id"] for r in rows])
        .values_list("pk", "display_name")
    )
    for r in rows:
        r["name"] = names.get(r["member_id"]) or f"#{r['member_id']}"
        r["spend"] = str(r["spend"] or Decimal("0"))
    return rows


def keep_ready(org, community_ids) -> None:
    """Recompute the preset windows ending today for these groups (the refresh job's last
    step, after every write of rollups): the pages' cached figures are forgotten too."""
    page_cache.forget(org.pk)
    now = timezone.now()
    today = local_day(org, now)
    for community_id in community_ids:
        for days in PRESETS:
            window = last_days(org, days, today)
            current, previous = window_sets(org, [community_id], window, window.previous())
            Leaderboard.objects.for_org(org).update_or_create(
                community_id=community_id,
                days=days,
                defaults={
                    "organization": org,
                    "end_day": today,
                    "rows": compute(org, community_id, window),
                    "sets": current[community_id].dump(),
                    "previous_sets": previous[community_id].dump(),
                    "computed_at": now,
                },
            )


def read_or_compute(org, community, window: Window) -> list[dict]:
    if window.days in PRESETS:
        kept = (
            Leaderboard.objects.for_org(org)
            .filter(community=community, days=window.days, end_day=window.end)
            .values_list("rows", flat=True)
            .first()
        )
        if kept is not None:
            return kept
    return compute(org, community.pk, window)
