"""Celery jobs of the metrics: thin, per organization, idempotent."""

from datetime import timedelta

from django.utils import timezone

from tenancy.tasks import tenant_task

from . import rollups
from .days import local_day


@tenant_task
def refresh_rollups(org):
    return {"recomputed": rollups.refresh(org)}


@tenant_task
def rebuild_rollups(org):
    """After a change of the org's time zone: every local day moves."""
    return {"recomputed": rollups.rebuild(org)}


@tenant_task
def settle_rollups(org):
    """Nightly safety net: recompute yesterday and today for every active group, in case a
    writer forgot to mark a day."""
    from communities.models import Community

    today = local_day(org, timezone.now())
    groups = Community.objects.for_org(org).filter(status="active").values_list("pk", flat=True)
    rollups.mark_days(org, ((c, d) for c in groups for d in (today - timedelta(days=1), today)))
    return {"recomputed": rollups.refresh(org)}
