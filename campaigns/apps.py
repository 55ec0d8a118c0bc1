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
    "coupon.template_create": _("Created a coupon"),
    "coupon.template_retire": _("Retired a coupon"),
    "coupon.template_replace": _("Changed a coupon (as a new version)"),
    "coupon.settings": _("Changed which coupons are issued automatically"),
    "coupon.issue": _("Gave a member a coupon"),
    "coupon.issue_many": _("Gave members a coupon"),
    "coupon.perk_create": _("Created a checkout perk"),
    "coupon.perk_on": _("Turned a checkout perk on"),
    "coupon.perk_off": _("Turned a checkout perk off"),
}


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        from members import hooks
        from tenancy import audit
        from tenancy import hooks as tenancy_hooks

        from . import alerts, coupons, selectors, services

        audit.register_actions(AUDIT_ACTIONS)
        alerts.register()
        hooks.member_merged.register(services.orders_move_to)
        hooks.privacy_sections.register(services.privacy_sections)
        hooks.tier_stats.register(services.tier_stats)
        hooks.points_redeemed.register(coupons.on_points_redeemed)
        hooks.wake_up_offers.register(coupons.wake_up_offers)
        tenancy_hooks.dashboard_panels.register(selectors.home_panel)
