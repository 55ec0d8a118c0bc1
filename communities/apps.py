from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {
    "community.create": _("Created a group"),
    "community.update": _("Edited a group"),
    "community.archive": _("Archived a group"),
    "community.restore": _("Restored a group"),
    "community.rules_update": _("Changed a group's rules"),
    "community.rules_copy": _("Copied rules to other groups"),
    "community.staff_assign": _("Assigned staff to a group"),
    "community.staff_unassign": _("Ended a staff assignment"),
    "tier.create": _("Created a VIP tier"),
    "tier.update": _("Edited a VIP tier"),
    "tier.deactivate": _("Retired a VIP tier"),
    "points.rules_update": _("Changed the points rules"),
    "points.item_create": _("Added a reward"),
    "points.item_update": _("Changed a reward"),
    "content.plan_create": _("Created a weekly plan"),
    "content.plan_update": _("Edited a weekly plan"),
    "content.post_create": _("Scheduled a post"),
    "content.post_update": _("Edited a post"),
    "content.post_skip": _("Skipped a post"),
    "content.post_approve": _("Approved a post"),
}


class CommunitiesConfig(AppConfig):
    name = "communities"

    def ready(self):
        from integrations import message_templates, outbox
        from tenancy import audit, hooks

        from . import content, message_views, selectors

        audit.register_actions(AUDIT_ACTIONS)
        hooks.dashboard_panels.register(selectors.home_panel)
        hooks.first_steps.register(selectors.first_steps)
        hooks.community_roles.register(selectors.staff_roles_of)
        outbox.action_finished.register(content.post_action_finished)
        message_templates.preview_context.register(message_views.preview_names)
