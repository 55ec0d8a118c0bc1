from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {
    "teamwork.duty_create": _("Set a duty"),
    "teamwork.duty_retire": _("Retired a duty"),
    "teamwork.duty_tick": _("Ticked a duty done"),
    "teamwork.duty_untick": _("Took back a ticked duty"),
    "teamwork.goal_create": _("Set a goal"),
    "teamwork.goal_met": _("A goal was met"),
    "teamwork.goal_raise": _("Raised a goal"),
    "teamwork.goal_drop": _("Dropped a goal"),
    "teamwork.awards_nominated": _("Nominated the month's awards"),
    "teamwork.awards_recomputed": _("Computed the award nominees again"),
    "teamwork.awards_confirmed": _("Confirmed the month's award winners"),
}


class TeamworkConfig(AppConfig):
    name = "teamwork"
    verbose_name = _("Team")

    def ready(self):
        from members import hooks as member_hooks
        from metrics import hooks as metrics_hooks
        from tenancy import audit
        from tenancy import hooks as tenancy_hooks

        from . import panels, privacy

        audit.register_actions(AUDIT_ACTIONS)
        tenancy_hooks.dashboard_panels.register(panels.home_panel)
        tenancy_hooks.team_panels.register(panels.team_panel)
        metrics_hooks.overview_panels.register(panels.metrics_overview_panel)
        metrics_hooks.community_panels.register(panels.metrics_community_panel)
        member_hooks.privacy_sections.register(privacy.privacy_sections)
        member_hooks.member_merged.register(privacy.member_merged)
