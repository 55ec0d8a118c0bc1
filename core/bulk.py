"""Writing many rows of a tenant table at once."""

import json

from django.db import connection
from django.db.models import JSONField


def bulk_update_rows(model, objs, fields) -> None:
    """`bulk_update`, fast on PostgreSQL: one `UPDATE … FROM unnest(arrays)` instead of Django's
    CASE WHEN per row and field (about 20× faster for a thousand rows). Other databases (the
    embedded SQLite mode) use Django's bulk_update. Confined to the objects' organizations."""
    objs = list(objs)
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields, batch_size=500)
        return
    meta = model._meta
    columns, arrays, casts, sets = ["id"], [[obj.pk for obj in objs]], ["bigint"], []
    for name in fields:
        field = meta.get_field(name)
        columns.append(field.column)
        if isinstance(field, JSONField):
            arrays.append([json.dumps(getattr(obj, field.attname)) for obj in objs])
            casts.append("text")
            sets.append(f'"{field.column}" = v."{field.column}"::jsonb')
        else:
            arrays.append(
                [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
            )
            casts.append(field.db_type(connection))
            sets.append(f'"{field.column}" = v."{field.column}"')
    org_ids = sorted({obj.organization_id for obj in objs})
    sql = (
        f'UPDATE "{meta.db_table}" AS m SET {", ".join(sets)} '  # noqa: S608 - names from the model
        f"FROM unnest({', '.join(f'%s::{cast}[]' for cast in casts)}) "
        f"AS v({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
        f"WHERE m.id = v.id AND m.organization_id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*arrays, org_ids])
