from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"

    def ready(self):
        from communities import hooks as community_hooks
        from tenancy import hooks as tenancy_hooks

        from .selectors import activity_heatmap
        from .tasks import rebuild_after_time_zone_change

        tenancy_hooks.time_zone_changed.register(rebuild_after_time_zone_change)
        community_hooks.activity_heatmap.register(activity_heatmap)
