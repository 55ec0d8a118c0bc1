"""The main list pages do not scan the big tenant tables: their queries, captured from real
requests, are EXPLAINed on a representative sample and no plan may hold a Seq Scan of raw events,
memberships, orders, the points ledger or the outbox.

The sample: one organization with 120 rows in each big table among 4,000 rows of another, then
ANALYZE. That is big enough for the planner to prefer the organization_id indexes on its own (the
planner settings are left alone: enable_seqscan stays on), which is the point: in production one
tenant is a small share of each table.
"""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import OrganizationFactory
from tests.test_cross_tenant import API_LIST_ROUTES, ORG_LIST_ROUTES

pytestmark = pytest.mark.postgres

BIG_TABLES = {
    "members_rawevent",
    "members_membership",
    "campaigns_order",
    "members_pointsentry",
    "integrations_action",
}
OTHERS, OURS = 4000, 120


def _fill(org, n: int, tag: str):
    from campaigns.models import Order
    from communities.models import Community
    from integrations.models import Action
    from members.models import Member, MemberIdentity, Membership, PointsEntry, RawEvent

    now = timezone.now()
    communities = Community.objects.bulk_create(
        [
            Community(organization=org, name=f"{tag} 群{i}", external_id=f"{tag}-g{i}")
            for i in range(4)
        ]
    )
    members = Member.objects.bulk_create(
        [Member(organization=org, display_name=f"{tag}{i}") for i in range(n)], batch_size=1000
    )
    identities = MemberIdentity.objects.bulk_create(
        [
            MemberIdentity(organization=org, member=m, external_user_id=f"{tag}-u{i}")
            for i, m in enumerate(members)
        ],
        batch_size=1000,
    )
    Membership.objects.bulk_create(
        [
            Membership(
                organization=org,
                community=communities[i % 4],
                member=m,
                identity=identities[i],
                status="active",
                last_active_at=now,
            )
            for i, m in enumerate(members)
        ],
        batch_size=1000,
    )
    batch = uuid.uuid4()
    RawEvent.objects.bulk_create(
        [
            RawEvent(
                organization=org,
                client_event_id=f"{tag}-e{i}",
                type="message.posted",
                occurred_at=now,
                batch_id=batch,
                community=communities[i % 4],
                member=m,
            )
            for i, m in enumerate(members)
        ],
        batch_size=1000,
    )
    Order.objects.bulk_create(
        [
            Order(
                organization=org,
                external_order_id=f"{tag}-o{i}",
                member=m,
                community=communities[i % 4],
                amount=99,
                status="paid",
            )
            for i, m in enumerate(members)
        ],
        batch_size=1000,
    )
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(organization=org, member=m, delta=5, reason="check_in", day=now.date())
            for m in members
        ],
        batch_size=1000,
    )
    Action.objects.bulk_create(
        [
            Action(organization=org, kind="member.welcome", member=m, community=communities[0])
            for m in members
        ],
        batch_size=1000,
    )
    return members


def _seq_scans_of_big_tables(sql: str) -> list[str]:
    """The big tables a plan scans sequentially. Raw events are partitioned by month
    (members/partitions.py): a partition counts as its table, unless it is empty (the months
    made ahead), where the planner rightly reads nothing."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        scanned = set(re.findall(r"Seq Scan on (\w+)", plan))
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND reltuples > 0",
            [sorted(scanned)],
        )
        filled = {row[0] for row in cursor.fetchall()}
    tables = {name for name in scanned if name in BIG_TABLES}
    tables |= {
        "members_rawevent" for name in scanned & filled if name.startswith("members_rawevent_p")
    }
    return sorted(tables)


def test_list_pages_use_indexes_on_the_big_tables(org_a):
    _fill(OrganizationFactory(slug="someone-else"), OTHERS, "other")
    ours = _fill(org_a.org, OURS, "ours")
    with connection.cursor() as cursor:
        for table in sorted(BIG_TABLES):
            cursor.execute(f"ANALYZE {table}")

    web, api = org_a.client_for(org_a.owner), org_a.api_client()
    requests = [
        (web, reverse(r.name, kwargs={"org_slug": org_a.org.slug})) for r in ORG_LIST_ROUTES
    ]
    requests += [(api, reverse(r.name)) for r in API_LIST_ROUTES]
    member = ours[7]
    requests += [
        (web, reverse("member-detail", kwargs={"org_slug": org_a.org.slug, "pk": member.pk})),
        (api, reverse("api:member-detail", kwargs={"pk": member.pk})),
        (api, reverse("api:member-points", kwargs={"pk": member.pk})),
    ]
    statements = set()
    for client, url in requests:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        for query in queries.captured_queries:
            sql = query["sql"]
            if sql.lstrip().upper().startswith("SELECT") and any(t in sql for t in BIG_TABLES):
                statements.add((url, sql))
    assert len(statements) >= 20  # the walk really reached the big tables

    problems = []
    for url, sql in sorted(statements):
        scanned = _seq_scans_of_big_tables(sql)
        if scanned:
            problems.append(f"{url}: Seq Scan on {', '.join(sorted(scanned))}\n    {sql[:400]}")
    assert not problems, "\n".join(problems)
