from django.urls import path

from . import views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("connectors/telegram/", views.TelegramConnectorView.as_view(), name="telegram-connector"),
]

# Public: Telegram's webhook calls (the path secret and the header are the credential).
public_urlpatterns = [
    path(
        "connectors/telegram/<int:org_id>/<str:path_secret>/",
        views.TelegramWebhookView.as_view(),
        name="telegram-webhook",
    ),
]
