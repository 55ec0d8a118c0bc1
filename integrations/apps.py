from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# What the audit log shows for the actions this app records.
AUDIT_ACTIONS = {
    "webhook.create": _("Added a webhook endpoint"),
    "webhook.enable": _("Resumed a webhook endpoint"),
    "webhook.disable": _("Paused a webhook endpoint"),
    "webhook.retry": _("Retried a webhook delivery"),
    "integration.telegram_token": _("Set the Telegram bot token"),
    "integration.wecom_secrets": _("Set the WeCom app's secrets"),
    "message_template.save": _("Changed the wording of a message"),
    "message_template.reset": _("Went back to a message's built-in text"),
}


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        from tenancy import audit, hooks

        from . import status

        audit.register_actions(AUDIT_ACTIONS)
        hooks.dashboard_panels.register(status.home_panel)
