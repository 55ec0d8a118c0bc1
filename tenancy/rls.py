"""Row-level security on PostgreSQL: the second wall behind `TenantManager`.

Every tenant table (a model with `organization` → tenancy.Organization) gets

    ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON t USING (<org matches>) WITH CHECK (<org matches>);

where <org matches> reads the session setting `app.org_id`: an organization id shows and
accepts only that organization's rows, "0" (BYPASS) is system work that spans organizations,
and unset/empty shows nothing (another client that connects as the app's role and sets nothing
sees no tenant rows).

The application sets `app.org_id` from the one place the tenant scope lives, `tenancy.scope`:
the backend in `tenancy.pgbackend` runs every query through `apply_org_scope`, which makes the
connection's setting equal the scope before the query goes out (only when it changed, so one
extra round trip per scope change, invisible to query counting). The scope is entered by the
dashboard middleware, the API base view and `tenant_task` for Celery; with no organization in
scope (login, resolving which organization an API key or URL belongs to, `fan_out`, migrations,
management commands) the value is BYPASS: the first wall, `TenantManager`, refuses tenant
queries without a scope except through the escape hatch allow-listed in
tests/tenancy/test_scoping.py.

PostgreSQL superusers bypass RLS always, table owners unless FORCE is set (it is): the app must
connect as a non-superuser role (see docs/deployment.md). SQLite has no RLS: everything here is
a no-op there.

New apps: add the policies to the migration that creates their tenant tables:

    from tenancy.rls import enable_rls_operations

    operations = [..., *enable_rls_operations("myapp")]

tests/tenancy/test_rls.py fails for any tenant table without them.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import migrations

from .scope import current_org

SETTING = "app.org_id"
BYPASS = "0"  # no organization has id 0
POLICY = "tenant_isolation"

_MATCHES = (
    f"(current_setting('{SETTING}', true) = '{BYPASS}' "
    f"OR organization_id = NULLIF(current_setting('{SETTING}', true), '')::bigint)"
)


def enable_sql(table: str) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {quoted}",
        f"CREATE POLICY {POLICY} ON {quoted} USING {_MATCHES} WITH CHECK {_MATCHES}",
    ]


def disable_sql(table: str) -> list[str]:
    quoted = f'"{table}"'
    return [
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


def wanted_value() -> str:
    org = current_org()
    return BYPASS if org is None else str(int(org.pk))


def _failed(connection) -> bool:
    """An aborted transaction accepts only its rollback; the setting is made after it."""
    from psycopg.pq import TransactionStatus  # only on PostgreSQL; SQLite has no psycopg

    return connection.connection.info.transaction_status == TransactionStatus.INERROR


def apply_org_scope(execute, sql, params, many, context):
    """Execute wrapper: before a query, make the connection's `app.org_id` match the scope."""
    connection = context["connection"]
    wanted = wanted_value()
    if connection.rls_value != wanted and not _failed(connection):
        # A raw cursor: not in connection.queries, so query-count assertions do not see it.
        with connection.connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, wanted])
        connection.rls_value = wanted
    return execute(sql, params, many, context)
