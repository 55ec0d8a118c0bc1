"""Celery jobs of the metrics: thin, per organization, idempotent."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from communities.models import Community
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


def rebuild_after_time_zone_change(*, org) -> None:
    """Registered on `tenancy.hooks.time_zone_changed`: every local day moved."""
    transaction.on_commit(lambda: rebuild_rollups.delay(org.pk), robust=True)


@tenant_task
def settle_rollups(org):
    """Nightly safety net: recompute yesterday and today for every active group, in case a
    writer forgot to mark a day."""
    today = local_day(org, timezone.now())
    groups = Community.objects.for_org(org).filter(status="active").values_list("pk", flat=True)
    rollups.mark_days(org, ((c, d) for c in groups for d in (today - timedelta(days=1), today)))
    return {"recomputed": rollups.refresh(org)}
