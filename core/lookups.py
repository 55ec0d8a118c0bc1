"""`field__in_array=values`: the `__in` lookup with the values as one array parameter.

On PostgreSQL `col IN (%s, %s, …)` with a thousand values costs more in Python than in the
database: Django resolves every value and psycopg parses a query with a thousand placeholders
on every execution (too large for its cache). `col = ANY(%s::type[])` is one parameter and the
same index scan. Other databases get the plain `IN`."""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject
from django.db.models.lookups import In
from django.utils.datastructures import OrderedSet


class InArray(In):
    lookup_name = "in_array"

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [
            field.get_db_prep_value(value, connection, prepared=False)
            for value in OrderedSet(self.rhs)
            if value is not None
        ]
        if not values:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s::{field.db_type(connection)}[])", (*lhs_params, values)


Field.register_lookup(InArray)
ForeignObject.register_lookup(InArray)  # foreign keys have lookups of their own
