"""Celery jobs of the metrics: thin, per organization, idempotent."""

from celery import shared_task
from django.db import transaction

from communities.models import Community
from tenancy.system import system_db
from tenancy.tasks import tenant_task

from . import leaderboards, rollups


@shared_task
def refresh_marked():
    """Every half minute (beat): queue a refresh for each organization with marked days. The
    marks come from the triggers on the source tables, whoever wrote the records; no writer
    has to ask for a refresh."""
    from .models import DirtyDay

    # system work across organizations, on the system role (tenancy/system.py): only their
    # ids; each refresh runs in its org's scope
    marks = DirtyDay.objects.unscoped().using(system_db()).order_by()
    org_ids = sorted(marks.values_list("organization_id", flat=True).distinct())
    for org_id in org_ids:
        rollups.enqueue_refresh(org_id)
    return {"organizations": len(org_ids)}


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
    """Nightly: the kept-ready leaderboards and window sets of every active group move on to
    the new day (`leaderboards.keep_ready` ends them "today"; the refresh only moves the groups
    it recomputed, so a quiet group's would stay on an old day and be computed on every read).
    No day needs recomputing at midnight: a day's rollups depend only on that day's records,
    whose every change is marked."""

    recomputed = rollups.refresh(org)
    groups = list(
        Community.objects.for_org(org).filter(status="active").values_list("pk", flat=True)
    )
    leaderboards.keep_ready(org, groups)
    return {"recomputed": recomputed, "leaderboards": len(groups)}
