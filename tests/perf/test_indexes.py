"""Every index on a tenant table leads with organization_id (DESIGN: tenant-local queries, and a
table that can be distributed by tenant). Read from the database itself, so indexes made by
migrations, constraints and RunSQL all count.

Allowed without organization_id first:
- the single-column index Django puts on each foreign key, unique for a one-to-one (joins from
  the parent row and the PROTECT checks on delete look rows up by the parent's id, which is
  already in one org);
- the primary key;
- the exceptions below, each with its reason.
"""

import pytest
from django.apps import apps
from django.db import connection

from tenancy.models import TenantModel

pytestmark = pytest.mark.postgres

EXCEPTIONS = {
    ("tenancy_apikey", ("prefix",)): "looked up before the organization is known: it is how "
    "a request's key finds its organization; globally unique by design",
    ("tenancy_invitation", ("token_hash",)): "the invitation token is the credential, looked "
    "up before the organization is known; globally unique",
}


def _tenant_models():
    return [
        m
        for m in apps.get_models()
        if issubclass(m, TenantModel) and m._meta.managed and not m._meta.proxy
    ]


def _fk_columns(model) -> set[str]:
    return {f.column for f in model._meta.concrete_fields if f.is_relation and f.db_index}


def _one_to_one_columns(model) -> set[str]:
    return {f.column for f in model._meta.concrete_fields if f.one_to_one}


def test_every_index_on_a_tenant_table_leads_with_organization_id(db):
    problems = []
    seen_exceptions = set()
    with connection.cursor() as cursor:
        for model in _tenant_models():
            table = model._meta.db_table
            constraints = connection.introspection.get_constraints(cursor, table)
            fks = _fk_columns(model)
            for name, info in constraints.items():
                columns = tuple(info["columns"] or ())
                if not (info["index"] or info["unique"]) or info["primary_key"]:
                    continue
                if not columns:  # an expression index: check its definition
                    cursor.execute(
                        "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                        [table, name],
                    )
                    row = cursor.fetchone()
                    definition = row[0] if row else ""
                    if "(organization_id" not in definition.replace('"', ""):
                        problems.append(f"{table}.{name}: {definition}")
                    continue
                if columns[0] == "organization_id":
                    continue
                if len(columns) == 1 and columns[0] in fks and not info["unique"]:
                    continue
                if len(columns) == 1 and columns[0] in _one_to_one_columns(model):
                    continue
                if (table, columns) in EXCEPTIONS:
                    seen_exceptions.add((table, columns))
                    continue
                problems.append(f"{table}.{name} on {columns}")
    assert not problems, "indexes on tenant tables that do not lead with organization_id:\n" + (
        "\n".join(sorted(problems))
    )
    assert seen_exceptions == set(EXCEPTIONS), "stale exceptions"
