from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

TRIGGERS_MIGRATION = "0006_marks_from_source_triggers"
# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {"metrics.commission_ladder": _("Changed the commission ladder")}


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self):
        from communities import hooks as community_hooks
        from tenancy import audit
        from tenancy import hooks as tenancy_hooks

        from .selectors import activity_heatmap, home_panel
        from .tasks import rebuild_after_time_zone_change

        tenancy_hooks.time_zone_changed.register(rebuild_after_time_zone_change)
        community_hooks.activity_heatmap.register(activity_heatmap)
        tenancy_hooks.dashboard_panels.register(home_panel)
        audit.register_actions(AUDIT_ACTIONS)
        post_migrate.connect(restore_sqlite_triggers, sender=self)


def restore_sqlite_triggers(sender, using="default", **kwargs) -> None:
    """SQLite drops a table's triggers with the table, and Django alters a SQLite table by
    copying it into a new one: a later migration of raw events, orders or the membership
    history would silently remove the dirty-mark triggers. After every `migrate`, put back the
    ones that are missing (the statements of the migration that created them)."""
    import importlib

    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    if connection.vendor != "sqlite":
        return  # PostgreSQL keeps triggers through ALTER TABLE
    if (sender.label, TRIGGERS_MIGRATION) not in MigrationRecorder(connection).applied_migrations():
        return
    migration = importlib.import_module(f"{sender.name}.migrations.{TRIGGERS_MIGRATION}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {name for (name,) in cursor.fetchall()}
        for name, sql in migration.sqlite_triggers():
            if name not in present:
                cursor.execute(sql)
