from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {
    "care.case_open": _("Opened a case"),
    "care.case_responded": _("Responded to a case"),
    "care.case_acknowledged": _("Acknowledged the member's feelings"),
    "care.case_resolved": _("Resolved a case"),
    "care.case_followed_up": _("Followed up a case"),
    "care.case_closed": _("Closed a case"),
    "care.case_reopen": _("Reopened a case"),
    "care.case_assign": _("Assigned a case"),
    "care.settings": _("Changed the care settings"),
    "care.keywords": _("Changed a group's complaint keywords"),
    "care.rule_create": _("Added a follow-up rule"),
    "care.rule_pause": _("Paused a follow-up rule"),
    "care.rule_resume": _("Resumed a follow-up rule"),
    "care.follow_up_done": _("Finished a follow-up"),
    "care.follow_up_skipped": _("Skipped a follow-up"),
}


class CareConfig(AppConfig):
    name = "care"

    def ready(self):
        from members import hooks as member_hooks
        from tenancy import audit
        from tenancy import hooks as tenancy_hooks

        from . import alerts, selectors, services

        audit.register_actions(AUDIT_ACTIONS)
        alerts.register()
        member_hooks.privacy_sections.register(services.privacy_sections)
        tenancy_hooks.dashboard_panels.register(selectors.home_panel)
