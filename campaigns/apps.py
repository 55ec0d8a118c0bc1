from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from members import hooks

        from . import services

        hooks.member_merged.register(services.orders_move_to)
        hooks.privacy_sections.register(services.privacy_sections)
        hooks.tier_stats.register(services.tier_stats)
