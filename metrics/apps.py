from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {"metrics.commission_ladder": _("Changed the commission ladder")}


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self):
        from communities import hooks as community_hooks
        from tenancy import audit
        from tenancy import hooks as tenancy_hooks

        from .selectors import activity_heatmap
        from .tasks import rebuild_after_time_zone_change

        tenancy_hooks.time_zone_changed.register(rebuild_after_time_zone_change)
        community_hooks.activity_heatmap.register(activity_heatmap)
        audit.register_actions(AUDIT_ACTIONS)
