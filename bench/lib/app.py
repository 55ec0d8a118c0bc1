"""Every entry point of the application that the benchmarks use, in one table.

The benchmarks build their tenants through the services (the way the product does) and read
through the models; the bulk of their data is set-based SQL (bench/datasets/, checked against
the models by tests/bench/test_synthetic_schema.py). When an application module moves, update
its line here: tests/bench/test_harness.py imports every entry point, so `make test` says which.

    from bench.lib import app
    org = app.organization_create(name=..., slug=..., owner_email=...)
    with app.org_scope(org):
        app.rebuild_rollups(org)

Names resolve on first use (after `django.setup()`).
"""

from __future__ import annotations

import importlib

# name -> "module" (the attribute of the same name) or "module:attribute"
ENTRY_POINTS = {
    # tenancy
    "Actor": "tenancy.actors",
    "org_scope": "tenancy.scope",
    "organization_create": "tenancy.services",
    "invitation_create": "tenancy.services",
    "invitation_accept": "tenancy.services",
    "api_key_create": "tenancy.services",
    "new_api_key": "tenancy.tokens",
    "keyed_hash": "tenancy.tokens",
    "api_key_matches": "tenancy.tokens:matches",
    "Organization": "tenancy.models",
    "OrgMembership": "tenancy.models",
    "User": "tenancy.models",
    # communities and content
    "community_create": "communities.services",
    "rules_apply_template": "communities.services",
    "rules_update": "communities.services",
    "staff_assign": "communities.services",
    "tier_save": "communities.services",
    "plan_save": "communities.content",
    "dispatch_due": "communities.content",
    "Community": "communities.models",
    "CommunityRules": "communities.models",
    "ScheduledPost": "communities.models",
    "StaffAssignment": "communities.models",
    # campaigns
    "flash_sale_create": "campaigns.services",
    "campaign_publish": "campaigns.services",
    "group_buy_create": "campaigns.group_buys",
    "live_stock": "campaigns.stock_gate",
    "load_stock_gate": "campaigns.stock_gate:load",
    "Campaign": "campaigns.models",
    "Order": "campaigns.models",
    # members
    "start_session": "members.access",
    "mark_dormant": "members.jobs",
    "evaluate_tiers": "members.jobs",
    "Block": "members.models",
    "Member": "members.models",
    "MemberIdentity": "members.models",
    "Membership": "members.models",
    "RawEvent": "members.models",
    "raw_event_months": "members.partitions:ensure_months",
    "Warning": "members.models",
    # metrics
    "rebuild_rollups": "metrics.rollups:rebuild",
    "refresh_rollups": "metrics.rollups:refresh",
    "mark_days": "metrics.rollups",
    "local_day": "metrics.days",
    "day_bounds": "metrics.days",
    "window_rates": "metrics.rates",
    "Window": "metrics.windows",
    "CommunityDay": "metrics.models",
    # integrations: the event schema of POST /api/v1/events/, the outbox
    "Event": "integrations.event_schema",
    "Action": "integrations.models",
}

# Celery tasks the benchmarks enqueue by name, and the worker's queues (settings.WORKER_QUEUES)
TASK_SCAN_DORMANT = "members.tasks.scan_dormant"
WORKER_QUEUES = "default,metrics,delivery,imports"


def resolve(name: str):
    target = ENTRY_POINTS[name]
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or name)


def __getattr__(name: str):
    if name not in ENTRY_POINTS:
        raise AttributeError(f"bench.lib.app has no {name!r}: add it to ENTRY_POINTS")
    value = resolve(name)
    globals()[name] = value
    return value


def system_actor(org, label: str = "bench"):
    """The actor of the bench's own changes (the services' audit says `bench`)."""
    return resolve("Actor").system(org, label)
