from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {
    "member.warn": _("Warned a member"),
    "member.remove": _("Removed a member"),
    "member.warning_revoke": _("Revoked a warning"),
    "member.reinstate": _("Reinstated a member"),
    "member.unblock": _("Lifted a block"),
    "member.onboarding_introduced": _("Marked a newcomer as introduced"),
    "member.onboarding_coupon": _("Marked the newcomer coupon as sent"),
    "member.update": _("Edited a member"),
    "member.identity_link": _("Linked an account to a member"),
    "member.identity_unlink": _("Unlinked an account from a member"),
    "member.remind": _("Reminded dormant members"),
    "member.import_queued": _("Started a member import"),
    "member.import": _("Finished a member import"),
    "member.export": _("Exported a member's data"),
    "member.erase": _("Erased a member's personal data"),
    "member.entry_review_approved": _("Let a member stay after an entry review"),
    "member.entry_review_removed": _("Removed a member after an entry review"),
    "member.entry_review_closed": _("Closed an entry review of a member who had left"),
    "points.adjust": _("Adjusted points"),
    "points.redeem": _("Redeemed points for a reward"),
}


class MembersConfig(AppConfig):
    name = "members"

    def ready(self):
        from communities import hooks
        from integrations import message_templates
        from tenancy import audit
        from tenancy import hooks as tenancy_hooks

        from . import selectors

        hooks.community_page_panels.register(selectors.community_page_panel)
        message_templates.preview_context.register(selectors.preview_member_name)
        tenancy_hooks.dashboard_panels.register(selectors.home_panel)
        tenancy_hooks.first_steps.register(selectors.first_steps)
        audit.register_actions(AUDIT_ACTIONS)
