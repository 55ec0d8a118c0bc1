"""Raw events dropped for retention (members/partitions.py) are not counted again as zero: a
rebuild, and a refresh after a late order, leave the days before the oldest kept month as they
were computed while their events were there."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from members import partitions
from metrics import rollups
from metrics.days import local_day
from metrics.models import CommunityDay, MemberDay
from tenancy.scope import org_scope

from .conftest import ev

pytestmark = pytest.mark.postgres


def _messages(org, day):
    return sum(MemberDay.objects.for_org(org).filter(day=day).values_list("messages", flat=True))


def test_days_before_the_oldest_kept_month_keep_their_figures(org_a, send):
    org = org_a.org
    now = timezone.now()
    group = send(
        ev("member.joined", "u1", 24 * 80),
        ev("message.posted", "u1", 24 * 70),
        ev("message.posted", "u1", 2),
    )
    old_day, new_day = local_day(org, now - timedelta(days=70)), local_day(org, now)
    assert _messages(org, old_day) == 1 and _messages(org, new_day) == 1
    boundary = partitions.month_start(now - timedelta(days=20))
    # what dropping the older months leaves: their events gone without a trigger or a mark,
    # and the oldest month kept recorded on the table
    with org_scope(org), connection.cursor() as cursor:
        for month in [None, *partitions.months()]:
            name = partitions.DEFAULT if month is None else partitions.partition_name(month)
            cursor.execute(f'DELETE FROM "{name}" WHERE occurred_at < %s', [boundary])  # noqa: S608
        cursor.execute(f"COMMENT ON TABLE members_rawevent IS 'kept since {boundary}'")
    assert partitions.kept_since() is not None

    rollups.rebuild(org)
    assert _messages(org, old_day) == 1 and _messages(org, new_day) == 1
    send(ev("order.placed", "u1", 24 * 70, order_id="late", amount="10"))
    old = CommunityDay.objects.for_org(org).get(community=group, day=old_day)
    assert old.speakers == 1 and old.orders == 0  # the late order's mark was set aside
    assert _messages(org, old_day) == 1
