from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {
    "poll.create": _("Posted a poll or survey"),
    "poll.close": _("Closed a poll or survey"),
    "suggestion.reply": _("Replied to a suggestion"),
}


class EngagementConfig(AppConfig):
    """Polls, surveys and the suggestion box (docs/architecture.md: between care and metrics)."""

    name = "engagement"
    verbose_name = _("Polls and suggestions")

    def ready(self):
        from members import hooks as member_hooks
        from tenancy import audit

        from . import services

        audit.register_actions(AUDIT_ACTIONS)
        member_hooks.privacy_sections.register(services.privacy_sections)
        member_hooks.member_merged.register(services.responses_move_to)
