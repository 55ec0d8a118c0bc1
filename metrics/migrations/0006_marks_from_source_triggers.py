"""Dirty marks written by the database: triggers on every source table the rollups read.

`rollups.recompute_day` and `rebuild` read raw events (by `occurred_at`), orders (by
`placed_at`) and the membership history (by `created_at`, with the membership's group and
member). Any insert, delete, or update of a column they read inserts `(organization, group,
local day)` rows into `metrics_dirtyday`, in the writing statement's own transaction, so a
change and its mark commit together whichever code path wrote it. A membership history row also
marks the day of the next change of the same membership: that change's "status before" is the
one it follows in time. A membership moved to another member or group marks every day of its
history, in the old group and the new one.

PostgreSQL: one statement-level trigger per table and operation, reading the statement's
transition tables, so a batch of 1,000 events inserts one mark per distinct (group, day), not
1,000. The local day is computed as `local_day(org, at)` is, in the organization's time zone
(`(at AT TIME ZONE organization.time_zone)::date`). The functions run as the writing role
(SECURITY INVOKER), so row-level security applies: each mark carries the organization of the
row that caused it, which that role has just been allowed to write. Membership updates use a
row-level trigger with a WHEN clause instead: ingestion updates memberships in every batch, and
a WHEN on `member_id`/`community_id` costs nothing for those, where transition tables would
copy every updated row.

SQLite (the embedded `make run`): row-level triggers (SQLite has no statement-level ones) and no
time zone database, so each instant marks the UTC day before, of and after it: the local day is
one of them for every UTC offset (-12 h to +14 h), and recomputing a day that did not change is
harmless. A mark is inserted only when the same (group, day) is not queued yet; safe there
because SQLite runs one write transaction at a time (`transaction_mode` IMMEDIATE), unlike
PostgreSQL, where every writer inserts its own marks (see `DirtyDay`). SQLite drops a table's
triggers when Django rebuilds the table to alter it; `metrics.apps` puts them back after every
`migrate`.

The statements are written out here, not imported: a migration must keep meaning what it meant.
"""

from django.db import migrations

MARKS = "metrics_dirtyday"
ORGS = "tenancy_organization"
CHANGES = "members_membershipchange"
MEMBERSHIPS = "members_membership"

# name, table, columns the rollups read (an update of another column marks nothing)
SOURCES = [
    (
        "rawevent",
        "members_rawevent",
        ["organization_id", "community_id", "member_id", "type", "occurred_at"],
    ),
    (
        "order",
        "campaigns_order",
        ["organization_id", "community_id", "member_id", "status", "amount", "placed_at"],
    ),
    (
        "membershipchange",
        CHANGES,
        ["organization_id", "membership_id", "to_status", "reason", "created_at"],
    ),
]
MOVE_COLUMNS = ["organization_id", "community_id", "member_id"]


def _name(source: str, op: str = "") -> str:
    return f"metrics_marks_{source}" + (f"_{op}" if op else "")


# --- PostgreSQL ------------------------------------------------------------------------------


def _pg_instants(source: str) -> str:
    """(organization_id, community_id, at) of the rows in `touched`."""
    if source == "rawevent":
        return "SELECT r.organization_id, r.community_id, r.occurred_at AS at FROM touched r"
    if source == "order":
        return "SELECT r.organization_id, r.community_id, r.placed_at AS at FROM touched r"
    return f"""SELECT r.organization_id, m.community_id, r.created_at AS at
        FROM touched r JOIN {MEMBERSHIPS} m ON m.id = r.membership_id
        UNION ALL
        SELECT r.organization_id, m.community_id, nx.created_at
        FROM touched r JOIN {MEMBERSHIPS} m ON m.id = r.membership_id
        CROSS JOIN LATERAL (
            SELECT c.created_at FROM {CHANGES} c
            WHERE c.organization_id = r.organization_id AND c.membership_id = r.membership_id
              AND (c.created_at, c.id) > (r.created_at, r.id)
            ORDER BY c.created_at, c.id LIMIT 1
        ) nx"""


def _pg_mark(touched: str, source: str) -> str:
    return f"""WITH touched AS ({touched}),
        instants AS ({_pg_instants(source)})
        INSERT INTO {MARKS} (organization_id, community_id, day)
        SELECT DISTINCT i.organization_id, i.community_id, (i.at AT TIME ZONE o.time_zone)::date
        FROM instants i JOIN {ORGS} o ON o.id = i.organization_id
        WHERE i.community_id IS NOT NULL AND i.at IS NOT NULL;"""


def _pg_changed(columns: list[str], image: str) -> str:
    old = ", ".join(f"o.{c}" for c in columns)
    new = ", ".join(f"n.{c}" for c in columns)
    return (
        f"SELECT {image}.* FROM old_rows o JOIN new_rows n ON n.id = o.id "
        f"WHERE ROW({old}) IS DISTINCT FROM ROW({new})"
    )


def pg_forwards() -> list[str]:
    statements = []
    for source, table, columns in SOURCES:
        function = _name(source)
        updated = f"{_pg_changed(columns, 'o')} UNION ALL {_pg_changed(columns, 'n')}"
        statements.append(
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
            LANGUAGE plpgsql AS $fn$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {_pg_mark("SELECT * FROM new_rows", source)}
                ELSIF TG_OP = 'DELETE' THEN
                    {_pg_mark("SELECT * FROM old_rows", source)}
                ELSE
                    {_pg_mark(updated, source)}
                END IF;
                RETURN NULL;
            END
            $fn$"""
        )
        for op, referencing in (
            ("insert", "NEW TABLE AS new_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
        ):
            statements.append(
                f'CREATE TRIGGER {_name(source, op)} AFTER {op.upper()} ON "{table}" '
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    old = ", ".join(f"OLD.{c}" for c in MOVE_COLUMNS)
    new = ", ".join(f"NEW.{c}" for c in MOVE_COLUMNS)
    statements += [
        f"""CREATE OR REPLACE FUNCTION {_name("membership_move")}() RETURNS trigger
        LANGUAGE plpgsql AS $fn$
        BEGIN
            INSERT INTO {MARKS} (organization_id, community_id, day)
            SELECT DISTINCT g.organization_id, g.community_id,
                (c.created_at AT TIME ZONE o.time_zone)::date
            FROM {CHANGES} c
            CROSS JOIN (VALUES (OLD.organization_id, OLD.community_id),
                               (NEW.organization_id, NEW.community_id))
                AS g (organization_id, community_id)
            JOIN {ORGS} o ON o.id = g.organization_id
            WHERE c.organization_id = OLD.organization_id AND c.membership_id = OLD.id;
            RETURN NULL;
        END
        $fn$""",
        f"CREATE TRIGGER {_name('membership_move')} "
        f"AFTER UPDATE OF {', '.join(MOVE_COLUMNS)} ON {MEMBERSHIPS} FOR EACH ROW "
        f"WHEN (ROW({old}) IS DISTINCT FROM ROW({new})) "
        f"EXECUTE FUNCTION {_name('membership_move')}()",
    ]
    return statements


def pg_backwards() -> list[str]:
    statements = [
        f'DROP TRIGGER IF EXISTS {_name(source, op)} ON "{table}"'
        for source, table, _columns in SOURCES
        for op in ("insert", "update", "delete")
    ]
    statements.append(f"DROP TRIGGER IF EXISTS {_name('membership_move')} ON {MEMBERSHIPS}")
    statements += [
        f"DROP FUNCTION IF EXISTS {_name(source)}()"
        for source in [s for s, _t, _c in SOURCES] + ["membership_move"]
    ]
    return statements


# --- SQLite ----------------------------------------------------------------------------------

SHIFTS = "(SELECT '-1 day' AS shift UNION ALL SELECT '+0 day' UNION ALL SELECT '+1 day')"


def _sqlite_instants(source: str, row: str) -> str:
    """(organization_id, community_id, at) of the trigger's OLD or NEW row."""
    if source == "rawevent":
        return f"SELECT {row}.organization_id, {row}.community_id, {row}.occurred_at"
    if source == "order":
        return f"SELECT {row}.organization_id, {row}.community_id, {row}.placed_at"
    community = f"(SELECT m.community_id FROM {MEMBERSHIPS} m WHERE m.id = {row}.membership_id)"
    following = (
        f"(SELECT c.created_at FROM {CHANGES} c WHERE c.membership_id = {row}.membership_id "
        f"AND (c.created_at > {row}.created_at "
        f"OR (c.created_at = {row}.created_at AND c.id > {row}.id)) "
        f"ORDER BY c.created_at, c.id LIMIT 1)"
    )
    return (
        f"SELECT {row}.organization_id, {community}, {row}.created_at "
        f"UNION ALL SELECT {row}.organization_id, {community}, {following}"
    )


def _sqlite_mark(instants: str) -> str:
    day = "date(g.at, s.shift)"
    return (
        f"INSERT INTO {MARKS} (organization_id, community_id, day) "
        f"SELECT DISTINCT g.organization_id, g.community_id, {day} "
        f"FROM (SELECT NULL AS organization_id, NULL AS community_id, NULL AS at WHERE 0 "
        f"UNION ALL {instants}) g, {SHIFTS} s "
        f"WHERE g.community_id IS NOT NULL AND g.at IS NOT NULL AND NOT EXISTS ("
        f"SELECT 1 FROM {MARKS} x WHERE x.organization_id = g.organization_id "
        f"AND x.community_id = g.community_id AND x.day = {day});"
    )


def sqlite_triggers() -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER statement); metrics.apps puts back any a table rebuild dropped."""
    triggers = []
    for source, table, columns in SOURCES:
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        for op, when, instants in (
            ("insert", "", _sqlite_instants(source, "NEW")),
            (
                "update",
                f"WHEN {changed}",
                f"{_sqlite_instants(source, 'OLD')} UNION ALL {_sqlite_instants(source, 'NEW')}",
            ),
            ("delete", "", _sqlite_instants(source, "OLD")),
        ):
            name = _name(source, op)
            triggers.append(
                (
                    name,
                    f'CREATE TRIGGER {name} AFTER {op.upper()} ON "{table}" '
                    f"FOR EACH ROW {when} BEGIN {_sqlite_mark(instants)} END",
                )
            )
    moved = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in MOVE_COLUMNS)
    history = (
        f"SELECT {{row}}.organization_id, {{row}}.community_id, c.created_at "
        f"FROM {CHANGES} c WHERE c.membership_id = OLD.id"
    )
    name = _name("membership_move")
    triggers.append(
        (
            name,
            f"CREATE TRIGGER {name} "
            f"AFTER UPDATE OF {', '.join(MOVE_COLUMNS)} ON {MEMBERSHIPS} FOR EACH ROW "
            f"WHEN {moved} BEGIN "
            + _sqlite_mark(f"{history.format(row='OLD')} UNION ALL {history.format(row='NEW')}")
            + " END",
        )
    )
    return triggers


def sqlite_forwards() -> list[str]:
    return [sql for _name_, sql in sqlite_triggers()]


def sqlite_backwards() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name, _sql in sqlite_triggers()]


STATEMENTS = {
    "postgresql": (pg_forwards, pg_backwards),
    "sqlite": (sqlite_forwards, sqlite_backwards),
}


def _run(schema_editor, index: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        raise NotImplementedError(f"no dirty-mark triggers for {vendor}")
    for sql in STATEMENTS[vendor][index]():
        schema_editor.execute(sql, params=None)


def forwards(apps, schema_editor):
    _run(schema_editor, 0)


def backwards(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_initial"),
        ("members", "0004_membership_window_indexes"),
        ("metrics", "0005_leaderboard_window_sets"),
        ("tenancy", "0002_row_level_security"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
