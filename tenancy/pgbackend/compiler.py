"""Django's PostgreSQL compilers, each running its query with the organization the query names
(tenancy/rls.py: `org_hint`): a queryset from `for_org(org)` or a tenant row's related manager
carries `rls_org_id` on its Query (cloned with it), and an INSERT of one organization's rows
names it through the rows. The scope, when there is one, still wins (`rls.wanted_value`)."""

from django.db.backends.postgresql import compiler as pg

from tenancy.rls import org_hint, query_org_id


class _Hinted:
    def hinted_org_id(self):
        return query_org_id(self.query)

    def execute_sql(self, *args, **kwargs):
        with org_hint(self.hinted_org_id()):
            return super().execute_sql(*args, **kwargs)


class SQLCompiler(_Hinted, pg.SQLCompiler):
    pass


class SQLInsertCompiler(_Hinted, pg.SQLInsertCompiler):
    def hinted_org_id(self):
        org_ids = {getattr(obj, "organization_id", None) for obj in self.query.objs}
        return org_ids.pop() if len(org_ids) == 1 else None


class SQLDeleteCompiler(_Hinted, pg.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(_Hinted, pg.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(_Hinted, pg.SQLAggregateCompiler):
    pass
