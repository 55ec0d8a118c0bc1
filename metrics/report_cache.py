"""One group's metrics report for the API, with its rollup part cached.

What comes from the rollups (rates, daily series, heatmap, churn, cohorts, top contributors)
is the same for everyone allowed to see the group (with or without revenue) and changes only
when the rollups do. Every refresh and rebuild ends by keeping the refreshed groups'
leaderboards ready (`leaderboards.keep_ready`), which stamps them (`computed_at`); that stamp is
part of the cache key, read with the group itself, so a refresh invalidates what every process
cached, whatever the cache backend (a process's own memory included). A group whose
leaderboards were never kept (no stamp) is not cached. Dormancy and the campaigns' reviews
read live records: they are read on every request.

The cached part is kept serialized: a hit costs no serializer work.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Max, OuterRef, Subquery
from django.utils.translation import get_language

from tenancy.permissions import can

from . import selectors
from .models import Leaderboard
from .serializers import CommunityLiveReportSerializer, CommunityRollupReportSerializer

TTL = 15 * 60  # seconds: a backstop; the stamp is what invalidates


def rollups_stamp(org):
    """For a Community queryset: when the group's rollups last changed (None: never kept)."""
    stamps = (
        Leaderboard.objects.for_org(org)
        .filter(community_id=OuterRef("pk"))
        .order_by()
        .values("community_id")
        .annotate(at=Max("computed_at"))
        .values("at")[:1]
    )
    return Subquery(stamps)


def community_report(actor, community, window) -> dict:
    """The API's report of one group, serialized (CommunityReportSerializer's shape).
    `community` carries `rollups_stamp` (annotated with `rollups_stamp`)."""
    org = actor.organization
    show_revenue = can(actor, "metrics.revenue")
    stamp = getattr(community, "rollups_stamp", None)
    key = None
    if stamp is not None:
        parts = (org.pk, community.pk, stamp.timestamp(), window.key, show_revenue, get_language())
        key = "metrics:report:" + ":".join(str(part) for part in parts)
    shared = cache.get(key) if key else None
    if shared is None:
        report = selectors.rollup_report(org, community, window, show_revenue=show_revenue)
        report["definitions"] = selectors.definitions()
        shared = dict(CommunityRollupReportSerializer(report).data)
        if key:
            cache.set(key, shared, TTL)
    live = CommunityLiveReportSerializer(
        selectors.live_report(org, community, window, show_revenue=show_revenue)
    ).data
    ordered = ("window", "previous", "definitions", "rates", "series", "heatmap", "churn")
    return {
        "community_id": community.pk,
        "community": community.name,
        **{name: shared[name] for name in ordered},
        "cohorts": shared["cohorts"],
        "dormancy": live["dormancy"],
        "top": shared["top"],
        "campaigns": live["campaigns"],
    }
