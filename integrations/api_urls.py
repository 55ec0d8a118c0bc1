from rest_framework.routers import SimpleRouter

from . import api

# "/?": bots may call `actions/{id}/ack` with or without the trailing slash.
router = SimpleRouter()
router.trailing_slash = "/?"
router.register("actions", api.ActionViewSet, basename="action")
router.register("webhooks", api.WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", api.WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
