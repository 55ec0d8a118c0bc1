"""Monthly partitions of the raw events (PostgreSQL; the embedded SQLite mode has one table).

`members_rawevent` is range-partitioned by `occurred_at`, one partition per UTC calendar month
(`members_rawevent_p2026_12`), plus a default partition (`members_rawevent_pdefault`) that
takes any event whose month has no partition yet (a late event from before the oldest month, a
month the job has not reached), so ingestion never fails on a missing partition.

`maintain` (daily, beat: `members.tasks.maintain_raw_event_partitions`) on the system role:

1. creates the partitions of this month and the next `AHEAD` months, and of every month that
   has rows waiting in the default partition (those rows move into it, through the parent, so
   the rollups' triggers mark their days as for any late event);
2. drops every month partition older than the longest retention any organization chose
   (`Organization.raw_event_retention_months`): a `DROP TABLE` of a whole month, never a DELETE
   (which would also mark every day of it for a recomputation that would count it empty).

Partitions are shared by every organization, so a month goes only when every organization's
retention has passed: an organization's choice is how long its events are kept at least.
Each partition gets the same forced row-level security policy as the parent, so reading a
partition by its name sees no more than reading through the parent.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime

from django.db import connections, transaction
from django.db.models import Max
from django.utils import timezone

from tenancy.rls import enable_sql
from tenancy.system import system_db

log = logging.getLogger(__name__)

PARENT = "members_rawevent"
DEFAULT = f"{PARENT}_pdefault"
AHEAD = 2  # months created ahead of the current one
DEFAULT_RETENTION_MONTHS = 13
_NAME = re.compile(rf"^{PARENT}_p(\d{{4}})_(\d{{2}})$")


def month_start(at) -> date:
    return date(at.year, at.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{PARENT}_p{month.year:04d}_{month.month:02d}"


def _instant(month: date) -> str:
    return datetime(month.year, month.month, 1, tzinfo=UTC).isoformat()


def create_sql(month: date) -> list[str]:
    name = partition_name(month)
    return [
        f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF {PARENT} '
        f"FOR VALUES FROM ('{_instant(month)}') TO ('{_instant(add_months(month, 1))}')",
        *enable_sql(name),
    ]


def default_sql() -> list[str]:
    return [f'CREATE TABLE IF NOT EXISTS "{DEFAULT}" PARTITION OF {PARENT} DEFAULT'] + enable_sql(
        DEFAULT
    )


def is_partitioned(using: str = "default") -> bool:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def months(using: str = "default") -> list[date]:
    """The months that have a partition, oldest first."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [PARENT],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = [_NAME.match(name) for name in names]
    return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)


def kept_since(using: str = "default") -> datetime | None:
    """The start of the oldest month still stored, once a month has been dropped (recorded as
    the parent table's comment by `drop_before`); None: nothing was ever dropped (or SQLite)."""
    if connections[using].vendor != "postgresql":
        return None
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", [PARENT])
        row = cursor.fetchone()
    found = re.fullmatch(r"kept since (\d{4})-(\d{2})-01", (row and row[0]) or "")
    if not found:
        return None
    return datetime(int(found[1]), int(found[2]), 1, tzinfo=UTC)


def longest_retention(using: str) -> int:
    from tenancy.models import Organization

    longest = Organization.objects.using(using).aggregate(n=Max("raw_event_retention_months"))["n"]
    return longest or DEFAULT_RETENTION_MONTHS


def horizon(now=None, using: str | None = None) -> date:
    """Months before this one are past every organization's retention."""
    using = using or system_db()
    now = now or timezone.now()
    return add_months(month_start(now.astimezone(UTC)), -longest_retention(using))


def maintain(now=None, using: str | None = None) -> dict:
    """Create what is needed ahead, file early arrivals, drop what is past retention.
    Idempotent: a second run the same day changes nothing."""
    using = using or system_db()
    if not is_partitioned(using):
        return {"created": [], "dropped": []}
    now = now or timezone.now()
    current = month_start(now.astimezone(UTC))
    created = [m for m in ensure(current, AHEAD, using) if m]
    dropped = drop_before(horizon(now, using), using)
    return {"created": [str(m) for m in created], "dropped": [str(m) for m in dropped]}


def ensure(current: date, ahead: int, using: str) -> list[date]:
    """Partitions for `current` … `current + ahead` and for the months waiting in the default
    partition; returns the months created."""
    have = set(months(using))
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date "  # noqa: S608
            f'FROM "{DEFAULT}"'
        )
        waiting = {row[0] for row in cursor.fetchall()}
    wanted = {add_months(current, n) for n in range(ahead + 1)} | waiting
    made = []
    for month in sorted(wanted - have):
        _create(month, using, move=month in waiting)
        made.append(month)
    return made


def ensure_months(first, last, using: str | None = None) -> list[date]:
    """Partitions for every month from `first` to `last` (dates or datetimes, UTC), for data
    loaded in bulk (the benchmarks' generators) before it is written; returns those created."""
    using = using or system_db()
    if not is_partitioned(using):
        return []
    have, made = set(months(using)), []
    month, last_month = month_start(first), month_start(last)
    while month <= last_month:
        if month not in have:
            _create(month, using, move=True)
            made.append(month)
        month = add_months(month, 1)
    return made


def _create(month: date, using: str, move: bool) -> None:
    """A month's partition. Rows of that month in the default partition would make the CREATE
    fail: they are taken out first and put back through the parent, in one transaction."""
    start, end = _instant(month), _instant(add_months(month, 1))
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        if move:
            cursor.execute(
                f"CREATE TEMP TABLE rawevent_moving ON COMMIT DROP AS "  # noqa: S608
                f'WITH moved AS (DELETE FROM "{DEFAULT}" '
                f"WHERE occurred_at >= %s AND occurred_at < %s RETURNING *) "
                f"SELECT * FROM moved",
                [start, end],
            )
        for sql in create_sql(month):
            cursor.execute(sql)
        if move:
            cursor.execute(f"INSERT INTO {PARENT} SELECT * FROM rawevent_moving")  # noqa: S608
    log.info("raw events: partition of %s created%s", month, " (rows filed)" if move else "")


def drop_before(limit: date, using: str) -> list[date]:
    """Drop the month partitions older than `limit`, oldest first."""
    dropped = []
    for month in months(using):
        if month >= limit:
            break
        with transaction.atomic(using=using), connections[using].cursor() as cursor:
            cursor.execute(f'DROP TABLE "{partition_name(month)}"')
            kept = add_months(month, 1)
            cursor.execute(f"COMMENT ON TABLE {PARENT} IS 'kept since {kept.isoformat()}'")
        log.warning("raw events: the month %s is past every retention and was dropped", month)
        dropped.append(month)
    return dropped
