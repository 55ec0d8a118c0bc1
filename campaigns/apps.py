from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {
    "campaign.create": _("Created a campaign"),
    "campaign.publish": _("Published a campaign"),
    "campaign.cancel": _("Cancelled a campaign"),
    "order.paid": _("Marked an order paid"),
    "order.cancelled": _("Cancelled an order"),
    "order.expired": _("An unpaid order expired"),
    "order.refunded": _("Refunded an order"),
    "order.placed": _("Recorded an order"),
    "order.pending_payment": _("Reopened an order for payment"),
    "lottery.draw": _("Drew a lottery"),
    "groupbuy.open": _("Opened a group-buy team"),
    "groupbuy.join": _("Joined a group-buy team"),
}


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from members import hooks
        from tenancy import audit
        from tenancy import hooks as tenancy_hooks

        from . import alerts, selectors, services

        audit.register_actions(AUDIT_ACTIONS)
        alerts.register()
        hooks.member_merged.register(services.orders_move_to)
        hooks.privacy_sections.register(services.privacy_sections)
        hooks.tier_stats.register(services.tier_stats)
        tenancy_hooks.dashboard_panels.register(selectors.home_panel)
