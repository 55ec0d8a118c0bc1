from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("connectors/telegram/", views.TelegramConnectorView.as_view(), name="telegram-connector"),
    path("connectors/wecom/", views.WeComConnectorView.as_view(), name="wecom-connector"),
]

# Public: Telegram's webhook calls (the path secret and the header are the credential) and
# WeCom's callback (the path secret, the signature and the encryption are).
public_urlpatterns = [
    path(
        "connectors/telegram/<int:org_id>/<str:path_secret>/",
        views.TelegramWebhookView.as_view(),
        name="telegram-webhook",
    ),
    path(
        "connectors/wecom/<int:org_id>/<str:path_secret>/",
        views.WeComCallbackView.as_view(),
        name="wecom-callback",
    ),
]
