"""The dirty marks come from triggers on the source tables (metrics/migrations/0006): every write
marks its (group, local day) whoever made it, also under row-level security; writes that change
nothing the rollups read mark nothing."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from campaigns.models import Order
from ingestion.pipeline import ingest_events
from members.models import Membership, MembershipChange, RawEvent
from metrics import tasks
from metrics.models import DirtyDay, Leaderboard
from tenancy.actors import Actor
from tenancy.scope import org_scope
from tests.factories import MemberFactory

SOURCE_TABLES = {
    "members_rawevent": {"insert", "update", "delete"},
    "campaigns_order": {"insert", "update", "delete"},
    "members_membershipchange": {"insert", "update", "delete"},
}
SQLITE = connection.vendor == "sqlite"


def _triggers() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        if SQLITE:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgname LIKE 'metrics_marks_%%'"
            )
        return set(cursor.fetchall())


def test_every_source_table_of_the_rollups_carries_its_triggers(db):
    found = _triggers()
    for table, ops in SOURCE_TABLES.items():
        for op in ops:
            name = f"metrics_marks_{table.split('_', 1)[1]}_{op}"
            assert (table, name) in found, name
    assert ("members_membership", "metrics_marks_membership_move") in found


def _marks(org) -> set[tuple[int, date]]:
    return set(DirtyDay.objects.for_org(org).values_list("community_id", "day"))


def _days(org, *instants) -> set[date]:
    """The days instants mark: their local days on PostgreSQL; on SQLite (no time zone
    database) the UTC day before, of and after each, one of which is the local day."""
    if not SQLITE:
        return {at.astimezone(org.tzinfo).date() for at in instants}
    shifts = (-1, 0, 1)
    return {at.astimezone(UTC).date() + timedelta(days=n) for at in instants for n in shifts}


def _event(n, kind, at, user="u1", **extra):
    return {
        "id": f"mk-{n}",
        "type": kind,
        "occurred_at": at.isoformat(),
        "community": "g1",
        "user": user,
        **extra,
    }


def _ingest(tenant, *events):
    actor = Actor.for_api_key(tenant.api_key)
    with org_scope(tenant.org):
        result = ingest_events(actor=actor, raw_events=list(events))
    assert result.accepted == len(events), result.as_dict()


def _shanghai(org):
    org.time_zone = "Asia/Shanghai"
    org.save(update_fields=["time_zone"])


# 17:30 UTC on 2 March is 01:30 on 3 March in Shanghai
LATE_EVENING_UTC = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)


def test_ingested_events_orders_and_joins_mark_the_local_day(org_a):
    _shanghai(org_a.org)
    _ingest(
        org_a,
        _event(1, "member.joined", LATE_EVENING_UTC),
        _event(2, "message.posted", LATE_EVENING_UTC + timedelta(minutes=1)),
        _event(
            3, "order.placed", LATE_EVENING_UTC + timedelta(minutes=2), order_id="o1", amount="9"
        ),
    )
    group = RawEvent.objects.for_org(org_a.org).first().community_id
    marks = DirtyDay.objects.for_org(org_a.org)
    assert _marks(org_a.org) == {(group, d) for d in _days(org_a.org, LATE_EVENING_UTC)}
    assert date(2026, 3, 3) in _days(org_a.org, LATE_EVENING_UTC)
    if not SQLITE:
        # one statement, one mark per table written (events, orders, membership history)
        assert marks.count() == 3


def test_a_change_the_rollups_do_not_read_marks_nothing_and_a_move_marks_both_sides(org_a):
    _shanghai(org_a.org)
    _ingest(org_a, _event(1, "message.posted", LATE_EVENING_UTC))
    DirtyDay.objects.for_org(org_a.org).delete()
    events = RawEvent.objects.for_org(org_a.org)
    events.update(payload={"text": "[erased]"})
    assert not _marks(org_a.org)

    other = MemberFactory(organization=org_a.org)
    events.update(member=other, occurred_at=LATE_EVENING_UTC - timedelta(days=1))
    group = events.get().community_id
    # the day it left and the day it moved to
    moved = _days(org_a.org, LATE_EVENING_UTC, LATE_EVENING_UTC - timedelta(days=1))
    assert _marks(org_a.org) == {(group, d) for d in moved}


def test_a_membership_moved_to_another_member_marks_every_day_of_its_history(org_a):
    _ingest(
        org_a,
        _event(1, "member.joined", LATE_EVENING_UTC),
        _event(2, "member.left", LATE_EVENING_UTC + timedelta(days=3)),
    )
    membership = Membership.objects.for_org(org_a.org).get()
    DirtyDay.objects.for_org(org_a.org).delete()
    Membership.objects.for_org(org_a.org).update(last_active_at=LATE_EVENING_UTC)
    assert not _marks(org_a.org)
    Membership.objects.for_org(org_a.org).update(member=MemberFactory(organization=org_a.org))
    history = MembershipChange.objects.for_org(org_a.org).values_list("created_at", flat=True)
    days = _days(org_a.org, *history)
    assert _marks(org_a.org) == {(membership.community_id, d) for d in days}


def test_a_late_membership_change_also_marks_the_next_change_it_precedes(org_a):
    _ingest(
        org_a,
        _event(1, "member.joined", LATE_EVENING_UTC),
        _event(2, "member.left", LATE_EVENING_UTC + timedelta(days=5)),
    )
    DirtyDay.objects.for_org(org_a.org).delete()
    membership = Membership.objects.for_org(org_a.org).get()
    MembershipChange.objects.create(  # a record of a leave in between, written late
        organization=org_a.org,
        membership=membership,
        to_status="left",
        created_at=LATE_EVENING_UTC + timedelta(days=2),
    )
    group = membership.community_id
    expected = _days(
        org_a.org, LATE_EVENING_UTC + timedelta(days=2), LATE_EVENING_UTC + timedelta(days=5)
    )
    assert _marks(org_a.org) == {(group, d) for d in expected}


def test_a_rewritten_leave_reason_marks_its_day(org_a):
    """Erasure rewrites the history's reasons (members.privacy); leaves count by reason."""
    _ingest(
        org_a,
        _event(1, "member.joined", LATE_EVENING_UTC),
        _event(2, "member.left", LATE_EVENING_UTC + timedelta(hours=1), reason="no_benefits"),
    )
    DirtyDay.objects.for_org(org_a.org).delete()
    changes = MembershipChange.objects.for_org(org_a.org)
    changes.update(actor_label="[erased]")
    assert not _marks(org_a.org)
    changes.filter(to_status="left").update(reason="[erased]")
    group = Membership.objects.for_org(org_a.org).get().community_id
    assert _marks(org_a.org) == {
        (group, d) for d in _days(org_a.org, LATE_EVENING_UTC + timedelta(hours=1))
    }


def test_orders_mark_their_placing_day_when_paid_or_refunded_days_later(org_a):
    placed = LATE_EVENING_UTC
    _ingest(org_a, _event(1, "order.placed", placed, order_id="o1", amount="5"))
    DirtyDay.objects.for_org(org_a.org).delete()
    Order.objects.for_org(org_a.org).update(status="refunded", refunded_at=placed + timedelta(9))
    group = Order.objects.for_org(org_a.org).get().community_id
    assert _marks(org_a.org) == {(group, d) for d in _days(org_a.org, placed)}


@pytest.mark.postgres
def test_triggers_write_their_marks_under_row_level_security(org_a, org_b):
    """As the application's production role (no superuser, no BYPASSRLS): the marks are
    inserted with the writer's organization, which the policy accepts, and stay invisible to
    the other organization. The suite connects as that kind of role (scripts/services.py)."""
    from tenancy.checks import role_of

    assert role_of("default")[1:] == (False, False)
    _shanghai(org_a.org)
    _ingest(
        org_a,
        _event(1, "member.joined", LATE_EVENING_UTC),
        _event(2, "order.placed", LATE_EVENING_UTC, order_id="o1", amount="9"),
    )
    with org_scope(org_a.org):
        assert DirtyDay.objects.unscoped().filter(organization=org_a.org).count() == 3
        days = set(DirtyDay.objects.unscoped().values_list("day", flat=True))
        assert days == {date(2026, 3, 3)}
    with org_scope(org_b.org):
        assert not DirtyDay.objects.unscoped().exists()


# system work across organizations: on the system role, which sees committed rows only
@pytest.mark.django_db(transaction=True, databases=["default", "system"])
def test_refresh_marked_queues_a_refresh_only_for_organizations_with_marks(
    org_a, org_b, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks.refresh_rollups, "delay", queued.append)
    _ingest(org_a, _event(1, "message.posted", LATE_EVENING_UTC))
    assert tasks.refresh_marked() == {"organizations": 1}
    assert tasks.refresh_marked() == {"organizations": 1}  # the same half minute: once
    assert queued == [org_a.org.pk]


def test_the_nightly_job_moves_every_active_groups_kept_windows_to_today(org_a):
    _ingest(org_a, _event(1, "message.posted", datetime.now(UTC) - timedelta(days=3)))
    tasks.refresh_rollups(org_a.org.pk)
    kept = Leaderboard.objects.for_org(org_a.org)
    kept.update(end_day=date(2000, 1, 1))
    assert tasks.settle_rollups(org_a.org.pk)["leaderboards"] == 1
    today = datetime.now(org_a.org.tzinfo).date()
    assert set(kept.values_list("end_day", flat=True)) == {today}
