"""Raw events partitioned by month (members/partitions.py, migration members 0010): where rows
land, the daily job, retention as a partition drop, row-level security on the partitions,
idempotency across months, and the planner reading only the months a query names."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from members import partitions
from members.models import RawEvent
from tenancy.scope import org_scope

from .conftest import ev

pytestmark = pytest.mark.postgres
SYSTEM = pytest.mark.django_db(transaction=True, databases=["default", "system"])


def _at(year, month, day=15):
    return datetime(year, month, day, 12, tzinfo=UTC).isoformat()


def _where(org) -> dict:
    """{client event id: the partition holding it}, as the organization's scope sees it."""
    with org_scope(org), connection.cursor() as cursor:
        cursor.execute("SELECT client_event_id, tableoid::regclass::text FROM members_rawevent")
        return dict(cursor.fetchall())


def test_the_migration_made_a_partitioned_table_with_this_and_next_months(db):
    assert partitions.is_partitioned()
    this = partitions.month_start(timezone.now())
    stored = partitions.months()
    assert {this, partitions.add_months(this, 1)} <= set(stored)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relkind FROM pg_class WHERE relname IN (%s, %s) ORDER BY relname",
            [partitions.PARENT, partitions.DEFAULT],
        )
        assert [row[0] for row in cursor.fetchall()] == ["p", "r"]
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            ["rawevent_idempotent"],
        )
        assert cursor.fetchone()[0] == "UNIQUE (organization_id, client_event_id, occurred_at)"


def test_events_of_different_months_land_in_different_partitions(org_a, group, post):
    this = partitions.month_start(timezone.now())
    last = partitions.add_months(this, -60)  # no partition: the default one takes it
    events = [
        ev("message.posted", at=0) | {"id": "now", "occurred_at": timezone.now().isoformat()},
        ev("message.posted", at=0) | {"id": "old", "occurred_at": _at(last.year, last.month)},
    ]
    assert post(events)["accepted"] == 2
    where = _where(org_a.org)
    assert where == {"now": partitions.partition_name(this), "old": partitions.DEFAULT}


def test_a_resend_is_a_duplicate_in_any_month_and_stored_once(org_a, group, post):
    first = ev("message.posted", at=0) | {"id": "once", "occurred_at": timezone.now().isoformat()}
    assert post([first])["accepted"] == 1
    assert post([first]) == {"accepted": 0, "duplicates": 1, "rejected": []}
    # the same id with a time in another month: still the same event
    moved = first | {"occurred_at": (timezone.now() - timedelta(days=400)).isoformat()}
    assert post([moved]) == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert RawEvent.objects.for_org(org_a.org).filter(client_event_id="once").count() == 1


def test_partitions_have_the_forced_policy_and_show_one_organization_when_read_directly(
    org_a, org_b, group, post
):
    from communities import services as community_services

    community_services.community_create(actor=org_b.actor(), name="B群", external_id="g1")
    now = timezone.now().isoformat()
    assert post([ev("message.posted") | {"id": "a1", "occurred_at": now}])["accepted"] == 1
    b_client = org_b.api_client()
    response = b_client.post(
        "/api/v1/events/",
        {"events": [ev("message.posted") | {"id": "b1", "occurred_at": now}]},
        content_type="application/json",
    )
    assert response.json()["accepted"] == 1
    name = partitions.partition_name(partitions.month_start(timezone.now()))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [name]
        )
        assert cursor.fetchone() == (True, True)
    for tenant, mine in ((org_a, "a1"), (org_b, "b1")):
        with org_scope(tenant.org), connection.cursor() as cursor:
            cursor.execute(f'SELECT client_event_id FROM "{name}"')  # noqa: S608
            assert [row[0] for row in cursor.fetchall()] == [mine]
    with connection.cursor() as cursor:  # no scope: nothing, by name or through the parent
        cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608
        assert cursor.fetchone()[0] == 0


@SYSTEM
def test_the_job_is_idempotent_and_files_early_arrivals(org_a, group, post):
    later = partitions.add_months(partitions.month_start(timezone.now()), 6)
    early = datetime(later.year, later.month, 2, tzinfo=UTC)
    with pytest.MonkeyPatch.context() as patch:  # an event the schema would call too far ahead
        patch.setattr("integrations.event_schema._implausible_time", lambda at: None)
        assert post([ev("message.posted") | {"id": "early", "occurred_at": early.isoformat()}])
    assert _where(org_a.org)["early"] == partitions.DEFAULT
    try:
        first = partitions.maintain(now=early)
        assert str(later) in first["created"] and first["dropped"] == []
        assert partitions.maintain(now=early) == {"created": [], "dropped": []}
        assert _where(org_a.org)["early"] == partitions.partition_name(later)
    finally:
        _drop_months_from(partitions.add_months(later, -3))


@SYSTEM
def test_retention_drops_whole_months_past_every_organization_s_choice(org_a, org_b, group, post):
    old = date(2001, 3, 1)
    with org_scope(org_b.org):
        org_b.org.raw_event_retention_months = 37
        org_b.org.save(update_fields=["raw_event_retention_months"])
    assert partitions.longest_retention("system") == 37
    assert post([ev("message.posted") | {"id": "ancient", "occurred_at": _at(2001, 3)}])
    kept = _where(org_a.org)
    assert kept["ancient"] == partitions.DEFAULT
    try:
        result = partitions.maintain()
        assert result["created"] == [str(old)] and result["dropped"] == [str(old)]
        assert "ancient" not in _where(org_a.org)
        assert old not in partitions.months("system")
        assert partitions.kept_since("system") == datetime(2001, 4, 1, tzinfo=UTC)
        with connections["system"].cursor() as cursor:  # a DROP, not a DELETE
            cursor.execute("SELECT to_regclass(%s)", [partitions.partition_name(old)])
            assert cursor.fetchone()[0] is None
    finally:
        with connections["system"].cursor() as cursor:
            cursor.execute(f"COMMENT ON TABLE {partitions.PARENT} IS NULL")


def _drop_months_from(first: date) -> None:
    for month in partitions.months("system"):
        if month > first:
            with connections["system"].cursor() as cursor:
                cursor.execute(f'DROP TABLE "{partitions.partition_name(month)}"')


def test_a_day_s_query_reads_only_its_month(org_a, group, post):
    start = datetime.combine(timezone.now().date(), datetime.min.time(), tzinfo=UTC)
    query = RawEvent.objects.for_org(org_a.org).filter(
        occurred_at__gte=start, occurred_at__lt=start + timedelta(days=1)
    )
    with org_scope(org_a.org):
        plan = query.explain()
    this = partitions.partition_name(partitions.month_start(start))
    assert this in plan
    others = [p for p in partitions.months() if partitions.partition_name(p) != this]
    assert partitions.DEFAULT not in plan
    assert not [p for p in others if partitions.partition_name(p) in plan], plan
