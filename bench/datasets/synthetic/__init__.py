"""A synthetic organization at a chosen scale, for the benchmarks that need a realistic tenant
(the dashboard under load, `make bench`).

In one organization (Asia/Shanghai) of the bench database:

- through the services (`team`): 2 owners, 10 managers and 8 staff with deputy roles in 3 groups
  each, all able to log in (`PASSWORD`); the groups (a third with the health_food rules), a
  sub-owner for every group, three VIP tiers; a weekly content plan on every group with its
  next two weeks of posts; a dozen campaigns;
- in set-based SQL (`people`, `commerce`): members, each with one identity and one membership
  (a quarter with a second one in another group), joined over the last 150 days, some gone
  since, with their history; raw events over the last 90 local days, in time order, day by day
  (90% `message.posted`, 7% check-ins, 3% shares; a third of the members never speak, the rest
  skewed); the memberships' `last_active_at` and `message_count` from the events, warnings,
  dormant memberships as the scan would leave them (checked: the scan itself then finds
  nothing left to mark); orders (repeat buyers), and the tiers they earn by the nightly job
  (`members.jobs.evaluate_tiers`); eight weeks of sent posts; care cases (about 1% of memberships); an audit log;
- then `rebuild_rollups(org)` in the organization's scope, and VACUUM ANALYZE.

The organization's slug encodes the scale; a later run with the same scale reuses it unless
`fresh`. Days are relative to the day of generation: a dataset reused days later has fewer
events in its recent windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.lib import app, db
from bench.lib.plan import Scale
from bench.lib.results import Phases

from . import commerce, people, team
from .shape import BATCH, COMPLETE, DORMANT_DAYS, EVENT_DAYS, PASSWORD, TIME_ZONE, slug_for

__all__ = ["PASSWORD", "Dataset", "ensure", "row_counts"]

BIG_TABLES = (
    "members_member",
    "members_memberidentity",
    "members_membership",
    "members_membershipchange",
    "members_rawevent",
    "campaigns_order",
    "communities_scheduledpost",
    "care_case",
    "tenancy_auditlogentry",
)
ROLLUP_TABLES = ("metrics_memberday", "metrics_communityday", "metrics_dirtyday")
ROWS = {
    "communities": "communities_community",
    "members": "members_member",
    "memberships": "members_membership",
    "membership_changes": "members_membershipchange",
    "raw_events": "members_rawevent",
    "orders": "campaigns_order",
    "scheduled_posts": "communities_scheduledpost",
    "campaigns": "campaigns_campaign",
    "care_cases": "care_case",
    "audit_entries": "tenancy_auditlogentry",
    "member_days": "metrics_memberday",
    "community_days": "metrics_communityday",
    "dormant_memberships": "members_membership AND status = 'dormant'",
}


@dataclass
class Dataset:
    org_id: int
    slug: str
    scale: str
    reused: bool
    communities: list[int]  # by size, largest first
    users: list[dict]  # email, role (owner, manager, deputy), communities (deputies)
    password: str = PASSWORD
    generated: dict | None = None  # what this run generated (None: reused)


def describe(org, scale: Scale, reused: bool) -> Dataset:
    with app.org_scope(org):
        sizes = dict(
            app.CommunityDay.objects.for_org(org)
            .order_by("community_id", "-day")
            .distinct("community_id")
            .values_list("community_id", "members_end")
        )
        ids = list(app.Community.objects.for_org(org).values_list("pk", flat=True))
        ids.sort(key=lambda pk: (-sizes.get(pk, 0), pk))
        deputies: dict[int, list[int]] = {}
        for user_id, community_id in (
            app.StaffAssignment.objects.for_org(org)
            .filter(role="deputy", ended_at=None)
            .values_list("user_id", "community_id")
        ):
            deputies.setdefault(user_id, []).append(community_id)
        users = [
            {
                "email": m.user.email,
                "role": "deputy" if m.role == "staff" else m.role,
                "communities": sorted(deputies.get(m.user_id, [])),
            }
            for m in app.OrgMembership.objects.for_org(org)
            .filter(is_active=True)
            .select_related("user")
            .order_by("pk")
        ]
    return Dataset(org.pk, org.slug, scale.name, reused, ids, users)


def generate(org, community_ids: list[int], users: dict, scale: Scale, phases: Phases) -> dict:
    """Everything but the team and groups (created first, by `team.create_team`)."""
    now = datetime.now(UTC).replace(microsecond=0)
    today = app.local_day(org, now)
    handlers = [u.pk for u in users["owner"] + users["manager"]]
    base = {
        "org": org.pk,
        "now": now,
        "tz": TIME_ZONE,
        "today": today,
        "batch": BATCH,
        "c": len(community_ids),
        "communities": community_ids,
        "handlers": handlers,
        "n_handlers": len(handlers),
        "dormant": DORMANT_DAYS,
    }
    out: dict = {}
    plan = phases.run("content plan (services)", team.content_plan, org, community_ids)
    out["campaigns"] = phases.run("campaigns (services)", team.campaigns, org, community_ids, now)
    with db.loading(seed=0.2026) as conn:
        run = phases.run
        out["memberships"] = run(
            "members and memberships", people.members, conn, base, scale.members
        )
        out["events"] = run(
            "raw events", people.events, conn, base, scale.events, org.tzinfo, today, now
        )
        out.update(run("activity, warnings, dormant", people.after_events, conn, base))
        since = datetime.combine(
            today - timedelta(days=EVENT_DAYS - 1), datetime.min.time(), org.tzinfo
        )
        out["orders"] = run("orders", commerce.orders, conn, base, scale.orders, since)
        out["tier_changes"] = run("tiers (the nightly job)", commerce.tiers, org, now)
        audit_entries = max(1000, scale.members // 10)
        out.update(
            run("posts, care, audit", commerce.posts_care_audit, conn, base, plan.pk, audit_entries)
        )
    phases.run("vacuum analyze", db.vacuum, None, BIG_TABLES)
    out["dormant_left_to_do"] = commerce.dormant_left_to_do(org, now)
    return out


def rebuild(org, phases: Phases) -> int:
    """Every group's rollups from its source records, as `manage.py rebuild_rollups` does."""
    with app.org_scope(org):
        days = phases.run("rebuild rollups", app.rebuild_rollups, org)
    phases.run("vacuum analyze rollups", db.vacuum, None, ROLLUP_TABLES)
    return days


def row_counts(org_id: int) -> dict:
    return db.count_rows(None, org_id, ROWS)


def ensure(scale: Scale, *, fresh: bool = False, phases: Phases | None = None) -> Dataset:
    """The dataset of this scale: reused if complete (unless `fresh`), else generated.
    Django must be set up (`env.setup_django`)."""
    phases = phases or Phases()
    slug = slug_for(scale)
    org = app.Organization.objects.filter(slug=slug).first()
    if org is not None and org.name == COMPLETE and not fresh:
        print(f"reusing dataset {slug} (generated {org.created_at:%Y-%m-%d %H:%M} UTC)")
        return describe(org, scale, reused=True)
    if org is not None:
        phases.run("purge old dataset", db.purge, None, org, "syn")
    org, community_ids, users = phases.run(
        "team and groups (services)", team.create_team, slug, scale
    )
    generated = generate(org, community_ids, users, scale, phases)
    print("  " + ", ".join(f"{k} {v:,}" for k, v in generated.items()))
    days = rebuild(org, phases)
    print(f"  {days:,} group-days of rollups")
    org.name = COMPLETE
    org.save(update_fields=["name"])
    dataset = describe(org, scale, reused=False)
    dataset.generated = generated
    return dataset
