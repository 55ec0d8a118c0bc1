from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, coupon_api

router = SimpleRouter()
router.register("campaigns", api.CampaignViewSet, basename="campaign")
router.register("orders", api.OrderViewSet, basename="order")
router.register("teams", api.TeamViewSet, basename="team")
router.register("coupon-templates", coupon_api.CouponTemplateViewSet, basename="coupon-template")

urlpatterns = [
    # Before the router: `orders/export.csv` is not an order id.
    path("orders/export.csv", api.OrdersExportView.as_view(), name="orders-export"),
    *router.urls,
]
