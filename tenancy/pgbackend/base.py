"""Django's PostgreSQL backend, plus the organization scope mirrored into `app.org_id` for
row-level security (tenancy/rls.py). Settings switch to it whenever DATABASE_URL is PostgreSQL.

The connection remembers the value it last set; anything that can undo a `set_config` (a
rollback, a rollback to a savepoint, a new connection) forgets it, so the next query sets it
again. Session-level `set_config(..., false)` rather than `SET LOCAL` by default: Django runs in
autocommit outside `atomic()`, where a transaction-local setting would end with the statement
that set it. Behind PgBouncer's transaction pooling (`POOL_MODE` "transaction", settings'
DATABASE_POOL_MODE) the setting is transaction-local instead, and a commit forgets it too.

The compilers (tenancy/pgbackend/compiler.py) run each query with the organization it names
when no scope is set (tenancy/rls.py, `org_hint`).
"""

from django.db.backends.postgresql import base, operations

from tenancy.rls import apply_org_scope


class DatabaseOperations(operations.DatabaseOperations):
    compiler_module = "tenancy.pgbackend.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rls_value = None
        self.rls_transaction_local = self.settings_dict.get("POOL_MODE") == "transaction"
        self.execute_wrappers.append(apply_org_scope)

    def connect(self):
        self.rls_value = None
        super().connect()

    def _commit(self):
        super()._commit()
        if self.rls_transaction_local:
            self.rls_value = None

    def _rollback(self):
        super()._rollback()
        self.rls_value = None

    def _savepoint_rollback(self, sid):
        super()._savepoint_rollback(sid)
        self.rls_value = None

    def _close(self):
        self.rls_value = None
        super()._close()
