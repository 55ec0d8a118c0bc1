from django.urls import path

from . import message_views, views

# Mounted under /o/<org_slug>/.
org_urlpatterns = [
    path("webhooks/", views.WebhooksView.as_view(), name="webhooks"),
    path("bots/", views.BotStatusView.as_view(), name="bot-status"),
    path("telegram/", views.TelegramBotView.as_view(), name="telegram-bot"),
    path("webhooks/<int:pk>/toggle/", views.WebhookToggleView.as_view(), name="webhook-toggle"),
    path(
        "webhooks/deliveries/<int:pk>/retry/",
        views.DeliveryRetryView.as_view(),
        name="webhook-delivery-retry",
    ),
    *message_views.message_urlpatterns(
        "settings/messages/",
        (
            message_views.MessageTemplatesView,
            message_views.MessageTemplateEditView,
            message_views.MessageTemplatePreviewView,
            message_views.MessageTemplateResetView,
            message_views.MessageVersionRestoreView,
        ),
    ),
]
