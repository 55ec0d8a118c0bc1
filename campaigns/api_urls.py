from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("campaigns", api.CampaignViewSet, basename="campaign")
router.register("orders", api.OrderViewSet, basename="order")

urlpatterns = [*router.urls]
