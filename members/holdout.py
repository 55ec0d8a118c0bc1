"""The dormant wake-up's holdout: a control group that is deliberately not reminded, so the
metrics can tell whether the reminders bring anyone back at all (docs/metrics.md).

What is drawn: a dormant membership at its first wake-up of one dormancy. A dormancy is known
by when it began (`dormant_since`, or `joined_at` for a membership made dormant without it);
at the first scan where the membership is due a reminder (the group's maximum and cooldown),
it is drawn into the reminded group or the holdout, once, and the draw is recorded
(`WakeUpScan`, `WakeUpAssignment`: which scan, which members, which group, when). Members
already reminded by hand in the same dormancy are not drawn: they were reminded already.

How: in each group, the scan holds out ⌊n × share + u⌋ of the n members newly due there, u
uniform in [0, 1) — randomized rounding, so the expected share is exactly the organization's
setting even for a group with three members due — chosen with `rng.sample` from the members in
id order. `rng` is injectable (`random.Random(seed)` in tests) and drives every choice.

How long: a held-out member gets no reminder, from the scan or from the "remind now" page, for
`HOLDOUT_DAYS` after the draw (the longest measured window); after that they are reminded like
anyone else (the measurement is over), and they are not drawn again in the same dormancy.

Set-based: per distinct (maximum, cooldown) of the groups' rules, one query streams the newly
due ids in group order, one INSERT … SELECT records them all as reminded, and UPDATEs by id
chunks move the drawn ones to the holdout. Concurrent scans of one organization take turns on
the organization's row for the draw; the unique (membership, dormancy) constraint holds the
rest.
"""

from __future__ import annotations

import itertools
import math
import random
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, DateTimeField, Exists, OuterRef, Q
from django.db.models.functions import Coalesce

from tenancy.models import Organization
from tenancy.rls import queryset_hint

from .models import Membership, WakeUpArm, WakeUpAssignment, WakeUpScan

HOLDOUT_DAYS = 30
ID_CHUNK = 1000


def dormancy_start():
    """When a membership's current dormancy began (the key of its draw)."""
    return Coalesce("dormant_since", "joined_at", output_field=DateTimeField())


def _outer_dormancy_start():
    return Coalesce(OuterRef("dormant_since"), OuterRef("joined_at"), output_field=DateTimeField())


def held_out(org, now):
    """An `Exists` for a Membership queryset: held out of its current dormancy's wake-up, and
    still within `HOLDOUT_DAYS` of the draw."""
    return Exists(
        WakeUpAssignment.objects.for_org(org).filter(
            membership=OuterRef("pk"),
            arm=WakeUpArm.HOLDOUT,
            at__gt=now - timedelta(days=HOLDOUT_DAYS),
            episode=_outer_dormancy_start(),
        )
    )


def held_out_keys(org, now) -> set:
    """{(membership id, dormancy start)} of the members `held_out` says are held out now, in
    one query: for a scan that excludes them batch after batch (an anti-join per batch is
    planned as a nested loop right after the draw, before the table's statistics know its
    new rows)."""
    return set(
        WakeUpAssignment.objects.for_org(org)
        .filter(arm=WakeUpArm.HOLDOUT, at__gt=now - timedelta(days=HOLDOUT_DAYS))
        .values_list("membership_id", "episode")
    )


def _drawn(org):
    """An `Exists` for a Membership queryset: already drawn in its current dormancy."""
    return Exists(
        WakeUpAssignment.objects.for_org(org).filter(
            membership=OuterRef("pk"),
            episode=_outer_dormancy_start(),
        )
    )


def holdout_count(n: int, percent: int, rng: random.Random) -> int:
    """How many of `n` to hold out: ⌊n × share + u⌋, u uniform in [0, 1)."""
    if n <= 0 or percent <= 0:
        return 0
    return min(n, math.floor(n * percent / 100 + rng.random()))


def draw(org, due_sets, *, now, rng: random.Random) -> WakeUpScan | None:
    """Draw the members newly due a first wake-up into the reminded group or the holdout.

    `due_sets`: [(sort key, Membership queryset of members due a reminder now)], one per
    distinct rule set. Returns the scan, or None when nobody was newly due."""
    with transaction.atomic():
        locked = Organization.objects.select_for_update().filter(pk=org.pk)
        percent = locked.values_list("wake_up_holdout_percent", flat=True).first() or 0
        new_sets = []
        for _key, due in sorted(due_sets, key=lambda pair: pair[0]):
            new = due.filter(~_drawn(org)).filter(
                Q(last_reminded_at=None) | Q(last_reminded_at__lt=dormancy_start())
            )
            new_sets.append(new)
        if not any(new.exists() for new in new_sets):
            return None
        scan = WakeUpScan.objects.create(organization=org, at=now, holdout_percent=percent)
        day = now.astimezone(org.tzinfo).date()
        for new in new_sets:
            held = []
            rows = new.order_by("community_id", "pk").values_list("community_id", "pk")
            for _community_id, group in itertools.groupby(
                rows.iterator(chunk_size=5000), key=lambda row: row[0]
            ):
                ids = [pk for _c, pk in group]
                held += rng.sample(ids, holdout_count(len(ids), percent, rng))
            _record(org, scan, new, day)
            for start in range(0, len(held), ID_CHUNK):
                WakeUpAssignment.objects.for_org(org).filter(
                    scan=scan, membership_id__in=held[start : start + ID_CHUNK]
                ).update(arm=WakeUpArm.HOLDOUT)
        counts = dict(
            WakeUpAssignment.objects.for_org(org)
            .filter(scan=scan)
            .values("arm")
            .annotate(n=Count("pk"))
            .values_list("arm", "n")
        )
        scan.reminded = counts.get(WakeUpArm.REMINDED, 0)
        scan.held_out = counts.get(WakeUpArm.HOLDOUT, 0)
        scan.save(update_fields=["reminded", "held_out"])
    return scan


def _record(org, scan, memberships, day) -> None:
    """Every membership of the queryset as drawn into the reminded group: one INSERT … SELECT."""
    ids_sql, ids_params = memberships.values("pk").query.sql_with_params()
    table, source = WakeUpAssignment._meta.db_table, Membership._meta.db_table
    sql = (
        f"INSERT INTO {table} (organization_id, scan_id, community_id, member_id, "  # noqa: S608
        f"membership_id, episode, arm, at, day) SELECT organization_id, %s, community_id, "
        f"member_id, id, COALESCE(dormant_since, joined_at), %s, %s, %s "
        f"FROM {source} WHERE organization_id = %s AND id IN ({ids_sql})"
    )
    # raw SQL: run with the organization the queryset names (row-level security)
    with queryset_hint(memberships), connection.cursor() as cursor:
        cursor.execute(sql, [scan.pk, WakeUpArm.REMINDED, scan.at, day, org.pk, *ids_params])
