"""Writing many rows of a tenant table at once."""

import msgspec
from django.db import connection


def rows_json(rows) -> str:
    """A list of {column: value} as one JSON document for `json_populate_recordset` (or
    `jsonb_to_recordset`): encoded in C in one call, where a thousand rows as psycopg arrays
    cost a Python call per value. Datetimes go as RFC 3339, decimals as strings, JSON columns
    as nested JSON; PostgreSQL reads each back as its column's type."""
    return msgspec.json.encode(rows).decode()


def bulk_update_rows(model, objs, fields) -> None:
    """`bulk_update`, fast on PostgreSQL: one `UPDATE … FROM json_populate_recordset(…)`
    instead of Django's CASE WHEN per row and field (about 20× faster for a thousand rows).
    Other databases (the embedded SQLite mode) use Django's bulk_update. Confined to the
    objects' organizations."""
    objs = list(objs)
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=500)
        return
    meta = model._meta
    columns = [(meta.get_field(name).attname, meta.get_field(name).column) for name in fields]
    rows = [
        {"id": obj.pk, **{column: getattr(obj, attname) for attname, column in columns}}
        for obj in objs
    ]
    sets = ", ".join(f'"{column}" = v."{column}"' for _attname, column in columns)
    org_ids = sorted({obj.organization_id for obj in objs})
    sql = (
        f'UPDATE "{meta.db_table}" AS m SET {sets} '  # noqa: S608 - names from the model
        f'FROM json_populate_recordset(NULL::"{meta.db_table}", %s::json) AS v '
        f"WHERE m.id = v.id AND m.organization_id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [rows_json(rows), org_ids])


def bulk_insert_rows(model, objs, *, ignore_conflicts: bool = False) -> None:
    """`bulk_create` without reading ids back, fast on PostgreSQL: one `INSERT … SELECT FROM
    json_populate_recordset(…)`, the rows encoded in one call, where Django prepares every
    value of every row in Python. Values are the instances' own (defaults were filled when
    they were built). Anything the encoder cannot write, and other databases, take Django's
    bulk_create. Raw SQL: outside a tenant scope the caller names the organization to
    row-level security (`tenancy.rls.org_hint`), as for `bulk_update_rows`."""
    objs = list(objs)
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    try:
        if connection.vendor != "postgresql":
            raise TypeError("not PostgreSQL")
        document = rows_json([{f.column: getattr(obj, f.attname) for f in fields} for obj in objs])
    except (TypeError, msgspec.EncodeError):
        model.objects.bulk_create(objs, batch_size=500, ignore_conflicts=ignore_conflicts)
        return
    if any(obj.organization_id is None for obj in objs):
        model.objects.bulk_create(objs)  # refused there, with the tenancy error
    table = model._meta.db_table
    columns = ", ".join(f'"{f.column}"' for f in fields)
    sql = (
        f'INSERT INTO "{table}" ({columns}) SELECT {columns} '  # noqa: S608 - names from the model
        f'FROM json_populate_recordset(NULL::"{table}", %s::json)'
        + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows, given as tuples in the order of `columns` (field names), in one
    statement: on PostgreSQL an `INSERT … SELECT FROM jsonb_to_recordset(…)`, the rows sent as
    one JSON document. That skips building a model instance per row (the costly part of
    bulk_create for thousands of rows) and the driver's adaptation of every value (several
    times the cost of encoding the JSON). Columns left out take their database default: give
    every NOT NULL column. Other databases (the embedded SQLite mode) use bulk_create. The
    caller names the rows' organization to row-level security (a scope or `org_hint`); no
    signals are sent, as with bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=500
        )
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in columns]
    names = ", ".join(f'"{field.column}"' for field in fields)
    types = ", ".join(f"c{i} {field.db_type(connection)}" for i, field in enumerate(fields))
    document = rows_json([{f"c{i}": value for i, value in enumerate(row)} for row in rows])
    sql = (
        f'INSERT INTO "{meta.db_table}" ({names}) '  # noqa: S608 - names from the model
        f"SELECT {', '.join(f'c{i}' for i in range(len(fields)))} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({types})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [document])
