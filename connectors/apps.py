from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

AUDIT_ACTIONS = {
    "connector.telegram_connect": _("Connected the Telegram bot"),
    "connector.telegram_disconnect": _("Turned the Telegram connection off"),
    "connector.wecom_connect": _("Connected the WeCom app"),
    "connector.wecom_disconnect": _("Turned the WeCom connection off"),
}


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = _("Connectors")

    def ready(self):
        from integrations import delivery
        from integrations import status as integration_status
        from tenancy import audit

        from . import status

        audit.register_actions(AUDIT_ACTIONS)
        delivery.connector_platforms.register(status.platforms_carried)
        integration_status.connector_panels.register(status.telegram_panel)
        integration_status.connector_alerts.register(status.telegram_alerts)
        integration_status.connector_panels.register(status.wecom_panel)
        integration_status.connector_alerts.register(status.wecom_alerts)
