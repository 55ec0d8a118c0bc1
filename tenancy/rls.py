"""Row-level security on PostgreSQL: the second wall behind `TenantManager`.

Every tenant table (a model with `organization` → tenancy.Organization) gets

    ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON t USING (<org matches>) WITH CHECK (<org matches>);

where <org matches> reads the session setting `app.org_id`: an organization id shows and
accepts only that organization's rows; unset or empty shows nothing and accepts nothing. There
is no value that means "every organization": the application's role cannot see across
organizations whatever it sets. System work that spans organizations (the scheduler's fan-out,
the rollups' mark scan, /metrics, the platform admin, operators' commands) runs on the second
database alias, `system` (tenancy/system.py), whose role has BYPASSRLS (docs/deployment.md).

Three tables are read before an organization is known, each by a key the caller already holds:
a user's memberships (the organization switcher, the dashboard middleware), an API key by its
prefix (authentication), an invitation by its token's hash. Each has one more policy, SELECT
only, matching the session setting `app.lookup` (`user:<id>`, `apikey:<prefix>`,
`invitation:<hash>`), set with `lookup(kind, value)` around that one query: the row the key
names is visible, nothing else.

The application sets `app.org_id` from the one place the tenant scope lives, `tenancy.scope`:
the backend in `tenancy.pgbackend` runs every query through `apply_org_scope`, which makes the
connection's settings equal the scope before the query goes out (only when they changed, so one
extra round trip per change, invisible to query counting). The scope is entered by the
dashboard middleware, the API base view and `tenant_task` for Celery. Outside a scope, a query
that names its organization explicitly (`Model.objects.for_org(org)`, a related manager of a
tenant row, saving, deleting or reloading a tenant row, following its foreign keys, inserting
rows of one organization) runs with that organization: `org_hint`, set by tenancy/managers.py,
tenancy/models.py and the compilers in tenancy/pgbackend. The scope wins over a hint: inside a
request of org A, `for_org(B)` sees nothing of B. Anything else (an unscoped queryset outside a scope,
raw SQL) runs with the empty value and sees no tenant rows.

PostgreSQL superusers bypass RLS always, table owners unless FORCE is set (it is): the app must
connect as a non-superuser role without BYPASSRLS (`manage.py check --deploy` says so, see
tenancy/checks.py). SQLite has no RLS: everything here is a no-op there.

New apps: add the policies to the migration that creates their tenant tables:

    from tenancy.rls import enable_rls_operations

    operations = [..., *enable_rls_operations("myapp")]

tests/tenancy/test_rls.py fails for any tenant table without them.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import FieldDoesNotExist
from django.db import migrations

from .scope import current_org

SETTING = "app.org_id"
LOOKUP_SETTING = "app.lookup"
POLICY = "tenant_isolation"
LOOKUP_POLICY = "tenant_lookup"

_MATCHES = f"(organization_id = NULLIF(current_setting('{SETTING}', true), '')::bigint)"
# Before migration tenancy 0005 the policy had a bypass value, "0"; kept to migrate back to it.
LEGACY_MATCHES = (
    f"(current_setting('{SETTING}', true) = '0' "
    f"OR organization_id = NULLIF(current_setting('{SETTING}', true), '')::bigint)"
)
# table -> (lookup kind, column): the rows readable before an organization is known
LOOKUPS = {
    "tenancy_orgmembership": ("user", "user_id"),
    "tenancy_apikey": ("apikey", "prefix"),
    "tenancy_invitation": ("invitation", "token_hash"),
}


def lookup_sql(table: str) -> list[str]:
    quoted = f'"{table}"'
    statements = [f"DROP POLICY IF EXISTS {LOOKUP_POLICY} ON {quoted}"]
    if table in LOOKUPS:
        kind, column = LOOKUPS[table]
        statements.append(
            f"CREATE POLICY {LOOKUP_POLICY} ON {quoted} FOR SELECT USING "
            f"(current_setting('{LOOKUP_SETTING}', true) = '{kind}:' || {column}::text)"
        )
    return statements


def enable_sql(table: str, matches: str = _MATCHES) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {quoted}",
        f"CREATE POLICY {POLICY} ON {quoted} USING {matches} WITH CHECK {matches}",
        *(lookup_sql(table) if matches == _MATCHES else []),
    ]


def disable_sql(table: str) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"DROP POLICY IF EXISTS {LOOKUP_POLICY} ON {quoted}",
        f"DROP POLICY IF EXISTS {POLICY} ON {quoted}",
        f"ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY",
    ]


def is_tenant_model(model) -> bool:
    """Works on historical (migration) models too, which have lost their TenantModel base."""
    if model._meta.abstract or model._meta.proxy or not model._meta.managed:
        return False
    try:
        field = model._meta.get_field("organization")
    except FieldDoesNotExist:
        return False
    related = getattr(field, "related_model", None)
    return related is not None and related._meta.label_lower == "tenancy.organization"


def tenant_tables(app_models) -> list[str]:
    return sorted({m._meta.db_table for m in app_models if is_tenant_model(m)})


def _run(schema_editor, statements) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in statements:
        schema_editor.execute(sql)


def enable_rls_operations(app_label: str) -> list:
    """Migration operations that put the tenant policy on every tenant table of `app_label`
    (as the app's models are at that point of its migrations). Reversible."""

    def forwards(apps, schema_editor):
        tables = tenant_tables(apps.get_app_config(app_label).get_models())
        _run(schema_editor, [sql for table in tables for sql in enable_sql(table)])

    def backwards(apps, schema_editor):
        tables = tenant_tables(apps.get_app_config(app_label).get_models())
        _run(schema_editor, [sql for table in tables for sql in disable_sql(table)])

    return [migrations.RunPython(forwards, backwards, elidable=False)]


POLICY_TABLES_SQL = "SELECT tablename FROM pg_policies WHERE policyname = %s ORDER BY tablename"


def without_bypass_operations() -> list:
    """Migration tenancy 0007: every existing tenant policy loses the bypass value "0" and the
    three lookup policies are added. Tables created later get the new policy from
    `enable_rls_operations`."""

    def rewrite(schema_editor, matches):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(POLICY_TABLES_SQL, [POLICY])
            tables = [row[0] for row in cursor.fetchall()]
        statements = []
        for table in tables:
            statements += [
                f'ALTER POLICY {POLICY} ON "{table}" USING {matches} WITH CHECK {matches}'
            ]
            if matches == _MATCHES:
                statements += lookup_sql(table)
            else:
                statements.append(f'DROP POLICY IF EXISTS {LOOKUP_POLICY} ON "{table}"')
        _run(schema_editor, statements)

    return [
        migrations.RunPython(
            lambda apps, schema_editor: rewrite(schema_editor, _MATCHES),
            lambda apps, schema_editor: rewrite(schema_editor, LEGACY_MATCHES),
            elidable=False,
        )
    ]


_hint: ContextVar = ContextVar("qunyun_rls_org_hint", default=None)
_lookup: ContextVar = ContextVar("qunyun_rls_lookup", default="")


@contextmanager
def org_hint(organization_id):
    """Outside a scope, run the queries inside with this organization's rows visible: for code
    that names its organization explicitly (see the module's docstring). None: no change."""
    if organization_id is None:
        yield
        return
    token = _hint.set(int(organization_id))
    try:
        yield
    finally:
        _hint.reset(token)


def query_org_id(query):
    """The organization a Query names (`for_org`, a tenant row's related manager), or None."""
    org_id = getattr(query, "rls_org_id", None)
    if org_id is None:  # count() and aggregates wrap the queryset's query
        org_id = getattr(getattr(query, "inner_query", None), "rls_org_id", None)
    return org_id


def queryset_hint(queryset):
    """`org_hint` of the organization a queryset names: for raw SQL built from it (an
    INSERT … SELECT over `queryset.query`), which the compilers do not run."""
    return org_hint(query_org_id(queryset.query))


@contextmanager
def lookup(kind: str, value):
    """Make the one row of a lookup table that `value` names visible (LOOKUPS)."""
    assert kind in {k for k, _ in LOOKUPS.values()}, kind
    token = _lookup.set(f"{kind}:{value}")
    try:
        yield
    finally:
        _lookup.reset(token)


def wanted_value() -> str:
    org = current_org()
    if org is not None:
        return str(int(org.pk))
    hint = _hint.get()
    return "" if hint is None else str(hint)


def wanted() -> tuple[str, str]:
    return wanted_value(), _lookup.get()


def _failed(connection) -> bool:
    """An aborted transaction accepts only its rollback; the setting is made after it."""
    from psycopg.pq import TransactionStatus  # only on PostgreSQL; SQLite has no psycopg

    return connection.connection.info.transaction_status == TransactionStatus.INERROR


_SET = "SELECT set_config(%s, %s, {local}), set_config(%s, %s, {local})"


def _set(connection, values, *, local: bool) -> None:
    # A raw cursor: not in connection.queries, so query-count assertions do not see it.
    with connection.connection.cursor() as cursor:
        cursor.execute(
            _SET.format(local="true" if local else "false"),
            [SETTING, values[0], LOOKUP_SETTING, values[1]],
        )


def apply_org_scope(execute, sql, params, many, context):
    """Execute wrapper: before a query, make the connection's `app.org_id` and `app.lookup`
    match the scope.

    Session mode: set for the session, again only when the scope changed. Transaction mode
    (`POOL_MODE`, behind PgBouncer's transaction pooling): set with `is_local` in the
    transaction the query runs in, which ends with it; a query outside `atomic()` that needs a
    value runs in a transaction of its own (BEGIN, the setting, the query, COMMIT), so no value
    is ever left on a server connection that another client gets next."""
    connection = context["connection"]
    values = wanted()
    if not connection.rls_transaction_local:
        if connection.rls_value != values and not _failed(connection):
            _set(connection, values, local=False)
            connection.rls_value = values
        return execute(sql, params, many, context)
    if connection.get_autocommit():
        if values == ("", ""):  # never set on this client: an unset setting shows no rows
            return execute(sql, params, many, context)
        with connection.connection.transaction():
            _set(connection, values, local=True)
            return execute(sql, params, many, context)
    if connection.rls_value != values and not _failed(connection):
        _set(connection, values, local=True)
        connection.rls_value = values  # forgotten when the transaction ends (pgbackend)
    return execute(sql, params, many, context)
